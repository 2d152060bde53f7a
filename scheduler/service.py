"""Allocation runs: the waiting requests, in priority order, take their earliest compatible seats.

The rule itself is the pure function in scheduler.allocation; its inputs (the
waiting list, the scores, the open seats) are read by scheduler.waiting, whose
names this module re-exports so callers keep one import; this module runs the
allocation, writes each placement, tells the applicant and records it in the
fairness chain. Two runs (or a run and a manual move) racing on PostgreSQL
cannot double-book: each appointment is inserted in a savepoint, and the
partial unique indexes on (slot, seat) and on the case refuse the loser, whose
request simply stays waiting for the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.models import Case, CaseStatus
from fairness import chain as fairness_chain
from fairness.models import EntryKind
from majlis.clock import Clock
from majlis.dates import dual_datetime, short_dual_datetime
from majlis.errors import N_
from notify import outbox
from notify.texts import audience_moved_sms, scheduled_sms
from rooms import service as rooms
from rooms.models import Room
from scheduler import notices, placement_chain
from scheduler.allocation import MIN_NOTICE, Placement, allocate
from scheduler.models import Appointment, AppointmentState, AudienceSession, SessionState, Slot
from scheduler.waiting import (
    MODE_OF_ROUTE,
    as_waiting,
    live_appointments,
    open_seats,
    scores_of,
    seat_refusal,
    seats_of,
    set_unavailable_days,
    unavailable_days,
    waiting_and_places,
    waiting_requests,
)

__all__ = [
    "MODE_OF_ROUTE",
    "RunReport",
    "as_waiting",
    "live_appointments",
    "open_seats",
    "place",
    "record_placement",
    "run_allocation",
    "scores_of",
    "seat_refusal",
    "seats_of",
    "set_unavailable_days",
    "unavailable_days",
    "waiting_and_places",
    "waiting_requests",
]

# The scheduled step's note in the request's history, read by staff and the official in their language. The
# English explanation (score, rank, seat, who went before) stays on the appointment and in the fairness chain.
PLACED_IN_ORDER = N_("Given the earliest suitable seat in priority order: score {score}, number {rank} in the order.")
PLACED_AS_SEATS_FREED = N_("Given a seat that became free, in priority order.")
PLACED_BY_HAND = N_("Placed by hand by protocol, with the reason recorded.")
PLACED_ON_DIRECTIVE = N_("Placed on the official's directive.")


@dataclass(frozen=True)
class RunReport:
    placed: int
    unplaced: int
    # Placements another run or a manual move took first; they wait for the next run.
    lost_races: int


class _SlotClosed(Exception):
    """The slot's session was cancelled, or the slot blocked, since the run read it."""


