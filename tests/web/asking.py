"""Builders for the confirmation pages' tests: requests placed in the Sunday hall, then asked to confirm."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import Case
from majlis.clock import FrozenClock, riyadh
from majlis.db import transaction
from notify.links import AnswerLink, Links
from scheduler import confirmations
from scheduler.confirmations import ConfirmationPolicy, ask_time
from scheduler.models import Appointment, AppointmentState, Confirmation, Slot
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS, run, sunday_hall

Sessions = async_sessionmaker[AsyncSession]
PHONES = ["+966501234567", "+966501234568", "+966501234569", "+966501234570", "+966501234571"]


@dataclass(frozen=True)
class Asked:
    tracking_number: str
    phone: str
    appointment_id: int
    confirmation_id: int
    starts_at: datetime

    def link(self) -> AnswerLink:
        return AnswerLink(appointment_id=self.appointment_id, expires_at=self.starts_at)


async def placed(sessions: Sessions, clock: FrozenClock, count: int = 1, **overrides: str) -> list[str]:
    """`count` requests from different applicants and phones, verified, routed and placed in the Sunday hall."""
    await sunday_hall(sessions, clock)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    numbers = [
        await new_case(sessions, clock, applicant_national_id=IDS[i], applicant_phone=PHONES[i], **overrides)
        for i in range(count)
    ]
    for number in numbers:
        await ready(sessions, clock, actor, number)
    report = await run(sessions, clock)
    assert report.placed == count
    return numbers


async def ask(sessions: Sessions, clock: FrozenClock) -> dict[str, Asked]:
    """Moves the clock to the asking moment of the first audience day's last appointment, and asks them all."""
    async with sessions() as session:
        starts = list(
            await session.scalars(
                select(Slot.starts_at)
                .join(Appointment, Appointment.slot_id == Slot.id)
                .where(Appointment.state == AppointmentState.SCHEDULED)
                .order_by(Slot.starts_at)
            )
        )
    assert starts
    same_day = [s for s in starts if riyadh(s).date() == riyadh(starts[0]).date()]
    clock.set(ask_time(same_day[-1], days=3, holidays=set()))
    async with transaction(sessions) as session:
        assert await confirmations.ask_due(session=session, clock=clock, policy=ConfirmationPolicy()) == len(same_day)
    return await asked(sessions)


async def asked(sessions: Sessions) -> dict[str, Asked]:
    """Every confirmation asked so far, by tracking number."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Confirmation, Appointment, Slot, Case)
                .join(Appointment, Appointment.id == Confirmation.appointment_id)
                .join(Slot, Slot.id == Appointment.slot_id)
                .join(Case, Case.id == Appointment.case_id)
            )
        ).all()
    return {
        case.tracking_number: Asked(case.tracking_number, case.phone, appointment.id, confirmation.id, slot.starts_at)
        for confirmation, appointment, slot, case in rows
    }


async def appointment_state(sessions: Sessions, appointment_id: int) -> AppointmentState:
    async with sessions() as session:
        return (await session.get_one(Appointment, appointment_id)).state


async def case_of(sessions: Sessions, number: str) -> Case:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    return case


def answer_path(links: Links, item: Asked) -> str:
    return "/a/" + links.token(item.link())
