"""Keeping working calendars: their names, zone and weekly hours, and the holidays of any calendar but the official's.

The official's days off (the "audiences" calendar) are declared on protocol's
holidays page through scheduler.calendar, which also cancels and restores that
day's audiences; here they are refused, so no day off bypasses that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required, too_long
from majlis.hijri import read_day
from majlis.numbers import whole_number
from worktime import service
from worktime.clock import Stretch
from worktime.models import AUDIENCES, CalendarHoliday, WorkingCalendar, WorkingHours

_CODE = re.compile(r"[a-z][a-z0-9_-]{1,39}")
_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# Names in the zone database that are not places: the server's own zone, and files kept for old programs.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})
NAME_LIMIT = 120
# How the weekday is entered and shown: Python's count, Monday 0 … Sunday 6.
WEEKDAYS = range(7)


class CalendarNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("calendar_not_found", N_("There is no working calendar with this code."))


class AudienceDaysElsewhere(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "audience_days_elsewhere",
            N_(
                "The official's days off are declared on protocol's holidays page, "
                "which also cancels or restores that day's audiences."
            ),
        )


@dataclass(frozen=True)
class CalendarInput:
    """A calendar as typed into a form: every value a string, checked here."""

    code: str
    name_ar: str
    name_en: str
    time_zone: str
    always_open: bool = False


@dataclass(frozen=True)
class HoursInput:
    """One weekly stretch as typed: the weekday (0 Monday … 6 Sunday) and HH:MM times."""

    weekday: str
    opens: str
    closes: str


@dataclass(frozen=True)
class CalendarView:
    calendar: WorkingCalendar
    hours: list[WorkingHours]
    holidays: list[CalendarHoliday]


def valid_zone(name: str) -> bool:
    """Whether `name` is a place's zone in the IANA database (Asia/Riyadh, Europe/London, UTC)."""
    if name in _NOT_ZONES or name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def clock_time(value: str) -> time | None:
    """A wall-clock time typed as HH:MM, or None."""
    value = value.strip()
    return time.fromisoformat(value) if _HH_MM.fullmatch(value) else None


def _names(data: CalendarInput, errors: list[FieldError]) -> tuple[str, str, str]:
    names = []
    for field, value in (("name_ar", data.name_ar), ("name_en", data.name_en)):
        value = " ".join(value.split())
        if not value:
            errors.append(required(field))
        elif len(value) > NAME_LIMIT:
            errors.append(too_long(field, NAME_LIMIT))
        names.append(value)
    zone = data.time_zone.strip()
    if not zone:
        errors.append(required("time_zone"))
    elif not valid_zone(zone):
        errors.append(FieldError("time_zone", "unknown_zone", N_("{field} must be a time zone such as Asia/Riyadh.")))
    return names[0], names[1], zone


async def calendars(*, session: AsyncSession) -> list[WorkingCalendar]:
    return list(await session.scalars(select(WorkingCalendar).order_by(WorkingCalendar.code)))


async def calendar_by_code(*, session: AsyncSession, code: str) -> WorkingCalendar:
    found = await session.scalar(select(WorkingCalendar).where(WorkingCalendar.code == code.strip().lower()))
    if found is None:
        raise CalendarNotFound()
    return found


async def view(*, session: AsyncSession, code: str) -> CalendarView:
    """A calendar with its weekly hours (by weekday, then opening) and its holidays (by day)."""
    calendar = await calendar_by_code(session=session, code=code)
    hours = await _hours(session=session, calendar_id=calendar.id)
    holidays = await session.scalars(
        select(CalendarHoliday).where(CalendarHoliday.calendar_id == calendar.id).order_by(CalendarHoliday.day)
    )
    return CalendarView(calendar, hours, list(holidays))


async def has_working_time(*, session: AsyncSession, calendar_id: int) -> bool:
    """Whether deadlines can ever fall due on the calendar: it is always open or has weekly hours."""
    calendar = await session.get(WorkingCalendar, calendar_id)
    if calendar is None:
        return False
    if calendar.always_open:
        return True
    return (
        await session.scalar(select(WorkingHours.id).where(WorkingHours.calendar_id == calendar_id).limit(1))
        is not None
    )


async def _hours(*, session: AsyncSession, calendar_id: int) -> list[WorkingHours]:
    rows = await session.scalars(
        select(WorkingHours)
        .where(WorkingHours.calendar_id == calendar_id)
        .order_by(WorkingHours.weekday, WorkingHours.opens, WorkingHours.id)
    )
    # Shown from Sunday, the first working day here, rather than Python's Monday.
    return sorted(rows, key=lambda h: ((h.weekday + 1) % 7, h.opens))


