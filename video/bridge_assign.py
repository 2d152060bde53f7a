"""The hub's side of the `majlis bridge` workers: give a call to the least loaded one, then talk to it.

A bridged call's media run in a `majlis bridge` process (video/bridge_worker.py), on this machine
or another; the hub's process only relays signalling. Everything goes through majlis.pubsub:

- each worker listens on its own channel (`worker_channel(name)`); a request carries the
  asker's reply channel and an id, and the worker answers there (`{"request", "ok", ...}`);
- what a worker reports on its own (a call's picture went bad or recovered, the worker is
  stopping) goes to `EVENTS`, which every hub process hears; the process that holds the
  call acts on it.

Load: each worker's row in `bridge_workers` holds its `capacity` and the places in use
(`calls`; a recording call takes two, as MediaBridge.load counts). `assign` takes a place
with one conditional UPDATE on the least loaded live worker (heartbeat within
`HEARTBEAT_LIMIT`), so two hub processes assigning at once cannot both take a worker's
last place; `release` gives it back. The worker rewrites `calls` from its real load at each
heartbeat, which corrects a place lost with a hub process that died between the two.

The assigner keeps no call state: `assign` returns the worker's name and the hub keeps it with
the call (so any hub process can go on with it). Requests to one worker about one audience are
carried out by the worker in the order they were published (one publisher's order holds).

Ownership: every request carries the assigner's `owner` (one per hub). The worker closes or drops a
call only for the owner that opened it last, so a home that lost its lock and closes its calls on
the way out cannot tear down the same audience the new home has opened again meanwhile. The owner
tells each worker every few seconds which of its calls it still holds (`keep`); a call its owner
stopped keeping (the owner's process died) is closed by the worker (bridge_worker.ORPHAN_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from majlis.pubsub import PubSub, Subscription
from video.bridge import BridgeRefused, Side
from video.models import BridgeWorker

EVENTS = "bridge_events"
# A worker whose heartbeat is older than this is taken for dead: no new call goes to it. Three heartbeats.
HEARTBEAT_EVERY = 5.0
HEARTBEAT_LIMIT = timedelta(seconds=3 * HEARTBEAT_EVERY)
# A worker that has not answered a request in this time is taken to have failed it.
REPLY_TIMEOUT = 15.0

QualityReport = Callable[[int, Side, list[str]], Awaitable[None]]
WorkerStopped = Callable[[str, list[int]], Awaitable[None]]


def channel_slug(name: str, *, limit: int = 40) -> str:
    """A worker's or process's name as a channel name's tail (letters, digits, underscores)."""
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in name)[:limit]


def worker_channel(name: str) -> str:
    return "bridge_w_" + channel_slug(name)


@dataclass(frozen=True)
class WorkerLoad:
    name: str
    capacity: int
    calls: int


async def live_workers(*, session: AsyncSession, clock: Clock) -> list[WorkerLoad]:
    """The workers whose heartbeat is recent, least loaded (by share of capacity) first."""
    cutoff = clock.now() - HEARTBEAT_LIMIT
    rows = (await session.execute(select(BridgeWorker).where(BridgeWorker.heartbeat_at >= cutoff))).scalars()
    found = [WorkerLoad(row.name, row.capacity, row.calls) for row in rows if row.capacity > 0]
    return sorted(found, key=lambda w: (w.calls / w.capacity, w.calls, w.name))


async def take_place(*, session: AsyncSession, clock: Clock, places: int = 1) -> str | None:
    """Takes `places` on the least loaded live worker that has them; its name, or None when every one is full."""
    cutoff = clock.now() - HEARTBEAT_LIMIT
    for worker in await live_workers(session=session, clock=clock):
        if worker.calls + places > worker.capacity:
            continue
        taken = await session.execute(
            update(BridgeWorker)
            .where(
                BridgeWorker.name == worker.name,
                BridgeWorker.calls + places <= BridgeWorker.capacity,
                BridgeWorker.heartbeat_at >= cutoff,
            )
            .values(calls=BridgeWorker.calls + places)
            .returning(BridgeWorker.name)
        )
        if taken.scalar_one_or_none() is not None:
            return worker.name
    return None


async def give_back(*, session: AsyncSession, name: str, places: int = 1) -> None:
    await session.execute(
        update(BridgeWorker)
        .where(BridgeWorker.name == name, BridgeWorker.calls >= places)
        .values(calls=BridgeWorker.calls - places)
    )


