"""Signalling sockets wherever they land: every process's edge, and the one home that runs the calls.

A video socket or console may be held by any `majlis serve` process on any machine. One process at a time is the
signalling home (video.signalling_home, chosen by a PostgreSQL advisory lock): it alone runs the Hub, so each
call's state lives in exactly one place and no two processes can disagree about it. Every process (the home too)
is an edge: its sockets' frames go to the home through majlis.pubsub on one channel, and what the hub sends to a
socket comes back on the edge's own channel.

Ordering: one edge's frames reach the home in the order the edge published them (majlis.pubsub keeps one
publisher's order), and the home handles each socket's frames one after another, as a WebSocket handler did;
different sockets go on at once. What the home sends to one socket arrives in the order it was sent. Delivery is
at most once: see docs/video.md (Across processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from majlis.pubsub import PubSub, Subscription
from video.hub import Hub
from video.signalling_messages import (
    CLOSE_GOING_AWAY,
    CLOSE_TOO_BIG,
    CLOSE_TOO_SLOW,
    MAX_FRAME_BYTES,
    SEND_TIMEOUT,
    Link,
    error_message,
)

log = logging.getLogger(__name__)

HOME_CHANNEL = "video_home"
# The home announces itself here when it takes over: edges close their sockets (the pages rejoin the new home).
HOMES_CHANNEL = "video_homes"
# Frames queued while a publish is under way go out together, up to about this many characters (NOTIFY's limit
# is 8,000 bytes; one larger frame, an SDP offer, goes alone through pubsub_payloads).
BATCH_CHARS = 5_000
# Going-away for a home that changed: the page reconnects with backoff and rejoins.
CLOSE_HOME_CHANGED = 1012


def edge_channel(edge: str) -> str:
    return f"video_edge_{edge}"


class Outbox:
    """Items for one channel, published in order; those that wait behind a publish go out as one message."""

    def __init__(self, pubsub: PubSub, channel: str, sender: str) -> None:
        self._pubsub = pubsub
        self._channel = channel
        self._sender = sender
        self._items: list[dict[str, Any]] = []
        self._flusher: asyncio.Task[None] | None = None

    def put(self, item: dict[str, Any]) -> None:
        self._items.append(item)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._items:
            batch: list[dict[str, Any]] = []
            size = 0
            while self._items and (not batch or size + len(self._items[0].get("data", "")) < BATCH_CHARS):
                item = self._items.pop(0)
                size += len(item.get("data", "")) + 40
                batch.append(item)
            try:
                await self._pubsub.publish(self._channel, {"from": self._sender, "items": batch})
            except Exception:
                # At most once: what could not be published is lost, like a notify a listener missed.
                log.exception("video: %d signalling items for %s could not be published", len(batch), self._channel)

    async def drain(self) -> None:
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await self._flusher


class Lanes:
    """One queue of work per key: a key's items run in order, different keys at once (as one task per socket)."""

    def __init__(self) -> None:
        self._queues: dict[object, list[Callable[[], Awaitable[None]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def put(self, key: object, work: Callable[[], Awaitable[None]]) -> None:
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(work)
            return
        self._queues[key] = [work]
        task = asyncio.get_running_loop().create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: object) -> None:
        queue = self._queues[key]
        try:
            while queue:
                work = queue.pop(0)
                try:
                    await work()
                except Exception:
                    log.exception("video: signalling work failed")
        finally:
            self._queues.pop(key, None)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._queues.clear()


class DirectOutbox:
    """At the home, for the edge in the same process: items handed over in order, without a publish."""

    def __init__(self, take: Callable[[dict[str, Any]], None]) -> None:
        self._take = take

    def put(self, item: dict[str, Any]) -> None:
        self._take(item)

    async def drain(self) -> None:
        """Nothing waits: every item was handed over when put."""


class SocketElsewhere:
    """At the home: a socket held by an edge (maybe this process's own), written to through the edge's channel."""

    def __init__(self, outbox: Outbox | DirectOutbox, link: int) -> None:
        self._outbox = outbox
        self.link = link
        self.closed = False

    async def send_str(self, data: str) -> None:
        if not self.closed:
            self._outbox.put({"op": "send", "link": self.link, "data": data})

    async def close(self, *, code: int = CLOSE_GOING_AWAY, message: bytes = b"") -> bool:
        if self.closed:
            return False
        self.closed = True
        self._outbox.put({"op": "close", "link": self.link, "code": code, "reason": message.decode(errors="replace")})
        return True


class EdgeClient:
    """At the edge: one video socket, named by a number unique in this process."""

    def __init__(self, link: Link, number: int) -> None:
        self.link = link
        self.number = number


class HubEdge:
    """This process's video sockets and consoles, whichever process is the home: the interface web/ talks to."""

    def __init__(self, pubsub: PubSub, *, name: str | None = None) -> None:
        self.name = name or secrets.token_hex(6)
        self._pubsub = pubsub
        self._to_home = Outbox(pubsub, HOME_CHANNEL, self.name)
        self._numbers = itertools.count(1)
        self._sockets: dict[int, Link] = {}
        self._consoles: dict[int, Link] = {}
        self._lanes = Lanes()
        self._subscriptions: list[Subscription] = []
        self.home: str | None = None
        # The local Hub while this process is the home (tests and the e2e reach its bridge through it).
        self.local_hub: Hub | None = None
        # While this process is the home: its items go straight to it, not through PostgreSQL and back.
        self._local_home: Callable[[str, dict[str, Any]], None] | None = None

    def attach_home(self, take: Callable[[str, dict[str, Any]], None] | None) -> None:
        """The home in this process (or None when it stops being one): items for it are handed over directly."""
        self._local_home = take

    def _home_put(self, item: dict[str, Any]) -> None:
        if self._local_home is not None:
            self._local_home(self.name, item)
        else:
            self._to_home.put(item)

    def from_home(self, item: dict[str, Any]) -> None:
        """One item from the home: a send to, or the close of, one of this process's sockets."""
        number = item.get("link")
        if not isinstance(number, int):
            return
        link = self._sockets.get(number) or self._consoles.get(number)
        if link is None:
            return
        if item.get("op") == "send":
            self._lanes.put(number, _sending(link, str(item["data"])))
        elif item.get("op") == "close":
            self._sockets.pop(number, None)
            self._consoles.pop(number, None)  # a closed console is not one to open again at the next home
            self._lanes.put(number, _closing(link, int(item["code"]), str(item.get("reason", ""))))

    async def start(self) -> None:
        self._subscriptions = [
            await self._pubsub.subscribe(edge_channel(self.name), self._from_home),
            await self._pubsub.subscribe(HOMES_CHANNEL, self._home_announced),
        ]
        self._pubsub.on_reconnect.append(self._reconnected)

    async def close(self) -> None:
        """Closes this process's sockets (the pages reconnect elsewhere) and tells the home they are gone."""
        for subscription in self._subscriptions:
            # Shutting down: a listener that cannot unlisten now is closed with pubsub a moment later anyway.
            with contextlib.suppress(Exception):
                await subscription.close()
        self._subscriptions = []
        with contextlib.suppress(ValueError):
            self._pubsub.on_reconnect.remove(self._reconnected)
        sockets, self._sockets = self._sockets, {}
        consoles, self._consoles = self._consoles, {}
        for number in sockets:
            self._home_put({"op": "gone", "link": number})
        for number in consoles:
            self._home_put({"op": "console_gone", "link": number})
        await self._to_home.drain()
        await self._lanes.close()
        for link in [*sockets.values(), *consoles.values()]:
            with contextlib.suppress(Exception):
                await link.close(code=CLOSE_GOING_AWAY, message=b"server shutting down")

    # --- video sockets -------------------------------------------------------------------

    def connect(self, link: Link) -> EdgeClient:
        client = EdgeClient(link, next(self._numbers))
        self._sockets[client.number] = link
        self._home_put({"op": "open", "link": client.number})
        return client

    async def receive(self, client: EdgeClient, data: str) -> None:
        # Checked here, so a megabyte frame is not carried to the home only to be refused there.
        if len(data) > MAX_FRAME_BYTES or len(data.encode()) > MAX_FRAME_BYTES:
            await _send_quietly(client.link, json.dumps(error_message("too_large"), ensure_ascii=False))
            await client.link.close(code=CLOSE_TOO_BIG, message=b"message too big")
            return
        self._home_put({"op": "frame", "link": client.number, "data": data})

    async def refuse_frame(self, client: EdgeClient) -> None:
        self._home_put({"op": "binary", "link": client.number})

    async def disconnect(self, client: EdgeClient) -> None:
        if self._sockets.pop(client.number, None) is not None:
            self._home_put({"op": "gone", "link": client.number})

    # --- consoles -------------------------------------------------------------------

    async def subscribe(self, link: Link) -> None:
        number = next(self._numbers)
        self._consoles[number] = link
        self._home_put({"op": "console", "link": number})

    def unsubscribe(self, link: Link) -> None:
        for number, held in list(self._consoles.items()):
            if held is link:
                del self._consoles[number]
                self._home_put({"op": "console_gone", "link": number})

    def changed(self) -> None:
        """Something the consoles show changed outside the hub (a check-in, an outcome)."""
        self._home_put({"op": "changed"})

    def consented(self, audience_id: int) -> None:
        self._home_put({"op": "consented", "audience": audience_id})

    # --- from the home -------------------------------------------------------------------

    async def _from_home(self, message: dict[str, Any], *, own: bool) -> None:
        for item in message.get("items", ()):
            self.from_home(item)

    async def _home_announced(self, message: dict[str, Any], *, own: bool) -> None:
        home = message.get("home")
        if home == self.home:
            return
        self.home = str(home)
        # The new home knows none of this process's sockets: video sockets are closed (the pages rejoin, and the
        # home reads each call back from the database); consoles are simply opened again there.
        sockets, self._sockets = self._sockets, {}
        for number, link in sockets.items():
            self._lanes.put(number, _closing(link, CLOSE_HOME_CHANGED, "signalling moved"))
        for number in self._consoles:
            self._home_put({"op": "console", "link": number})

    async def _reconnected(self) -> None:
        # Frames may have been missed while this process was not listening: the same as a new home.
        self.home = None
        await self._home_announced({"home": "unknown"}, own=False)


async def _send_quietly(link: Link, data: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await link.send_str(data)


def _sending(link: Link, data: str) -> Callable[[], Awaitable[None]]:
    async def send() -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await link.send_str(data)
            except TimeoutError:
                # A side that stopped reading (a laptop asleep) must not hold up anyone else.
                log.warning("video: a connection stopped reading; closed")
                await link.close(code=CLOSE_TOO_SLOW, message=b"too slow")

    return send


def _closing(link: Link, code: int, reason: str) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        with contextlib.suppress(Exception):
            await link.close(code=code, message=reason.encode())

    return close
