"""The waiting list as the allocator sees it, and the seats open to it.

Split from `scheduler.service` (which re-exports these names, so its callers
keep one import): the reading side of an allocation run — the requests routed
to an audience and what their seat must offer, their scores, the open seats,
the unavailable days an applicant gives — while `scheduler.service` writes the
placements, tells the applicants and records the run.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from cases import service as cases
from majlis.clock import Clock
from majlis.errors import N_, FieldError, InvalidInput
from priority import queue
from priority import service as triage
from priority.models import Route
from priority.queue import QueuePlace
from priority.score import priority_score
from rooms import service as rooms
from rooms.models import RoomKind
from scheduler.allocation import MIN_NOTICE, Mode, OpenSeat, SeatRule, Waiting
from scheduler.allocation import seat_refusal as allocation_rule
from scheduler.models import (
    LIVE_STATES,
    Appointment,
    AudienceMode,
    AudienceSession,
    SessionState,
    Slot,
    UnavailableDay,
)

MODE_OF_ROUTE = {Route.AUDIENCE_IN_PERSON: Mode.IN_PERSON, Route.AUDIENCE_VIDEO: Mode.VIDEO}


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
