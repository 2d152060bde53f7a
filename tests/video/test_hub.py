"""The signalling hub on both databases: refusals to one client only, re-joins, heartbeats and the record."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from tests.conftest import TEST_SECRET
from tests.video.arrange import OFFER_SDP, message, token, video_audiences
from video import service as video
from video.hub import MAX_FRAME_BYTES, Client, Hub, Refusal
from video.models import VideoEventKind, VideoState
from video.tokens import VideoTokens

Sessions = async_sessionmaker[AsyncSession]


class FakeLink:
    """A connection that keeps what the hub sends it."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.closed: int | None = None

    async def send_str(self, data: str) -> None:
        self.sent.append(json.loads(data))

    async def close(self, *, code: int = 1000, message: bytes = b"") -> bool:
        self.closed = code
        return True

    def closed_with(self) -> int | None:
        return self.closed

    def take(self) -> list[dict[str, Any]]:
        taken, self.sent = self.sent, []
        return taken

    def kinds(self) -> list[str]:
        return [m["type"] for m in self.take()]


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


TOKENS = VideoTokens(secret=TEST_SECRET)


def make_hub(client: TestClient[web.Request, web.Application], clock: FrozenClock, ticks: Ticks) -> Hub:
    from web.keys import SESSIONS

    return Hub(sessions=client.app[SESSIONS], clock=clock, tokens=TOKENS, monotonic=ticks)


async def joined(hub: Hub, audience_id: int, role: str) -> tuple[Client, FakeLink]:
    link = FakeLink()
    peer = hub.connect(link)
    await hub.receive(peer, message("join", token(TOKENS, audience_id, role)))
    assert link.sent.pop(0)["type"] == "joined"
    return peer, link


async def in_call(hub: Hub, audience_id: int) -> tuple[Client, FakeLink, Client, FakeLink]:
    official, official_link = await joined(hub, audience_id, "official")
    room, room_link = await joined(hub, audience_id, "room")
    await hub.receive(official, message("call", token(TOKENS, audience_id, "official")))
    assert room_link.kinds() == ["call"]
    official_link.take()
    return official, official_link, room, room_link


async def kinds_of_events(sessions: Sessions, audience_id: int) -> list[str]:
    async with sessions() as session:
        return [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]


