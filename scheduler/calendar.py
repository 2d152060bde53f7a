"""The official's calendar: weekly templates, dated sessions and their slots, holidays, busy blocks.

All times people type are Riyadh times (UTC+3, no daylight saving); stored
moments are UTC. Services flush, never commit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from itertools import cycle

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts.models import AuditEntry
from majlis.clock import RIYADH, Clock, riyadh
from majlis.errors import N_, FieldError, InvalidInput, invalid_choice, required, too_long
from majlis.hijri import read_day
from majlis.numbers import whole_number
from rooms import service as rooms
from rooms.models import Room, RoomKind
from scheduler.busy import BusyInterval
from scheduler.models import (
    AudienceMode,
    AudienceSession,
    SessionState,
    SessionTemplate,
    Slot,
    TemplateRoom,
)
from worktime import service as worktime
from worktime.models import CalendarHoliday

WEEKS_AHEAD = 12
# Python's weekday numbers of the working week, Sunday to Thursday.
WORKING_DAYS = (6, 0, 1, 2, 3)
ROOM_KINDS_FOR = {
    AudienceMode.IN_PERSON: {RoomKind.AUDIENCE_HALL, RoomKind.OFFICIAL_OFFICE},
    AudienceMode.VIDEO: {RoomKind.WOMEN_VIDEO, RoomKind.MEN_VIDEO},
}
BUSY_PREFIX = "calendar:"
# The reception centres' working hours, Riyadh time (seeds 001 and 002; the footer of every page says them). An
# audience outside them keeps staff late or early, so protocol confirms it knowingly (`check_template`). Not the
# "audiences" working calendar's hours: those say when applicants are called (to 15:00), not when the centre is open.
WORKING_HOURS = (time(8), time(16))
OUTSIDE_HOURS = N_(
    "These hours are outside working hours ({opens}–{closes}, Riyadh time). To keep them, tick "
    "“Yes, outside working hours” and save again."
)


def outside_working_hours(starts: time, ends: time) -> bool:
    """Whether a session from `starts` to `ends` (Riyadh) begins before the working hours or ends after them."""
    opens, closes = WORKING_HOURS
    return starts < opens or ends > closes


@dataclass(frozen=True)
class TemplateInput:
    """A template as typed: text fields, checked by `check_template`."""

    name: str
    weekday: str
    starts: str
    ends: str
    slot_minutes: str
    capacity: str
    mode: str
    room_ids: tuple[int, ...]
    # Protocol's "yes, outside working hours": a session starting before or ending after them is saved only with it.
    outside_hours_confirmed: bool = False


_HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def clock_time(value: str) -> time | None:
    """A Riyadh wall-clock time typed as HH:MM, or None (no seconds, no zone: a zone would not compare)."""
    value = value.strip()
    return time.fromisoformat(value) if _HH_MM.fullmatch(value) else None


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


async def check_template(
    *, session: AsyncSession, data: TemplateInput, exclude_id: int | None = None, against_templates: bool = True
) -> SessionTemplate:
    """A template built from the input, not yet saved; InvalidInput names every problem.

    Refused: a day outside Sunday–Thursday, an end before the start, a slot
    length that does not divide the session, rooms that do not suit the mode,
    and hours that overlap another active template on the same weekday (the
    official cannot be in two audiences at once).
    """
    errors: list[FieldError] = []
    name = " ".join(data.name.split())
    if not name:
        errors.append(required("name"))
    elif len(name) > 120:
        errors.append(too_long("name", 120))
    weekday = whole_number(data.weekday)
    weekday = -1 if weekday is None else weekday
    if weekday not in WORKING_DAYS:
        errors.append(
            FieldError("weekday", "not_working_day", N_("{field} must be a working day, Sunday to Thursday."))
        )
    starts, ends = clock_time(data.starts), clock_time(data.ends)
    if starts is None:
        errors.append(FieldError("starts", "invalid_time", N_("{field} must be a time such as 10:00.")))
    if ends is None:
        errors.append(FieldError("ends", "invalid_time", N_("{field} must be a time such as 10:00.")))
    slot = whole_number(data.slot_minutes) or 0
    if not 1 <= slot <= 240:
        errors.append(
            FieldError(
                "slot_minutes",
                "out_of_range",
                N_("{field} must be between {min} and {max}."),
                {"min": "1", "max": "240"},
            )
        )
    if starts is not None and ends is not None:
        length = _minutes(ends) - _minutes(starts)
        if length <= 0:
            errors.append(FieldError("ends", "before_start", N_("The session must end after it starts.")))
        elif slot and length % slot:
            errors.append(
                FieldError(
                    "slot_minutes",
                    "does_not_divide",
                    N_("Slots of {slot} minutes do not fill a session of {length} minutes exactly."),
                    {"slot": str(slot), "length": str(length)},
                )
            )
    capacity = whole_number(data.capacity) or 0
    if not 1 <= capacity <= 20:
        errors.append(
            FieldError(
                "capacity", "out_of_range", N_("{field} must be between {min} and {max}."), {"min": "1", "max": "20"}
            )
        )
    mode: AudienceMode | None = None
    try:
        mode = AudienceMode(data.mode)
    except ValueError:
        errors.append(invalid_choice("mode", (m.value for m in AudienceMode)))
    chosen = await rooms.rooms_by_id(session=session, ids=set(data.room_ids))
    if not data.room_ids:
        errors.append(FieldError("rooms", "missing", N_("Choose at least one room.")))
    elif len(chosen) != len(set(data.room_ids)) or any(not r.active for r in chosen.values()):
        errors.append(FieldError("rooms", "unknown", N_("{field} is not one of the rooms.")))
    elif mode is not None and any(r.kind not in ROOM_KINDS_FOR[mode] for r in chosen.values()):
        errors.append(FieldError("rooms", "wrong_kind", N_("These rooms do not suit this kind of audience.")))
    if (
        starts is not None
        and ends is not None
        and not data.outside_hours_confirmed
        and _minutes(ends) > _minutes(starts)
        and outside_working_hours(starts, ends)
    ):
        opens, closes = WORKING_HOURS
        errors.append(
            FieldError(
                "outside_hours_confirmed",
                "outside_working_hours",
                OUTSIDE_HOURS,
                {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")},
            )
        )
    if (
        against_templates
        and weekday in WORKING_DAYS
        and starts is not None
        and ends is not None
        and _minutes(ends) > _minutes(starts)
    ):
        others = await session.scalars(
            select(SessionTemplate).where(SessionTemplate.weekday == weekday, SessionTemplate.active.is_(True))
        )
        for other in others:
            if other.id != exclude_id and other.starts < ends and starts < other.ends:
                errors.append(
                    FieldError(
                        "starts",
                        "overlaps",
                        N_("These hours overlap the template “{other}” on the same day."),
                        {"other": other.name},
                    )
                )
    if errors:
        raise InvalidInput(errors)
    assert starts is not None and ends is not None and mode is not None
    return SessionTemplate(
        name=name,
        weekday=weekday,
        starts=starts,
        ends=ends,
        slot_minutes=slot,
        capacity=capacity,
        mode=mode,
        active=True,
    )


async def add_template(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, data: TemplateInput
) -> SessionTemplate:
    """Saves a checked template with its rooms."""
    template = await check_template(session=session, data=data)
    session.add(template)
    await session.flush()
    for room_id in dict.fromkeys(data.room_ids):
        session.add(TemplateRoom(template_id=template.id, room_id=room_id))
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.template.add",
        target_type="session_template",
        target_id=template.id,
        details={"name": template.name, "weekday": template.weekday, "rooms": list(data.room_ids)},
    )
    await session.flush()
    return template


async def templates(*, session: AsyncSession) -> list[SessionTemplate]:
    return list(
        await session.scalars(select(SessionTemplate).order_by(SessionTemplate.weekday, SessionTemplate.starts))
    )


async def template_rooms(*, session: AsyncSession, template_id: int) -> list[int]:
    rows = await session.scalars(
        select(TemplateRoom.room_id).where(TemplateRoom.template_id == template_id).order_by(TemplateRoom.room_id)
    )
    return list(rows)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=RIYADH)


async def _create_session(
    *,
    session: AsyncSession,
    day: date,
    starts: time,
    ends: time,
    slot_minutes: int,
    capacity: int,
    mode: AudienceMode,
    room_list: list[Room],
    template_id: int | None,
    note: str = "",
) -> AudienceSession:
    dated = AudienceSession(
        template_id=template_id,
        day=day,
        starts_at=_at(day, starts),
        ends_at=_at(day, ends),
        mode=mode,
        state=SessionState.PLANNED,
        locked=False,
        cancelled_for_holiday=False,
        note=note,
    )
    session.add(dated)
    await session.flush()
    # Linked rooms take turns: the official calls one room, then the next.
    turn = cycle(room_list)
    moment = dated.starts_at
    step = timedelta(minutes=slot_minutes)
    while moment + step <= dated.ends_at:
        session.add(
            Slot(
                session_id=dated.id,
                room_id=next(turn).id,
                starts_at=moment,
                ends_at=moment + step,
                capacity=capacity,
                blocked_by=None,
            )
        )
        moment += step
    await session.flush()
    return dated


async def generate_sessions(*, session: AsyncSession, clock: Clock, weeks: int = WEEKS_AHEAD) -> int:
    """Creates the dated sessions of every active template for the coming weeks; gives back how many were new.

    Runs any number of times: a template's session for a day is made once;
    holidays are skipped.
    """
    today = riyadh(clock.now()).date()
    horizon = today + timedelta(weeks=weeks)
    holidays = await worktime.days_off(session=session, since=today)
    existing = set(
        (
            await session.execute(
                select(AudienceSession.template_id, AudienceSession.day).where(AudienceSession.day >= today)
            )
        ).all()
    )
    made = 0
    for template in await templates(session=session):
        if not template.active:
            continue
        room_ids = await template_rooms(session=session, template_id=template.id)
        by_id = await rooms.rooms_by_id(session=session, ids=set(room_ids))
        room_list = [by_id[i] for i in room_ids if i in by_id and by_id[i].active]
        if not room_list:
            continue
        day = today + timedelta(days=(template.weekday - today.weekday()) % 7)
        while day < horizon:
            if day not in holidays and (template.id, day) not in existing and _at(day, template.starts) > clock.now():
                try:
                    # Another generation (the weekly job, a button) may make the same one meanwhile.
                    async with session.begin_nested():
                        await _create_session(
                            session=session,
                            day=day,
                            starts=template.starts,
                            ends=template.ends,
                            slot_minutes=template.slot_minutes,
                            capacity=template.capacity,
                            mode=template.mode,
                            room_list=room_list,
                            template_id=template.id,
                        )
                    made += 1
                except IntegrityError:
                    pass  # made by the other generation; nothing more to do for this day
            day += timedelta(days=7)
    return made


async def days_off(session: AsyncSession) -> frozenset[date]:
    """The declared holidays (a few a year): no audience on them, and no calls to applicants."""
    return await worktime.days_off(session=session)


async def add_holiday(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, day: date, name: str
) -> CalendarHoliday:
    """A day without audiences; sessions already planned that day are cancelled by the caller's policy."""
    holiday = await worktime.add_holiday(session=session, day=day, name=name)
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.holiday.add",
        target_type="holiday",
        target_id=day.isoformat(),
        details={"name": name},
    )
    return holiday


