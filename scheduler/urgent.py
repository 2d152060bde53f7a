"""Urgent arrivals: a critical or urgent request routed to an audience is placed at once.

Split from `scheduler.changes`. The rules (settings `place_urgent_on_route`,
`critical_may_displace`), as proven first in the year simulation
(`scheduler.simulation_urgent`, docs/benchmarks.md):

- the run at routing places the request and only those ahead of it in
  priority order (score at least its own): nobody it would pass is left out,
  and the normal requests are left to the weekly run, so that the seats of the
  next days stay free for the urgent requests that come after it, and weeks
  are not booked before their cancellations are known;
- a critical request whose earliest seat is more than `CRITICAL_TARGET` (7
  days) away — or that found none — takes the seat of the lowest-priority
  appointment not yet confirmed (scheduled, at least three days away, so its
  applicant has not been asked to confirm) within the 7 days, of a request
  that is not critical and scores lower, whose seat it can use. With no seat
  at all it may look beyond the 7 days too, as before. The displaced
  applicant is released, told, and placed again at once with those ahead of
  them; the critical request's later appointment, if it had one, is released
  for the earlier seat, and its applicant hears once that the audience moved
  (the new date), as from a move by hand, not a cancellation and a new date;
- the same happens to an urgent or critical request sent back to wait by its
  first no-show (`scheduler.lifecycle`, rule `urgent_after_no_show`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from majlis.clock import Clock
from majlis.errors import N_
from priority import service as triage
from priority.score import Urgency
from scheduler import changes, placement_chain
from scheduler import service as scheduling
from scheduler.allocation import MIN_NOTICE, OpenSeat, Waiting, seat_refusal
from scheduler.models import LIVE_STATES, Appointment, AppointmentState, Slot

# Issue 18's aim: a critical request is seen within 7 days.
CRITICAL_TARGET: Final = timedelta(days=7)


async def place_urgent_arrival(
    *,
    session: AsyncSession,
    clock: Clock,
    case_id: int,
    actor_id: int | None,
    may_displace: bool,
    status_url: str,
    horizon: timedelta | None = None,
    rule: str = "urgent_on_routing",
) -> bool:
    """Places a critical or urgent request just routed to an audience (or sent back by a no-show, `rule`
    urgent_after_no_show); gives back whether it holds a seat. See the module's docstring for the rules."""
    await scheduling.run_allocation(
        session=session,
        clock=clock,
        actor_id=actor_id,
        status_url=status_url,
        horizon=horizon,
        rule=rule,
        ahead_of=case_id,
    )
    rows = await triage.triages(session=session, case_ids={case_id})
    row = rows.get(case_id)
    if not may_displace or row is None or row.urgency is not Urgency.CRITICAL:
        return await _live(session=session, case_id=case_id) is not None
    return await _displace_for(
        session=session, clock=clock, case_id=case_id, actor_id=actor_id, status_url=status_url, horizon=horizon
    )