async def add_calendar(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    data: CalendarInput,
    hours: list[HoursInput] | None = None,
) -> WorkingCalendar:
    """A new calendar, with its week's hours or without (the pages add them next); InvalidInput names bad fields."""
    errors: list[FieldError] = []
    code = data.code.strip().lower()
    if not _CODE.fullmatch(code):
        errors.append(FieldError("code", "invalid", N_("{field} must be 2 to 40 small Latin letters, digits, - or _.")))
    elif await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == code)) is not None:
        errors.append(FieldError("code", "taken", N_("This code is already taken.")))
    name_ar, name_en, zone = _names(data, errors)
    stretches = _week(hours or [], errors)
    if errors:
        raise InvalidInput(errors)
    calendar = WorkingCalendar(
        code=code, name_ar=name_ar, name_en=name_en, time_zone=zone, always_open=data.always_open
    )
    session.add(calendar)
    await session.flush()
    session.add_all(
        WorkingHours(calendar_id=calendar.id, weekday=s.weekday, opens=s.opens, closes=s.closes) for s in stretches
    )
    await session.flush()
    details: dict[str, object] = {**_described(calendar), "hours": [_stretch_details(s) for s in stretches]}
    await _record(session, clock, actor_id, "worktime.calendar.add", calendar, details)
    return calendar


async def update_calendar(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    code: str,
    data: CalendarInput,
    hours: list[HoursInput] | None = None,
) -> WorkingCalendar:
    """New names, zone or round-the-clock flag for a calendar (its code stays: departments name it).

    With `hours` the whole week is replaced in the same step (the API's PATCH), checked against the new flag;
    errors name "hours.<n>.<field>", counting from 1.
    """
    calendar = await calendar_by_code(session=session, code=code)
    errors: list[FieldError] = []
    name_ar, name_en, zone = _names(data, errors)
    stretches = _week(hours, errors) if hours is not None else None
    left = len(stretches) if stretches is not None else len(await _hours(session=session, calendar_id=calendar.id))
    # A calendar made without hours may be renamed before its hours are added; it may not lose them later.
    if not data.always_open and not left and (calendar.always_open or hours is not None):
        errors.append(_needs_hours())
    if errors:
        raise InvalidInput(errors)
    before = _described(calendar)
    calendar.name_ar, calendar.name_en, calendar.time_zone = name_ar, name_en, zone
    calendar.always_open = data.always_open
    await session.flush()
    details: dict[str, object] = {"before": before, "after": _described(calendar)}
    if stretches is not None:
        await session.execute(delete(WorkingHours).where(WorkingHours.calendar_id == calendar.id))
        session.add_all(
            WorkingHours(calendar_id=calendar.id, weekday=s.weekday, opens=s.opens, closes=s.closes) for s in stretches
        )
        await session.flush()
        details["hours"] = [_stretch_details(s) for s in stretches]
    await _record(session, clock, actor_id, "worktime.calendar.update", calendar, details)
    return calendar


def _week(hours: list[HoursInput], errors: list[FieldError]) -> list[Stretch]:
    """A whole week of stretches as typed, none overlapping another; errors name "hours.<n>.<field>"."""
    stretches: list[Stretch] = []
    for number, data in enumerate(hours, start=1):
        stretch, found = check_hours(data, prefix=f"hours.{number}.")
        errors.extend(found)
        if stretch is None:
            continue
        if any(_overlap(stretch, other) for other in stretches):
            errors.append(
                FieldError(
                    f"hours.{number}.opens", "overlaps", N_("These hours overlap other working hours of the calendar.")
                )
            )
        stretches.append(stretch)
    return stretches


def _described(calendar: WorkingCalendar) -> dict[str, str | bool]:
    return {
        "code": calendar.code,
        "name_ar": calendar.name_ar,
        "name_en": calendar.name_en,
        "time_zone": calendar.time_zone,
        "always_open": calendar.always_open,
    }


def _needs_hours() -> FieldError:
    return FieldError(
        "hours",
        "no_hours",
        N_("A calendar that is not open round the clock needs at least one stretch of working hours."),
    )


