"""Allocation runs: the waiting requests, in priority order, take their earliest compatible seats.

The rule itself is the pure function in scheduler.allocation; this module
gathers its inputs from the database and writes its placements. Two runs (or a
run and a manual move) racing on PostgreSQL cannot double-book: each
appointment is inserted in a savepoint, and the partial unique indexes on
(slot, seat) and on the case refuse the loser, whose request simply stays
waiting for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from cases.models import CaseStatus
from fairness import placement_record
from fairness import record as fairness_record
from fairness.models import EntryKind
from majlis.clock import Clock
from majlis.dates import dual_datetime
from majlis.errors import N_, FieldError, InvalidInput
from notify import outbox
from notify.texts import scheduled_sms
from priority import queue
from priority import service as triage
from priority.models import Route
from priority.queue import QueuePlace
from priority.score import priority_score
from rooms import service as rooms
from rooms.models import RoomKind
from scheduler import notices
from scheduler.allocation import MIN_NOTICE, Mode, OpenSeat, Placement, SeatRule, Waiting, allocate
from scheduler.allocation import seat_refusal as allocation_rule
from scheduler.models import (
    LIVE_STATES,
    Appointment,
    AppointmentState,
    AudienceMode,
    AudienceSession,
    SessionState,
    Slot,
    UnavailableDay,
)

MODE_OF_ROUTE = {Route.AUDIENCE_IN_PERSON: Mode.IN_PERSON, Route.AUDIENCE_VIDEO: Mode.VIDEO}


@dataclass(frozen=True)
class RunReport:
    placed: int
    unplaced: int
    # Placements another run or a manual move took first; they wait for the next run.
    lost_races: int


async def live_appointments(*, session: AsyncSession) -> list[Appointment]:
    rows = await session.scalars(select(Appointment).where(Appointment.state.in_(LIVE_STATES)))
    return list(rows)


async def seats_of(*, session: AsyncSession, slots: list[Slot]) -> dict[tuple[int, int], OpenSeat]:
    """Every seat of the slots, taken or not, with what its room offers, by (slot id, seat)."""
    dated = (
        {
            d.id: d
            for d in await session.scalars(
                select(AudienceSession).where(AudienceSession.id.in_({s.session_id for s in slots}))
            )
        }
        if slots
        else {}
    )
    room_of = await rooms.rooms_by_id(session=session, ids={slot.room_id for slot in slots})
    seats = {}
    for slot in slots:
        room = room_of[slot.room_id]
        audience = dated[slot.session_id]
        for seat in range(slot.capacity):
            seats[(slot.id, seat)] = OpenSeat(
                slot_id=slot.id,
                seat=seat,
                starts_at=slot.starts_at,
                mode=Mode.VIDEO if audience.mode is AudienceMode.VIDEO else Mode.IN_PERSON,
                branch=room.branch_code,
                women_section=room.kind is RoomKind.WOMEN_VIDEO,
                accessible=room.wheelchair_access,
                locked=audience.locked,
            )
    return seats


async def open_seats(*, session: AsyncSession, clock: Clock, horizon: timedelta | None = None) -> list[OpenSeat]:
    """Every free seat of the future, unblocked slots of planned sessions (starting within the horizon, if given)."""
    query = (
        select(Slot)
        .join(AudienceSession, AudienceSession.id == Slot.session_id)
        .where(Slot.starts_at > clock.now(), Slot.blocked_by.is_(None), AudienceSession.state == SessionState.PLANNED)
        .order_by(Slot.starts_at, Slot.id)
    )
    if horizon is not None:
        query = query.where(Slot.starts_at < clock.now() + horizon)
    slots = list(await session.scalars(query))
    taken = {(a.slot_id, a.seat) for a in await live_appointments(session=session)}
    seats = await seats_of(session=session, slots=slots)
    return [seat for key, seat in seats.items() if key not in taken]


async def scores_of(*, session: AsyncSession, clock: Clock, case_ids: set[int]) -> dict[int, float]:
    """The priority score now of each case that has been classified."""
    if not case_ids:
        return {}
    found = await cases.cases_by_id(session=session, case_ids=case_ids)
    rows = await triage.triages(session=session, case_ids=case_ids)
    weights = await triage.category_weights(session=session)
    scores = {}
    for case_id, row in rows.items():
        if row.urgency is None or case_id not in found:
            continue
        scores[case_id] = (
            priority_score(
                urgency=row.urgency,
                category_weight=weights.get(row.category_code or "", 0),
                waited=clock.now() - found[case_id].submitted_at,
            )
            + row.queue_adjustment
        )
    return scores


async def waiting_requests(*, session: AsyncSession, clock: Clock) -> list[Waiting]:
    """The requests routed to an audience that hold no appointment, with what their seat must offer."""
    return (await waiting_and_places(session=session, clock=clock))[0]


async def waiting_and_places(*, session: AsyncSession, clock: Clock) -> tuple[list[Waiting], dict[int, QueuePlace]]:
    """The waiting requests and, by case, their place in the queue (score and base score, urgency, category)."""
    places = await queue.awaiting_audience(session=session, clock=clock)
    case_ids = {p.case.id for p in places}
    rows = await triage.triages(session=session, case_ids=case_ids)
    # Only an appointment whose session is not over keeps its applicant from another: after it, the
    # applicant has been heard, missed or not reached, whatever the row says until the sweep ends it.
    # (The session, not the slot: an applicant who came and is still waiting past the slot's time is live.)
    ahead = await session.scalars(
        select(Appointment.case_id)
        .join(Slot, Slot.id == Appointment.slot_id)
        .join(AudienceSession, AudienceSession.id == Slot.session_id)
        .where(Appointment.state.in_(LIVE_STATES), AudienceSession.ends_at > clock.now())
    )
    holders = await cases.cases_by_id(session=session, case_ids=set(ahead))
    busy_applicants = {c.applicant_id for c in holders.values()}
    unavailable: dict[int, set[date]] = {}
    if case_ids:
        for day in await session.scalars(select(UnavailableDay).where(UnavailableDay.case_id.in_(case_ids))):
            unavailable.setdefault(day.case_id, set()).add(day.day)
    waiting = []
    for place in places:
        row = rows.get(place.case.id)
        if row is None or row.route not in MODE_OF_ROUTE:
            continue
        case = place.case
        waiting.append(
            Waiting(
                case_id=case.id,
                tracking_number=case.tracking_number,
                applicant_id=case.applicant_id,
                score=place.score,
                submitted_at=case.submitted_at,
                mode=MODE_OF_ROUTE[row.route],
                branch=case.branch,
                women_section=row.women_section,
                wheelchair=case.care_wheelchair,
                unavailable=frozenset(unavailable.get(case.id, ())),
                has_live_appointment=case.applicant_id in busy_applicants,
            )
        )
    return waiting, {p.case.id: p for p in places}


async def seat_refusal(
    *, session: AsyncSession, clock: Clock, case_id: int, seat: OpenSeat, notice: timedelta = MIN_NOTICE
) -> SeatRule | None:
    """The allocator's rule by which the case may not sit in the seat (mode, women's section, branch,
    wheelchair, unavailable days, notice, locked session), judged as if it held no appointment: for moves
    by hand. None when the seat suits it."""
    request = await as_waiting(session=session, case_id=case_id)
    if request is None:
        return SeatRule.NOT_AN_AUDIENCE
    return allocation_rule(seat, request, clock.now(), notice=notice)


async def as_waiting(*, session: AsyncSession, case_id: int, score: float = 0.0) -> Waiting | None:
    """The case as the allocator would see it if it held no appointment; None when not routed to an audience."""
    case = await cases.get_case(session=session, case_id=case_id)
    row = (await triage.triages(session=session, case_ids={case_id})).get(case_id)
    if case is None or row is None or row.route not in MODE_OF_ROUTE:
        return None
    days = frozenset(await session.scalars(select(UnavailableDay.day).where(UnavailableDay.case_id == case_id)))
    return Waiting(
        case_id=case.id,
        tracking_number=case.tracking_number,
        applicant_id=case.applicant_id,
        score=score,
        submitted_at=case.submitted_at,
        mode=MODE_OF_ROUTE[row.route],
        branch=case.branch,
        women_section=row.women_section,
        wheelchair=case.care_wheelchair,
        unavailable=days,
        has_live_appointment=False,
    )


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
    (`fairness.placement_record`).
    """
    await fairness_record.take_turn(session=session)
    everyone, places = await waiting_and_places(session=session, clock=clock)
    waiting = everyone if only is None else [w for w in everyone if w.case_id in only]
    if ahead_of is not None:
        own = next((w for w in waiting if w.case_id == ahead_of), None)
        waiting = [] if own is None else [w for w in waiting if w.score >= own.score]
    seats = await open_seats(session=session, clock=clock, horizon=horizon)
    result = allocate(seats, waiting, clock.now())
    # Everyone waiting, not only those owed a seat: a pass of someone left out is a pass all the same.
    context = await placement_record.context(
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
    context: placement_record.PlacementContext | None = None,
    rule: str = "allocation_run",
    by_hand: dict[str, Any] | None = None,
    notice: timedelta = MIN_NOTICE,
    justification: str = "",
) -> Appointment | None:
    """Writes one placement if its seat is still free and its slot still open, tells the applicant, and
    appends it to the fairness chain, explained (`fairness.placement_record`).

    None when another run or a move took the seat first, or the slot closed: the request stays waiting.
    `context` is the run's; without one (a single placement) it is read now, under `rule`. `by_hand` is
    the justification of a placement chosen by hand, which allows any pass it makes.
    """
    appointment = Appointment(
        case_id=placement.case_id,
        slot_id=placement.slot_id,
        seat=placement.seat,
        state=AppointmentState.SCHEDULED,
        placed_at=clock.now(),
        placed_by_id=actor_id,
        explanation=explanation or placement.explanation,
        sequence=0,
        release_reason="",
    )
    await fairness_record.take_turn(session=session)
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
    await _tell_scheduled(
        session=session, clock=clock, appointment=appointment, actor_id=actor_id, status_url=status_url
    )
    return appointment


