"""The missions directory: embassies, consulates and the ministry's central consular desk, each with its zone,
its working calendar and its rollout flag (`live`).

Each mission's working week is its own calendar in worktime ("mission-<code>", in the mission's zone),
made from the hours typed ("Sun-Thu 08:00-15:00"), unless an existing calendar of the same zone is named.
Exactly one active central desk takes the reports of missions not live yet, so it is always live and cannot
be deactivated or turned into an embassy while it is the only one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from emergency import checks, roster_gaps, weekly_hours
from emergency.models import Mission, MissionCoverage, MissionKind
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required
from notify.texts import say
from worktime import editing
from worktime.editing import CalendarInput
from worktime.models import WorkingCalendar, WorkingHours

# Short enough that its calendar's code ("mission-" + code) fits worktime's 40 characters.
_CODE = re.compile(r"[a-z][a-z0-9_-]{1,31}")
CALENDAR_PREFIX = "mission-"
CALENDAR_NAME = N_("Working hours of {mission}")


class MissionNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("mission_not_found", N_("There is no mission with this code."))


@dataclass(frozen=True)
class MissionInput:
    """A mission as typed. Its week: `hours` ("Sun-Thu 08:00-15:00") or an existing `calendar`'s code."""

    code: str
    kind: str
    name_ar: str
    name_en: str
    country: str
    time_zone: str
    email: str
    head_name: str
    head_email: str
    head_phone: str
    hours: str = ""
    calendar: str = ""


@dataclass(frozen=True)
class MissionView:
    mission: Mission
    calendar: WorkingCalendar
    # The week as `weekly_hours` writes it ("Sun-Thu 08:00-15:00"); "" for a calendar open round the clock.
    hours: str
    coverage: list[MissionCoverage]


def own_calendar_code(mission_code: str) -> str:
    return CALENDAR_PREFIX + mission_code


def described_mission(mission: Mission) -> str:
    """How a refusal names a mission to any reader: its code and both names."""
    return f"{mission.code} ({mission.name_ar} / {mission.name_en})"


async def missions(*, session: AsyncSession, active_only: bool = False) -> list[Mission]:
    """Every mission: the central desk first, then by country and code."""
    query = select(Mission)
    if active_only:
        query = query.where(Mission.active.is_(True))
    rows = await session.scalars(query)
    return sorted(rows, key=lambda m: (m.kind is not MissionKind.CENTRAL_DESK, m.country, m.code))


async def mission_by_code(*, session: AsyncSession, code: str) -> Mission:
    found = await session.scalar(select(Mission).where(Mission.code == code.strip().lower()))
    if found is None:
        raise MissionNotFound()
    return found


async def central_desk(*, session: AsyncSession) -> Mission | None:
    return await session.scalar(
        select(Mission).where(Mission.kind == MissionKind.CENTRAL_DESK, Mission.active.is_(True)).limit(1)
    )


