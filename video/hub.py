"""The signalling hub: who is in each video audience's call, what they may say, and the consoles watching them.

Plain asyncio, no aiohttp: a connection is anything with `send_str` and `close` (an aiohttp WebSocketResponse is
one, and so is video.hub_transport's stand-in for a socket held by another process), so tests and the benchmark
drive the hub directly. Each audience has at most one official and one room connection; a second connection of one
side replaces the first. Every message carries its token and is checked — signature, expiry, audience, side, the
audience not ended — before anything else; a refusal goes to that connection only.

The parts: video.signalling_messages (the protocol's words and checks), video.call_state (a call's live state),
video.call_machine and video.call_bridge (what messages do to a call), video.console_view (what consoles show),
video.hub_transport (sockets in other processes and machines, through majlis.pubsub).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from majlis.db import transaction
from video import service
from video.call_machine import CallMachine
from video.call_state import BridgePolicy, Call, Client, SideState
from video.console_view import console_payloads
from video.signalling_messages import (
    CLOSE_GOING_AWAY,
    CLOSE_TOO_BIG,
    CLOSE_UNSUPPORTED,
    MAX_FRAME_BYTES,
    ConsoleMessage,
    Link,
    Refusal,
    error_message,
)
from video.worker_bridge import WorkerBridge

__all__ = ["MAX_FRAME_BYTES", "BridgePolicy", "Call", "Client", "Hub", "Link", "Refusal", "SideState", "error_message"]

log = logging.getLogger(__name__)


class Hub(CallMachine):
    """Signalling for every video audience, and the consoles watching them."""

    # --- life of the hub -------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the heartbeat monitor and the console pusher."""
        if isinstance(self.bridge, WorkerBridge):
            await self.bridge.start()
        self._tasks = [asyncio.create_task(self._watch()), asyncio.create_task(self._push_consoles())]

    async def close(self) -> None:
        """Stops the background tasks and closes every connection (the pages reconnect with backoff)."""
        for waiting in (self._loader, self._starter):
            if waiting is not None:
                self._tasks.append(waiting)
        self._loader = self._starter = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.bridge is not None:
            await self.bridge.close()
        links = [c.link for c in self._clients] + list(self._consoles)
        self._clients.clear()
        self._consoles.clear()
        for link in links:
            with contextlib.suppress(Exception):
                await link.close(code=CLOSE_GOING_AWAY, message=b"server shutting down")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_every)
            try:
                await self.sweep()
            except Exception:
                log.exception("video heartbeat sweep failed")

    # --- connections -------------------------------------------------------------------

    def connect(self, link: Link) -> Client:
        client = Client(link, opened_at=self._now())
        self._clients.add(client)
        return client

    async def disconnect(self, client: Client) -> None:
        """The connection closed: the other side hears `peer_left`; a call in progress starts reconnecting."""
        self._clients.discard(client)
        grant, client.grant = client.grant, None
        if grant is None:
            return
        call = self.calls.get(grant.audience_id)
        if call is None:
            return
        side = call.sides[grant.role]
        if side.client is not client:
            return  # already replaced by a newer connection
        side.client = None
        side.media = False
        peer = call.other(grant.role).client
        if peer is not None:
            await self._send(peer, {"type": "peer_left", "role": grant.role})
        bridged = self.bridge.get(call.audience_id) if self.bridge is not None else None
        if bridged is not None:
            if all(s.client is None for s in call.sides.values()):
                # Nobody left: the bridged call gives back its place under the cap (reopened on their return).
                await self._close_bridge(call)
            elif call.sides[grant.role].client is None:
                # Its connection to the server is of no use any more: released now, rebuilt when it is back.
                # (Checked again after the awaits above: a side that already came back keeps its new one.)
                await bridged.drop("official" if grant.role == "official" else "room")
        if call.in_call and not call.ended:
            await self._begin_reconnecting(call, f"left:{grant.role}", tell=False)
        elif call.ended or all(s.client is None for s in call.sides.values()):
            self.calls.pop(call.audience_id, None)
            await self._close_bridge(call)
        self._dirty.set()

    async def receive(self, client: Client, data: str) -> None:
        """Handles one text frame from a connection; refusals go back to it alone."""
        if len(data) > MAX_FRAME_BYTES or len(data.encode()) > MAX_FRAME_BYTES:
            await self._send(client, error_message("too_large"))
            await client.link.close(code=CLOSE_TOO_BIG, message=b"message too big")
            return
        try:
            message = json.loads(data)
            # An escaped lone surrogate ("\\ud800") parses but cannot be sent on: refused here, not when relayed.
            json.dumps(message, ensure_ascii=False).encode()
        except (ValueError, RecursionError):
            await self.refuse_frame(client)
            return
        try:
            await self._handle(client, message)
        except Refusal as refusal:
            await self._send(client, error_message(refusal.code, **refusal.params))
        except Exception:
            # One bad message must not end the connection, nor touch other calls.
            log.exception("video: a message could not be handled")
            await self._send(client, error_message("server_error"))

    async def refuse_frame(self, client: Client) -> None:
        """A frame that is not JSON text: an error, then the connection is closed."""
        await self._send(client, error_message("bad_json"))
        await client.link.close(code=CLOSE_UNSUPPORTED, message=b"not JSON")

    # --- consoles -------------------------------------------------------------------

    async def subscribe(self, link: Link) -> None:
        """A console opened: it gets a full snapshot now and every change after."""
        self._consoles.add(link)
        for payload in await self._console_payloads():
            await self._send_link(link, payload)

    def unsubscribe(self, link: Link) -> None:
        self._consoles.discard(link)

    def changed(self) -> None:
        """Something the consoles show changed outside the hub (a check-in, an outcome): push an update."""
        self._dirty.set()

    async def _push_consoles(self) -> None:
        while True:
            await self._dirty.wait()
            # Changes in a burst go out as one update, and a page's change has time to commit.
            await asyncio.sleep(0.1)
            self._dirty.clear()
            if self._consoles:
                try:
                    payloads = await self._console_payloads()
                except Exception:
                    log.exception("video console update failed")
                    payloads = []
                for link in list(self._consoles):
                    for payload in payloads:
                        await self._send_link(link, payload)

    async def _console_payloads(self) -> list[ConsoleMessage]:
        async with self._db_gate, transaction(self._sessions) as session:
            items = await service.video_audiences_today(session=session, clock=self._clock)
        return console_payloads(items, self.calls)
