"""Urgent arrivals: a critical or urgent request routed to an audience is placed at once.

Split from `scheduler.changes`: the run at routing, and the critical rule that
displaces the lowest-priority appointment not yet confirmed when a critical
request has no seat (settings `place_urgent_on_route`, `critical_may_displace`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from fairness import record as fairness_record
from majlis.clock import Clock
from majlis.errors import N_
from priority import service as triage
from priority.score import Urgency
from scheduler import changes
from scheduler import service as scheduling
from scheduler.allocation import MIN_NOTICE, OpenSeat, allocate
from scheduler.models import LIVE_STATES, Appointment, AppointmentState, Slot


async def place_urgent_arrival(
    *,
    session: AsyncSession,
    clock: Clock,
    case_id: int,
    actor_id: int | None,
    may_displace: bool,
    status_url: str,
    horizon: timedelta | None = None,
) -> bool:
    """Places a critical or urgent request just routed to an audience; gives back whether it got a seat.

    It takes the earliest compatible seat at least three days away. If there is
    none and the request is critical (and the policy allows), it displaces the
    latest-priority appointment not yet confirmed whose seat it can use; that
    applicant is released, told, and placed again by the same run.
    """
    await scheduling.run_allocation(
        session=session,
        clock=clock,
        actor_id=actor_id,
        status_url=status_url,
        horizon=horizon,
        rule="urgent_on_routing",
    )
    if await _has_live(session=session, case_id=case_id):
        return True
    waiting = {w.case_id: w for w in await scheduling.waiting_requests(session=session, clock=clock)}
    arrival = waiting.get(case_id)
    rows = await triage.triages(session=session, case_ids={case_id})
    if arrival is None or not may_displace or rows[case_id].urgency is not Urgency.CRITICAL:
        return False
    for appointment, seat in await _displaceable(session=session, clock=clock):
        # The allocator's own rule decides whether the arrival could sit there.
        if not allocate([seat], [arrival], clock.now()).placements:
            continue
        await changes.release_and_tell(
            session=session,
            clock=clock,
            appointment=appointment,
            reason="displaced",
            actor_id=actor_id,
            note_key=N_("Its audience was given to a critical request; a new date follows."),
            status_url=status_url,
        )
        await audit.record(
            session=session,
            clock=clock,
            actor_id=actor_id,
            action="calendar.displace",
            target_type="appointment",
            target_id=appointment.id,
            details={"for_case": case_id},
        )
        await fairness_record.displaced(
            session=session,
            clock=clock,
            actor_id=actor_id,
            appointment=appointment,
            starts_at=seat.starts_at,
            by=arrival,
        )
        await scheduling.run_allocation(
            session=session,
            clock=clock,
            actor_id=actor_id,
            status_url=status_url,
            horizon=horizon,
            rule="displacement_refill",
        )
        return await _has_live(session=session, case_id=case_id)
    return False


async def _has_live(*, session: AsyncSession, case_id: int) -> bool:
    found = await session.scalar(
        select(Appointment.id).where(Appointment.case_id == case_id, Appointment.state.in_(LIVE_STATES))
    )
    return found is not None


async def _displaceable(*, session: AsyncSession, clock: Clock) -> list[tuple[Appointment, OpenSeat]]:
    """Scheduled (not confirmed) appointments at least three days away, latest priority first, with their seats."""
    rows = (
        await session.execute(
            select(Appointment, Slot)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.state == AppointmentState.SCHEDULED, Slot.starts_at >= clock.now() + MIN_NOTICE)
        )
    ).all()
    seats = await scheduling.seats_of(session=session, slots=[slot for _, slot in rows])
    scores = await scheduling.scores_of(session=session, clock=clock, case_ids={a.case_id for a, _ in rows})
    pairs = [(appointment, seats[(slot.id, appointment.seat)]) for appointment, slot in rows]
    return sorted(pairs, key=lambda pair: (scores.get(pair[0].case_id, 0.0), -pair[1].starts_at.timestamp()))
