"""The end of every appointment: arrived, in audience, held; or, after its session, no-show or not reached.

scheduled → confirmed → arrived → in_audience → held, or no_show, or released.
The official's outcome closes an appointment as held. The sweep after each
session ends the rest: those who never arrived are no-shows (told, and their
request waits again once with its priority, which counts from the original
submission; a second no-show closes the request), and those who arrived but
were not reached before the session ended are released and placed again at
once, since they are owed a date now. An urgent or critical request sent back
by its first no-show is placed at once too, as on its routing
(`scheduler.urgent.place_urgent_arrival`, a critical one displacing if it must):
waiting for the weekly run would add a week to a wait that already counts from
its submission (issue 18, proven in the year simulation first).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import CaseStatus
from fairness import chain as fairness_chain
from majlis.clock import Clock
from majlis.dates import dual_datetime
from majlis.errors import N_, DomainError
from majlis.settings import Settings
from notify import outbox
from notify.texts import no_show_closed_sms, no_show_sms, not_reached_sms
from priority import service as triage
from priority.score import Urgency
from scheduler import notices, urgent
from scheduler import service as scheduling
from scheduler.models import Appointment, AppointmentState, AudienceSession, SessionState, Slot

log = logging.getLogger(__name__)

# Requests whose appointment's end moves them on; a request closed or referred meanwhile keeps its status.
_WAITING_ON_AUDIENCE = (CaseStatus.SCHEDULED, CaseStatus.CONFIRMED)


class AppointmentRefused(DomainError):
    """An appointment cannot take this step (wrong state, already ended)."""


@dataclass(frozen=True)
class NoShowPolicy:
    # A first no-show sends the request back to wait once; off, the first no-show closes it.
    second_chance: bool = True
    # An urgent or critical request sent back is placed at once, as on routing (place_urgent_on_route);
    # a critical one may displace (critical_may_displace), within the live horizon.
    urgent_at_once: bool = True
    may_displace: bool = True
    horizon: timedelta | None = None


def policy_from(settings: Settings) -> NoShowPolicy:
    return NoShowPolicy(
        second_chance=settings.no_show_second_chance,
        urgent_at_once=settings.place_urgent_on_route,
        may_displace=settings.critical_may_displace,
        horizon=settings.allocation_horizon,
    )


@dataclass(frozen=True)
class SweepReport:
    no_shows: int = 0
    returned: int = 0
    closed: int = 0
    not_reached: int = 0
    placed_again: int = 0
    urgent_placed_again: int = 0  # urgent and critical requests sent back by a no-show, placed at once


async def locked(*, session: AsyncSession, appointment_id: int) -> Appointment:
    """The appointment, locked until commit; refused when there is none."""
    found = await session.get(Appointment, appointment_id, with_for_update=True, populate_existing=True)
    if found is None:
        raise AppointmentRefused("no_appointment", N_("There is no such appointment."))
    return found


async def mark_arrived(*, session: AsyncSession, appointment: Appointment) -> None:
    """The applicant is here (or in the video room); only a scheduled or confirmed appointment arrives."""
    if appointment.state in (AppointmentState.ARRIVED, AppointmentState.IN_AUDIENCE):
        return
    if appointment.state not in (AppointmentState.SCHEDULED, AppointmentState.CONFIRMED):
        raise AppointmentRefused("appointment_ended", N_("This appointment has already ended."))
    appointment.state = AppointmentState.ARRIVED
    await session.flush()


async def mark_in_audience(*, session: AsyncSession, appointment: Appointment) -> None:
    """The official called the applicant (a video call may start before the room checked her in)."""
    if appointment.state is AppointmentState.IN_AUDIENCE:
        return
    if appointment.state not in (AppointmentState.SCHEDULED, AppointmentState.CONFIRMED, AppointmentState.ARRIVED):
        raise AppointmentRefused("appointment_ended", N_("This appointment has already ended."))
    appointment.state = AppointmentState.IN_AUDIENCE
    await session.flush()


async def mark_held(*, session: AsyncSession, clock: Clock, appointment: Appointment) -> None:
    """The official recorded the outcome: the appointment ends as held."""
    if appointment.state is AppointmentState.HELD:
        return
    if appointment.state in (AppointmentState.NO_SHOW, AppointmentState.RELEASED):
        raise AppointmentRefused("appointment_ended", N_("This appointment has already ended."))
    appointment.state = AppointmentState.HELD
    appointment.ended_at = clock.now()
    await session.flush()


async def no_shows_of(*, session: AsyncSession, case_id: int) -> int:
    """How many audiences of the request were missed."""
    count = await session.scalar(
        select(func.count(Appointment.id)).where(
            Appointment.case_id == case_id, Appointment.state == AppointmentState.NO_SHOW
        )
    )
    return int(count or 0)


async def _due(*, session: AsyncSession, now: datetime) -> list[tuple[Appointment, Slot]]:
    """Appointments not yet ended whose session is over, oldest first."""
    rows = await session.execute(
        select(Appointment, Slot)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(AudienceSession, AudienceSession.id == Slot.session_id)
        .where(
            AudienceSession.ends_at <= now,
            AudienceSession.state == SessionState.PLANNED,
            Appointment.state.in_((AppointmentState.SCHEDULED, AppointmentState.CONFIRMED, AppointmentState.ARRIVED)),
        )
        .order_by(Slot.starts_at, Appointment.id)
    )
    return [(a, s) for a, s in rows]


class _Notice(Protocol):
    def __call__(self, *, language: str, tracking_number: str, when: str, status_url: str) -> str: ...


async def _request_moves_on(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    slot: Slot,
    to_status: CaseStatus,
    note_key: str,
    notice: _Notice,
    purpose: str,
    status_url: str,
) -> bool:
    """Moves on the request of an appointment that ended without an audience, and tells its applicant.

    False, changing nothing, when the request had already moved on (closed, referred…) meanwhile.
    """
    case = (await cases.lock_cases(session=session, case_ids=[appointment.case_id]))[appointment.case_id]
    if case.status not in _WAITING_ON_AUDIENCE:
        return False
    await cases.change_status(
        session=session, clock=clock, case=case, to_status=to_status, actor_id=None, note_key=note_key
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"{purpose}:{appointment.id}",
        compose=lambda language: notice(
            language=language,
            tracking_number=case.tracking_number,
            when=dual_datetime(slot.starts_at, language),
            status_url=status_url,
        ),
    )
    return True


async def _no_show(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    slot: Slot,
    policy: NoShowPolicy,
    status_url: str,
) -> str:
    """Ends one appointment as a no-show; 'returned', 'closed', or '' when its request had moved on."""
    appointment.state = AppointmentState.NO_SHOW
    appointment.ended_at = clock.now()
    await notices.withdraw_confirmation(session=session, clock=clock, appointment=appointment, why="no_show")
    await session.flush()
    returned = policy.second_chance and await no_shows_of(session=session, case_id=appointment.case_id) <= 1
    moved = await _request_moves_on(
        session=session,
        clock=clock,
        appointment=appointment,
        slot=slot,
        to_status=CaseStatus.AWAITING_AUDIENCE if returned else CaseStatus.CLOSED_NO_SHOW,
        note_key=(
            N_("The applicant did not attend the audience; the request waits again with its priority.")
            if returned
            else N_("The applicant missed a second audience; the request is closed.")
        ),
        notice=no_show_sms if returned else no_show_closed_sms,
        purpose="no_show",
        status_url=status_url,
    )
    if not moved:
        return ""
    return "returned" if returned else "closed"


async def _not_reached(
    *, session: AsyncSession, clock: Clock, appointment: Appointment, slot: Slot, status_url: str
) -> bool:
    """Releases an appointment whose applicant came but was not called; True when its request waits again."""
    appointment.state = AppointmentState.RELEASED
    appointment.released_at = clock.now()
    appointment.release_reason = "not_reached"
    await notices.withdraw_confirmation(session=session, clock=clock, appointment=appointment, why="not_reached")
    await session.flush()
    return await _request_moves_on(
        session=session,
        clock=clock,
        appointment=appointment,
        slot=slot,
        to_status=CaseStatus.AWAITING_AUDIENCE,
        note_key=N_("The session ended before the applicant's turn; a new date is owed at once."),
        notice=not_reached_sms,
        purpose="not_reached",
        status_url=status_url,
    )


async def end_past_sessions(
    *, session: AsyncSession, clock: Clock, policy: NoShowPolicy, status_url: str
) -> SweepReport:
    """Ends every appointment left open by a session that is over (see the module's docstring).

    An appointment in audience is left for the official to record its outcome; it no longer
    stops its applicant from being placed again, since only appointments still ahead count as live.
    """
    no_shows = returned = closed = 0
    owed: set[int] = set()
    sent_back: list[int] = []
    due = await _due(session=session, now=clock.now())
    if due:
        # Those owed a date and the urgent sent back are placed at the end, appending to the fairness chain:
        # its turn is taken before the first appointment's row is locked (fairness.chain.take_turn).
        await fairness_chain.take_turn(session=session)
    for appointment, slot in due:
        current = await locked(session=session, appointment_id=appointment.id)
        if current.state is AppointmentState.ARRIVED:
            if await _not_reached(session=session, clock=clock, appointment=current, slot=slot, status_url=status_url):
                owed.add(current.case_id)
            continue
        if current.state not in (AppointmentState.SCHEDULED, AppointmentState.CONFIRMED):
            continue
        no_shows += 1
        result = await _no_show(
            session=session, clock=clock, appointment=current, slot=slot, policy=policy, status_url=status_url
        )
        returned += result == "returned"
        closed += result == "closed"
        if result == "returned":
            sent_back.append(current.case_id)
    placed = 0
    if owed:
        report = await scheduling.run_allocation(
            session=session, clock=clock, actor_id=None, status_url=status_url, only=owed, rule="not_reached"
        )
        placed = report.placed
    urgent_placed = await _place_urgent_again(
        session=session, clock=clock, policy=policy, case_ids=sent_back, status_url=status_url
    )
    return SweepReport(
        no_shows=no_shows,
        returned=returned,
        closed=closed,
        not_reached=len(owed),
        placed_again=placed,
        urgent_placed_again=urgent_placed,
    )


async def _place_urgent_again(
    *, session: AsyncSession, clock: Clock, policy: NoShowPolicy, case_ids: list[int], status_url: str
) -> int:
    """Places at once the urgent and critical requests sent back by a no-show, highest priority first."""
    if not policy.urgent_at_once or not case_ids:
        return 0
    rows = await triage.triages(session=session, case_ids=set(case_ids))
    chosen = [c for c in case_ids if rows.get(c) is not None and rows[c].urgency in (Urgency.CRITICAL, Urgency.URGENT)]
    scores = await scheduling.scores_of(session=session, clock=clock, case_ids=set(chosen))
    placed = 0
    for case_id in sorted(chosen, key=lambda c: -scores.get(c, 0.0)):
        placed += await urgent.place_urgent_arrival(
            session=session,
            clock=clock,
            case_id=case_id,
            actor_id=None,
            may_displace=policy.may_displace,
            status_url=status_url,
            horizon=policy.horizon,
            rule="urgent_after_no_show",
        )
    return placed


# The note migration 0007 wrote on the requests whose audience had passed unrecorded; marked here so
# the catalogs carry it.
SETTLED_AT_UPGRADE = N_("The audience date passed before attendance could be recorded; the request waits again.")
