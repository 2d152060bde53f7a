"""The hub's use of the media bridge on both databases: which calls go through it, the fallback, recording, warnings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiortc import RTCPeerConnection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.video.arrange import OFFER_SDP, message, token, video_audiences
from tests.video.test_hub import TOKENS, FakeLink, Ticks, joined, kinds_of_events
from video import service as video
from video.bridge import MediaBridge
from video.hub import BridgePolicy, Client, Hub

Sessions = async_sessionmaker[AsyncSession]
WebClient = TestClient[web.Request, web.Application]


@pytest.fixture
async def offers() -> AsyncIterator[list[RTCPeerConnection]]:
    made: list[RTCPeerConnection] = []
    yield made
    for pc in made:
        await pc.close()


async def browser_offer(made: list[RTCPeerConnection]) -> str:
    """An offer as a page makes one: audio and video, both ways."""
    pc = RTCPeerConnection()
    made.append(pc)
    pc.addTransceiver("audio")
    pc.addTransceiver("video")
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


def bridged_hub(client: WebClient, clock: FrozenClock, ticks: Ticks, bridge: MediaBridge, **policy: object) -> Hub:
    from web.keys import SESSIONS

    hub = Hub(
        sessions=client.app[SESSIONS],
        clock=clock,
        tokens=TOKENS,
        monotonic=ticks,
        bridge=bridge,
        policy=BridgePolicy(**policy),  # type: ignore[arg-type]
    )
    bridge.on_quality = hub.quality_changed
    return hub


async def both_joined(hub: Hub, audience_id: int) -> tuple[Client, FakeLink, Client, FakeLink]:
    official, official_link = await joined(hub, audience_id, "official")
    room, room_link = await joined(hub, audience_id, "room")
    official_link.take()
    return official, official_link, room, room_link


async def test_a_bridged_call_tells_both_sides_and_the_server_answers_each_sides_offer(
    client: WebClient, sessions: Sessions, clock: FrozenClock, offers: list[RTCPeerConnection]
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    bridge = MediaBridge(max_calls=2, monitor=False)
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="always")
    try:
        official, official_link, room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        assert room_link.take() == [{"type": "call", "path": "bridge"}]
        assert official_link.take() == [{"type": "path", "path": "bridge"}]
        assert bridge.get(audience) is not None

        sides = (("official", official, official_link, room_link), ("room", room, room_link, official_link))
        for number, (side, peer, link, other) in enumerate(sides, start=7):
            offer = await browser_offer(offers)
            await hub.receive(peer, message("offer", token(TOKENS, audience, side), sdp=offer, id=number))
            answered = link.take()
            assert [m["type"] for m in answered] == ["answer"] and answered[0]["sdp"].startswith("v=0")
            assert answered[0]["id"] == number  # the page knows which of its offers this answers
            assert other.sent == []  # nothing relayed: the server is the other end
            host = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"
            candidate = {"candidate": host, "sdpMid": "0", "sdpMLineIndex": 0}
            await hub.receive(peer, message("ice", token(TOKENS, audience, side), candidate=candidate))
            assert link.sent == [] and other.sent == []

        await hub.receive(room, message("answer", token(TOKENS, audience, "room"), sdp=await browser_offer(offers)))
        assert [m.get("code") for m in room_link.take()] == ["not_allowed"]
        assert "bridged" in await kinds_of_events(sessions, audience)

        await hub.receive(official, message("end", token(TOKENS, audience, "official"), reason="done"))
        assert bridge.calls == {}  # the bridged call ended with the audience
    finally:
        await hub.close()


async def test_a_room_that_must_be_bridged_is_refused_when_the_bridge_is_full_and_the_call_does_not_start(
    client: WebClient, sessions: Sessions, clock: FrozenClock
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    async with sessions() as session:
        room_id = (await video.get_audience(session=session, audience_id=audience)).room_id  # type: ignore[union-attr]
    bridge = MediaBridge(max_calls=0, monitor=False)
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="never", bridged_rooms=frozenset({room_id}))
    try:
        official, official_link, _room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        refused = official_link.take()
        assert [m.get("code") for m in refused] == ["bridge_full"]
        assert "الجسر" in refused[0]["message_ar"] and "bridged" in refused[0]["message_en"]
        assert room_link.sent == []
        assert not hub.calls[audience].in_call
        assert "started" not in await kinds_of_events(sessions, audience)
        # The page's offer, sent with its call, does not reach the room: the refused call connects nobody.
        await hub.receive(official, message("offer", token(TOKENS, audience, "official"), sdp=OFFER_SDP))
        await hub.receive(official, message("ice", token(TOKENS, audience, "official"), candidate=None))
        assert [m.get("code") for m in official_link.take()] == ["not_in_call", "not_in_call"]
        assert room_link.sent == []
    finally:
        await hub.close()


async def test_a_deployment_that_always_bridges_falls_back_to_direct_over_the_cap(
    client: WebClient, sessions: Sessions, clock: FrozenClock
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    hub = bridged_hub(client, clock, Ticks(), MediaBridge(max_calls=0, monitor=False), mode="always")
    try:
        official, _official_link, _room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        assert room_link.take() == [{"type": "call", "path": "direct"}]
    finally:
        await hub.close()


async def test_a_direct_call_that_does_not_connect_in_time_moves_to_the_bridge(
    client: WebClient, sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await video_audiences(sessions, clock)
    ticks = Ticks()
    bridge = MediaBridge(max_calls=2, monitor=False)
    hub = bridged_hub(client, clock, ticks, bridge, mode="fallback", direct_timeout=10.0)
    try:
        official, official_link, room, room_link = await both_joined(hub, first)
        await hub.receive(official, message("call", token(TOKENS, first, "official")))
        assert room_link.take() == [{"type": "call", "path": "direct"}]
        official_link.take()
        ticks.now += 4.0
        for peer, side in ((official, "official"), (room, "room")):
            await hub.receive(peer, message("heartbeat", token(TOKENS, first, side), media=False))
        ticks.now += 4.0
        await hub.sweep()
        assert bridge.get(first) is None  # 8 s: still trying directly
        for peer, side in ((official, "official"), (room, "room")):
            await hub.receive(peer, message("heartbeat", token(TOKENS, first, side), media=False))
        ticks.now += 3.0
        await hub.sweep()
        assert {"type": "reconnect", "path": "bridge"} in official_link.take()
        assert {"type": "reconnect", "path": "bridge"} in room_link.take()
        assert bridge.get(first) is not None
        assert (await kinds_of_events(sessions, first)).count("bridged") == 1

        # A direct call that connected is left alone, however long it runs.
        official2, _official2_link, room2, _room2_link = await both_joined(hub, second)
        await hub.receive(official2, message("call", token(TOKENS, second, "official")))
        for peer, side in ((official2, "official"), (room2, "room")):
            await hub.receive(peer, message("heartbeat", token(TOKENS, second, side), media=True))
        ticks.now += 30.0
        for peer, side in ((official2, "official"), (room2, "room")):
            await hub.receive(peer, message("heartbeat", token(TOKENS, second, side), media=True))
        await hub.sweep()
        assert bridge.get(second) is None
    finally:
        await hub.close()


async def test_recording_needs_the_settings_leave_and_the_applicants_consent_and_goes_through_the_bridge(
    client: WebClient, sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    audience, other = await video_audiences(sessions, clock)
    bridge = MediaBridge(max_calls=2, monitor=False)
    forbidden = bridged_hub(client, clock, Ticks(), MediaBridge(max_calls=2, monitor=False), mode="fallback")
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="fallback", recording_allowed=True, recordings_dir=tmp_path)
    try:
        official, official_link, _, _ = await both_joined(forbidden, other)
        await forbidden.receive(official, message("call", token(TOKENS, other, "official")))
        official_link.take()
        await forbidden.receive(official, message("record", token(TOKENS, other, "official"), on=True))
        assert [m.get("code") for m in official_link.take()] == ["recording_not_allowed"]

        official, official_link, room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        assert room_link.take() == [{"type": "call", "path": "direct"}]  # no consent yet: direct
        official_link.take()
        await hub.receive(official, message("record", token(TOKENS, audience, "official"), on=True))
        assert [m.get("code") for m in official_link.take()] == ["no_consent"]
        await hub.receive(room, message("record", token(TOKENS, audience, "room"), on=True))
        assert [m.get("code") for m in room_link.take()] == ["not_allowed"]

        async with transaction(sessions) as session:
            await video.record_consent(session=session, clock=clock, audience_id=audience, actor_id=1)
        hub.consented(audience)
        await hub.receive(official, message("record", token(TOKENS, audience, "official"), on=True))
        # The call moves onto the bridge (only there does the server see the media), and both sides are told.
        for link in (official_link, room_link):
            got = link.take()
            assert {"type": "reconnect", "path": "bridge"} in got and {"type": "recording", "on": True} in got
        bridged = bridge.get(audience)
        assert bridged is not None and bridged.is_recording()
        async with sessions() as session:
            record = await video.get_audience(session=session, audience_id=audience)
        assert record is not None and record.recording_path and record.recording_path.endswith(".mkv")
        assert bridged.recording_path == tmp_path / record.recording_path

        await hub.receive(official, message("record", token(TOKENS, audience, "official"), on=False))
        assert {"type": "recording", "on": False} in room_link.take()
        assert not bridged.is_recording()
        assert (await kinds_of_events(sessions, audience)).count("recording") == 2
    finally:
        await hub.close()
        await forbidden.close()


async def test_the_official_is_warned_when_the_bridge_sees_the_picture_go_bad(
    client: WebClient, sessions: Sessions, clock: FrozenClock
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    bridge = MediaBridge(max_calls=2, monitor=False)
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="always")
    try:
        official, official_link, _room, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        official_link.take()
        room_link.take()
        await hub.quality_changed(audience, "room", ["black", "too_dark"])
        [warning] = official_link.take()
        assert warning["type"] == "quality" and warning["from"] == "room"
        assert [p["code"] for p in warning["problems"]] == ["black", "too_dark"]
        assert all(p["message_ar"] and p["message_en"] for p in warning["problems"])
        # The official is a man: asked in the masculine.
        assert warning["problems"][1]["message_ar"] == "الصورة مظلمة جداً؛ أضئ الغرفة أو وجّه الضوء نحو الوجه."
        assert room_link.sent == []  # the warning is for the official's console
        await hub.quality_changed(audience, "room", [])
        assert official_link.take() == [{"type": "quality", "from": "room", "problems": []}]
        async with sessions() as session:
            events = await video.events(session=session, audience_id=audience)
        details = [e.detail for e in events if e.kind.value == "quality"]
        assert details == ["room:black,too_dark", "room:ok"]
    finally:
        await hub.close()


async def test_a_side_that_vanishes_from_a_bridged_call_has_its_connection_released(
    client: WebClient, sessions: Sessions, clock: FrozenClock, offers: list[RTCPeerConnection]
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    bridge = MediaBridge(max_calls=2, monitor=False)
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="always")
    try:
        official, _official_link, room, _room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        await hub.receive(room, message("offer", token(TOKENS, audience, "room"), sdp=await browser_offer(offers)))
        bridged = bridge.get(audience)
        assert bridged is not None and "room" in bridged._peers
        await hub.disconnect(room)
        assert "room" not in bridged._peers
        assert bridge.get(audience) is bridged  # the call waits for the room to come back
        await hub.disconnect(official)
        assert bridge.get(audience) is None and bridged.closed  # nobody left: its place under the cap is free
        # Both come back: the call is rebuilt on a bridged call opened again.
        await joined(hub, audience, "official")
        _, room_link = await joined(hub, audience, "room")
        assert {"type": "reconnect", "path": "bridge"} in room_link.take()
        assert bridge.get(audience) is not None
    finally:
        await hub.close()
    assert bridge.calls == {}


async def test_a_recording_takes_a_place_of_its_own_under_the_cap(
    client: WebClient, sessions: Sessions, clock: FrozenClock, tmp_path: Path
) -> None:
    audience, _ = await video_audiences(sessions, clock)
    bridge = MediaBridge(max_calls=1, monitor=False)
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="always", recording_allowed=True, recordings_dir=tmp_path)
    try:
        async with transaction(sessions) as session:
            await video.record_consent(session=session, clock=clock, audience_id=audience, actor_id=1)
        official, official_link, _, room_link = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        assert room_link.take() == [{"type": "call", "path": "bridge"}]  # the one place: the call itself
        official_link.take()
        await hub.receive(official, message("record", token(TOKENS, audience, "official"), on=True))
        [refused] = official_link.take()
        assert refused["code"] == "recording_no_room" and refused["message_ar"] and refused["message_en"]
        assert room_link.sent == []
        bridge.max_calls = 2
        await hub.receive(official, message("record", token(TOKENS, audience, "official"), on=True))
        assert {"type": "recording", "on": True} in official_link.take()
        assert bridge.load() == 2 and not bridge.has_room()
    finally:
        await hub.close()


async def test_a_room_that_must_be_bridged_is_told_when_the_bridge_is_full_on_its_return(
    client: WebClient, sessions: Sessions, clock: FrozenClock, offers: list[RTCPeerConnection]
) -> None:
    audience, other = await video_audiences(sessions, clock)
    async with sessions() as session:
        room_id = (await video.get_audience(session=session, audience_id=audience)).room_id  # type: ignore[union-attr]
    bridge = MediaBridge(max_calls=1, monitor=False)
    hub = bridged_hub(client, clock, Ticks(), bridge, mode="never", bridged_rooms=frozenset({room_id}))
    try:
        official, _, room, _ = await both_joined(hub, audience)
        await hub.receive(official, message("call", token(TOKENS, audience, "official")))
        await hub.disconnect(room)
        await hub.disconnect(official)
        assert bridge.get(audience) is None
        bridge.open(other)  # meanwhile another call takes the only place
        _, official_link = await joined(hub, audience, "official")
        _, room_link = await joined(hub, audience, "room")
        for link in (official_link, room_link):
            assert "bridge_full" in [m.get("code") for m in link.take()]  # not sent direct, where it cannot connect
        assert hub.calls[audience].path == "bridge"
    finally:
        await hub.close()