class BridgeAssigner:
    """What a hub process calls to run a call's media on a `majlis bridge` worker.

    Every method but `assign` takes the worker's name that `assign` returned. A worker's refusal raises
    `BridgeRefused` with its code ("bridge_full", "bad_sdp", "bridge_closed"); a worker that does not answer
    within REPLY_TIMEOUT raises BridgeRefused("bridge_closed").
    """

    def __init__(
        self,
        pubsub: PubSub,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        on_quality: QualityReport | None = None,
        on_worker_stopped: WorkerStopped | None = None,
        reply_timeout: float = REPLY_TIMEOUT,
    ) -> None:
        self._pubsub = pubsub
        self._sessions = sessions
        self._clock = clock
        # Set after construction by whoever listens (the hub), which is built with the assigner.
        self.on_quality = on_quality
        self.on_worker_stopped = on_worker_stopped
        self._timeout = reply_timeout
        self.reply_channel = "bridge_r_" + channel_slug(f"{pubsub.name}_{uuid.uuid4().hex[:8]}")
        self.owner = uuid.uuid4().hex
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._subscriptions: list[Subscription] = []

    async def start(self) -> None:
        self._subscriptions = [
            await self._pubsub.subscribe(self.reply_channel, self._on_reply),
            await self._pubsub.subscribe(EVENTS, self._on_event),
        ]

    async def close(self) -> None:
        for subscription in self._subscriptions:
            await subscription.close()
        self._subscriptions = []
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()

    async def assign(self, audience_id: int, *, places: int = 1) -> str:
        """Opens the audience's bridged call on the least loaded live worker; its name. BridgeRefused when full."""
        async with transaction(self._sessions) as session:
            name = await take_place(session=session, clock=self._clock, places=places)
        if name is None:
            raise BridgeRefused("bridge_full")
        try:
            await self._ask(name, {"op": "open", "audience": audience_id})
        except BridgeRefused:
            async with transaction(self._sessions) as session:
                await give_back(session=session, name=name, places=places)
            raise
        return name

    async def answer(self, worker: str, audience_id: int, side: Side, offer_sdp: str) -> str:
        """The worker's answer to a side's offer (see BridgedCall.answer)."""
        reply = await self._ask(worker, {"op": "answer", "audience": audience_id, "side": side, "sdp": offer_sdp})
        return str(reply["sdp"])

    async def add_ice(self, worker: str, audience_id: int, side: Side, candidate: dict[str, Any] | None) -> None:
        """A trickled candidate; not waited for (the worker applies it after the side's answer, in order)."""
        await self._tell(worker, {"op": "ice", "audience": audience_id, "side": side, "candidate": candidate})

    async def drop(self, worker: str, audience_id: int, side: Side) -> None:
        await self._ask(worker, {"op": "drop", "audience": audience_id, "side": side})

    async def start_recording(self, worker: str, audience_id: int, path: str, *, places: int = 1) -> None:
        """Records on the worker into `path` (on the worker's machine); takes `places` more there first."""
        async with transaction(self._sessions) as session:
            taken = await session.execute(
                update(BridgeWorker)
                .where(BridgeWorker.name == worker, BridgeWorker.calls + places <= BridgeWorker.capacity)
                .values(calls=BridgeWorker.calls + places)
                .returning(BridgeWorker.name)
            )
            if taken.scalar_one_or_none() is None:
                raise BridgeRefused("bridge_full")
        await self._ask(worker, {"op": "record", "audience": audience_id, "path": path})

    async def stop_recording(self, worker: str, audience_id: int, *, places: int = 1) -> None:
        await self._ask(worker, {"op": "stop_recording", "audience": audience_id})
        async with transaction(self._sessions) as session:
            await give_back(session=session, name=worker, places=places)

    async def release(self, worker: str, audience_id: int, *, places: int = 1) -> None:
        """Closes the audience's bridged call on the worker and gives its places back."""
        with contextlib.suppress(BridgeRefused):
            await self._ask(worker, {"op": "close", "audience": audience_id})
        async with transaction(self._sessions) as session:
            await give_back(session=session, name=worker, places=places)

    async def keep(self, worker: str, audiences: list[int]) -> None:
        """Tells the worker these calls of this owner are still in use (a call no longer kept is closed there)."""
        await self._tell(worker, {"op": "keep", "audiences": audiences})

    async def _tell(self, worker: str, message: dict[str, Any]) -> None:
        await self._pubsub.publish(worker_channel(worker), {**message, "owner": self.owner})

    async def _ask(self, worker: str, message: dict[str, Any]) -> dict[str, Any]:
        request = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request] = future
        try:
            await self._tell(worker, {**message, "request": request, "reply": self.reply_channel})
            async with asyncio.timeout(self._timeout):
                reply = await future
        except TimeoutError:
            raise BridgeRefused("bridge_closed") from None
        finally:
            self._waiting.pop(request, None)
        if not reply.get("ok"):
            code = str(reply.get("code", "bridge_closed"))
            raise BridgeRefused(code if code in BridgeRefused.TEXTS else "bridge_closed")
        return reply

    async def _on_reply(self, message: dict[str, Any], *, own: bool) -> None:
        future = self._waiting.get(str(message.get("request")))
        if future is not None and not future.done():
            future.set_result(message)

    async def _on_event(self, message: dict[str, Any], *, own: bool) -> None:
        event = message.get("event")
        if event == "quality" and self.on_quality is not None:
            side = message.get("side")
            if side in ("official", "room"):
                await self.on_quality(int(message["audience"]), side, [str(p) for p in message.get("problems", [])])
        elif event == "worker_stopped" and self.on_worker_stopped is not None:
            await self.on_worker_stopped(str(message["worker"]), [int(a) for a in message.get("audiences", [])])
