"""Builders for the audience-day tests: a Sunday in-person session in the Riyadh hall, booked in full, and the
day's steps (check-in, Call next, the outcome, the sweep after the session), each in its own transaction.

The fixture's clock is Tuesday 24 November 2026, 09:30 in Riyadh; the hall sits on Sundays 10:00–12:00 in
8-minute slots of one seat, so a session has 15 appointments, the first on Sunday 29 November.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day import arrival, hall
from audience_day.arrival import ArrivalPolicy, ArrivalRefused
from audience_day.models import Arrival, ArrivalVia, HallAudience, Outcome
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from scheduler import confirmations, lifecycle
from scheduler.confirmations import ConfirmationPolicy, Via
from scheduler.lifecycle import NoShowPolicy, SweepReport
from scheduler.models import Answer, Appointment, AppointmentState, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import national_id
from tests.scheduler.test_runs import URL, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]
DIRECTIVE = "يُحال إلى الجهة المختصة مع المتابعة"


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=RIYADH)


def phone(n: int) -> str:
    return f"+9665010001{n:02d}"


@dataclass(frozen=True)
class Booked:
    """One placed request of the booked day."""

    index: int
    tracking_number: str
    case_id: int
    appointment_id: int
    session_id: int
    starts_at: datetime


async def booked_day(sessions: Sessions, clock: FrozenClock, count: int, weeks: int = 2) -> list[Booked]:
    """`count` in-person requests (applicants 0…count-1) placed in Sunday 29 November's hall session, in slot
    order; `weeks` of Sunday sessions exist, so later Sundays have free seats."""
    await sunday_hall(sessions, clock, weeks=weeks)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    numbers = []
    for i in range(count):
        number = await new_case(sessions, clock, applicant_national_id=national_id(i), applicant_phone=phone(i))
        await ready(sessions, clock, actor, number)
        numbers.append(number)
    report = await run(sessions, clock)
    assert (report.placed, report.unplaced) == (count, 0)
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Appointment, Slot).join(Slot, Slot.id == Appointment.slot_id).order_by(Slot.starts_at)
            )
        ).all()
        placed = list(rows)
        found = await cases.cases_by_id(session=session, case_ids={a.case_id for a, _ in placed})
    booked = []
    for appointment, slot in placed:
        assert slot.starts_at.astimezone(RIYADH).date() == at(29, 10).date()
        case = found[appointment.case_id]
        booked.append(
            Booked(
                index=numbers.index(case.tracking_number),
                tracking_number=case.tracking_number,
                case_id=case.id,
                appointment_id=appointment.id,
                session_id=slot.session_id,
                starts_at=slot.starts_at,
            )
        )
    return booked


async def official(sessions: Sessions, clock: FrozenClock) -> int:
    return (await make_staff(sessions, clock, Role.OFFICIAL, "official")).id


async def check_in(
    sessions: Sessions,
    clock: FrozenClock,
    appointment_id: int,
    *,
    via: ArrivalVia = ArrivalVia.KIOSK,
    branch: str | None = "riyadh",
    actor_id: int | None = None,
) -> Arrival:
    async with transaction(sessions) as session:
        return await arrival.check_in(
            session=session,
            clock=clock,
            policy=ArrivalPolicy(),
            appointment_id=appointment_id,
            via=via,
            branch_code=branch,
            actor_id=actor_id,
        )


async def refusal(sessions: Sessions, clock: FrozenClock, appointment_id: int, branch: str | None = "riyadh") -> str:
    """The code of the refusal a check-in meets (the test fails if it is taken)."""
    try:
        await check_in(sessions, clock, appointment_id, branch=branch)
    except ArrivalRefused as refused:
        return refused.code
    raise AssertionError(f"the check-in of appointment {appointment_id} was taken")


async def call(
    sessions: Sessions, clock: FrozenClock, session_id: int, current_id: int | None, actor: int
) -> hall.CallResult:
    async with transaction(sessions) as session:
        return await hall.call_next(
            session=session, clock=clock, session_id=session_id, current_id=current_id, actor_id=actor
        )


async def record(
    sessions: Sessions,
    clock: FrozenClock,
    audience_id: int,
    actor: int,
    outcome: Outcome = Outcome.ANSWERED,
    directive: str = DIRECTIVE,
    referred_to: str = "",
) -> HallAudience:
    async with transaction(sessions) as session:
        return await hall.record_outcome(
            session=session,
            clock=clock,
            audience_id=audience_id,
            outcome=outcome,
            directive=directive,
            referred_to=referred_to,
            actor_id=actor,
            status_url=URL,
        )


async def sweep(sessions: Sessions, clock: FrozenClock, policy: NoShowPolicy | None = None) -> SweepReport:
    async with transaction(sessions) as session:
        return await lifecycle.end_past_sessions(
            session=session, clock=clock, policy=policy or NoShowPolicy(), status_url=URL
        )


async def cancel(sessions: Sessions, clock: FrozenClock, appointment_id: int) -> confirmations.Outcome:
    """The applicant's answer "cancelled" (by WhatsApp): the seat is released, the request followed in writing."""
    async with transaction(sessions) as session:
        return await confirmations.answer(
            session=session,
            clock=clock,
            appointment_id=appointment_id,
            answer=Answer.CANCELLED,
            via=Via.WHATSAPP,
            actor_id=None,
            status_url=URL,
            policy=ConfirmationPolicy(),
        )


async def appointment(sessions: Sessions, appointment_id: int) -> Appointment:
    async with sessions() as session:
        return await session.get_one(Appointment, appointment_id)


async def states(sessions: Sessions, ids: list[int]) -> list[AppointmentState]:
    async with sessions() as session:
        found = {a.id: a.state for a in await session.scalars(select(Appointment).where(Appointment.id.in_(ids)))}
    return [found[i] for i in ids]


async def status(sessions: Sessions, case_id: int) -> CaseStatus:
    async with sessions() as session:
        case = await cases.get_case(session=session, case_id=case_id)
    assert case is not None
    return case.status


async def live_of(sessions: Sessions, case_id: int) -> tuple[Appointment, Slot] | None:
    """The request's scheduled appointment, with its slot, if it has one."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(Appointment, Slot)
                .join(Slot, Slot.id == Appointment.slot_id)
                .where(Appointment.case_id == case_id, Appointment.state == AppointmentState.SCHEDULED)
            )
        ).first()
    return None if row is None else (row[0], row[1])


async def told(sessions: Sessions, like: str) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose.like(like)).order_by(OutboxMessage.id)
            )
        )


async def count(sessions: Sessions, model: type[Arrival] | type[HallAudience]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
