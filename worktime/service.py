"""Reading calendars from the database for the clock, and keeping their holidays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from majlis.errors import N_, FieldError, InvalidInput, required, too_long
from worktime.clock import Calendar, Stretch
from worktime.models import AUDIENCES, CalendarHoliday, WorkingCalendar, WorkingHours


async def calendar_by_code(*, session: AsyncSession, code: str) -> WorkingCalendar:
    found = await session.scalar(select(WorkingCalendar).where(WorkingCalendar.code == code))
    if found is None:
        raise LookupError(f"no working calendar {code!r}")
    return found


async def load(*, session: AsyncSession, calendar_ids: Iterable[int]) -> dict[int, Calendar]:
    """The clock's view of each calendar: its zone, stretches and holidays (three queries for any number)."""
    ids = set(calendar_ids)
    if not ids:
        return {}
    rows = list(await session.scalars(select(WorkingCalendar).where(WorkingCalendar.id.in_(ids))))
    stretches: dict[int, list[Stretch]] = {i: [] for i in ids}
    for hours in await session.scalars(
        select(WorkingHours).where(WorkingHours.calendar_id.in_(ids)).order_by(WorkingHours.id)
    ):
        stretches[hours.calendar_id].append(Stretch(hours.weekday, hours.opens, hours.closes))
    holidays: dict[int, set[date]] = {i: set() for i in ids}
    for calendar_id, day in await session.execute(
        select(CalendarHoliday.calendar_id, CalendarHoliday.day).where(CalendarHoliday.calendar_id.in_(ids))
    ):
        holidays[calendar_id].add(day)
    return {
        row.id: Calendar(
            zone=ZoneInfo(row.time_zone),
            stretches=tuple(stretches[row.id]),
            holidays=frozenset(holidays[row.id]),
            always_open=row.always_open,
        )
        for row in rows
    }


async def days_off(*, session: AsyncSession, code: str = AUDIENCES, since: date | None = None) -> frozenset[date]:
    """The holidays of one calendar (by default the official's: no audience, no calls to applicants)."""
    query = (
        select(CalendarHoliday.day)
        .join(WorkingCalendar, WorkingCalendar.id == CalendarHoliday.calendar_id)
        .where(WorkingCalendar.code == code)
    )
    if since is not None:
        query = query.where(CalendarHoliday.day >= since)
    return frozenset(await session.scalars(query))


async def holidays(*, session: AsyncSession, code: str = AUDIENCES) -> list[CalendarHoliday]:
    calendar = await calendar_by_code(session=session, code=code)
    rows = await session.scalars(
        select(CalendarHoliday).where(CalendarHoliday.calendar_id == calendar.id).order_by(CalendarHoliday.day)
    )
    return list(rows)


async def holiday(*, session: AsyncSession, day: date, code: str = AUDIENCES) -> CalendarHoliday | None:
    calendar = await calendar_by_code(session=session, code=code)
    return await session.get(CalendarHoliday, (calendar.id, day))


async def add_holiday(*, session: AsyncSession, day: date, name: str, code: str = AUDIENCES) -> CalendarHoliday:
    """A day off in one calendar; the caller records who declared it."""
    name = " ".join(name.split())
    errors: list[FieldError] = []
    if not name:
        errors.append(required("name"))
    elif len(name) > 120:
        errors.append(too_long("name", 120))
    calendar = await calendar_by_code(session=session, code=code)
    if await session.get(CalendarHoliday, (calendar.id, day)) is not None:
        errors.append(FieldError("day", "taken", N_("This day is already a holiday.")))
    if errors:
        raise InvalidInput(errors)
    added = CalendarHoliday(calendar_id=calendar.id, day=day, name=name)
    session.add(added)
    await session.flush()
    return added


async def remove_holiday(*, session: AsyncSession, day: date, code: str = AUDIENCES) -> None:
    calendar = await calendar_by_code(session=session, code=code)
    removed = await session.execute(
        delete(CalendarHoliday).where(CalendarHoliday.calendar_id == calendar.id, CalendarHoliday.day == day)
    )
    if not getattr(removed, "rowcount", 0):
        raise InvalidInput([FieldError("day", "unknown", N_("This day is not a holiday."))])