async def _still_open(*, session: AsyncSession, slot_id: int) -> bool:
    """Whether the slot can still take an appointment, read again and held until commit.

    On PostgreSQL the slot and session rows are locked for share: a
    cancellation or a busy import waiting to change them goes after this run,
    and one that already changed them is seen here.
    """
    query = (
        select(Slot.id)
        .join(AudienceSession, AudienceSession.id == Slot.session_id)
        .where(Slot.id == slot_id, Slot.blocked_by.is_(None), AudienceSession.state == SessionState.PLANNED)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(read=True)
    return await session.scalar(query) is not None


async def run_allocation(
    *,
    session: AsyncSession,
    clock: Clock,
    actor_id: int | None,
    status_url: str,
    horizon: timedelta | None = None,
    only: set[int] | None = None,
    rule: str = "allocation_run",
    ahead_of: int | None = None,
    moved: Mapping[int, Appointment] | None = None,
) -> RunReport:
    """Places every waiting request it can, tells each applicant, and records the run.

    With a horizon, only seats starting within it are filled. A run that fills
    every future seat at once leaves nothing near for the urgent requests that
    arrive next week; filling the coming week's sessions each week lets the
    priority order act (see docs/benchmarks.md, the year's simulation).
    With `only`, just those cases are placed (the applicants of a cancelled
    session, who are owed a new date now), still in priority order. With `ahead_of`, just that case and
    those ahead of it in priority order (score at least its own): nobody it would pass is left out, and
    nobody behind it is placed, so the runs for one urgent request (scheduler.urgent) leave the rest to
    the weekly run. `rule` names the run in the fairness chain; one context serves all its placements
    (`scheduler.placement_chain`). `moved` holds, by case, the appointment a request gave up just before
    this run to be moved earlier (`scheduler.urgent`): its new placement is told as a move (`place`).
    """
    await fairness_chain.take_turn(session=session)
    everyone, places = await waiting_and_places(session=session, clock=clock)
    waiting = everyone if only is None else [w for w in everyone if w.case_id in only]
    if ahead_of is not None:
        own = next((w for w in waiting if w.case_id == ahead_of), None)
        waiting = [] if own is None else [w for w in waiting if w.score >= own.score]
    seats = await open_seats(session=session, clock=clock, horizon=horizon)
    result = allocate(seats, waiting, clock.now())
    # Everyone waiting, not only those owed a seat: a pass of someone left out is a pass all the same.
    context = await placement_chain.context(
        session=session, rule=rule, now=clock.now(), waiting=everyone, places=places, total=len(waiting)
    )
    context.seats = {(seat.slot_id, seat.seat): seat for seat in seats}
    lost = 0
    placed = 0
    for placement in result.placements:
        if await place(
            session=session,
            clock=clock,
            placement=placement,
            actor_id=actor_id,
            status_url=status_url,
            context=context,
            moved_from=(moved or {}).get(placement.case_id),
        ):
            placed += 1
        else:
            lost += 1
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.allocate",
        target_type="allocation",
        target_id=clock.now().isoformat(),
        details={"placed": placed, "unplaced": len(result.unplaced), "lost_races": lost},
    )
    return RunReport(placed=placed, unplaced=len(result.unplaced), lost_races=lost)


async def place(
    *,
    session: AsyncSession,
    clock: Clock,
    placement: Placement,
    actor_id: int | None,
    status_url: str,
    explanation: str | None = None,
    context: placement_chain.PlacementContext | None = None,
    rule: str = "allocation_run",
    by_hand: dict[str, Any] | None = None,
    notice: timedelta = MIN_NOTICE,
    justification: str = "",
    moved_from: Appointment | None = None,
) -> Appointment | None:
    """Writes one placement if its seat is still free and its slot still open, tells the applicant, and
    appends it to the fairness chain, explained (`scheduler.placement_chain`).

    None when another run or a move took the seat first, or the slot closed: the request stays waiting.
    `context` is the run's; without one (a single placement) it is read now, under `rule`. `by_hand` is
    the justification of a placement chosen by hand, which allows any pass it makes. `moved_from` is the
    appointment the request gave up for this one (released quietly just before): the applicant is told
    once, that the audience moved, as a move by hand tells it, and the new row's `sequence` rises from it.
    """
    appointment = Appointment(
        case_id=placement.case_id,
        slot_id=placement.slot_id,
        seat=placement.seat,
        state=AppointmentState.SCHEDULED,
        placed_at=clock.now(),
        placed_by_id=actor_id,
        explanation=explanation or placement.explanation,
        sequence=0 if moved_from is None else moved_from.sequence + 1,
        release_reason="",
    )
    await fairness_chain.take_turn(session=session)
    try:
        async with session.begin_nested():
            if not await _still_open(session=session, slot_id=placement.slot_id):
                raise _SlotClosed
            session.add(appointment)
            await session.flush()
    except (IntegrityError, _SlotClosed):
        return None
    await record_placement(
        session=session,
        clock=clock,
        appointment=appointment,
        actor_id=actor_id,
        context=context,
        rule=rule,
        rank=placement.rank or None,
        by_hand=by_hand,
        notice=notice,
        justification=justification,
    )
    if by_hand is not None:
        how: tuple[str, dict[str, str]] = (
            (PLACED_ON_DIRECTIVE if by_hand.get("directive") else PLACED_BY_HAND),
            {},
        )
    elif placement.rank:
        how = (PLACED_IN_ORDER, {"score": f"{placement.score:.1f}", "rank": str(placement.rank)})
    else:
        how = (PLACED_AS_SEATS_FREED, {})
    await _tell_scheduled(
        session=session,
        clock=clock,
        appointment=appointment,
        actor_id=actor_id,
        status_url=status_url,
        moved=moved_from is not None,
        how=how,
    )
    return appointment


