"""The hall's queue on audience day: the order of the day, Call next, the in-person outcome, Now serving.

**Call next never calls two people.** A press names the audience its console
showed as current (or none). The session row is locked while the press is
handled: the first press ends the current audience and calls the next
applicant; a second press made at the same moment, from the same or another
console, finds that the current audience is no longer the one it names, and
changes nothing; it answers with the audience now current.

The order: applicants who came in time by their slot's start (then seat), then
late arrivals in the order they came. Only arrived applicants of in-person
sessions are called here; video audiences are called over video.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from audience_day.models import Arrival, HallAudience, Outcome
from audience_day.outcome import OutcomeRefused, apply_outcome, checked_directive
from cases import service as cases
from cases.models import Case
from majlis.clock import Clock, riyadh
from majlis.errors import N_, DomainError
from quality import invites
from rooms import service as rooms
from rooms.models import Room
from scheduler import lifecycle
from scheduler.models import Appointment, AppointmentState, AudienceMode, AudienceSession, SessionState, Slot


class QueueRefused(DomainError):
    """A queue action that cannot be done (no such session, not in person)."""


@dataclass(frozen=True)
class InLine:
    """One arrived applicant in the order of the day."""

    arrival: Arrival
    appointment: Appointment
    slot: Slot
    case: Case
    audience: HallAudience | None

    @property
    def waiting(self) -> bool:
        return self.audience is None and self.appointment.state is AppointmentState.ARRIVED


@dataclass(frozen=True)
class CallResult:
    # The audience now current (None: nobody left to call).
    current: HallAudience | None
    # False when the press was a repeat of one already handled: nothing changed.
    moved: bool


async def in_person_sessions(
    *, session: AsyncSession, clock: Clock, branch_code: str | None = None
) -> list[AudienceSession]:
    """Today's planned in-person sessions, in order; only those held at the branch if one is given."""
    now = riyadh(clock.now())
    statement = (
        select(AudienceSession)
        .where(
            AudienceSession.day == now.date(),
            AudienceSession.mode == AudienceMode.IN_PERSON,
            AudienceSession.state == SessionState.PLANNED,
        )
        .order_by(AudienceSession.starts_at)
    )
    if branch_code is not None:
        at_branch = select(Slot.session_id).join(Room, Room.id == Slot.room_id).where(Room.branch_code == branch_code)
        statement = statement.where(AudienceSession.id.in_(at_branch))
    return list(await session.scalars(statement))


async def order_of_day(*, session: AsyncSession, session_id: int) -> list[InLine]:
    """The session's arrived applicants in the order they are called (see the module's docstring)."""
    rows = (
        await session.execute(
            select(Arrival, Appointment, Slot, Case)
            .join(Appointment, Appointment.id == Arrival.appointment_id)
            .join(Slot, Slot.id == Appointment.slot_id)
            .join(Case, Case.id == Arrival.case_id)
            .where(Arrival.session_id == session_id)
        )
    ).all()
    audiences = {
        h.appointment_id: h
        for h in await session.scalars(select(HallAudience).where(HallAudience.session_id == session_id))
    }
    line = [
        InLine(arrival, appointment, slot, case, audiences.get(appointment.id))
        for arrival, appointment, slot, case in rows
    ]

    def key(item: InLine) -> tuple[bool, datetime, int, int]:
        if item.arrival.late:
            return (True, item.arrival.arrived_at, item.arrival.queue_number, 0)
        return (False, item.slot.starts_at, item.appointment.seat, item.arrival.queue_number)

    line.sort(key=key)
    return line


async def room_of_session(*, session: AsyncSession, session_id: int) -> Room | None:
    """The hall an in-person session sits in (its slots' room)."""
    slot = await session.scalar(select(Slot).where(Slot.session_id == session_id).limit(1))
    return await rooms.get_room(session=session, room_id=slot.room_id) if slot is not None else None


