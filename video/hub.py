"""The signalling hub: who is in each video audience's call, what they may say, and the call's reliability.

Plain asyncio, no aiohttp: a connection is anything with `send_str` and `close`
(an aiohttp WebSocketResponse is one), so tests and the benchmark drive the hub
directly. Each audience has at most one official and one room connection; a
second connection of one side replaces the first. Every message carries its
token and is checked — signature, expiry, audience, side, the audience not
ended — before anything else; a refusal goes to that connection only.

Live state (who is connected, heartbeats, media) is kept here in memory; what
must outlast a restart is written through video.service in short transactions,
one call's writes in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from majlis.errors import N_
from majlis.i18n import shipped_catalogs
from video import service
from video.analysis import PROBLEMS, problem_text
from video.bridge import BridgedCall, BridgeRefused, MediaBridge, Side
from video.models import VideoAudience, VideoEventKind, VideoState
from video.tokens import TokenRefused, VideoGrant, VideoTokens

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
MAX_SDP_CHARS = 60_000
TIMEOUT_SECONDS = 5.0
CLOSE_TOO_BIG = 1009
CLOSE_UNSUPPORTED = 1003
CLOSE_GOING_AWAY = 1001
CLOSE_REPLACED = 4001
# A side that stopped reading: closed after this long, so it holds nobody else up.
CLOSE_TOO_SLOW = 4008
CLOSE_NO_JOIN = 4003
JOIN_DEADLINE = 10.0
SEND_TIMEOUT = 2.0
# The bridge's answer to an offer (aiortc gathers its candidates first): under the 5 s heartbeat timeout.
ANSWER_TIMEOUT = 4.0
ROOM_STATES = ("ready", "present", "offline")

# English message ids; the Arabic is in the catalogs. A refusal is sent in Arabic and English together.
ERRORS: dict[str, str] = {
    "too_large": N_("The message is larger than 64 KiB."),
    "bad_json": N_("The message is not valid JSON."),
    "bad_message": N_("The message must be a JSON object."),
    "unknown_type": N_("Unknown message type."),
    "token_missing": N_("The message carries no token."),
    "token_invalid": N_("The token is not valid."),
    "token_expired": N_("The token has expired."),
    "wrong_audience": N_("This token is for another audience or side."),
    "no_audience": N_("There is no such video audience."),
    "audience_ended": N_("This audience has ended."),
    "not_joined": N_("Join the audience first."),
    "not_allowed": N_("This side may not do that."),
    "bad_field": N_("Missing or invalid field: {field}"),
    "bad_sdp": N_("The session description (SDP) does not parse."),
    "peer_absent": N_("The other side is not connected."),
    "replaced": N_("This side joined again from another window."),
    "server_error": N_("That could not be saved; try again."),
    "bridge_full": N_(
        "The server is carrying as many bridged calls as it may, and this room connects only through it."
        " Try again when another call has ended."
    ),
    "recording_not_allowed": N_("Recording is not allowed on this system."),
    "no_consent": N_("The room has not recorded the applicant's consent to recording."),
    "not_in_call": N_("The call has not started."),
    "recording_no_room": N_(
        "The server has no room for another bridged call, and recording goes only through the bridge."
        " Try again when another call has ended."
    ),
}


@dataclass(frozen=True)
class BridgePolicy:
    """When a call goes through the server's bridge (see majlis.settings: video_bridge…)."""

    mode: str = "never"  # "never" | "fallback" | "always"
    bridged_rooms: frozenset[int] = frozenset()
    # A direct call that has not connected this long after it was started is moved to the bridge.
    direct_timeout: float = 10.0
    recording_allowed: bool = False
    recordings_dir: Path = Path("var/recordings")


class Link(Protocol):
    """One open connection: a WebSocket, or a test's stand-in."""

    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


