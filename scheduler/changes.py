"""Changes to the calendar after allocation: a cancelled session, a holiday declared, the official's busy
times imported.

Every applicant affected is told through the outbox, in the same transaction, and told once: an applicant whose
released audience is given a new date by the run that follows hears one "your audience moved" message with the
new date and place (and the e-mail invitation updated), not a cancellation and then a new date; only one left
waiting hears that the audience is cancelled and a new date will follow. A seat changed by hand (a move, a
placement by hand) is `scheduler.by_hand`; an urgent arrival is `scheduler.urgent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.models import CaseStatus
from fairness import chain as fairness_chain
from majlis.clock import Clock
from majlis.dates import dual_datetime
from majlis.errors import N_, DomainError, InvalidInput, required, too_long
from notify import outbox
from notify.texts import audience_cancelled_sms
from scheduler import calendar, notices
from scheduler import service as scheduling
from scheduler.busy import BusyInterval
from scheduler.models import LIVE_STATES, Appointment, AppointmentState, AudienceSession, SessionState, Slot


class CalendarRefusal(DomainError):
    pass


async def release_seat(*, session: AsyncSession, clock: Clock, appointment: Appointment, reason: str) -> None:
    """Frees the seat; a confirmation request about it that has not gone yet is withdrawn."""
    appointment.state = AppointmentState.RELEASED
    appointment.released_at = clock.now()
    appointment.release_reason = reason
    await notices.withdraw_confirmation(session=session, clock=clock, appointment=appointment, why=reason)
    await session.flush()


async def release_and_tell(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    reason: str,
    actor_id: int | None,
    status_url: str,
    note: str = "",
    note_key: str = "",
    tell: bool = True,
) -> None:
    """Frees the appointment's seat, sends its case back to wait, and tells the applicant a new date follows.

    With `tell` false the applicant is not told here: a critical request moved to an earlier seat
    (`scheduler.urgent`) hears once, from its new placement, that its audience moved.
    """
    await release_seat(session=session, clock=clock, appointment=appointment, reason=reason)
    case = await cases.get_case(session=session, case_id=appointment.case_id)
    assert case is not None
    await cases.change_status(
        session=session,
        clock=clock,
        case=case,
        to_status=CaseStatus.AWAITING_AUDIENCE,
        actor_id=actor_id,
        note=note,
        note_key=note_key,
    )
    if tell:
        await tell_released(session=session, clock=clock, appointment=appointment, status_url=status_url)


async def tell_released(*, session: AsyncSession, clock: Clock, appointment: Appointment, status_url: str) -> None:
    """Tells the applicant their audience of `appointment` is cancelled and a new date follows: an SMS, and
    the e-mail invitation's cancellation."""
    slot = await session.get_one(Slot, appointment.slot_id)
    case = await cases.get_case(session=session, case_id=appointment.case_id)
    assert case is not None
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"cancelled:{appointment.id}",
        compose=lambda language: audience_cancelled_sms(
            language=language,
            tracking_number=case.tracking_number,
            when=dual_datetime(slot.starts_at, language),
            status_url=status_url,
        ),
    )
    await notices.email_invitation(session=session, clock=clock, case=case, appointment=appointment, cancelled=True)


async def _appointments_in(*, session: AsyncSession, session_id: int) -> list[Appointment]:
    rows = await session.scalars(
        select(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(Slot.session_id == session_id, Appointment.state.in_(LIVE_STATES))
    )
    return list(rows)


async def _lock_session(*, session: AsyncSession, session_id: int) -> AudienceSession | None:
    """The session row, locked for update on PostgreSQL: a run placing into it waits, then sees it cancelled."""
    # FOR UPDATE on PostgreSQL; SQLite renders none (BEGIN IMMEDIATE already holds the write lock).
    return await session.get(AudienceSession, session_id, with_for_update=True, populate_existing=True)


async def _cancel(
    *,
    session: AsyncSession,
    clock: Clock,
    session_id: int,
    actor_id: int | None,
    reason: str,
    status_url: str,
    for_holiday: bool = False,
) -> dict[int, Appointment]:
    """Cancels one session and releases its appointments quietly; gives back the released appointments by case.

    The applicants are told by `_place_again`, once: moved, or (left waiting) cancelled."""
    # The chain's turn before the session's row: the released are placed again, appending to the chain, and a
    # run holding the turn reads this session FOR SHARE (fairness.chain.take_turn).
    await fairness_chain.take_turn(session=session)
    dated = await _lock_session(session=session, session_id=session_id)
    if dated is None:
        raise CalendarRefusal("session_not_found", N_("There is no such session."))
    if dated.state is SessionState.CANCELLED:
        raise CalendarRefusal("session_cancelled", N_("This session is already cancelled."))
    if dated.starts_at <= clock.now():
        raise CalendarRefusal("session_started", N_("This session has already begun; it can no longer be cancelled."))
    dated.state = SessionState.CANCELLED
    dated.note = reason
    dated.cancelled_for_holiday = for_holiday
    released: dict[int, Appointment] = {}
    for appointment in await _appointments_in(session=session, session_id=session_id):
        released[appointment.case_id] = appointment
        await release_and_tell(
            session=session,
            clock=clock,
            appointment=appointment,
            reason="session_cancelled",
            actor_id=actor_id,
            note=reason,
            status_url=status_url,
            tell=False,
        )
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.session.cancel",
        target_type="audience_session",
        target_id=session_id,
        details={"reason": reason},
    )
    await session.flush()
    return released