async def hours_text(*, session: AsyncSession, calendar_id: int) -> str:
    rows = await session.scalars(select(WorkingHours).where(WorkingHours.calendar_id == calendar_id))
    return weekly_hours.describe([(h.weekday, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in rows])


async def view(*, session: AsyncSession, code: str) -> MissionView:
    """A mission with its calendar, its week written out and what it covers (countries, then cities)."""
    mission = await mission_by_code(session=session, code=code)
    calendar = await session.get(WorkingCalendar, mission.calendar_id)
    assert calendar is not None
    coverage = await session.scalars(
        select(MissionCoverage)
        .where(MissionCoverage.mission_id == mission.id)
        .order_by(MissionCoverage.country, MissionCoverage.city_key)
    )
    text = "" if calendar.always_open else await hours_text(session=session, calendar_id=calendar.id)
    return MissionView(mission, calendar, text, list(coverage))


def _kind(value: str, errors: list[FieldError]) -> MissionKind | None:
    try:
        return MissionKind(value.strip().lower())
    except ValueError:
        # The field's label would name a request's type: the message names the mission's kind itself.
        choices = ", ".join(k.value for k in MissionKind)
        errors.append(
            FieldError(
                "kind", "invalid_choice", N_("The kind of mission must be one of: {choices}."), {"choices": choices}
            )
        )
        return None


async def _other_central_desk(session: AsyncSession, editing_id: int | None) -> Mission | None:
    desk = await central_desk(session=session)
    return None if desk is None or desk.id == editing_id else desk


async def _checked(
    session: AsyncSession, data: MissionInput, errors: list[FieldError], editing_mission: Mission | None
) -> dict[str, object]:
    """The values typed, cleaned; errors added for every bad field."""
    kind = _kind(data.kind, errors)
    if kind is MissionKind.CENTRAL_DESK and (
        other := await _other_central_desk(session, editing_mission.id if editing_mission else None)
    ):
        errors.append(_desk_taken("kind", other))
    if (
        editing_mission is not None
        and editing_mission.kind is MissionKind.CENTRAL_DESK
        and kind not in (None, MissionKind.CENTRAL_DESK)
        and editing_mission.active
    ):
        errors.append(_last_desk("kind"))
    zone = data.time_zone.strip()
    if not zone:
        errors.append(required("time_zone"))
    elif not editing.valid_zone(zone):
        errors.append(FieldError("time_zone", "unknown_zone", N_("{field} must be a time zone such as Asia/Riyadh.")))
    return {
        "kind": kind,
        "name_ar": checks.clean_name("name_ar", data.name_ar, errors),
        "name_en": checks.clean_name("name_en", data.name_en, errors),
        "country": checks.clean_country("country", data.country, errors),
        "time_zone": zone,
        "email": checks.clean_email("email", data.email, errors),
        "head_name": checks.clean_name("head_name", data.head_name, errors),
        "head_email": checks.clean_email("head_email", data.head_email, errors),
        "head_phone": checks.clean_phone("head_phone", data.head_phone, errors),
    }


def _desk_taken(field: str, other: Mission) -> FieldError:
    return FieldError(
        field,
        "central_desk_taken",
        N_("There is already an active central consular desk: {mission}."),
        {"mission": described_mission(other)},
    )


def _last_desk(field: str) -> FieldError:
    return FieldError(
        field,
        "last_central_desk",
        N_("This is the only active central consular desk: add another before changing this one."),
    )


async def _week(
    session: AsyncSession, data: MissionInput, zone: str, errors: list[FieldError], required_week: bool
) -> tuple[list[editing.HoursInput] | None, WorkingCalendar | None]:
    """The hours typed, or the calendar named (in the mission's zone); neither when editing leaves the week."""
    text, code = data.hours.strip(), data.calendar.strip().lower()
    if text and code:
        errors.append(FieldError("calendar", "both", N_("Give either the weekly hours or a calendar, not both.")))
        return None, None
    if text:
        stretches, found = weekly_hours.parse(text)
        errors.extend(found)
        return stretches, None
    if code:
        calendar = await session.scalar(select(WorkingCalendar).where(WorkingCalendar.code == code))
        if calendar is None:
            errors.append(FieldError("calendar", "unknown", N_("{field} is not one of the working calendars.")))
        elif zone and calendar.time_zone != zone:
            errors.append(
                FieldError(
                    "calendar",
                    "other_zone",
                    N_("This calendar keeps the time of {zone}, not the mission's."),
                    {"zone": calendar.time_zone},
                )
            )
        elif not await editing.has_working_time(session=session, calendar_id=calendar.id):
            errors.append(
                FieldError(
                    "calendar",
                    "no_hours",
                    N_("This calendar has no working hours yet, so no deadline could ever fall due."),
                )
            )
        return None, calendar
    if required_week:
        errors.append(required("hours"))
    return None, None


def _calendar_input(code: str, name_ar: str, name_en: str, zone: str) -> CalendarInput:
    return CalendarInput(
        code=own_calendar_code(code),
        name_ar=say("ar", CALENDAR_NAME, mission=name_ar)[: editing.NAME_LIMIT],
        name_en=say("en", CALENDAR_NAME, mission=name_en)[: editing.NAME_LIMIT],
        time_zone=zone,
    )


async def add_mission(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, data: MissionInput, live: bool = False
) -> Mission:
    """A new active mission and, from its hours, its own calendar; InvalidInput names every bad field.

    A mission starts off the line unless `live`; the central desk is always live.
    """
    errors: list[FieldError] = []
    code = data.code.strip().lower()
    if not _CODE.fullmatch(code):
        errors.append(FieldError("code", "invalid", N_("{field} must be 2 to 32 small Latin letters, digits, - or _.")))
    elif await session.scalar(select(Mission.id).where(Mission.code == code)) is not None:
        errors.append(FieldError("code", "taken", N_("This code is already taken.")))
    values = await _checked(session, data, errors, None)
    stretches, calendar = await _week(session, data, str(values["time_zone"]), errors, True)
    if stretches is not None and not errors:
        taken = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == own_calendar_code(code)))
        if taken is not None:
            errors.append(FieldError("calendar", "taken", N_("A calendar named for this mission exists: name it.")))
    if errors:
        raise InvalidInput(errors)
    if stretches is not None:
        calendar = await editing.add_calendar(
            session=session,
            clock=clock,
            actor_id=actor_id,
            data=_calendar_input(code, str(values["name_ar"]), str(values["name_en"]), str(values["time_zone"])),
            hours=stretches,
        )
    assert calendar is not None
    kind = values.pop("kind")
    assert isinstance(kind, MissionKind)
    mission = Mission(
        code=code,
        kind=kind,
        calendar_id=calendar.id,
        live=live or kind is MissionKind.CENTRAL_DESK,
        active=True,
        **values,
    )
    session.add(mission)
    await session.flush()
    await record(session, clock, actor_id, "emergency.mission.add", mission, {**described(mission)})
    return mission