async def holidays(*, session: AsyncSession) -> list[CalendarHoliday]:
    return await worktime.holidays(session=session)


async def sessions_between(*, session: AsyncSession, start: date, end: date) -> list[AudienceSession]:
    rows = await session.scalars(
        select(AudienceSession)
        .where(AudienceSession.day >= start, AudienceSession.day < end)
        .order_by(AudienceSession.starts_at)
    )
    return list(rows)


async def slots_of(*, session: AsyncSession, session_ids: set[int]) -> list[Slot]:
    if not session_ids:
        return []
    rows = await session.scalars(select(Slot).where(Slot.session_id.in_(session_ids)).order_by(Slot.starts_at, Slot.id))
    return list(rows)


async def block_busy_slots(*, session: AsyncSession, clock: Clock, busy: list[BusyInterval]) -> int:
    """Blocks every future slot that overlaps a busy time of the official; gives back how many are blocked.

    A re-import replaces the blocks of the previous one: blocks from the
    official's calendar are cleared first, then set again from this feed.
    """
    now = clock.now()
    await session.execute(
        update(Slot).where(Slot.starts_at >= now, Slot.blocked_by.like(f"{BUSY_PREFIX}%")).values(blocked_by=None)
    )
    future = list(await session.scalars(select(Slot).where(Slot.starts_at >= now).order_by(Slot.starts_at)))
    ordered = sorted(busy, key=lambda b: b.starts_at)
    blocked = 0
    for slot in future:
        for window in ordered:
            if window.starts_at >= slot.ends_at:
                break
            if window.ends_at > slot.starts_at:
                # Not the event's title: the official's own commitments stay private.
                slot.blocked_by = BUSY_PREFIX + "busy"
                blocked += 1
                break
    await session.flush()
    return blocked