class Refusal(Exception):
    def __init__(self, code: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(eq=False)
class Client:
    """A signalling connection; `grant` is the side it joined as."""

    link: Link
    grant: VideoGrant | None = None
    # When it connected (the hub's monotonic clock): a connection that never joins is closed.
    opened_at: float = 0.0


@dataclass
class SideState:
    client: Client | None = None
    last_heartbeat: float = 0.0
    media: bool = False
    media_false_since: float | None = None


@dataclass(eq=False)
class Call:
    """The live state of one audience's call."""

    audience_id: int
    room_id: int
    checked_in: bool
    in_call: bool = False
    ended: bool = False
    reconnecting: bool = False
    connected_once: bool = False
    # The room's own report (device check done, applicant present); shown while it is connected.
    room_state: str = "offline"
    connected_since: float | None = None
    connected_total: float = 0.0
    last_reconnect_at: float = 0.0
    # "direct" (browser to browser) or "bridge" (each side to the server, media relayed there).
    path: str = "direct"
    # When the official started (or restarted) the call: the direct path's time limit counts from here.
    called_at: float | None = None
    consent: bool = False
    recording: bool = False
    sides: dict[str, SideState] = field(default_factory=lambda: {"official": SideState(), "room": SideState()})
    writes: asyncio.Lock = field(default_factory=asyncio.Lock)

    def other(self, role: str) -> SideState:
        return self.sides["room" if role == "official" else "official"]

    def shown_state(self) -> str:
        if self.ended:
            return "ended"
        if self.in_call:
            return "reconnecting" if self.reconnecting else "in_call"
        if self.sides["room"].client is None:
            return "offline"
        return self.room_state


def error_message(code: str, **params: str) -> dict[str, Any]:
    """The refusal `code` as sent, in Arabic and English ({placeholders} filled from params)."""
    catalogs = shipped_catalogs()
    return {
        "type": "error",
        "code": code,
        "message_ar": catalogs.gettext("ar", ERRORS[code], **params),
        "message_en": catalogs.gettext("en", ERRORS[code], **params),
    }


def _sdp_parses(sdp: object) -> bool:
    if not isinstance(sdp, str) or len(sdp) > MAX_SDP_CHARS:
        return False
    lines = sdp.replace("\r\n", "\n").split("\n")
    return lines[0] == "v=0" and any(line.startswith("m=") for line in lines)


def _ice_shape(candidate: object) -> bool:
    if candidate is None:
        return True
    if not isinstance(candidate, dict) or not isinstance(candidate.get("candidate"), str):
        return False
    mid, index = candidate.get("sdpMid"), candidate.get("sdpMLineIndex")
    index_ok = index is None or (isinstance(index, int) and not isinstance(index, bool) and 0 <= index < 64)
    return (mid is None or isinstance(mid, str)) and index_ok and len(candidate["candidate"]) <= 1024


class Hub:
    """Signalling for every video audience of one server process, and the consoles watching them."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        tokens: VideoTokens,
        monotonic: Callable[[], float] = time.monotonic,
        timeout: float = TIMEOUT_SECONDS,
        sweep_every: float = 0.5,
        one_transaction_at_a_time: bool = False,
        bridge: MediaBridge | None = None,
        policy: BridgePolicy | None = None,
    ) -> None:
        self.tokens = tokens
        self.bridge = bridge
        self.policy = policy or BridgePolicy()
        self._sessions = sessions
        self._clock = clock
        self._now = monotonic
        self._timeout = timeout
        self._sweep_every = sweep_every
        self.calls: dict[int, Call] = {}
        self._clients: set[Client] = set()
        self._consoles: set[Link] = set()
        self._dirty = asyncio.Event()
        # On SQLite every transaction takes the one write lock (BEGIN IMMEDIATE), and waiters poll with
        # sleeps of up to 100 ms: the hub's own transactions queue here instead, in order and at once.
        self._db_gate: contextlib.AbstractAsyncContextManager[Any] = (
            asyncio.Lock() if one_transaction_at_a_time else contextlib.nullcontext()
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._to_load: dict[int, list[asyncio.Future[VideoAudience | None]]] = {}
        self._loader: asyncio.Task[None] | None = None
        self._handlers: dict[str, Callable[[Client, Call, str, dict[str, Any]], Awaitable[None]]] = {
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

    # --- life of the hub -------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the heartbeat monitor and the console pusher."""
        self._tasks = [asyncio.create_task(self._watch()), asyncio.create_task(self._push_consoles())]

    async def close(self) -> None:
        """Stops the background tasks and closes every connection (the pages reconnect with backoff)."""
        if self._loader is not None:
            self._tasks.append(self._loader)
            self._loader = None
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

    async def _console_payloads(self) -> list[dict[str, Any]]:
        async with self._db_gate, transaction(self._sessions) as session:
            items = await service.video_audiences_today(session=session, clock=self._clock)
        queue = []
        by_room: dict[int, list[dict[str, Any]]] = {}
        for item in items:
            assert item.video is not None
            call = self.calls.get(item.video.id)
            state = call.shown_state() if call is not None else item.video.state.value
            if call is None and item.video.state is VideoState.IN_CALL:
                state = "reconnecting"  # in a call before a restart, nobody back yet
            entry = {
                "audience_id": item.video.id,
                "appointment_id": item.appointment.id,
                "room_id": item.room.id,
                "room_name": item.room.name,
                "starts_at": item.slot.starts_at.isoformat(),
                "state": state,
                "record_state": item.video.state.value,
                "checked_in_at": item.video.checked_in_at.isoformat() if item.video.checked_in_at else None,
                "outcome": item.video.outcome.value if item.video.outcome else None,
            }
            queue.append(entry)
            by_room.setdefault(item.room.id, []).append(entry)
        rooms = []
        for room_id, entries in by_room.items():
            live = [e for e in entries if e["state"] in ("in_call", "reconnecting")]
            connected = [e for e in entries if e["state"] in ROOM_STATES and e["state"] != "offline"]
            waiting = [e for e in entries if e["record_state"] != "ended"]
            current = (live or connected or waiting or entries[-1:])[0]
            state = current["state"] if current["state"] != "ended" and current["state"] != "waiting" else "offline"
            rooms.append(
                {
                    "room_id": room_id,
                    "name": current["room_name"],
                    "state": state,
                    "applicant_waiting_since": current["checked_in_at"] if state not in ("in_call",) else None,
                    "audience_id": current["audience_id"],
                }
            )
        return [{"type": "rooms", "rooms": rooms}, {"type": "queue", "audiences": queue}]

    # --- messages -------------------------------------------------------------------

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
        if not _sdp_parses(sdp):
            raise Refusal("bad_sdp")
        assert isinstance(sdp, str)
        if not call.in_call:
            # Offers follow an accepted `call`: one after a refused call must not connect the sides anyway.
            raise Refusal("not_in_call")
        # The offer's number, echoed with its answer: a page ignores the answer to an offer it has replaced.
        offer_id = message.get("id")
        if offer_id is not None and not (isinstance(offer_id, int) and not isinstance(offer_id, bool)):
            raise Refusal("bad_field", field="id")
        numbered = {} if offer_id is None else {"id": offer_id}
        bridged = self._bridged(call)
        if bridged is None:
            await self._to_peer(call, role, {"type": message["type"], "sdp": sdp, **numbered})
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
            raise Refusal("bad_sdp" if refused.code == "bad_sdp" else "server_error") from None
        except TimeoutError:
            log.warning("video %s: the bridge took too long to answer the %s", call.audience_id, side)
            raise Refusal("server_error") from None
        if call.sides[role].client is client:
            await self._send(client, {"type": "answer", "sdp": answer, **numbered})

    async def _relay_ice(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if "candidate" not in message or not _ice_shape(message["candidate"]):
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
                await self._write(service.mark_started, audience_id=call.audience_id)
        if why is not None and self._bridged(call) is None:
            # Opened only once the start is recorded: a failed write leaves no bridged call holding a place.
            try:
                self._open_bridge(call)
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

    async def _tell_reconnect(self, call: Call) -> None:
        if call.path == "bridge" and self.bridge is not None and self.bridge.get(call.audience_id) is None:
            # Its bridged call was closed while both sides were away: opened again, or direct if the bridge is full
            # (a room that must be bridged is told why instead; the sweep tries again).
            try:
                self._open_bridge(call)
            except Refusal:
                if self._bridge_wanted(call) == "room":
                    call.last_reconnect_at = self._now()
                    for side in call.sides.values():
                        if side.client is not None:
                            await self._send(side.client, error_message("bridge_full"))
                    return
                call.path = "direct"
        now = self._now()
        call.last_reconnect_at = now
        for side in call.sides.values():
            side.media, side.media_false_since, side.last_heartbeat = False, now, now
        for side in call.sides.values():
            if side.client is not None:
                await self._send(side.client, {"type": "reconnect", "path": call.path})

    def _stop_connected(self, call: Call) -> None:
        if call.connected_since is not None:
            call.connected_total += self._now() - call.connected_since
            call.connected_since = None

    # --- the bridge -------------------------------------------------------------------

    def _bridged(self, call: Call) -> BridgedCall | None:
        """The audience's bridged call when its media go through the server, else None."""
        if call.path != "bridge" or self.bridge is None:
            return None
        return self.bridge.get(call.audience_id)

    def _bridge_wanted(self, call: Call) -> str | None:
        """Why this call should start on the bridge ("room", "settings", "recording"), or None for direct."""
        if self.bridge is None or (self.policy.mode == "never" and call.room_id not in self.policy.bridged_rooms):
            return None
        if call.room_id in self.policy.bridged_rooms:
            return "room"
        if self.policy.mode == "always":
            return "settings"
        if self.policy.recording_allowed and call.consent:
            return "recording"  # the server must see the media to record them
        return None

    def _open_bridge(self, call: Call) -> None:
        assert self.bridge is not None
        try:
            self.bridge.open(call.audience_id)
        except BridgeRefused as refused:
            raise Refusal(refused.code) from None

    async def _fall_back_to_bridge(self, call: Call, now: float) -> bool:
        """A direct call that has not connected within the time limit moves to the bridge, if there is room."""
        if (
            self.bridge is None
            or self.policy.mode != "fallback"
            or call.path != "direct"
            or call.connected_once
            or call.called_at is None
            or now - call.called_at < self.policy.direct_timeout
            or any(s.client is None for s in call.sides.values())
            or not self.bridge.has_room()
        ):
            return False
        self._open_bridge(call)
        call.path = "bridge"
        await self._record_quietly(call, VideoEventKind.BRIDGED, "direct_failed")
        await self._tell_reconnect(call)
        self._dirty.set()
        return True

    async def _close_bridge(self, call: Call) -> None:
        if self.bridge is not None and self.bridge.get(call.audience_id) is not None:
            if call.recording:
                call.recording = False
                await self._record_quietly(call, VideoEventKind.RECORDING, "stopped")
            await self.bridge.close_call(call.audience_id)

    async def quality_changed(self, audience_id: int, side: Side, problems: list[str]) -> None:
        """The bridge's monitor saw the picture `side` sends go bad (or recover): the official is warned.

        The official is a man: the warnings ask him in the masculine (the men's-room texts). The live monitor's
        problems (no picture, black, frozen, too dark, jerky) name only the reader, never the person in the room,
        so they hold for a call with a women's room too.
        """
        call = self.calls.get(audience_id)
        if call is None or call.ended:
            return
        official = call.sides["official"].client
        if official is not None:
            catalogs = shipped_catalogs()
            await self._send(
                official,
                {
                    "type": "quality",
                    "from": side,
                    "problems": [
                        {
                            "code": code,
                            "message_ar": problem_text(catalogs, "ar", code, to_men=True),
                            "message_en": problem_text(catalogs, "en", code, to_men=True),
                        }
                        for code in problems
                        if code in PROBLEMS
                    ],
                },
            )
        await self._record_quietly(call, VideoEventKind.QUALITY, f"{side}:{','.join(problems) or 'ok'}")

    def consented(self, audience_id: int) -> None:
        """The room recorded the applicant's consent to recording (outside the hub, through the console)."""
        call = self.calls.get(audience_id)
        if call is not None:
            call.consent = True
        self._dirty.set()

    async def _record_media(self, client: Client, call: Call, role: str, message: dict[str, Any]) -> None:
        if role != "official":
            raise Refusal("not_allowed")
        on = message.get("on")
        if not isinstance(on, bool):
            raise Refusal("bad_field", field="on")
        if not on:
            bridged = self._bridged(call)
            if bridged is not None and call.recording:
                await bridged.stop_recording()
                call.recording = False
                await self._record_quietly(call, VideoEventKind.RECORDING, "stopped")
            await self._tell_recording(call)
            return
        if not self.policy.recording_allowed or self.bridge is None:
            raise Refusal("recording_not_allowed")
        if not call.consent:
            raise Refusal("no_consent")
        if not call.in_call:
            raise Refusal("not_in_call")
        if call.recording:
            await self._tell_recording(call)
            return
        assert self.bridge is not None
        # A recording takes a place of its own under the cap (its recorder encodes the picture once more),
        # and a direct call must first take one for the bridge.
        if not self.bridge.has_room(places=1 if self._bridged(call) is not None else 2):
            raise Refusal("recording_no_room")
        if self._bridged(call) is None:
            # A direct call is moved onto the bridge: only there does the server see what it records.
            self._open_bridge(call)
            call.path = "bridge"
            await self._record_quietly(call, VideoEventKind.BRIDGED, "recording")
            await self._tell_reconnect(call)
        bridged = self._bridged(call)
        if bridged is None or call.ended:
            raise Refusal("not_in_call")  # the call ended while it was being moved
        name = f"audience-{call.audience_id}-{self._clock.now().strftime('%Y%m%dT%H%M%SZ')}.mkv"
        await bridged.start_recording(self.policy.recordings_dir / name)
        call.recording = True
        try:
            async with call.writes:
                await self._write(service.mark_recording, audience_id=call.audience_id, path=name, detail="started")
        except Refusal:
            # Not on the record, so not at all: the consoles must not show "not recording" while it records.
            await bridged.stop_recording()
            call.recording = False
            raise
        await self._tell_recording(call)

    async def _tell_recording(self, call: Call) -> None:
        # The room shows it too: the applicant sees when she is being recorded.
        for side in call.sides.values():
            if side.client is not None:
                await self._send(side.client, {"type": "recording", "on": call.recording})

    async def _record_quietly(self, call: Call, kind: VideoEventKind, detail: str) -> None:
        with contextlib.suppress(Refusal):  # logged by _write; the call goes on
            await self._record(call, kind, detail)

    # --- helpers -------------------------------------------------------------------

    async def _record(self, call: Call, kind: VideoEventKind, detail: str = "") -> None:
        async with call.writes:
            await self._write(service.mark_event, audience_id=call.audience_id, kind=kind, detail=detail)

    async def _write(self, operation: Callable[..., Any], **arguments: Any) -> None:
        try:
            async with self._db_gate, transaction(self._sessions) as session:
                await operation(session=session, clock=self._clock, **arguments)
        except Exception:
            log.exception("video record %s failed for %s", operation.__name__, arguments)
            raise Refusal("server_error") from None

    async def _to_peer(self, call: Call, role: str, payload: dict[str, Any]) -> None:
        peer = call.other(role).client
        if peer is None:
            raise Refusal("peer_absent")
        await self._send(peer, payload)

    async def _send(self, client: Client, payload: dict[str, Any]) -> None:
        await self._send_link(client.link, payload)

    async def _send_link(self, link: Link, payload: dict[str, Any]) -> None:
        # A connection closing under us is noticed by its own reader, which disconnects it.
        with contextlib.suppress(ConnectionError, RuntimeError):
            try:
                # asyncio.timeout, not wait_for: no task per message (wait_for's cost showed in the bench's p99).
                async with asyncio.timeout(SEND_TIMEOUT):
                    await link.send_str(json.dumps(payload, ensure_ascii=False))
            except TimeoutError:
                # A side that stopped reading (a laptop asleep) must not hold up every other console and call.
                log.warning("video: a connection stopped reading; closed")
                await link.close(code=CLOSE_TOO_SLOW, message=b"too slow")