async def record_placement(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    actor_id: int | None,
    context: placement_chain.PlacementContext | None = None,
    rule: str = "allocation_run",
    rank: int | None = None,
    by_hand: dict[str, Any] | None = None,
    kind: EntryKind = EntryKind.PLACEMENT,
    justification: str = "",
    notice: timedelta = MIN_NOTICE,
) -> None:
    """The appointment's entry in the fairness chain: score, rule, seat, who went before and whom it passed.

    In a run the case and the seat come from the run's context, read once, not once a placement.
    """
    if context is None:
        waiting, places = await waiting_and_places(session=session, clock=clock)
        context = await placement_chain.context(
            session=session,
            rule=rule,
            now=clock.now(),
            waiting=waiting,
            places=places,
            notice=notice,
            also={appointment.case_id},
        )
    subject = context.places.get(appointment.case_id)
    case = subject.case if subject else await cases.get_case(session=session, case_id=appointment.case_id)
    assert case is not None
    if subject is None:
        subject = await placement_chain.place_of(session=session, clock=clock, case=case)
    slot = await session.get_one(Slot, appointment.slot_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    seat = context.seats.get((slot.id, appointment.seat))
    if seat is None:
        seat = (await seats_of(session=session, slots=[slot]))[(slot.id, appointment.seat)]
    await placement_chain.placement(
        session=session,
        clock=clock,
        ctx=context,
        kind=kind,
        case_id=case.id,
        applicant_id=case.applicant_id,
        tracking_number=case.tracking_number,
        submitted_at=case.submitted_at,
        subject=subject,
        appointment_id=appointment.id,
        seat=seat,
        room_id=slot.room_id,
        room=room.name if room else "",
        actor_id=actor_id,
        rank=rank,
        explanation=appointment.explanation,
        by_hand=by_hand,
        justification=justification,
    )


async def _tell_scheduled(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    actor_id: int | None,
    status_url: str,
    moved: bool = False,
    how: tuple[str, dict[str, str]] = ("", {}),
) -> None:
    """Moves the case to scheduled and tells the applicant the date, in both calendars, and the place: as a
    new audience, or (`moved`) as their audience moved. The e-mail invitation is the request's one calendar
    entry either way, its SEQUENCE raised (`scheduler.revisions`). `how` is the step's note for the request's
    history (a catalog message and its values): how the seat was given, in each reader's language."""
    case = await cases.get_case(session=session, case_id=appointment.case_id)
    slot = await session.get_one(Slot, appointment.slot_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    assert case is not None and room is not None
    await cases.change_status(
        session=session,
        clock=clock,
        case=case,
        to_status=CaseStatus.SCHEDULED,
        actor_id=actor_id,
        note=appointment.explanation[:500],
        note_key=how[0],
        note_params=how[1],
    )
    await tell_date_and_place(
        session=session,
        clock=clock,
        case=case,
        appointment=appointment,
        starts_at=slot.starts_at,
        room=room,
        status_url=status_url,
        moved=moved,
    )


async def tell_date_and_place(
    *,
    session: AsyncSession,
    clock: Clock,
    case: Case,
    appointment: Appointment,
    starts_at: datetime,
    room: Room,
    status_url: str,
    moved: bool,
) -> None:
    """The applicant's SMS with the audience's date, in both calendars, and place — "scheduled", or "moved" for an
    appointment that replaces one they held — and the calendar invitation (an update, by its SEQUENCE, after a move)."""
    text = audience_moved_sms if moved else scheduled_sms
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"{'moved' if moved else 'scheduled'}:{appointment.id}",
        compose=lambda language: text(
            language=language,
            tracking_number=case.tracking_number,
            # A move is said in the short date, so its SMS stays within two Arabic segments.
            when=(short_dual_datetime if moved else dual_datetime)(starts_at, language),
            place=room.name_in(language),
            status_url=status_url,
        ),
    )
    await notices.email_invitation(session=session, clock=clock, case=case, appointment=appointment)
