"""A `majlis bridge` worker: carries bridged calls for the hubs of every `majlis serve` process.

The worker registers in `bridge_workers` (its name, its capacity) and refreshes its heartbeat
and real load every HEARTBEAT_EVERY seconds; it listens on its own pubsub channel for the
requests of video/bridge_assign.py and answers each on the asker's reply channel. Its calls
are a `MediaBridge` of its own, the same one a single-process server runs.

Requests about one audience are carried out one at a time in the order they arrived (an
offer's answer before the candidates trickled after it); requests about different audiences
run side by side, so one call's slow answer does not hold the others.

Each call belongs to the hub (`owner`) that opened it last: a close or drop from another owner (a
home that lost its lock, on its way out) is ignored, and a call whose owner has not kept it for
ORPHAN_SECONDS is closed (its owner's process died, or it gave the call up without a word).

On stopping, the worker tells every hub (`worker_stopped`, with its audiences), closes its
calls (recordings written) and deletes its row: no call is assigned to it any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from majlis.pubsub import PubSub, Subscription
from video.bridge import BridgeRefused, MediaBridge, Side
from video.bridge_assign import EVENTS, HEARTBEAT_EVERY, worker_channel
from video.models import BridgeWorker

log = logging.getLogger(__name__)

# A call its owner has not kept (nor asked anything about) for this long is closed. The owner keeps its calls every
# worker_bridge.REFRESH_SECONDS (2 s), so this is many missed keeps, and longer than a new signalling home takes to
# open the same calls again (≤ 5 s) — a live call is never closed by it, and an orphan frees its place in ≤ a minute.
ORPHAN_SECONDS = 30.0


class BridgeWorkerService:
    """One worker process's bridge, its row in bridge_workers and its channel."""

    def __init__(
        self,
        pubsub: PubSub,
        sessions: async_sessionmaker[AsyncSession],
        bridge: MediaBridge,
        *,
        name: str,
        clock: Clock,
        heartbeat_every: float = HEARTBEAT_EVERY,
        orphan_after: float = ORPHAN_SECONDS,
    ) -> None:
        self.name = name
        self.bridge = bridge
        self._pubsub = pubsub
        self._sessions = sessions
        self._clock = clock
        self._heartbeat_every = heartbeat_every
        self._orphan_after = orphan_after
        # Each call's owner (the hub that opened it last) and when that owner last asked about it or kept it.
        self._owners: dict[int, str] = {}
        self._kept: dict[int, float] = {}
        self._subscription: Subscription | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        bridge.on_quality = self._report_quality

    async def start(self) -> None:
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            # A worker restarted under the same name takes its row over.
            await session.execute(delete(BridgeWorker).where(BridgeWorker.name == self.name))
            session.add(
                BridgeWorker(name=self.name, capacity=self.bridge.max_calls, calls=0, started_at=now, heartbeat_at=now)
            )
        self._subscription = await self._pubsub.subscribe(worker_channel(self.name), self._on_request)
        self._heartbeat = asyncio.create_task(self._beat())
        log.info("bridge worker %s: carrying up to %d calls", self.name, self.bridge.max_calls)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        audiences = sorted(self.bridge.calls)
        with contextlib.suppress(Exception):  # the hubs learn of it from the stale heartbeat otherwise
            await self._pubsub.publish(EVENTS, {"event": "worker_stopped", "worker": self.name, "audiences": audiences})
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.bridge.close()
        async with transaction(self._sessions) as session:
            await session.execute(delete(BridgeWorker).where(BridgeWorker.name == self.name))

    async def heartbeat(self) -> None:
        """Writes the heartbeat and the places really in use (a place a dead hub process took is given back)."""
        async with transaction(self._sessions) as session:
            await session.execute(
                update(BridgeWorker)
                .where(BridgeWorker.name == self.name)
                .values(heartbeat_at=self._clock.now(), calls=self.bridge.load(), capacity=self.bridge.max_calls)
            )

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_every)
            try:
                await self.close_orphans()
                await self.heartbeat()
            except Exception:
                if cast(asyncio.Task[None], asyncio.current_task()).cancelling():
                    raise  # close() cancelled it mid-statement, and the rollback raised something else
                log.exception("bridge worker %s: the heartbeat failed", self.name)

    async def close_orphans(self) -> None:
        """Closes the calls their owner stopped keeping (see ORPHAN_SECONDS)."""
        now = time.monotonic()
        for audience in [a for a in self.bridge.calls if now - self._kept.get(a, now) > self._orphan_after]:
            log.warning("bridge worker %s: audience %s's call was not kept by its hub; closed", self.name, audience)
            async with self._locks.setdefault(audience, asyncio.Lock()):
                if now - self._kept.get(audience, now) > self._orphan_after:  # not kept while waiting for the lock
                    await self.bridge.close_call(audience)
                    self._owners.pop(audience, None)
                    self._kept.pop(audience, None)

    async def _on_request(self, message: dict[str, Any], *, own: bool) -> None:
        # Delivery is one handler at a time: the request runs in a task, queued on its audience's lock in
        # arrival order (asyncio's lock wakes its waiters first in, first out).
        owner = str(message.get("owner", ""))
        if message.get("op") == "keep":
            now = time.monotonic()
            for kept in message.get("audiences", ()):
                if isinstance(kept, int) and self._owners.get(kept) == owner:
                    self._kept[kept] = now
            return
        audience = message.get("audience")
        if not isinstance(audience, int):
            return
        lock = self._locks.setdefault(audience, asyncio.Lock())
        task = asyncio.create_task(self._carry_out(lock, audience, message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _carry_out(self, lock: asyncio.Lock, audience: int, message: dict[str, Any]) -> None:
        async with lock:
            try:
                reply = await self._do(audience, message)
                reply["ok"] = True
            except BridgeRefused as refused:
                reply = {"ok": False, "code": refused.code}
            except Exception:
                log.exception("bridge worker %s: %s for audience %s failed", self.name, message.get("op"), audience)
                reply = {"ok": False, "code": "bridge_closed"}
            if message.get("op") == "close" and not lock.locked():
                self._locks.pop(audience, None)
        channel = message.get("reply")
        if isinstance(channel, str) and "request" in message:
            await self._pubsub.publish(channel, {**reply, "request": message["request"]})

    async def _do(self, audience: int, message: dict[str, Any]) -> dict[str, Any]:
        op, owner = message.get("op"), str(message.get("owner", ""))
        ours = self._owners.get(audience, owner) == owner
        if op == "open":
            if not ours:
                # Another hub's call for this audience (a home that has since lost its lock): the new home's call
                # starts afresh, its sides offer again.
                await self.bridge.close_call(audience)
            self.bridge.open(audience)
            self._owners[audience] = owner
            self._kept[audience] = time.monotonic()
            return {}
        if not ours and op in ("close", "drop"):
            return {}  # not this asker's call any more: the audience was opened again by another hub
        if ours and audience in self._owners:
            self._kept[audience] = time.monotonic()
        if op == "close":
            await self.bridge.close_call(audience)
            self._owners.pop(audience, None)
            self._kept.pop(audience, None)
            return {}
        call = self.bridge.get(audience)
        if call is None:
            raise BridgeRefused("bridge_closed")
        side = message.get("side")
        if op in ("answer", "ice", "drop") and side not in ("official", "room"):
            raise BridgeRefused("bad_sdp")
        if op == "answer":
            return {"sdp": await call.answer(cast(Side, side), str(message.get("sdp", "")))}
        if op == "ice":
            candidate = message.get("candidate")
            await call.add_ice(cast(Side, side), candidate if isinstance(candidate, dict) else None)
            return {}
        if op == "drop":
            await call.drop(cast(Side, side))
            return {}
        if op == "record":
            await call.start_recording(Path(str(message["path"])))
            return {}
        if op == "stop_recording":
            await call.stop_recording()
            return {}
        raise BridgeRefused("bridge_closed")

    async def _report_quality(self, audience_id: int, side: Side, problems: list[str]) -> None:
        await self._pubsub.publish(
            EVENTS,
            {"event": "quality", "worker": self.name, "audience": audience_id, "side": side, "problems": problems},
        )