async def add_extra_session(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, day: str, data: TemplateInput
) -> AudienceSession:
    """An audience outside the weekly templates, on a working day ahead; it must not overlap another that day."""
    errors: list[FieldError] = []
    when: date | None = None
    try:
        when = read_day(day, field="day")
    except InvalidInput as exc:
        errors.extend(exc.errors)
    checked: SessionTemplate | None = None
    try:
        weekday = str(when.weekday()) if when else data.weekday
        checked = await check_template(session=session, data=replace(data, weekday=weekday), against_templates=False)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if when is not None and checked is not None:
        if _at(when, checked.starts) <= clock.now():
            errors.append(FieldError("day", "in_the_past", N_("{field} must be in the future.")))
        if await worktime.holiday(session=session, day=when) is not None:
            errors.append(FieldError("day", "holiday", N_("This day is a holiday.")))
        for other in await sessions_between(session=session, start=when, end=when + timedelta(days=1)):
            starts_at, ends_at = _at(when, checked.starts), _at(when, checked.ends)
            if other.state is SessionState.PLANNED and other.starts_at < ends_at and starts_at < other.ends_at:
                errors.append(
                    FieldError("starts", "overlaps_session", N_("These hours overlap another session that day."))
                )
                break
    if errors:
        raise InvalidInput(errors)
    assert when is not None and checked is not None
    by_id = await rooms.rooms_by_id(session=session, ids=set(data.room_ids))
    dated = await _create_session(
        session=session,
        day=when,
        starts=checked.starts,
        ends=checked.ends,
        slot_minutes=checked.slot_minutes,
        capacity=checked.capacity,
        mode=checked.mode,
        room_list=[by_id[i] for i in dict.fromkeys(data.room_ids)],
        template_id=None,
        note=checked.name,
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.session.extra",
        target_type="audience_session",
        target_id=dated.id,
        details={"day": when.isoformat()},
    )
    return dated


