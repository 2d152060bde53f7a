"""The pre-call check over HTTP: who may run it, what is refused and why, a real check stored, protocol's view."""

from __future__ import annotations

import asyncio
import time
from datetime import time as clock_time
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from rooms import service as rooms
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.rooms.test_rooms import add_room
from tests.video.test_room_check import face_picture, room_offer
from video import room_check_records as records
from video.analysis import Verdict
from video.models import RoomCheck
from web.keys import ROOM_CHECKS

Sessions = async_sessionmaker[AsyncSession]
WAIT = 30.0


async def stored(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(RoomCheck)) or 0)


async def post_check(client: Client, room_id: int, token: str, body: Any, **headers: str) -> Any:
    return await client.post(
        f"/rooms/{room_id}/check",
        data=body if isinstance(body, str | bytes) else None,
        json=None if isinstance(body, str | bytes) else body,
        headers={"X-CSRF-Token": token, "Content-Type": "application/json", **headers},
    )


async def test_only_the_rooms_women_section_staff_run_its_check(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock)
    hall = await add_room(sessions, clock, name="القاعة الكبرى", kind="audience_hall", capacity="40")
    on_duty = await make_staff(sessions, clock, Role.WOMEN_SECTION, "onduty")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "offduty")
    for role in (Role.PROTOCOL, Role.OFFICIAL, Role.AUDIT_DESK):
        await make_staff(sessions, clock, role, role.value.replace("_", ""))
        await sign_in(client, role.value.replace("_", ""))
        token = await csrf_token(client, "/staff")
        assert (await post_check(client, room.id, token, {"sdp": "v=0"})).status == 403, role
        assert (await client.get(f"/rooms/{room.id}/checks")).status == 403, role
        assert (await client.get(f"/rooms/{room.id}/checks/1/snapshot.jpg")).status == 403, role
    async with transaction(sessions) as session:
        await rooms.put_on_duty(
            session=session,
            clock=clock,
            actor_id=None,
            room_id=room.id,
            staff_id=on_duty.id,
            day=clock.now().date(),
            starts=clock_time(8),
            ends=clock_time(16),
        )
    await sign_in(client, "offduty")
    token = await csrf_token(client, "/staff")
    assert (await post_check(client, room.id, token, {"sdp": "v=0"})).status == 403
    assert (await client.get(f"/rooms/{room.id}/checks")).status == 403
    await sign_in(client, "onduty")
    token = await csrf_token(client, f"/rooms/{room.id}/console")
    assert (await post_check(client, hall.id, token, {"sdp": "v=0"})).status == 404  # not a women's video room
    assert (await client.get(f"/rooms/{room.id}/checks")).status == 200
    # Protocol's view is for protocol (and administrators).
    assert (await client.get("/protocol/room-checks")).status == 403
    assert await stored(sessions) == 0