async def current_audience(*, session: AsyncSession, session_id: int) -> HallAudience | None:
    """The audience the official is holding now in this session (called, not ended)."""
    return await session.scalar(
        select(HallAudience)
        .where(HallAudience.session_id == session_id, HallAudience.ended_at.is_(None))
        .order_by(HallAudience.called_at.desc(), HallAudience.id.desc())
    )


async def _in_person_session(session: AsyncSession, session_id: int) -> AudienceSession:
    found = await session.get(AudienceSession, session_id, with_for_update=True, populate_existing=True)
    if found is None:
        raise QueueRefused("no_session", N_("There is no such audience session."))
    if found.mode is not AudienceMode.IN_PERSON:
        raise QueueRefused("not_in_person", N_("This session is held over video; call its rooms from the video list."))
    return found


async def call_next(
    *, session: AsyncSession, clock: Clock, session_id: int, current_id: int | None, actor_id: int
) -> CallResult:
    """Ends the current audience and calls the next applicant, unless the press is stale (see the docstring)."""
    await _in_person_session(session, session_id)
    current = await current_audience(session=session, session_id=session_id)
    if (current.id if current else None) != current_id:
        return CallResult(current=current, moved=False)
    now = clock.now()
    if current is not None:
        current.ended_at = now
    following = next(
        (item for item in await order_of_day(session=session, session_id=session_id) if item.waiting), None
    )
    if following is None:
        await session.flush()
        return CallResult(current=None, moved=current is not None)
    appointment = await lifecycle.locked(session=session, appointment_id=following.appointment.id)
    await lifecycle.mark_in_audience(session=session, appointment=appointment)
    audience = HallAudience(
        appointment_id=appointment.id,
        case_id=appointment.case_id,
        session_id=session_id,
        called_at=now,
        called_by_id=actor_id,
        directive="",
        referred_to="",
    )
    session.add(audience)
    await session.flush()
    return CallResult(current=audience, moved=True)


async def record_outcome(
    *,
    session: AsyncSession,
    clock: Clock,
    audience_id: int,
    outcome: Outcome,
    directive: str,
    referred_to: str,
    actor_id: int,
    status_url: str,
) -> HallAudience:
    """The official's outcome of an in-person audience: the request moves on and the appointment is held."""
    directive, referred_to = checked_directive(outcome, directive, referred_to)
    audience = await session.get(HallAudience, audience_id, with_for_update=True, populate_existing=True)
    if audience is None:
        raise OutcomeRefused("no_audience", N_("There is no such audience."))
    if audience.outcome is not None:
        raise OutcomeRefused("outcome_recorded", N_("The outcome of this audience is already recorded."))
    case = (await cases.lock_cases(session=session, case_ids=[audience.case_id]))[audience.case_id]
    await apply_outcome(
        session=session,
        clock=clock,
        case=case,
        outcome=outcome,
        directive=directive,
        referred_to=referred_to,
        actor_id=actor_id,
        status_url=status_url,
    )
    now = clock.now()
    audience.outcome = outcome
    audience.directive = directive
    audience.referred_to = referred_to
    audience.outcome_at = now
    audience.outcome_by_id = actor_id
    if audience.ended_at is None:
        audience.ended_at = now
    appointment = await lifecycle.locked(session=session, appointment_id=audience.appointment_id)
    await lifecycle.mark_held(session=session, clock=clock, appointment=appointment)
    await invites.after_audience(
        session=session, clock=clock, case=case, appointment_id=appointment.id, staff_id=actor_id
    )
    await session.flush()
    return audience


@dataclass(frozen=True)
class NowServing:
    """What the hall's screen shows: queue numbers only, never names."""

    serving: int | None
    waiting: list[int]


async def now_serving(*, session: AsyncSession, session_id: int) -> NowServing:
    line = await order_of_day(session=session, session_id=session_id)
    current = await current_audience(session=session, session_id=session_id)
    serving = next(
        (i.arrival.queue_number for i in line if current and i.appointment.id == current.appointment_id), None
    )
    return NowServing(serving=serving, waiting=[i.arrival.queue_number for i in line if i.waiting])