async def _place_again(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    status_url: str,
    horizon: timedelta | None,
    released: Mapping[int, Appointment],
) -> scheduling.RunReport:
    """One run for everyone, then the released requests at once, even beyond the horizon; nobody else moves up.

    A released request placed again is told once that its audience moved (`moved_from`); one left without a
    seat is told now that its audience is cancelled and a new date will follow."""
    report = await scheduling.run_allocation(
        session=session, clock=clock, actor_id=actor_id, status_url=status_url, horizon=horizon, moved=released
    )
    if not released:
        return report
    owed = await scheduling.run_allocation(
        session=session,
        clock=clock,
        actor_id=actor_id,
        status_url=status_url,
        only=set(released),
        rule="session_cancelled",
        moved=released,
    )
    placed_again = set(
        await session.scalars(
            select(Appointment.case_id).where(
                Appointment.case_id.in_(set(released)), Appointment.state.in_(LIVE_STATES)
            )
        )
    )
    for case_id, appointment in sorted(released.items()):
        if case_id not in placed_again:
            await tell_released(session=session, clock=clock, appointment=appointment, status_url=status_url)
    return scheduling.RunReport(
        placed=report.placed + owed.placed, unplaced=owed.unplaced, lost_races=report.lost_races + owed.lost_races
    )


def _checked_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InvalidInput([required("reason")])
    if len(reason) > 500:
        raise InvalidInput([too_long("reason", 500)])
    return reason


async def cancel_session(
    *,
    session: AsyncSession,
    clock: Clock,
    session_id: int,
    actor_id: int | None,
    reason: str,
    status_url: str,
    horizon: timedelta | None = None,
) -> scheduling.RunReport:
    """Cancels a session: its applicants are told, released, and placed again by priority."""
    released = await _cancel(
        session=session,
        clock=clock,
        session_id=session_id,
        actor_id=actor_id,
        reason=_checked_reason(reason),
        status_url=status_url,
    )
    return await _place_again(
        session=session, clock=clock, actor_id=actor_id, status_url=status_url, horizon=horizon, released=released
    )


async def import_busy_times(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    busy: list[BusyInterval],
    status_url: str,
    horizon: timedelta | None = None,
) -> tuple[int, int]:
    """Blocks the slots the official is busy in; their appointments are released, told and placed again.

    Gives back (slots blocked, appointments moved).
    """
    # The chain's turn before the slots and appointments are written (fairness.chain.take_turn).
    await fairness_chain.take_turn(session=session)
    blocked = await calendar.block_busy_slots(session=session, clock=clock, busy=busy)
    caught = list(
        await session.scalars(
            select(Appointment)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Slot.blocked_by.is_not(None), Slot.starts_at > clock.now(), Appointment.state.in_(LIVE_STATES))
        )
    )
    for appointment in caught:
        await release_and_tell(
            session=session,
            clock=clock,
            appointment=appointment,
            reason="official_busy",
            actor_id=actor_id,
            note_key=N_("The official has a commitment at that time; a new date follows."),
            status_url=status_url,
            tell=False,
        )
    if caught:
        await _place_again(
            session=session,
            clock=clock,
            actor_id=actor_id,
            status_url=status_url,
            horizon=horizon,
            released={a.case_id: a for a in caught},
        )
    return blocked, len(caught)


async def declare_holiday(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    day: date,
    name: str,
    status_url: str,
    horizon: timedelta | None = None,
) -> int:
    """Adds a holiday and cancels the sessions already planned that day; gives back how many were cancelled.

    Feast days are announced late (the moon sighting), after the day's sessions
    were generated. All of the day's sessions are cancelled first and the
    allocation runs once after, so nobody is placed into a session of that day
    that is about to be cancelled too.
    """
    # The chain's turn before any row is written or locked (fairness.chain.take_turn).
    await fairness_chain.take_turn(session=session)
    await calendar.add_holiday(session=session, clock=clock, actor_id=actor_id, day=day, name=name)
    planned = [
        s
        for s in await calendar.sessions_between(session=session, start=day, end=day + timedelta(days=1))
        if s.state is SessionState.PLANNED and s.starts_at > clock.now()
    ]
    released: dict[int, Appointment] = {}
    for dated in planned:
        released |= await _cancel(
            session=session,
            clock=clock,
            session_id=dated.id,
            actor_id=actor_id,
            reason=name.strip(),
            status_url=status_url,
            for_holiday=True,
        )
    if planned:
        await _place_again(
            session=session, clock=clock, actor_id=actor_id, status_url=status_url, horizon=horizon, released=released
        )
    return len(planned)