async def test_bad_input_is_refused_in_arabic_and_english_and_nothing_is_saved(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock)
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await sign_in(client, "women")
    token = await csrf_token(client, f"/rooms/{room.id}/console")
    # Without the page's token the post is refused before anything runs.
    assert (await post_check(client, room.id, "forged", {"sdp": "v=0"})).status == 403
    cases: list[tuple[Any, int, str, str]] = [
        ("{not json", 400, "bad_json", "JSON"),
        ("[1, 2]", 400, "bad_json", "JSON"),
        ({}, 422, "bad_field", '"sdp"'),
        ({"sdp": 42}, 422, "bad_field", '"sdp"'),
        ({"sdp": "hello"}, 422, "bad_sdp", "SDP"),
        ({"sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}, 422, "bad_sdp", "SDP"),
    ]
    for body, status, code, named in cases:
        response = await post_check(client, room.id, token, body)
        assert response.status == status, body
        answer = await response.json()
        assert answer["error"] == code, body
        assert named in answer["messages"]["en"] and named in answer["messages"]["ar"], body
        assert answer["message"] == answer["messages"]["ar"]  # the page's language
    audio_only = RTCPeerConnection()
    try:
        offer = await room_offer(audio_only, video=False, picture=face_picture())
        response = await post_check(client, room.id, token, {"sdp": offer})
        assert response.status == 422 and (await response.json())["error"] == "no_video"
    finally:
        await audio_only.close()
    unknown = await client.get(f"/rooms/{room.id}/checks/cdeadbeef")
    assert unknown.status == 404 and (await unknown.json())["error"] == "no_check"
    assert (await client.get(f"/rooms/{room.id}/checks/1/snapshot.jpg")).status == 404
    assert (await client.get(f"/rooms/{room.id}/checks/{'9' * 30}")).status == 404  # beyond any record's number
    assert await stored(sessions) == 0 and client.app[ROOM_CHECKS].running() == 0


async def test_a_check_through_the_http_endpoint_is_judged_and_stored(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock)
    women = await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await sign_in(client, "women")
    console = await (await client.get(f"/rooms/{room.id}/console")).text()
    assert 'id="room-check"' in console and "/static/room_check.js" in console and "<script>" not in console
    token = await csrf_token(client, f"/rooms/{room.id}/console")
    peer = RTCPeerConnection()
    try:
        offer = await room_offer(peer, picture=face_picture())
        response = await post_check(client, room.id, token, {"sdp": offer})
        assert response.status == 200, await response.text()
        answer = await response.json()
        assert answer["sdp"].startswith("v=0") and answer["check_id"]
        # A second check of the same room while this one runs is refused.
        again = await post_check(client, room.id, token, {"sdp": offer})
        assert again.status == 409 and (await again.json())["error"] == "room_busy"
        await peer.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        url = f"/rooms/{room.id}/checks/{answer['check_id']}"
        first = await (await client.get(url)).json()
        assert first == {"check_id": answer["check_id"], "state": "running"}
        deadline = time.monotonic() + WAIT
        while (result := await (await client.get(url)).json())["state"] == "running":
            assert time.monotonic() < deadline, f"the check ran for more than {WAIT:.0f} s"
            await asyncio.sleep(0.2)
    finally:
        await peer.close()
    assert result["state"] == "done" and result["passed"] is True, result
    assert result["problems"] == [] and result["measures"]["width"] == 640 and result["measures"]["fps"] >= 15
    async with sessions() as session:
        row = await records.get_check(session=session, check_id=result["record_id"])
    assert row is not None and row.room_id == room.id and row.by_id == women.id and row.passed
    snapshot = await client.get(result["snapshot_url"])
    assert snapshot.status == 200 and snapshot.content_type == "image/jpeg"
    assert snapshot.headers["Cache-Control"] == "private, no-store"
    assert (await snapshot.read()).startswith(b"\xff\xd8")
    # The stored record answers by its own number too, and shows in the room's checks today.
    assert (await (await client.get(f"/rooms/{room.id}/checks/{result['record_id']}")).json()) == result
    today = await (await client.get(f"/rooms/{room.id}/checks")).json()
    assert [c["record_id"] for c in today["checks"]] == [result["record_id"]]
    other = await add_room(sessions, clock, name="غرفة أخرى")
    assert (await client.get(f"/rooms/{other.id}/checks/{result['record_id']}")).status == 404
    assert await stored(sessions) == 1


async def test_protocol_sees_rooms_with_recurring_problems(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock, name="غرفة الاتصال المرئي ٢")
    dark = Verdict(passed=False, problems=["too_dark", "no_face"], measures={}, snapshot_jpeg=None)
    async with transaction(sessions) as session:
        for _ in range(2):
            await records.record_check(session=session, clock=clock, room_id=room.id, by_id=None, verdict=dark)
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    assert "/protocol/room-checks" in await (await client.get("/protocol/rooms")).text()
    page = await (await client.get("/protocol/room-checks")).text()
    assert "غرفة الاتصال المرئي ٢" in page and f'data-room-id="{room.id}"' in page
    assert "الصورة مظلمة جداً" in page and 'data-code="no_face"' in page
    english = await (await client.get("/protocol/room-checks?lang=en")).text()
    assert "The picture is too dark" in english


async def test_a_mens_room_is_checked_by_its_protocol_men_and_told_in_the_masculine(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock, name="غرفة الاتصال المرئي للرجال", kind="men_video")
    women_room = await add_room(sessions, clock)
    dark = Verdict(passed=False, problems=["too_dark", "no_face"], measures={}, snapshot_jpeg=None)
    async with transaction(sessions) as session:
        for room_id in (room.id, women_room.id):
            await records.record_check(session=session, clock=clock, room_id=room_id, by_id=None, verdict=dark)
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await make_staff(sessions, clock, Role.PROTOCOL, "reem", gender="female")
    for username in ("women", "reem"):
        await sign_in(client, username)
        token = await csrf_token(client, "/staff")
        assert (await post_check(client, room.id, token, {"sdp": "v=0"})).status == 403, username
        assert (await client.get(f"/rooms/{room.id}/checks")).status == 403, username
    await make_staff(sessions, clock, Role.PROTOCOL, "fahad")
    await sign_in(client, "fahad")
    token = await csrf_token(client, f"/rooms/{room.id}/console")
    # Past the guard: the post is judged on what it carries.
    assert (await post_check(client, room.id, token, {"sdp": "hello"})).status == 422
    assert (await post_check(client, women_room.id, token, {"sdp": "v=0"})).status == 403  # not a women's room
    [check] = (await (await client.get(f"/rooms/{room.id}/checks")).json())["checks"]
    arabic = [p["message_ar"] for p in check["problems"]]
    assert arabic[0] == "الصورة مظلمة جداً؛ أضئ الغرفة أو وجّه الضوء نحو الوجه."
    assert "الجالس أمام الكاميرا يواجهها وأن وجهه" in arabic[1]
    assert "his whole face" in check["problems"][1]["message_en"]
    await sign_in(client, "women")
    [check] = (await (await client.get(f"/rooms/{women_room.id}/checks")).json())["checks"]
    assert check["problems"][0]["message_ar"] == "الصورة مظلمة جداً؛ أضيئي الغرفة أو وجّهي الضوء نحو الوجه."
