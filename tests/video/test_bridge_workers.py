"""Bridge workers and the assigner in one process, on both databases: calls by load, the cap, heartbeats, media."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.db import create_engine, session_factory, transaction
from majlis.pubsub import PubSub, pubsub_for
from tests.video.test_bridge import Endpoint, until
from video.bridge import BridgeRefused, MediaBridge, Side
from video.bridge_assign import HEARTBEAT_LIMIT, BridgeAssigner
from video.bridge_worker import BridgeWorkerService
from video.models import BridgeWorker


@pytest.fixture
async def parts(database_url: str) -> AsyncIterator[tuple[PubSub, async_sessionmaker[AsyncSession]]]:
    engine = create_engine(database_url)
    pubsub = pubsub_for(database_url)
    await pubsub.start()
    yield pubsub, session_factory(engine)
    await pubsub.close()
    await engine.dispose()


async def loads(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with transaction(sessions) as session:
        return {w.name: w.calls for w in (await session.execute(select(BridgeWorker))).scalars()}


async def connect_through_worker(
    assigner: BridgeAssigner, worker: str, audience_id: int, endpoint: Endpoint, side: Side
) -> None:
    """Connects one side's endpoint to its call on a bridge worker: offer, the worker's answer through the assigner."""
    pc = RTCPeerConnection()
    endpoint.pc = pc
    pc.addTrack(endpoint.picture)

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        endpoint._readers.append(asyncio.create_task(endpoint._read(track)))

    await pc.setLocalDescription(await pc.createOffer())
    answer = await assigner.answer(worker, audience_id, side, pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))


async def test_calls_go_to_the_least_loaded_live_worker_under_each_cap(
    parts: tuple[PubSub, async_sessionmaker[AsyncSession]], clock: FrozenClock
) -> None:
    pubsub, sessions = parts
    workers = [
        BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=cap, monitor=False), name=name, clock=clock)
        for name, cap in (("small", 1), ("large", 2))
    ]
    assigner = BridgeAssigner(pubsub, sessions, clock=clock, reply_timeout=5.0)
    try:
        for worker in workers:
            await worker.start()
        await assigner.start()
        assert await assigner.assign(1) == "large"  # both empty: "large" sorts first by name at equal share
        assert await assigner.assign(2) == "small"  # large is half full, small empty
        assert await assigner.assign(3) == "large"
        assert await loads(sessions) == {"small": 1, "large": 2}
        assert sorted(workers[1].bridge.calls) == [1, 3] and sorted(workers[0].bridge.calls) == [2]
        with pytest.raises(BridgeRefused) as full:
            await assigner.assign(4)
        assert full.value.code == "bridge_full"

        await assigner.release("small", 2)
        assert await loads(sessions) == {"small": 0, "large": 2} and not workers[0].bridge.calls
        # A worker whose heartbeat stopped is taken for dead: no call goes to it, however empty.
        clock.advance(HEARTBEAT_LIMIT + timedelta(seconds=1))
        await workers[1].heartbeat()
        await assigner.release("large", 1)
        assert await assigner.assign(5) == "large"
        assert sorted(workers[1].bridge.calls) == [3, 5]
        await workers[1].bridge.close_call(3)
        # The call's hub process died before giving its place back: the heartbeat writes the real load.
        assert (await loads(sessions))["large"] == 2
        await workers[1].heartbeat()
        assert (await loads(sessions))["large"] == 1
    finally:
        await assigner.close()
        for worker in workers:
            await worker.close()
    assert await loads(sessions) == {}  # a stopped worker leaves the table


async def test_a_call_on_a_worker_carries_media_both_ways_and_reports_quality(
    parts: tuple[PubSub, async_sessionmaker[AsyncSession]], clock: FrozenClock
) -> None:
    pubsub, sessions = parts
    worker = BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=2, monitor=True), name="w1", clock=clock)
    assigner = BridgeAssigner(pubsub, sessions, clock=clock, reply_timeout=10.0)
    reports: list[tuple[int, Side, list[str]]] = []
    stopped: list[tuple[str, list[int]]] = []

    async def on_quality(audience: int, side: Side, problems: list[str]) -> None:
        reports.append((audience, side, problems))

    async def on_stopped(name: str, audiences: list[int]) -> None:
        stopped.append((name, audiences))

    assigner.on_quality, assigner.on_worker_stopped = on_quality, on_stopped
    room, official = Endpoint(), Endpoint()
    try:
        await worker.start()
        await assigner.start()
        name = await assigner.assign(7)

        await connect_through_worker(assigner, name, 7, official, "official")
        await connect_through_worker(assigner, name, 7, room, "room")
        await until(lambda: official.frames >= 30 and room.frames >= 30, "frames both ways through the worker")
        room.picture.mode = "black"
        await until(lambda: any(a == 7 and s == "room" and "black" in p for a, s, p in reports), "black reported")
        with pytest.raises(BridgeRefused) as closed:
            await assigner.answer(name, 8, "room", "v=0")  # no such call on the worker
        assert closed.value.code == "bridge_closed"
    finally:
        await room.close()
        await official.close()
        await worker.close()
        await until(lambda: bool(stopped), "the hubs told the worker stopped", wait=5.0)
        await assigner.close()
    assert stopped == [("w1", [7])] and not worker.bridge.calls


async def test_a_call_is_closed_only_by_its_owner_and_by_the_worker_once_nobody_keeps_it(
    parts: tuple[PubSub, async_sessionmaker[AsyncSession]], clock: FrozenClock
) -> None:
    pubsub, sessions = parts
    worker = BridgeWorkerService(
        pubsub,
        sessions,
        MediaBridge(max_calls=3, monitor=False),
        name="w1",
        clock=clock,
        heartbeat_every=0.1,
        orphan_after=0.6,
    )
    old_home = BridgeAssigner(pubsub, sessions, clock=clock, reply_timeout=5.0)
    new_home = BridgeAssigner(pubsub, sessions, clock=clock, reply_timeout=5.0)
    try:
        await worker.start()
        await old_home.start()
        await new_home.start()
        assert await old_home.assign(1) == "w1"
        assert await new_home.assign(1) == "w1"  # the new signalling home opens the same audience again
        await old_home.release("w1", 1)  # the old home, which lost its lock, closing its calls on its way out
        await old_home.drop("w1", 1, "room")
        assert list(worker.bridge.calls) == [1]  # the new home's call stands

        # Audience 2's hub died: nobody keeps it, and the worker closes it; the new home keeps audience 1 alive.
        assert await old_home.assign(2) == "w1"
        for _ in range(12):
            await new_home.keep("w1", [1])
            await old_home.keep("w1", [1])  # not its call: keeps nothing
            await asyncio.sleep(0.1)
        assert list(worker.bridge.calls) == [1]
        await new_home.release("w1", 1)
        assert not worker.bridge.calls
    finally:
        await old_home.close()
        await new_home.close()
        await worker.close()