async def update_mission(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, data: MissionInput
) -> Mission:
    """New details for a mission (its code stays). Hours typed replace its own calendar's week (made now if it
    had a shared one); a calendar named is taken instead. Its own calendar follows its zone."""
    mission = await mission_by_code(session=session, code=code)
    errors: list[FieldError] = []
    values = await _checked(session, data, errors, mission)
    zone = str(values["time_zone"])
    stretches, calendar = await _week(session, data, zone, errors, False)
    current = await session.get(WorkingCalendar, mission.calendar_id)
    assert current is not None
    own = await session.scalar(select(WorkingCalendar).where(WorkingCalendar.code == own_calendar_code(mission.code)))
    if (
        calendar is None
        and stretches is None
        and zone
        and current.time_zone != zone
        and current.id != getattr(own, "id", None)
    ):
        errors.append(
            FieldError(
                "calendar",
                "other_zone",
                N_("This calendar keeps the time of {zone}, not the mission's."),
                {"zone": current.time_zone},
            )
        )
    if errors:
        raise InvalidInput(errors)
    before = described(mission)
    for name, value in values.items():
        setattr(mission, name, value)
    names = (str(values["name_ar"]), str(values["name_en"]))
    if stretches is not None or (calendar is None and own is not None and own.id == current.id):
        week = _calendar_input(mission.code, *names, zone)
        if own is None:
            own = await editing.add_calendar(
                session=session, clock=clock, actor_id=actor_id, data=week, hours=stretches
            )
        else:
            await editing.update_calendar(
                session=session, clock=clock, actor_id=actor_id, code=own.code, data=week, hours=stretches
            )
        mission.calendar_id = own.id
    elif calendar is not None:
        mission.calendar_id = calendar.id
    if mission.kind is MissionKind.CENTRAL_DESK:
        mission.live = True
    await session.flush()
    after = described(mission)
    changed: dict[str, object] = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if stretches is not None:
        changed["hours"] = data.hours.strip()
    await record(session, clock, actor_id, "emergency.mission.update", mission, changed)
    return mission


async def set_live(*, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, live: bool) -> Mission:
    """Puts a mission on the emergency line or takes it off (its reports then go to the central desk)."""
    mission = await mission_by_code(session=session, code=code)
    if not live and mission.kind is MissionKind.CENTRAL_DESK:
        raise InvalidInput(
            [
                FieldError(
                    "live",
                    "central_desk_live",
                    N_("The central consular desk takes the reports of missions not live yet: it is always live."),
                )
            ]
        )
    if live and not mission.active:
        raise InvalidInput([FieldError("live", "inactive", N_("A deactivated mission cannot go live."))])
    if mission.live != live:
        mission.live = live
        await session.flush()
        await record(
            session, clock, actor_id, "emergency.mission.live" if live else "emergency.mission.off_line", mission, {}
        )
    return mission


async def set_live_watched(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, live: bool, watch: roster_gaps.Watch
) -> Mission:
    """set_live, and a mission on the line has its roster looked at at once: a gap from now on is told before
    the next hourly run (a mission put live with an empty roster has one from this moment). Looking again at a
    mission already live tells nothing twice."""
    mission = await set_live(session=session, clock=clock, actor_id=actor_id, code=code, live=live)
    await roster_gaps.flag_now(session=session, clock=clock, mission=mission, watch=watch)
    return mission


async def set_active(*, session: AsyncSession, clock: Clock, actor_id: int | None, code: str, active: bool) -> Mission:
    """Takes a mission out of the directory (off the line too) or puts it back (not live: a separate step)."""
    mission = await mission_by_code(session=session, code=code)
    if active == mission.active:
        return mission
    if not active:
        if mission.kind is MissionKind.CENTRAL_DESK:
            raise InvalidInput([_last_desk("active")])
        covered = await session.scalar(
            select(MissionCoverage.country).where(MissionCoverage.mission_id == mission.id).limit(1)
        )
        if covered is not None:
            raise InvalidInput(
                [
                    FieldError(
                        "active",
                        "still_covers",
                        N_("This mission still covers places (for example {country}): give them to another first."),
                        {"country": covered},
                    )
                ]
            )
        mission.live = False
    elif mission.kind is MissionKind.CENTRAL_DESK and (other := await _other_central_desk(session, mission.id)):
        raise InvalidInput([_desk_taken("active", other)])
    mission.active = active
    await session.flush()
    await record(
        session,
        clock,
        actor_id,
        "emergency.mission.activate" if active else "emergency.mission.deactivate",
        mission,
        {},
    )
    return mission


def described(mission: Mission) -> dict[str, object]:
    return {
        "kind": mission.kind.value,
        "name_ar": mission.name_ar,
        "name_en": mission.name_en,
        "country": mission.country,
        "time_zone": mission.time_zone,
        "calendar_id": mission.calendar_id,
        "email": mission.email,
        "head_name": mission.head_name,
        "head_email": mission.head_email,
        "head_phone": mission.head_phone,
        "live": mission.live,
        "active": mission.active,
    }


async def record(
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    action: str,
    mission: Mission,
    details: Mapping[str, object],
) -> None:
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=action,
        target_type="mission",
        target_id=mission.code,
        details=dict(details),
    )
