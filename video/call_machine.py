"""The call state machine: what each signalling message does to an audience's call, and the heartbeat monitor.

States (Call.shown_state): offline → ready/present (the room's report) → in_call ⇄ reconnecting → ended. Only the
official starts and ends a call (the room may end it for an emergency); offers and candidates are relayed only
in a call; a side silent or without media for the timeout starts a rebuild of both peer connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from video import service
from video.bridge import BridgeRefused, Side
from video.call_bridge import CallBridge
from video.call_state import Call, Client
from video.models import VideoAudience, VideoEventKind, VideoState
from video.signalling_messages import (
    ANSWER_TIMEOUT,
    CLOSE_NO_JOIN,
    CLOSE_REPLACED,
    JOIN_DEADLINE,
    ROOM_STATES,
    Description,
    Refusal,
    error_message,
    ice_shape,
    sdp_parses,
)
from video.tokens import TokenRefused, VideoGrant
from video.worker_bridge import WorkerBridge

log = logging.getLogger(__name__)

Step = Callable[[Client, Call, str, dict[str, Any]], Awaitable[None]]


class CallMachine(CallBridge):
    """Every audience's call as messages move it along."""

    @functools.cached_property
    def _handlers(self) -> dict[str, Step]:
        return {
            "offer": self._relay_sdp,
            "answer": self._relay_sdp,
            "ice": self._relay_ice,
            "heartbeat": self._heartbeat,
            "state": self._state,
            "call": self._call,
            "end": self._end,
            "mute": self._mute,
            "record": self._record_media,
        }

    async def _handle(self, client: Client, message: object) -> None:
        if not isinstance(message, dict):
            raise Refusal("bad_message")
        kind = message.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None and kind != "join":
            raise Refusal("unknown_type")
        token = message.get("token")
        if not isinstance(token, str):
            raise Refusal("token_missing")
        try:
            grant = self.tokens.check(token, now=self._clock.now())
        except TokenRefused as refused:
            raise Refusal(f"token_{refused.reason}") from None
        if handler is None:
            await self._join(client, grant)
            return
        if client.grant is None:
            raise Refusal("not_joined")
        if (grant.audience_id, grant.role) != (client.grant.audience_id, client.grant.role):
            raise Refusal("wrong_audience")
        call = self.calls.get(grant.audience_id)
        if call is None or call.ended:
            raise Refusal("audience_ended")
        if call.sides[grant.role].client is not client:
            raise Refusal("replaced")
        await handler(client, call, grant.role, message)

    async def _join(self, client: Client, grant: VideoGrant) -> None:
        if client.grant is not None and client.grant.audience_id != grant.audience_id:
            raise Refusal("wrong_audience")
        call = self.calls.get(grant.audience_id)
        if call is None:
            try:
                audience = await self._load(grant.audience_id)
            except Exception:
                log.exception("video audience %s could not be read", grant.audience_id)
                raise Refusal("server_error") from None
            if audience is None:
                raise Refusal("no_audience")
            if audience.state is VideoState.ENDED:
                raise Refusal("audience_ended")
            call = self.calls.setdefault(
                grant.audience_id,
                Call(
                    audience_id=audience.id,
                    room_id=audience.room_id,
                    checked_in=audience.checked_in_at is not None,
                    in_call=audience.state is VideoState.IN_CALL,
                    connected_once=audience.state is VideoState.IN_CALL,
                    consent=audience.recording_consent_at is not None,
                ),
            )
        if call.ended:
            raise Refusal("audience_ended")
        side = call.sides[grant.role]
        previous = side.client
        side.client = client
        side.last_heartbeat = self._now()
        side.media = False
        side.media_false_since = self._now()
        client.grant = grant
        if previous is not None and previous is not client:
            previous.grant = None
            self._clients.discard(previous)
            await self._send(previous, error_message("replaced"))
            with contextlib.suppress(Exception):
                await previous.link.close(code=CLOSE_REPLACED, message=b"replaced")
        peer = call.other(grant.role).client
        await self._send(
            client,
            {
                "type": "joined",
                "role": grant.role,
                "peer_present": peer is not None,
                "path": call.path,
                "recording": call.recording,
            },
        )
        if peer is not None:
            await self._send(peer, {"type": "peer_joined", "role": grant.role})
        if call.in_call:
            # A reload or a return during the call: both sides build a new peer connection.
            await self._begin_reconnecting(call, f"joined:{grant.role}", tell=True)
        self._dirty.set()

    async def _load(self, audience_id: int) -> VideoAudience | None:
        """The audience's record; joins arriving together are read in one query."""
        future: asyncio.Future[VideoAudience | None] = asyncio.get_running_loop().create_future()
        self._to_load.setdefault(audience_id, []).append(future)
        if self._loader is None or self._loader.done():
            self._loader = asyncio.create_task(self._load_waiting())
        return await future

    async def _load_waiting(self) -> None:
        while self._to_load:
            async with self._db_gate:
                waiting, self._to_load = self._to_load, {}
                try:
                    async with self._sessions() as session:
                        found = await service.audiences_by_id(session=session, ids=set(waiting))
                except Exception as exc:
                    for futures in waiting.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(exc)
                    continue
            for audience_id, futures in waiting.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(audience_id))

    async def _relay_sdp(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        sdp = message.get("sdp")
        if not sdp_parses(sdp):
            raise Refusal("bad_sdp")
        assert isinstance(sdp, str)
        if not call.in_call:
            # Offers follow an accepted `call`: one after a refused call must not connect the sides anyway.
            raise Refusal("not_in_call")
        # The offer's number, echoed with its answer: a page ignores the answer to an offer it has replaced.
        offer_id = message.get("id")
        if offer_id is not None and not (isinstance(offer_id, int) and not isinstance(offer_id, bool)):
            raise Refusal("bad_field", field="id")
        bridged = self._bridged(call)
        if bridged is None:
            relayed: Description = {"type": "offer" if message["type"] == "offer" else "answer", "sdp": sdp}
            if offer_id is not None:
                relayed["id"] = offer_id
            await self._to_peer(call, role, relayed)
            return
        # Bridged: each side offers to the server, which answers for itself.
        if message["type"] != "offer":
            raise Refusal("not_allowed")
        side: Side = "official" if role == "official" else "room"
        try:
            # Bounded below the heartbeat timeout: this side's next messages wait for it.
            async with asyncio.timeout(ANSWER_TIMEOUT):
                answer = await bridged.answer(side, sdp)
        except BridgeRefused as refused:
            if refused.code == "bridge_closed" and isinstance(self.bridge, WorkerBridge):
                # The worker no longer carries this call (restarted, or died): both sides are told to reconnect
                # once it is open again (on a live worker), instead of every offer failing until the call ends.
                self.bridge.lost(call.audience_id)
            raise Refusal("bad_sdp" if refused.code == "bad_sdp" else "server_error") from None
        except TimeoutError:
            log.warning("video %s: the bridge took too long to answer the %s", call.audience_id, side)
            raise Refusal("server_error") from None
        if call.sides[role].client is client:
            answered: Description = {"type": "answer", "sdp": answer}
            if offer_id is not None:
                answered["id"] = offer_id
            await self._send(client, answered)

    async def _relay_ice(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if "candidate" not in message or not ice_shape(message["candidate"]):
            raise Refusal("bad_field", field="candidate")
        candidate = message["candidate"]
        if candidate is not None:
            candidate = {k: candidate.get(k) for k in ("candidate", "sdpMid", "sdpMLineIndex")}
        if not call.in_call:
            raise Refusal("not_in_call")
        bridged = self._bridged(call)
        if bridged is not None:
            await bridged.add_ice("official" if role == "official" else "room", candidate)
            return
        await self._to_peer(call, role, {"type": "ice", "candidate": candidate})

    async def _heartbeat(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        media = message.get("media")
        if not isinstance(media, bool):
            raise Refusal("bad_field", field="media")
        now = self._now()
        side = call.sides[role]
        side.last_heartbeat = now
        if media:
            side.media, side.media_false_since = True, None
        elif side.media or side.media_false_since is None:
            side.media, side.media_false_since = False, now
        await self._send(client, {"type": "heartbeat_ack"})
        if call.in_call and all(s.media and s.client is not None for s in call.sides.values()):
            if not call.connected_once:
                call.connected_once = True
                # A slow first connection (a TURN relay) may have been told to rebuild: it is not a reconnection.
                call.reconnecting = False
                call.connected_since = now
                await self._record(call, VideoEventKind.CONNECTED)
                self._dirty.set()
            elif call.reconnecting:
                call.reconnecting = False
                call.connected_since = now
                await self._record(call, VideoEventKind.RECONNECTED)
                self._dirty.set()
            elif call.connected_since is None:
                call.connected_since = now

    async def _state(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if role != "room":
            raise Refusal("not_allowed")
        room_state = message.get("room_state")
        if room_state not in ROOM_STATES:
            raise Refusal("bad_field", field="room_state")
        call.room_state = str(room_state)
        self._dirty.set()

    async def _call(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if role != "official":
            raise Refusal("not_allowed")
        room = call.sides["room"].client
        if room is None:
            raise Refusal("peer_absent")
        now = self._now()
        why = self._bridge_wanted(call)
        if why is not None and self._bridged(call) is None and self.bridge is not None and not self.bridge.has_room():
            if why == "room":
                raise Refusal("bridge_full")  # this room cannot be reached directly: say so rather than try in vain
            why = None  # over the cap: direct, as without a bridge
        if not call.in_call:
            call.in_call = True
            call.reconnecting = False
            for side in call.sides.values():
                side.media, side.media_false_since, side.last_heartbeat = False, now, now
            async with call.writes:
                await self._write_start(call.audience_id)
        if why is not None and self._bridged(call) is None:
            # Opened only once the start is recorded: a failed write leaves no bridged call holding a place.
            try:
                await self._open_bridge(call)
            except Refusal:
                if why == "room":
                    raise
                why = None  # another call took the last place meanwhile
        if why is not None and call.path != "bridge":
            call.path = "bridge"
            await self._record_quietly(call, VideoEventKind.BRIDGED, why)
        call.called_at = now
        await self._send(room, {"type": "call", "path": call.path})
        await self._send(client, {"type": "path", "path": call.path})
        self._dirty.set()

    async def _end(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        reason = message.get("reason")
        if (role, reason) not in (("official", "done"), ("room", "emergency")):
            raise Refusal("bad_field", field="reason")
        self._stop_connected(call)
        async with call.writes:
            await self._write(
                service.mark_ended,
                audience_id=call.audience_id,
                by=role,
                reason=str(reason),
                connected_seconds=call.connected_total,
            )
        # Only once recorded: a failed write leaves the call going, and End can be pressed again.
        call.connected_total = 0.0
        call.ended = True
        call.in_call = False
        await self._close_bridge(call)
        for side in call.sides.values():
            if side.client is not None:
                await self._send(side.client, {"type": "ended", "by": role})
        self._dirty.set()

    async def _mute(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if role != "official":
            raise Refusal("not_allowed")
        muted = message.get("muted")
        if not isinstance(muted, bool):
            raise Refusal("bad_field", field="muted")
        await self._to_peer(call, role, {"type": "mute", "muted": muted})

    # --- reliability -------------------------------------------------------------------

    async def sweep(self) -> None:
        """One pass of the heartbeat monitor: a side silent, or without media, for the timeout starts a rebuild."""
        now = self._now()
        # The endpoint needs no sign-in (the token is the authority): a socket that has not joined
        # within the join deadline is closed, so idle connections cannot pile up.
        for client in [c for c in self._clients if c.grant is None and now - c.opened_at > JOIN_DEADLINE]:
            self._clients.discard(client)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await client.link.close(code=CLOSE_NO_JOIN, message=b"no join")
        for call in list(self.calls.values()):
            if not call.in_call or call.ended:
                continue
            if await self._fall_back_to_bridge(call, now):
                continue
            present = [(role, s) for role, s in call.sides.items() if s.client is not None]
            silent = [role for role, s in present if now - s.last_heartbeat > self._timeout]
            dark = [
                role
                for role, s in present
                if s.media_false_since is not None and now - s.media_false_since > self._timeout
            ]
            if not silent and not dark:
                continue
            reason = ",".join([f"heartbeat:{r}" for r in silent] + [f"media:{r}" for r in dark])
            if not call.reconnecting:
                await self._begin_reconnecting(call, reason, tell=True)
            elif len(present) == 2 and now - call.last_reconnect_at > self._timeout:
                await self._tell_reconnect(call)  # the last rebuild did not bring media back: once more

    async def _begin_reconnecting(self, call: Call, reason: str, *, tell: bool) -> None:
        first = not call.reconnecting
        call.reconnecting = True
        self._stop_connected(call)
        if call.connected_total:
            # Kept now, not only at the end: a server restart in the middle loses no connected time.
            seconds, call.connected_total = call.connected_total, 0.0
            with contextlib.suppress(Refusal):
                async with call.writes:
                    await self._write(service.add_connected_seconds, audience_id=call.audience_id, seconds=seconds)
        if tell and all(s.client is not None for s in call.sides.values()):
            await self._tell_reconnect(call)
        if first:
            with contextlib.suppress(Refusal):  # logged by _write; the call goes on
                await self._record(call, VideoEventKind.RECONNECTING, reason)
        self._dirty.set()
