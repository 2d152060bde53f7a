"""What the protocol pages and the feeds show of the calendar: sessions with their slots and appointments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case
from majlis.clock import Clock
from rooms import service as rooms
from rooms.models import BranchSite, Room
from scheduler import calendar
from scheduler.models import (
    LIVE_STATES,
    Appointment,
    AppointmentState,
    AudienceMode,
    AudienceSession,
    Confirmation,
    Slot,
)


@dataclass(frozen=True)
class SlotView:
    slot: Slot
    room: Room
    appointments: list[tuple[Appointment, Case]]


@dataclass(frozen=True)
class SessionView:
    session: AudienceSession
    slots: list[SlotView]

    @property
    def booked(self) -> int:
        return sum(len(s.appointments) for s in self.slots)

    @property
    def seats(self) -> int:
        return sum(s.slot.capacity for s in self.slots if not s.slot.blocked_by)


async def sessions_with_slots(
    *, session: AsyncSession, start: date, end: date, room_id: int | None = None, with_held: bool = False
) -> list[SessionView]:
    """The sessions between two Riyadh days, each with its slots, rooms and live appointments (and held ones)."""
    states = (*LIVE_STATES, AppointmentState.HELD) if with_held else LIVE_STATES
    dated = await calendar.sessions_between(session=session, start=start, end=end)
    slots = await calendar.slots_of(session=session, session_ids={d.id for d in dated})
    if room_id is not None:
        slots = [s for s in slots if s.room_id == room_id]
    room_of = await rooms.rooms_by_id(session=session, ids={s.room_id for s in slots})
    booked = (
        list(
            await session.scalars(
                select(Appointment).where(Appointment.slot_id.in_({s.id for s in slots}), Appointment.state.in_(states))
            )
        )
        if slots
        else []
    )
    case_of = await cases.cases_by_id(session=session, case_ids={a.case_id for a in booked})
    by_slot: dict[int, list[tuple[Appointment, Case]]] = {}
    for appointment in sorted(booked, key=lambda a: a.seat):
        by_slot.setdefault(appointment.slot_id, []).append((appointment, case_of[appointment.case_id]))
    views = []
    for audience in dated:
        mine = [SlotView(s, room_of[s.room_id], by_slot.get(s.id, [])) for s in slots if s.session_id == audience.id]
        if room_id is None or mine:
            views.append(SessionView(audience, mine))
    return views


@dataclass(frozen=True)
class AppointmentView:
    """One appointment as its applicant sees it on the answer page."""

    appointment: Appointment
    slot: Slot
    place: str
    case: Case
    confirmation: Confirmation | None
    # The request's live appointment now, when it is another one (placed again after a reschedule).
    current: tuple[Appointment, Slot] | None


async def appointment_view(
    *, session: AsyncSession, appointment_id: int, language: str = "ar"
) -> AppointmentView | None:
    """The appointment with its slot, place (the room's name in `language`), request and confirmation; None if
    there is no such appointment."""
    appointment = await session.get(Appointment, appointment_id)
    if appointment is None:
        return None
    slot = await session.get_one(Slot, appointment.slot_id)
    case = await cases.get_case(session=session, case_id=appointment.case_id)
    if case is None:
        return None
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    confirmation = await session.scalar(select(Confirmation).where(Confirmation.appointment_id == appointment.id))
    current = (
        await session.execute(
            select(Appointment, Slot)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(
                Appointment.case_id == case.id,
                Appointment.state.in_(LIVE_STATES),
                Appointment.id != appointment.id,
            )
        )
    ).first()
    return AppointmentView(
        appointment=appointment,
        slot=slot,
        place=room.name_in(language) if room is not None else "",
        case=case,
        confirmation=confirmation,
        current=(current[0], current[1]) if current is not None else None,
    )


@dataclass(frozen=True)
class UpcomingAppointment:
    """A request's audience ahead (or under way), with where it is held."""

    appointment: Appointment
    slot: Slot
    mode: AudienceMode
    room: Room
    branch: BranchSite


async def upcoming_appointment_of(*, session: AsyncSession, clock: Clock, case_id: int) -> UpcomingAppointment | None:
    """The request's live appointment whose session is not over (or whose applicant is in the building), if any.

    A scheduled or confirmed appointment of a session that has ended is left out:
    the sweep after the session is about to end it as a no-show.
    """
    rows = (
        await session.execute(
            select(Appointment, Slot, AudienceSession)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(AudienceSession, AudienceSession.id == Slot.session_id)
            .where(Appointment.case_id == case_id, Appointment.state.in_(LIVE_STATES))
            .order_by(Slot.starts_at.desc(), Appointment.id.desc())
        )
    ).all()
    for appointment, slot, audience in rows:
        here = appointment.state in (AppointmentState.ARRIVED, AppointmentState.IN_AUDIENCE)
        if here or audience.ends_at > clock.now():
            room = await rooms.get_room(session=session, room_id=slot.room_id)
            assert room is not None  # a slot's room and a room's branch are foreign keys
            branch = await rooms.get_branch(session=session, code=room.branch_code)
            assert branch is not None
            return UpcomingAppointment(appointment, slot, audience.mode, room, branch)
    return None


async def audience_held(*, session: AsyncSession, case_ids: list[int]) -> set[int]:
    """The requests among `case_ids` that had an audience held (the applicant's progress tracker asks)."""
    if not case_ids:
        return set()
    rows = await session.scalars(
        select(Appointment.case_id).where(Appointment.case_id.in_(case_ids), Appointment.state == AppointmentState.HELD)
    )
    return set(rows)