def check_hours(data: HoursInput, *, prefix: str = "") -> tuple[Stretch | None, list[FieldError]]:
    """The stretch typed, or the errors naming its fields (after `prefix`, e.g. "hours.2.")."""
    errors: list[FieldError] = []
    weekday = whole_number(data.weekday)
    if weekday is None or weekday not in WEEKDAYS:
        errors.append(FieldError(f"{prefix}weekday", "invalid", N_("{field} must be a day of the week.")))
    opens, closes = clock_time(data.opens), clock_time(data.closes)
    for field, value in (("opens", opens), ("closes", closes)):
        if value is None:
            errors.append(FieldError(f"{prefix}{field}", "invalid_time", N_("{field} must be a time such as 10:00.")))
    if opens is not None and opens == closes:
        errors.append(
            FieldError(
                f"{prefix}closes",
                "zero_length",
                N_("The stretch must close at another time than it opens (an earlier time runs past midnight)."),
            )
        )
    if errors or weekday is None or opens is None or closes is None:
        return None, errors
    return Stretch(weekday, opens, closes), []


_WEEK = 7 * 24 * 60


def _overlap(a: Stretch, b: Stretch) -> bool:
    """Whether two weekly stretches share any minute (a night shift may run into the next morning's hours)."""
    a_start = a.weekday * 24 * 60 + a.opens.hour * 60 + a.opens.minute
    b_start = b.weekday * 24 * 60 + b.opens.hour * 60 + b.opens.minute
    # Sunday night runs into Monday, and Saturday night into Sunday at the start of Python's next week.
    return any(
        a_start < b_start + shift + b.minutes and b_start + shift < a_start + a.minutes for shift in (-_WEEK, 0, _WEEK)
    )


async def add_hours(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, data: HoursInput
) -> WorkingHours:
    """One more weekly stretch; refused if it overlaps another."""
    calendar = await calendar_by_code(session=session, code=code)
    stretch, errors = check_hours(data)
    if stretch is not None:
        existing = await _hours(session=session, calendar_id=calendar.id)
        if any(_overlap(stretch, Stretch(h.weekday, h.opens, h.closes)) for h in existing):
            errors.append(
                FieldError("opens", "overlaps", N_("These hours overlap other working hours of the calendar."))
            )
    if errors or stretch is None:
        raise InvalidInput(errors)
    hours = WorkingHours(calendar_id=calendar.id, weekday=stretch.weekday, opens=stretch.opens, closes=stretch.closes)
    session.add(hours)
    await session.flush()
    await _record(session, clock, actor_id, "worktime.hours.add", calendar, _stretch_details(stretch))
    return hours


async def remove_hours(*, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, hours_id: int) -> None:
    """Takes one stretch out; the last one only from a calendar that is open round the clock."""
    calendar = await calendar_by_code(session=session, code=code)
    existing = await _hours(session=session, calendar_id=calendar.id)
    found = next((h for h in existing if h.id == hours_id), None)
    if found is None:
        raise InvalidInput([FieldError("hours", "unknown", N_("These hours are not in the calendar."))])
    if len(existing) == 1 and not calendar.always_open:
        raise InvalidInput([_needs_hours()])
    await session.delete(found)
    await session.flush()
    await _record(
        session,
        clock,
        actor_id,
        "worktime.hours.remove",
        calendar,
        _stretch_details(Stretch(found.weekday, found.opens, found.closes)),
    )


def _stretch_details(stretch: Stretch) -> dict[str, str | int]:
    return {
        "weekday": stretch.weekday,
        "opens": stretch.opens.strftime("%H:%M"),
        "closes": stretch.closes.strftime("%H:%M"),
    }


async def add_holiday(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, day: str | date, name: str
) -> CalendarHoliday:
    """A day off in a department's (or any but the official's) calendar."""
    calendar = await calendar_by_code(session=session, code=code)
    if calendar.code == AUDIENCES:
        raise AudienceDaysElsewhere()
    when = _day(day)
    added = await service.add_holiday(session=session, day=when, name=name, code=calendar.code)
    await _record(
        session, clock, actor_id, "worktime.holiday.add", calendar, {"day": when.isoformat(), "name": added.name}
    )
    return added


async def remove_holiday(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, day: str | date
) -> None:
    calendar = await calendar_by_code(session=session, code=code)
    if calendar.code == AUDIENCES:
        raise AudienceDaysElsewhere()
    when = _day(day)
    await service.remove_holiday(session=session, day=when, code=calendar.code)
    await _record(session, clock, actor_id, "worktime.holiday.remove", calendar, {"day": when.isoformat()})


def _day(day: str | date) -> date:
    if isinstance(day, date):
        return day
    # Either calendar, either digits (majlis.hijri).
    return read_day(day, field="day")


async def _record(
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    action: str,
    calendar: WorkingCalendar,
    details: Mapping[str, object],
) -> None:
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=action,
        target_type="working_calendar",
        target_id=calendar.code,
        details=dict(details),
    )
