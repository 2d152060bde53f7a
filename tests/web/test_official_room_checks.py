"""The official's console tells him, before he calls, which rooms' last pre-call check today failed and in what."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.factories import Client, make_staff, sign_in
from tests.video.arrange import video_audiences
from video import room_check_records as records
from video import service as video
from video.analysis import PROBLEMS, Verdict
from web.official_room_checks import CHECK_NAMES

Sessions = async_sessionmaker[AsyncSession]


async def _room_of(sessions: Sessions, audience_id: int) -> int:
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        assert audience is not None
        return audience.room_id


async def _check(sessions: Sessions, clock: FrozenClock, room_id: int, *problems: str) -> None:
    verdict = Verdict(passed=not problems, problems=list(problems), measures={}, snapshot_jpeg=None)
    async with transaction(sessions) as session:
        await records.record_check(session=session, clock=clock, room_id=room_id, by_id=None, verdict=verdict)


def test_every_check_the_analysis_knows_has_a_name_for_the_official() -> None:
    assert list(CHECK_NAMES) == list(PROBLEMS)


async def test_a_failed_check_is_named_on_the_console_in_his_language_until_the_room_passes_one(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    [audience_id] = await video_audiences(sessions, clock, count=1)
    room_id = await _room_of(sessions, audience_id)
    # Yesterday's failure is not today's.
    clock.advance(timedelta(days=-1))
    await _check(sessions, clock, room_id, "black")
    clock.advance(timedelta(days=1))
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await sign_in(client, "official")
    page = await (await client.get("/official")).text()
    note = f'data-room-check="{room_id}" hidden'
    assert note in page  # no check yet today: nothing to say

    await _check(sessions, clock, room_id, "too_dark", "no_face")
    page = await (await client.get("/official")).text()
    assert note not in page and f'data-room-check="{room_id}"' in page
    assert "لم تجتز الغرفة فحص ما قبل المكالمة اليوم:" in page
    assert "<li>الصورة معتمة أكثر من اللازم</li><li>لا يظهر وجه في الصورة</li>" in page
    english = await (await client.get("/official?lang=en")).text()
    assert "<li>The picture is too dark</li><li>No face in the picture</li>" in english
    # Not the instruction given to the room's staff.
    assert "light the room" not in english
    answer = await client.get(f"/official/room-checks?room={room_id}&room=999&lang=en")
    assert answer.status == 200
    assert await answer.json() == {"failed": {str(room_id): ["The picture is too dark", "No face in the picture"]}}

    # The room fixes the light and checks again: its last check passed, the note goes.
    clock.advance(timedelta(minutes=5))
    await _check(sessions, clock, room_id)
    assert await (await client.get(f"/official/room-checks?room={room_id}")).json() == {"failed": {}}
    assert note in await (await client.get("/official")).text()


async def test_the_room_checks_answer_refuses_what_is_not_a_room_number_and_other_roles(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    await sign_in(client, "women")
    assert (await client.get("/official/room-checks?room=1")).status == 403
    await sign_in(client, "official")
    assert await (await client.get("/official/room-checks")).json() == {"failed": {}}
    for query in ("room=abc", "room=-1", "room=1234567890", "&".join(["room=1"] * 51)):
        answer = await client.get(f"/official/room-checks?{query}")
        assert answer.status == 422, query
        body = await answer.json()
        [field] = body["fields"]
        assert field["field"] == "room"
        assert field["messages"]["en"] == "Room: give up to 50 room numbers, each in digits."
        assert field["messages"]["ar"].startswith("الغرفة: ")