async def _displace_for(
    *,
    session: AsyncSession,
    clock: Clock,
    case_id: int,
    actor_id: int | None,
    status_url: str,
    horizon: timedelta | None,
) -> bool:
    """The critical rule: a seat within the target taken from the lowest priority, if the request has none."""
    held = await _live(session=session, case_id=case_id)
    target = clock.now() + CRITICAL_TARGET
    if held is not None and held[1].starts_at <= target:
        return True
    if held is None:
        waiting = {w.case_id: w for w in await scheduling.waiting_requests(session=session, clock=clock)}
        arrival = waiting.get(case_id)
    else:
        score = (await scheduling.scores_of(session=session, clock=clock, case_ids={case_id})).get(case_id, 0.0)
        arrival = await scheduling.as_waiting(session=session, case_id=case_id, score=score)
    if arrival is None:
        return held is not None
    # Within the target first; a request with no seat at all may also look beyond it, as before issue 18.
    for until in (target, None) if held is None else (target,):
        for appointment, seat in await _displaceable(session=session, clock=clock, arrival=arrival, until=until):
            # The allocator's own rule decides whether the arrival could sit there.
            if seat_refusal(seat, arrival, clock.now()) is not None:
                continue
            if held is not None:
                # Quiet: the new placement tells the applicant once that the audience moved (as a move by hand).
                await changes.release_and_tell(
                    session=session,
                    clock=clock,
                    appointment=held[0],
                    reason="moved_earlier",
                    actor_id=actor_id,
                    note_key=N_("An earlier audience is being given to this critical request; the new date follows."),
                    status_url=status_url,
                    tell=False,
                )
            # Quiet too: placed again by the run below, the displaced applicant hears once that the audience moved.
            await changes.release_and_tell(
                session=session,
                clock=clock,
                appointment=appointment,
                reason="displaced",
                actor_id=actor_id,
                note_key=N_("Its audience was given to a critical request; a new date follows."),
                status_url=status_url,
                tell=False,
            )
            await _displace(
                session=session, clock=clock, appointment=appointment, seat=seat, arrival=arrival, actor_id=actor_id
            )
            # The displaced request is the lowest in priority: a run ahead of it places the critical request
            # first (in the seat just freed, its earliest), then it, and nobody behind it.
            await scheduling.run_allocation(
                session=session,
                clock=clock,
                actor_id=actor_id,
                status_url=status_url,
                horizon=horizon,
                rule="displacement_refill",
                ahead_of=appointment.case_id,
                moved={appointment.case_id: appointment, **({} if held is None else {case_id: held[0]})},
            )
            placed = await _live(session=session, case_id=case_id) is not None
            if held is not None and not placed:
                # The freed seat was lost to a race: the move did not happen, so the release is told after all.
                await changes.tell_released(session=session, clock=clock, appointment=held[0], status_url=status_url)
            if await _live(session=session, case_id=appointment.case_id) is None:
                # No seat left for the displaced request now: it hears its audience is cancelled, a new date to follow.
                await changes.tell_released(
                    session=session, clock=clock, appointment=appointment, status_url=status_url
                )
            return placed
    return held is not None


async def _displace(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    seat: OpenSeat,
    arrival: Waiting,
    actor_id: int | None,
) -> None:
    """The displacement's audit line and its fairness-chain entry, naming the request it made room for."""
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.displace",
        target_type="appointment",
        target_id=appointment.id,
        details={"for_case": arrival.case_id},
    )
    await placement_chain.displaced(
        session=session,
        clock=clock,
        actor_id=actor_id,
        appointment=appointment,
        starts_at=seat.starts_at,
        by=arrival,
    )


async def _live(*, session: AsyncSession, case_id: int) -> tuple[Appointment, Slot] | None:
    """The request's live appointment and its slot, if it holds one."""
    found = (
        await session.execute(
            select(Appointment, Slot)
            .join(Slot, Slot.id == Appointment.slot_id)
            .where(Appointment.case_id == case_id, Appointment.state.in_(LIVE_STATES))
        )
    ).first()
    return None if found is None else (found[0], found[1])


async def _displaceable(
    *, session: AsyncSession, clock: Clock, arrival: Waiting, until: datetime | None
) -> list[tuple[Appointment, OpenSeat]]:
    """Scheduled (not confirmed) appointments from three days away to `until`, of requests not critical that
    score lower than the arrival, the lowest priority first (of equal ones the latest seat), with their seats.

    Never another critical request's: that would only move the miss to it.
    """
    query = (
        select(Appointment, Slot)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(
            Appointment.state == AppointmentState.SCHEDULED,
            Appointment.case_id != arrival.case_id,
            Slot.starts_at >= clock.now() + MIN_NOTICE,
        )
    )
    if until is not None:
        query = query.where(Slot.starts_at <= until)
    rows = (await session.execute(query)).all()
    case_ids = {a.case_id for a, _ in rows}
    scores = await scheduling.scores_of(session=session, clock=clock, case_ids=case_ids)
    urgencies = {
        case_id: row.urgency for case_id, row in (await triage.triages(session=session, case_ids=case_ids)).items()
    }
    kept = [
        (a, s)
        for a, s in rows
        if urgencies.get(a.case_id) is not Urgency.CRITICAL and scores.get(a.case_id, 0.0) < arrival.score
    ]
    seats = await scheduling.seats_of(session=session, slots=[slot for _, slot in kept])
    pairs = [(appointment, seats[(slot.id, appointment.seat)]) for appointment, slot in kept]
    return sorted(pairs, key=lambda pair: (scores.get(pair[0].case_id, 0.0), -pair[1].starts_at.timestamp()))