async def record_placement(
    *,
    session: AsyncSession,
    clock: Clock,
    appointment: Appointment,
    actor_id: int | None,
    context: placement_record.PlacementContext | None = None,
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
        context = await placement_record.context(
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
        subject = await placement_record.place_of(session=session, clock=clock, case=case)
    slot = await session.get_one(Slot, appointment.slot_id)
    room = await rooms.get_room(session=session, room_id=slot.room_id)
    seat = context.seats.get((slot.id, appointment.seat))
    if seat is None:
        seat = (await seats_of(session=session, slots=[slot]))[(slot.id, appointment.seat)]
    await placement_record.placement(
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
    *, session: AsyncSession, clock: Clock, appointment: Appointment, actor_id: int | None, status_url: str
) -> None:
    """Moves the case to scheduled and tells the applicant the date, in both calendars, and the place."""
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
    )
    await outbox.sms_to_applicant(
        session=session,
        clock=clock,
        case=case,
        purpose=f"scheduled:{appointment.id}",
        compose=lambda language: scheduled_sms(
            language=language,
            tracking_number=case.tracking_number,
            when=dual_datetime(slot.starts_at, language),
            place=room.name,
            status_url=status_url,
        ),
    )
    await notices.email_invitation(session=session, clock=clock, case=case, appointment=appointment)


async def set_unavailable_days(
    *, session: AsyncSession, clock: Clock, case_id: int, actor_id: int | None, days: str
) -> list[date]:
    """Replaces the dates the applicant of a case cannot come (ISO dates, separated by commas or spaces)."""
    chosen: set[date] = set()
    for part in days.replace(",", " ").split():
        try:
            chosen.add(date.fromisoformat(part))
        except ValueError:
            raise InvalidInput(
                [FieldError("days", "invalid_date", N_("{field} must be dates such as 2026-12-06."))]
            ) from None
    if len(chosen) > 60:
        raise InvalidInput([FieldError("days", "too_many", N_("{field} may hold at most {max} dates."), {"max": "60"})])
    await session.execute(delete(UnavailableDay).where(UnavailableDay.case_id == case_id))
    for day in sorted(chosen):
        session.add(UnavailableDay(case_id=case_id, day=day))
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="calendar.unavailable_days",
        target_type="case",
        target_id=case_id,
        details={"days": [d.isoformat() for d in sorted(chosen)]},
    )
    await session.flush()
    return sorted(chosen)


async def unavailable_days(*, session: AsyncSession, case_id: int) -> list[date]:
    rows = await session.scalars(
        select(UnavailableDay.day).where(UnavailableDay.case_id == case_id).order_by(UnavailableDay.day)
    )
    return list(rows)
