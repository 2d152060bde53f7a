"""Keeping working calendars on SQLite and PostgreSQL: zones, weekly hours (night shifts too), holidays, and the
official's days off left to protocol's page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import DomainError, InvalidInput
from worktime import editing, service
from worktime.clock import add_working
from worktime.editing import CalendarInput, HoursInput

Sessions = async_sessionmaker[AsyncSession]
Work = Callable[[AsyncSession], Awaitable[object]]


async def refused(sessions: Sessions, work: Work) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await work(session)
    return {e.field: e.code for e in caught.value.errors}


NIGHT_DESK = CalendarInput("night-desk", "مناوبة ليلية", "Night desk", "Asia/Riyadh")


async def test_a_calendar_with_a_night_shift_drives_the_clock(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        made = await editing.add_calendar(session=session, clock=clock, actor_id=None, data=NIGHT_DESK)
        # Saturday 22:00 to Sunday 06:00, Riyadh: closing before opening runs past midnight.
        await editing.add_hours(
            session=session, clock=clock, actor_id=None, code="night-desk", data=HoursInput("5", "22:00", "06:00")
        )
    async with sessions() as session:
        [stretch] = (await editing.view(session=session, code="night-desk")).hours
        loaded = (await service.load(session=session, calendar_ids=[made.id]))[made.id]
    assert (stretch.weekday, stretch.opens, stretch.closes) == (5, time(22), time(6))
    # Saturday 2026-11-28 23:00 Riyadh is 20:00 UTC; three working hours later it is Sunday 02:00 Riyadh.
    start = datetime(2026, 11, 28, 20, tzinfo=UTC)
    assert add_working(loaded, start, timedelta(hours=3)) == datetime(2026, 11, 28, 23, tzinfo=UTC)


async def test_bad_calendars_and_hours_are_refused_naming_the_field(sessions: Sessions, clock: FrozenClock) -> None:
    async def bad_calendar(session: AsyncSession) -> None:
        data = CalendarInput("Night desk", " ", "x" * 121, "Mars/Olympus")
        await editing.add_calendar(session=session, clock=clock, actor_id=None, data=data)

    assert await refused(sessions, bad_calendar) == {
        "code": "invalid",
        "name_ar": "missing",
        "name_en": "too_long",
        "time_zone": "unknown_zone",
    }
    for zone in ("localtime", "../etc/passwd", ""):

        async def odd_zone(session: AsyncSession, zone: str = zone) -> None:
            data = CalendarInput("odd", "منطقة", "Odd", zone)
            await editing.add_calendar(session=session, clock=clock, actor_id=None, data=data)

        assert set(await refused(sessions, odd_zone)) == {"time_zone"}

    async def taken(session: AsyncSession) -> None:
        data = CalendarInput("government", "حكومي", "Government", "Asia/Riyadh")
        await editing.add_calendar(session=session, clock=clock, actor_id=None, data=data)

    assert await refused(sessions, taken) == {"code": "taken"}

    def hours(*typed: tuple[str, str, str]) -> Work:
        async def work(session: AsyncSession) -> None:
            for weekday, opens, closes in typed:
                data = HoursInput(weekday, opens, closes)
                await editing.add_hours(session=session, clock=clock, actor_id=None, code="government", data=data)

        return work

    assert await refused(sessions, hours(("7", "8:00", "25:00"))) == {
        "weekday": "invalid",
        "opens": "invalid_time",
        "closes": "invalid_time",
    }
    assert await refused(sessions, hours(("1", "09:00", "09:00"))) == {"closes": "zero_length"}
    # The government works Monday 08:00-15:00: an evening stretch is fine; a Sunday night shift into it is not.
    assert await refused(sessions, hours(("0", "14:00", "18:00"))) == {"opens": "overlaps"}
    assert await refused(sessions, hours(("6", "20:00", "09:00"))) == {"opens": "overlaps"}
    async with transaction(sessions) as session:
        await hours(("0", "16:00", "20:00"))(session)
        week = (await editing.view(session=session, code="government")).hours
    # Shown from Sunday, the first working day.
    assert [(h.weekday, h.opens.hour) for h in week][:3] == [(6, 8), (0, 8), (0, 16)]


async def test_a_calendar_keeps_some_working_time(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        await editing.add_calendar(session=session, clock=clock, actor_id=None, data=NIGHT_DESK)
        added = await editing.add_hours(
            session=session, clock=clock, actor_id=None, code="night-desk", data=HoursInput("6", "00:00", "08:00")
        )

    async def last_removed(session: AsyncSession) -> None:
        await editing.remove_hours(session=session, clock=clock, actor_id=None, code="night-desk", hours_id=added.id)

    async def emptied(session: AsyncSession) -> None:
        await editing.update_calendar(
            session=session, clock=clock, actor_id=None, code="night-desk", data=NIGHT_DESK, hours=[]
        )

    assert await refused(sessions, last_removed) == {"hours": "no_hours"}
    assert await refused(sessions, emptied) == {"hours": "no_hours"}
    round_the_clock = CalendarInput("ignored", "مناوبة دائمة", "Duty desk", "Europe/London", always_open=True)
    async with transaction(sessions) as session:
        # Open round the clock, it needs no hours; and the week given with the change is checked row by row.
        await editing.update_calendar(
            session=session, clock=clock, actor_id=None, code="night-desk", data=round_the_clock, hours=[]
        )
        changed = await editing.view(session=session, code="night-desk")
    assert (changed.calendar.code, changed.calendar.time_zone, changed.calendar.always_open) == (
        "night-desk",
        "Europe/London",
        True,
    )
    assert changed.hours == []

    async def bad_week(session: AsyncSession) -> None:
        week = [HoursInput("6", "08:00", "15:00"), HoursInput("6", "14:00", "16:00"), HoursInput("9", "x", "1")]
        await editing.update_calendar(
            session=session, clock=clock, actor_id=None, code="night-desk", data=NIGHT_DESK, hours=week
        )

    assert await refused(sessions, bad_week) == {
        "hours.2.opens": "overlaps",
        "hours.3.weekday": "invalid",
        "hours.3.opens": "invalid_time",
        "hours.3.closes": "invalid_time",
    }


async def test_holidays_of_any_calendar_but_the_officials(sessions: Sessions, clock: FrozenClock) -> None:
    async with transaction(sessions) as session:
        await editing.add_holiday(
            session=session, clock=clock, actor_id=None, code="government", day="2027-02-22", name=" يوم  التأسيس "
        )
    async with sessions() as session:
        [holiday] = (await editing.view(session=session, code="government")).holidays
        official = await service.days_off(session=session)
        government = await service.load(session=session, calendar_ids=[holiday.calendar_id])
    assert (holiday.day, holiday.name) == (date(2027, 2, 22), "يوم التأسيس")
    assert date(2027, 2, 22) not in official
    assert date(2027, 2, 22) in government[holiday.calendar_id].holidays

    async def again(session: AsyncSession) -> None:
        await editing.add_holiday(
            session=session, clock=clock, actor_id=None, code="government", day="2027-02-22", name="x"
        )

    async def not_a_day(session: AsyncSession) -> None:
        await editing.add_holiday(session=session, clock=clock, actor_id=None, code="government", day="22/02", name="x")

    async def not_a_holiday(session: AsyncSession) -> None:
        await editing.remove_holiday(session=session, clock=clock, actor_id=None, code="government", day="2027-02-23")

    assert await refused(sessions, again) == {"day": "taken"}
    assert await refused(sessions, not_a_day) == {"day": "invalid_date"}
    assert await refused(sessions, not_a_holiday) == {"day": "unknown"}
    with pytest.raises(DomainError) as caught:
        async with transaction(sessions) as session:
            await editing.add_holiday(
                session=session, clock=clock, actor_id=None, code="audiences", day="2027-02-22", name="يوم التأسيس"
            )
    assert caught.value.code == "audience_days_elsewhere"
    async with transaction(sessions) as session:
        await editing.remove_holiday(session=session, clock=clock, actor_id=None, code="government", day="2027-02-22")
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["worktime.holiday.add", "worktime.holiday.remove"]
