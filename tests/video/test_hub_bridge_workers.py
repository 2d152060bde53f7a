"""The hub with its bridged calls on a `majlis bridge` worker (settings.video_bridge_on_workers), both databases.

A real BridgeWorkerService in this process, reached through majlis.pubsub like one on another machine: the call
takes a place on the worker, each side's offer is answered by the worker, the place is given back at the end;
a worker that stops, dies without a word or loses a call has its calls rebuilt.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.pubsub import PubSub, pubsub_for
from tests.video.arrange import message, token, video_audiences
from tests.video.test_hub import TOKENS, Ticks
from tests.video.test_hub_bridge import both_joined, browser_offer
from video.bridge import MediaBridge
from video.bridge_assign import HEARTBEAT_LIMIT, BridgeAssigner
from video.bridge_worker import BridgeWorkerService
from video.hub import BridgePolicy, Hub
from video.models import BridgeWorker
from video.worker_bridge import WorkerBridge

Sessions = async_sessionmaker[AsyncSession]
WebClient = TestClient[web.Request, web.Application]


@pytest.fixture
async def pubsub(database_url: str) -> AsyncIterator[PubSub]:
    made = pubsub_for(database_url)
    await made.start()
    yield made
    await made.close()


@pytest.fixture
async def offers() -> AsyncIterator[list[RTCPeerConnection]]:
    made: list[RTCPeerConnection] = []
    yield made
    for pc in made:
        await pc.close()


async def places(sessions: Sessions) -> dict[str, int]:
    async with transaction(sessions) as session:
        return {w.name: w.calls for w in (await session.execute(select(BridgeWorker))).scalars()}


def worker_hub(sessions: Sessions, clock: FrozenClock, pubsub: PubSub) -> tuple[Hub, WorkerBridge]:
    bridge = WorkerBridge(
        BridgeAssigner(pubsub, sessions, clock=clock, reply_timeout=10.0), sessions=sessions, clock=clock
    )
    hub = Hub(
        sessions=sessions,
        clock=clock,
        tokens=TOKENS,
        monotonic=Ticks(),
        bridge=bridge,
        policy=BridgePolicy(mode="always"),
    )
    bridge.on_quality, bridge.on_lost = hub.quality_changed, hub.bridge_lost
    return hub, bridge


async def test_a_bridged_call_runs_on_a_worker_and_gives_its_place_back(
    client: WebClient, sessions: Sessions, clock: FrozenClock, pubsub: PubSub, offers: list[RTCPeerConnection]
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    worker = BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=2, monitor=False), name="w1", clock=clock)
    hub, bridge = worker_hub(sessions, clock, pubsub)
    try:
        await worker.start()
        await hub.start()
        assert bridge.has_room()
        official, official_link, room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        assert room_link.take() == [{"type": "call", "path": "bridge"}]
        assert official_link.take() == [{"type": "path", "path": "bridge"}]
        assert await places(sessions) == {"w1": 1} and list(worker.bridge.calls) == [audience]

        for side, peer, link, other in (
            ("official", official, official_link, room_link),
            ("room", room, room_link, official_link),
        ):
            await hub.receive(
                peer, message("offer", token(TOKENS, audience, side), sdp=await browser_offer(offers), id=3)
            )
            answered = link.take()
            assert [m["type"] for m in answered] == ["answer"] and answered[0]["sdp"].startswith("v=0")
            assert answered[0]["id"] == 3 and other.sent == []  # the worker answers; nothing relayed

        await hub.receive(official, message("end", token(TOKENS, audience, "official"), reason="done"))
        assert bridge.get(audience) is None
        assert await places(sessions) == {"w1": 0}
        for _ in range(100):
            if not worker.bridge.calls:
                break
            await asyncio.sleep(0.05)
        assert worker.bridge.calls == {}  # closed on the worker too
    finally:
        await hub.close()
        await worker.close()


async def test_the_calls_of_a_worker_that_stops_are_rebuilt(
    client: WebClient, sessions: Sessions, clock: FrozenClock, pubsub: PubSub
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    first = BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=1, monitor=False), name="first", clock=clock)
    second = BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=1, monitor=False), name="second", clock=clock)
    hub, bridge = worker_hub(sessions, clock, pubsub)
    try:
        await first.start()
        await hub.start()
        official, official_link, _room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        room_link.take(), official_link.take()
        carrying = bridge.get(audience)
        assert carrying is not None and carrying.worker == "first"
        await second.start()
        await first.close()  # tells every hub it stopped, with its calls
        for _ in range(100):
            if "reconnect" in [m["type"] for m in room_link.sent]:
                break
            await asyncio.sleep(0.05)
        assert {"type": "reconnect", "path": "bridge"} in room_link.take()
        assert {"type": "reconnect", "path": "bridge"} in official_link.take()
        moved = bridge.get(audience)
        assert moved is not None and moved.worker == "second"
        assert await places(sessions) == {"second": 1}
    finally:
        await hub.close()
        await first.close()
        await second.close()


async def test_the_calls_of_a_worker_whose_heartbeat_went_stale_are_rebuilt(
    client: WebClient, sessions: Sessions, clock: FrozenClock, pubsub: PubSub
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    # "first" dies without a word (SIGKILL, out of memory): it never beats again and never says it stopped.
    first = BridgeWorkerService(
        pubsub, sessions, MediaBridge(max_calls=1, monitor=False), name="first", clock=clock, heartbeat_every=3600
    )
    second = BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=1, monitor=False), name="second", clock=clock)
    hub, bridge = worker_hub(sessions, clock, pubsub)
    try:
        await first.start()
        await hub.start()
        official, official_link, _room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        room_link.take(), official_link.take()
        carrying = bridge.get(audience)
        assert carrying is not None and carrying.worker == "first"
        await second.start()
        clock.advance(HEARTBEAT_LIMIT + timedelta(seconds=1))
        await second.heartbeat()
        for _ in range(100):  # the hub reads the workers every 2 s
            if "reconnect" in [m["type"] for m in room_link.sent]:
                break
            await asyncio.sleep(0.05)
        assert {"type": "reconnect", "path": "bridge"} in room_link.take()
        assert {"type": "reconnect", "path": "bridge"} in official_link.take()
        moved = bridge.get(audience)
        assert moved is not None and moved.worker == "second"
    finally:
        await hub.close()
        await first.close()
        await second.close()


async def test_a_call_the_worker_no_longer_has_is_opened_again(
    client: WebClient, sessions: Sessions, clock: FrozenClock, pubsub: PubSub, offers: list[RTCPeerConnection]
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    worker = BridgeWorkerService(pubsub, sessions, MediaBridge(max_calls=2, monitor=False), name="w1", clock=clock)
    hub, bridge = worker_hub(sessions, clock, pubsub)
    try:
        await worker.start()
        await hub.start()
        official, official_link, _room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        room_link.take(), official_link.take()
        await worker.bridge.close_call(audience)  # as a worker restarted under the same name: the call is gone
        await hub.receive(
            official, message("offer", token(TOKENS, audience, "official"), sdp=await browser_offer(offers))
        )
        assert [m.get("code") for m in official_link.take()] == ["server_error"]
        for _ in range(100):
            if "reconnect" in [m["type"] for m in room_link.sent]:
                break
            await asyncio.sleep(0.05)
        assert {"type": "reconnect", "path": "bridge"} in room_link.take()
        assert {"type": "reconnect", "path": "bridge"} in official_link.take()
        assert bridge.get(audience) is not None and list(worker.bridge.calls) == [audience]  # open again
    finally:
        await hub.close()
        await worker.close()