async def test_bad_messages_are_refused_to_that_client_only_while_another_call_goes_on(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await video_audiences(sessions, clock)
    ticks = Ticks()
    hub = make_hub(client, clock, ticks)
    official, official_link, room, room_link = await in_call(hub, first)
    other, other_link = await joined(hub, second, "official")
    official_token = token(TOKENS, first, "official")

    async def refused(frame: str, code: str, sender: Client = official, link: FakeLink = official_link) -> None:
        await hub.receive(sender, frame)
        answer = link.take()
        assert [(m["type"], m["code"]) for m in answer] == [("error", code)], frame[:80]
        assert answer[0]["message_ar"] and answer[0]["message_en"]
        assert room_link.sent == [] and other_link.sent == []  # nobody else hears of it

    await refused(json.dumps(["not", "an", "object"]), "bad_message")
    await refused(message("dance", official_token), "unknown_type")
    await refused(json.dumps({"type": "offer", "sdp": OFFER_SDP}), "token_missing")
    await refused(message("offer", official_token, sdp="hello"), "bad_sdp")
    await refused(message("offer", official_token, sdp="v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"), "bad_sdp")  # no m=
    await refused(message("offer", official_token, sdp="v=0\r\nm=video 9\r\n" + "a" * 61_000), "bad_sdp")
    await refused(message("ice", official_token, candidate={"candidate": 5}), "bad_field")
    await refused(message("heartbeat", official_token, media="yes"), "bad_field")
    await refused(message("offer", token(TOKENS, second, "official"), sdp=OFFER_SDP), "wrong_audience")
    await refused(message("offer", token(TOKENS, first, "room"), sdp=OFFER_SDP), "wrong_audience")
    await refused(message("offer", official_token[:-2] + "xx", sdp=OFFER_SDP), "token_invalid")
    await refused(message("state", official_token, room_state="ready"), "not_allowed")
    await refused(message("end", official_token, reason="emergency"), "bad_field")
    await refused(message("mute", token(TOKENS, first, "room"), muted=True), "not_allowed", room, room_link)
    outsider_link = FakeLink()
    outsider = hub.connect(outsider_link)
    await hub.receive(outsider, message("offer", official_token, sdp=OFFER_SDP))
    assert outsider_link.take()[0]["code"] == "not_joined"
    # None of it closed a connection, and the call goes on: an offer and a candidate are relayed.
    assert official_link.closed_with() is None
    await hub.receive(official, message("offer", official_token, sdp=OFFER_SDP))
    await hub.receive(
        official,
        message(
            "ice",
            official_token,
            candidate={"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0},
        ),
    )
    relayed = room_link.take()
    assert [m["type"] for m in relayed] == ["offer", "ice"] and relayed[0]["sdp"] == OFFER_SDP
    assert official_link.sent == [] and other_link.sent == []

    # Malformed JSON and oversized frames close the sender's connection after saying why; not the others'.
    await hub.receive(official, "{not json")
    assert official_link.take()[0]["code"] == "bad_json" and official_link.closed == 1003
    big = message("offer", token(TOKENS, second, "official"), sdp="v=0\r\nm=video\r\n" + "a" * MAX_FRAME_BYTES)
    await hub.receive(other, big)
    assert other_link.take()[0]["code"] == "too_large" and other_link.closed == 1009
    assert room_link.closed is None
    await hub.receive(room, message("heartbeat", token(TOKENS, first, "room"), media=True))
    assert room_link.kinds() == ["heartbeat_ack"]


async def test_expired_and_ended_audiences_are_refused(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, second = await video_audiences(sessions, clock)
    hub = make_hub(client, clock, Ticks())
    official, official_link, room, room_link = await in_call(hub, first)
    other, other_link = await joined(hub, second, "room")
    await hub.receive(official, message("end", token(TOKENS, first, "official"), reason="done"))
    assert official_link.take() == [{"type": "ended", "by": "official"}]
    assert room_link.take() == [{"type": "ended", "by": "official"}]
    for sender, link, role in ((official, official_link, "official"), (room, room_link, "room")):
        await hub.receive(sender, message("heartbeat", token(TOKENS, first, role), media=True))
        assert link.take()[0]["code"] == "audience_ended"
    await hub.disconnect(official)
    newcomer_link = FakeLink()
    await hub.receive(hub.connect(newcomer_link), message("join", token(TOKENS, first, "official")))
    assert newcomer_link.take()[0]["code"] == "audience_ended"  # read from the record once the hub forgot it
    assert other_link.sent == []
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=first)
    assert audience is not None and audience.state is VideoState.ENDED and audience.ended_by == "official"

    # A token past its expiry (the end of the audience's day) is refused on the next message.
    await hub.receive(other, message("state", token(TOKENS, second, "room"), room_state="ready"))
    assert other_link.sent == []
    clock.advance(timedelta(days=1))
    await hub.receive(other, message("state", token(TOKENS, second, "room"), room_state="present"))
    assert other_link.take()[0]["code"] == "token_expired"


async def test_a_rejoin_replaces_the_old_connection_and_both_sides_reconnect(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, _second = await video_audiences(sessions, clock)
    ticks = Ticks()
    hub = make_hub(client, clock, ticks)
    official, official_link, room, room_link = await in_call(hub, first)
    for sender, role in ((official, "official"), (room, "room")):
        await hub.receive(sender, message("heartbeat", token(TOKENS, first, role), media=True))
    official_link.take(), room_link.take()
    # The room reloads its page: the new connection replaces the old one, and both rebuild.
    fresh_link = FakeLink()
    fresh = hub.connect(fresh_link)
    await hub.receive(fresh, message("join", token(TOKENS, first, "room")))
    assert room_link.take()[0]["code"] == "replaced" and room_link.closed == 4001
    assert fresh_link.kinds() == ["joined", "reconnect"]
    assert official_link.kinds() == ["peer_joined", "reconnect"]
    await hub.disconnect(room)  # the old socket's reader ends: changes nothing now
    assert official_link.sent == []
    for sender, role in ((official, "official"), (fresh, "room")):
        await hub.receive(sender, message("heartbeat", token(TOKENS, first, role), media=True))
    assert await kinds_of_events(sessions, first) == ["started", "connected", "reconnecting", "reconnected"]
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=first)
    assert audience is not None and audience.reconnections == 1


async def test_lost_heartbeats_make_both_sides_reconnect_and_the_record_keeps_it(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, _second = await video_audiences(sessions, clock)
    ticks = Ticks()
    hub = make_hub(client, clock, ticks)
    official, official_link, room, room_link = await in_call(hub, first)
    official_token, room_token = token(TOKENS, first, "official"), token(TOKENS, first, "room")

    async def beat(media: bool = True, sides: tuple[str, ...] = ("official", "room")) -> None:
        if "official" in sides:
            await hub.receive(official, message("heartbeat", official_token, media=media))
        if "room" in sides:
            await hub.receive(room, message("heartbeat", room_token, media=media))

    await beat()
    for _ in range(3):  # 6 s of a good call
        ticks.now += 2
        await beat()
        await hub.sweep()
    official_link.take(), room_link.take()
    # The room's heartbeats stop; after 5 s both sides are told to rebuild.
    ticks.now += 4
    await beat(sides=("official",))
    await hub.sweep()
    assert "reconnect" not in official_link.kinds()
    ticks.now += 1.5
    await hub.sweep()
    assert official_link.kinds() == ["reconnect"] and room_link.kinds() == ["reconnect"]
    await hub.sweep()
    assert official_link.sent == []  # once, not at every sweep
    # Media that stays off for another 5 s brings one more request to rebuild, not another record.
    ticks.now += 5.5
    await hub.sweep()
    assert official_link.kinds() == ["reconnect"]
    ticks.now += 1
    await beat()
    await hub.receive(official, message("end", official_token, reason="done"))
    assert await kinds_of_events(sessions, first) == [
        "started",
        "connected",
        "reconnecting",
        "reconnected",
        "ended",
    ]
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=first)
    assert audience is not None and audience.reconnections == 1
    # Connected from the first good beats until the loss was noticed (11.5 s), then a moment after the rebuild.
    assert audience.connected_seconds == 12


async def test_media_off_for_five_seconds_during_a_call_means_reconnecting(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, _second = await video_audiences(sessions, clock)
    ticks = Ticks()
    hub = make_hub(client, clock, ticks)
    official, official_link, room, room_link = await in_call(hub, first)
    for _ in range(3):
        await hub.receive(official, message("heartbeat", token(TOKENS, first, "official"), media=False))
        await hub.receive(room, message("heartbeat", token(TOKENS, first, "room"), media=True))
        ticks.now += 2
        await hub.sweep()
    assert "reconnect" in official_link.kinds() and "reconnect" in room_link.kinds()
    assert VideoEventKind.RECONNECTING.value in await kinds_of_events(sessions, first)


async def test_a_server_restart_is_survived_by_the_same_rebuild(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, _second = await video_audiences(sessions, clock)
    ticks = Ticks()
    hub = make_hub(client, clock, ticks)
    lonely, lonely_link = await joined(hub, first, "official")
    await hub.receive(lonely, message("call", token(TOKENS, first, "official")))
    assert lonely_link.take()[0]["code"] == "peer_absent"  # no call without the room
    official, official_link, room, room_link = await in_call(hub, first)
    for sender, role in ((official, "official"), (room, "room")):
        await hub.receive(sender, message("heartbeat", token(TOKENS, first, role), media=True))
    await hub.close()  # the server stops: every socket is closed, going away
    assert official_link.closed_with() == 1001 and room_link.closed_with() == 1001

    restarted = make_hub(client, clock, ticks)  # a new process: nothing in memory, the record says in_call
    official, official_link = await joined(restarted, first, "official")
    room, room_link = await joined(restarted, first, "room")
    assert room_link.kinds() == ["reconnect"] and official_link.kinds() == ["peer_joined", "reconnect"]
    for sender, role in ((official, "official"), (room, "room")):
        await restarted.receive(sender, message("heartbeat", token(TOKENS, first, role), media=True))
    assert await kinds_of_events(sessions, first) == ["started", "connected", "reconnecting", "reconnected"]
    await restarted.close()


async def test_frames_that_cannot_be_read_or_relayed_are_refused_and_idle_sockets_closed(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    first, _second = await video_audiences(sessions, clock)
    ticks = Ticks()
    hub = make_hub(client, clock, ticks)
    _official, _official_link, _room, room_link = await in_call(hub, first)
    # Nested too deep for the parser, and a lone surrogate that cannot be sent on: refused, not a crash.
    for frame in ("[" * 60_000, '{"type": "heartbeat", "x": "\\ud800"}'):
        link = FakeLink()
        sender = hub.connect(link)
        await hub.receive(sender, frame)
        assert [m["code"] for m in link.sent] == ["bad_json"] and link.closed_with() is not None
    assert room_link.sent == []
    # A connection that never joins is closed after the join deadline; joined ones stay.
    idle = FakeLink()
    hub.connect(idle)
    ticks.now += 11
    await hub.sweep()
    assert idle.closed_with() is not None and room_link.closed_with() is None


async def test_call_starts_arriving_together_are_each_recorded_and_one_failing_refuses_only_itself(
    client: TestClient[web.Request, web.Application], sessions: Sessions, clock: FrozenClock
) -> None:
    hub = make_hub(client, clock, Ticks())
    first, second, third = await video_audiences(sessions, clock, count=3)
    pairs = [(await joined(hub, a, "official"), await joined(hub, a, "room")) for a in (first, second, third)]
    for (_, official_link), (_, room_link) in pairs:
        official_link.take(), room_link.take()  # the peers' joins
    calls = [
        hub.receive(official, message("call", token(TOKENS, a, "official")))
        for a, ((official, _), _) in zip((first, second, third), pairs, strict=True)
    ]
    # A start whose record cannot be written (no such audience) in the same batch as three sound ones.
    outcomes = await asyncio.gather(*calls, hub._write_start(987654), return_exceptions=True)
    assert outcomes[:3] == [None, None, None]
    assert isinstance(outcomes[3], Refusal) and outcomes[3].code == "server_error"
    for audience_id, ((_, official_link), (_, room_link)) in zip((first, second, third), pairs, strict=True):
        assert room_link.kinds() == ["call"] and official_link.kinds() == ["path"]
        assert await kinds_of_events(sessions, audience_id) == ["started"]
        async with sessions() as session:
            found = await video.get_audience(session=session, audience_id=audience_id)
            assert found is not None and found.state is VideoState.IN_CALL
