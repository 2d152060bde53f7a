"""The record of pre-call checks on both databases: per room and Riyadh day, read back, and recurring problems."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from tests.rooms.test_rooms import add_room
from video import room_check_records as records
from video.analysis import Verdict

Sessions = async_sessionmaker[AsyncSession]
JPEG = b"\xff\xd8\xff\xe0 a picture \xff\xd9"


def verdict(*problems: str, snapshot: bytes | None = JPEG) -> Verdict:
    measures: dict[str, float | int | str | None] = {"fps": 29.5, "width": 640, "height": 480, "brightness": 112.3}
    return Verdict(passed=not problems, problems=list(problems), measures=measures, snapshot_jpeg=snapshot)


async def record(sessions: Sessions, clock: FrozenClock, room_id: int, result: Verdict) -> int:
    async with transaction(sessions) as session:
        check = await records.record_check(session=session, clock=clock, room_id=room_id, by_id=None, verdict=result)
        return check.id


async def test_a_check_is_kept_on_its_riyadh_day_with_its_picture(sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock)
    # 23:30 in London on Monday is 02:30 on Tuesday in Riyadh: the check belongs to Tuesday.
    clock.set(datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    first = await record(sessions, clock, room.id, verdict("too_dark", "no_face"))
    clock.advance(timedelta(minutes=5))
    second = await record(sessions, clock, room.id, verdict(snapshot=None))
    async with sessions() as session:
        stored = await records.get_check(session=session, check_id=first)
        assert stored is not None
        assert (stored.day, stored.passed, stored.reasons) == (date(2026, 11, 24), False, ["too_dark", "no_face"])
        assert stored.snapshot == JPEG and stored.measures["width"] == 640
        assert stored.at == datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
        today = await records.latest_checks(session=session, room_id=room.id, day=date(2026, 11, 24))
        monday = await records.latest_checks(session=session, room_id=room.id, day=date(2026, 11, 23))
        assert await records.get_check(session=session, check_id=second + 100) is None
    assert [(c.id, c.passed, c.has_snapshot) for c in today] == [(second, True, False), (first, False, True)]
    assert today[1].reasons == ["too_dark", "no_face"] and today[1].measures["fps"] == 29.5
    assert monday == []


async def test_rooms_with_recurring_problems_over_fourteen_days(sessions: Sessions, clock: FrozenClock) -> None:
    steady = await add_room(sessions, clock, name="غرفة ١")
    dim = await add_room(sessions, clock, name="غرفة ٢")
    once = await add_room(sessions, clock, name="غرفة ٣")
    today = datetime(2026, 11, 24, 9, 0, tzinfo=RIYADH)

    async def on(days_ago: int, room_id: int, result: Verdict, minute: int = 0) -> None:
        clock.set(today - timedelta(days=days_ago) + timedelta(minutes=minute))
        await record(sessions, clock, room_id, result)

    await on(15, dim.id, verdict("too_dark"))  # before the fortnight: not counted
    await on(13, dim.id, verdict("too_dark", "no_face"))
    await on(13, dim.id, verdict(), minute=10)  # fixed the same day: not a failing day, the problem still counted
    await on(6, dim.id, verdict("too_dark"))
    await on(2, dim.id, verdict(), minute=0)
    await on(2, dim.id, verdict("too_dark", "mic_too_quiet"), minute=20)  # the day's last check failed
    await on(0, dim.id, verdict("no_face"))
    await on(4, once.id, verdict("mic_clipping"))
    for days_ago in range(5):
        await on(days_ago, steady.id, verdict())
    clock.set(today)
    async with sessions() as session:
        found = await records.recurring_problems(session=session, clock=clock, days=14)
    assert [r.room_id for r in found] == [dim.id, once.id]  # worst first; a room whose checks all passed is not listed
    assert found[0].days_checked == 4
    assert found[0].failing_days == [date(2026, 11, 18), date(2026, 11, 22), date(2026, 11, 24)]
    assert found[0].problems == [("too_dark", 3), ("no_face", 2), ("mic_too_quiet", 1)]
    assert (found[1].days_checked, found[1].failing_days, found[1].problems) == (
        1,
        [date(2026, 11, 20)],
        [("mic_clipping", 1)],
    )