async def remove_holiday(*, session: AsyncSession, clock: Clock, actor_id: int | None, day: date) -> None:
    """Takes a day off the holiday list (the moon was sighted a day later); the next generation fills it."""
    holiday = await worktime.holiday(session=session, day=day)
    name = holiday.name if holiday is not None else ""
    await worktime.remove_holiday(session=session, day=day)
    # The sessions its declaration cancelled come back (their applicants were
    # placed elsewhere meanwhile; the next run fills them again).
    await session.execute(
        update(AudienceSession)
        .where(
            AudienceSession.day == day,
            AudienceSession.cancelled_for_holiday.is_(True),
            AudienceSession.starts_at > clock.now(),
        )
        .values(state=SessionState.PLANNED, cancelled_for_holiday=False, note="")
    )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.holiday.remove",
        target_type="holiday",
        target_id=day.isoformat(),
        details={"name": name},
    )
    await session.flush()


# How long a removed holiday may be put back with one tap ("Undo" beside the notice of its removal).
UNDO_WINDOW = timedelta(minutes=2)


async def undoable_removal(*, session: AsyncSession, clock: Clock, actor_id: int, day: date) -> str | None:
    """The name of the holiday `actor_id` removed on `day` within the undo window, if it is still removed and the
    day still ahead; None otherwise. Declaring it again (`scheduler.changes.declare_holiday`) is the exact inverse
    then: the sessions its removal restored have had no run to place anyone in them."""
    if day <= riyadh(clock.now()).date() or await worktime.holiday(session=session, day=day) is not None:
        return None
    entry = await session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.action == "calendar.holiday.remove",
            AuditEntry.target_id == day.isoformat(),
            AuditEntry.actor_id == actor_id,
            AuditEntry.at >= clock.now() - UNDO_WINDOW,
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return None
    return str(entry.details.get("name", "")) or None


async def set_template_active(
    *, session: AsyncSession, clock: Clock, actor_id: int | None, template_id: int, active: bool
) -> SessionTemplate:
    """Stops (or resumes) a weekly template: sessions already generated stay; no new ones are made while stopped."""
    template = await session.get(SessionTemplate, template_id)
    if template is None:
        raise InvalidInput([FieldError("template", "unknown", N_("{field} is not one of the templates."))])
    if active and not template.active:
        # Coming back, it must not overlap what was added meanwhile.
        await check_template(
            session=session,
            data=TemplateInput(
                name=template.name,
                weekday=str(template.weekday),
                starts=template.starts.strftime("%H:%M"),
                ends=template.ends.strftime("%H:%M"),
                slot_minutes=str(template.slot_minutes),
                capacity=str(template.capacity),
                mode=template.mode.value,
                room_ids=tuple(await template_rooms(session=session, template_id=template.id)),
                outside_hours_confirmed=True,  # its hours were confirmed when it was made; resuming keeps them
            ),
            exclude_id=template.id,
        )
    template.active = active
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.template.active",
        target_type="session_template",
        target_id=template_id,
        details={"active": active},
    )
    await session.flush()
    return template
