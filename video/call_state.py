"""A call's live state and the parts every step of the state machine shares: sending, writing, recording.

Live state (who is connected, heartbeats, media) is kept in memory of the process that is the signalling home
(video.hub_transport); what must outlast a restart is written through video.service in short transactions, one
call's writes in order (Call.writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from video import service
from video.bridge import MediaBridge
from video.models import VideoAudience, VideoEventKind
from video.signalling_messages import (
    CLOSE_TOO_SLOW,
    SEND_TIMEOUT,
    TIMEOUT_SECONDS,
    ConsoleMessage,
    Link,
    Outbound,
    Refusal,
)
from video.tokens import VideoGrant, VideoTokens
from video.worker_bridge import WorkerBridge

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BridgePolicy:
    """When a call goes through the server's bridge (see majlis.settings: video_bridge…)."""

    mode: str = "never"  # "never" | "fallback" | "always"
    bridged_rooms: frozenset[int] = frozenset()
    # A direct call that has not connected this long after it was started is moved to the bridge.
    direct_timeout: float = 10.0
    recording_allowed: bool = False
    recordings_dir: Path = Path("var/recordings")


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


class HubCore:
    """What the state machine's steps share: the live calls, the connections, and how to send and write."""

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
        bridge: MediaBridge | WorkerBridge | None = None,
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
        self._to_start: dict[int, list[asyncio.Future[None]]] = {}
        self._starter: asyncio.Task[None] | None = None

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

    async def _write_start(self, audience_id: int) -> None:
        """Records the call's start; starts arriving together are written in one transaction (a burst of starts
        would otherwise be a transaction each, and the joins' reads wait behind them). Returns once committed;
        Refusal("server_error") when it could not be."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_start.setdefault(audience_id, []).append(future)
        if self._starter is None or self._starter.done():
            self._starter = asyncio.create_task(self._write_starts())
        try:
            await future
        except Exception:
            raise Refusal("server_error") from None

    async def _write_starts(self) -> None:
        while self._to_start:
            waiting, self._to_start = self._to_start, {}
            try:
                # In audience order: two batches (two homes overlapping) lock the same rows in the same order.
                async with self._db_gate, transaction(self._sessions) as session:
                    for audience_id in sorted(waiting):
                        await service.mark_started(session=session, clock=self._clock, audience_id=audience_id)
                failed: dict[int, BaseException] = {}
            except Exception:
                # One record's failure must not refuse the others' starts: each is tried again on its own.
                failed = {}
                for audience_id in sorted(waiting):
                    try:
                        async with self._db_gate, transaction(self._sessions) as session:
                            await service.mark_started(session=session, clock=self._clock, audience_id=audience_id)
                    except Exception as exc:
                        log.exception("video record mark_started failed for audience %s", audience_id)
                        failed[audience_id] = exc
            for audience_id, futures in waiting.items():
                for future in futures:
                    if future.done():
                        continue
                    if audience_id in failed:
                        future.set_exception(failed[audience_id])
                    else:
                        future.set_result(None)

    async def _to_peer(self, call: Call, role: str, payload: Outbound) -> None:
        peer = call.other(role).client
        if peer is None:
            raise Refusal("peer_absent")
        await self._send(peer, payload)

    async def _send(self, client: Client, payload: Outbound) -> None:
        await self._send_link(client.link, payload)

    async def _send_link(self, link: Link, payload: Outbound | ConsoleMessage) -> None:
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

    def _stop_connected(self, call: Call) -> None:
        if call.connected_since is not None:
            call.connected_total += self._now() - call.connected_since
            call.connected_since = None
