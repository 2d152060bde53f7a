"""The hub's bridge when bridged calls run on `majlis bridge` workers (settings.video_bridge_on_workers).

It offers the hub what MediaBridge does (has_room, get, open, close_call, close, and per call answer, add_ice,
drop, start_recording, stop_recording), each done through video.bridge_assign.BridgeAssigner: a call's place is
taken on the least loaded live worker in the database, and its requests go to that worker over majlis.pubsub.

The hub keeps which worker carries each of its calls here, in the signalling home's memory like the rest of a
call's live state. `has_room` answers from the workers' free places as last read (every REFRESH_SECONDS, and
counted down by this hub's own takes): a hint for choosing the path; the take itself (one conditional UPDATE)
is what guarantees the cap, and a full worker set refuses with bridge_full there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from video.bridge import BridgeRefused, Side
from video.bridge_assign import BridgeAssigner, QualityReport, live_workers

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
# How long closing the hub's calls on its way out may take: a dead worker never answers a close.
CLOSE_TIMEOUT = 5.0


class WorkerCall:
    """One audience's bridged call on a worker."""

    def __init__(self, assigner: BridgeAssigner, audience_id: int, worker: str) -> None:
        self._assigner = assigner
        self.audience_id = audience_id
        self.worker = worker
        self.recording = False

    async def answer(self, side: Side, offer_sdp: str) -> str:
        return await self._assigner.answer(self.worker, self.audience_id, side, offer_sdp)

    async def add_ice(self, side: Side, candidate: dict[str, Any] | None) -> None:
        await self._assigner.add_ice(self.worker, self.audience_id, side, candidate)

    async def drop(self, side: Side) -> None:
        with contextlib.suppress(BridgeRefused):  # a side's connection released: nothing to keep if it fails
            await self._assigner.drop(self.worker, self.audience_id, side)

    async def start_recording(self, path: Path) -> None:
        await self._assigner.start_recording(self.worker, self.audience_id, str(path))
        self.recording = True

    async def stop_recording(self) -> None:
        if self.recording:
            self.recording = False
            await self._assigner.stop_recording(self.worker, self.audience_id)


class WorkerBridge:
    """Bridged calls on `majlis bridge` workers, as the hub sees them."""

    def __init__(self, assigner: BridgeAssigner, *, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._assigner = assigner
        self._sessions = sessions
        self._clock = clock
        self._calls: dict[int, WorkerCall] = {}
        self._free = 0
        self._refresher: asyncio.Task[None] | None = None
        self._opening: dict[int, asyncio.Future[str]] = {}
        self._rebuilding: set[asyncio.Task[None]] = set()
        # Told when a worker stopped with this hub's calls on it: the hub rebuilds each (on another worker).
        self.on_lost: Callable[[int], Awaitable[None]] | None = None
        assigner.on_worker_stopped = self._worker_stopped

    @property
    def on_quality(self) -> QualityReport | None:
        return self._assigner.on_quality

    @on_quality.setter
    def on_quality(self, report: QualityReport | None) -> None:
        self._assigner.on_quality = report

    async def start(self) -> None:
        await self._assigner.start()
        await self._refresh()
        self._refresher = asyncio.get_running_loop().create_task(self._keep_refreshing(), name="worker-bridge")

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None
        for task in list(self._rebuilding):
            task.cancel()
        await asyncio.gather(*self._rebuilding, return_exceptions=True)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await asyncio.gather(*(self.close_call(a) for a in list(self._calls)), return_exceptions=True)
        except TimeoutError:
            log.warning("video: the bridged calls were not all closed within %s s", CLOSE_TIMEOUT)
        finally:
            await self._assigner.close()

    def has_room(self, *, places: int = 1) -> bool:
        return self._free >= places

    def get(self, audience_id: int) -> WorkerCall | None:
        return self._calls.get(audience_id)

    async def open(self, audience_id: int) -> WorkerCall:
        found = self._calls.get(audience_id)
        if found is not None:
            return found
        # Two steps of one call asking at once (a reconnect and a recording) share one place.
        opening = self._opening.get(audience_id)
        if opening is None:
            opening = self._opening[audience_id] = asyncio.ensure_future(self._assigner.assign(audience_id))
            opening.add_done_callback(lambda _: self._opening.pop(audience_id, None))
            worker = await opening
            self._free -= 1
            self._calls[audience_id] = WorkerCall(self._assigner, audience_id, worker)
        else:
            await opening
        return self._calls[audience_id]

    async def close_call(self, audience_id: int) -> None:
        call = self._calls.pop(audience_id, None)
        if call is None:
            return
        # A recording holds a second place on the worker, given back with the call's.
        places = 2 if call.recording else 1
        try:
            await self._assigner.release(call.worker, audience_id, places=places)
        except Exception:
            # The worker's heartbeat rewrites its load from what it really carries: a lost give-back heals.
            log.exception("video: the bridged call of audience %s could not be released", audience_id)
        self._free += places

    async def _keep_refreshing(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self._refresh()
            except Exception:
                log.warning("video: the bridge workers' load could not be read", exc_info=True)
            try:
                await self._keep()
            except Exception:
                log.warning("video: the bridge workers could not be told which calls are kept", exc_info=True)

    async def _keep(self) -> None:
        by_worker: dict[str, list[int]] = {}
        for audience_id, call in self._calls.items():
            by_worker.setdefault(call.worker, []).append(audience_id)
        for worker, audiences in by_worker.items():
            await self._assigner.keep(worker, audiences)

    async def _refresh(self) -> None:
        async with self._sessions() as session:
            workers = await live_workers(session=session, clock=self._clock)
        self._free = sum(max(0, w.capacity - w.calls) for w in workers)
        # A worker that died without a clean stop (SIGKILL, out of memory, its machine gone) never says so: its
        # heartbeat going stale is the only sign, and its calls are rebuilt as if it had said it stopped.
        live = {w.name for w in workers}
        for worker in sorted({call.worker for call in self._calls.values()} - live):
            log.warning("video: bridge worker %s stopped beating; its calls move", worker)
            await self._worker_stopped(worker, [])

    def lost(self, audience_id: int) -> None:
        """The worker no longer has this call (it restarted, or dropped it): forgotten here and rebuilt."""
        call = self._calls.pop(audience_id, None)
        if call is not None:
            self._rebuild_later([audience_id])

    async def _worker_stopped(self, worker: str, audiences: list[int]) -> None:
        lost = [a for a, call in self._calls.items() if call.worker == worker]
        for audience_id in lost:
            del self._calls[audience_id]
        self._rebuild_later(lost)

    def _rebuild_later(self, lost: list[int]) -> None:
        if lost and self.on_lost is not None:
            # Not awaited here: this runs in pubsub's delivery (or in a side's message), and the rebuild waits for
            # a worker's reply that the same delivery must bring.
            rebuild = asyncio.get_running_loop().create_task(self._rebuild(self.on_lost, lost))
            self._rebuilding.add(rebuild)
            rebuild.add_done_callback(self._rebuilding.discard)

    async def _rebuild(self, on_lost: Callable[[int], Awaitable[None]], audiences: list[int]) -> None:
        for audience_id in audiences:
            try:
                await on_lost(audience_id)
            except Exception:
                log.exception(
                    "video: the call of audience %s could not be rebuilt after its worker stopped", audience_id
                )
