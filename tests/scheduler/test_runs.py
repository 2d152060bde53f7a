"""Allocation runs on both databases: urgent first into the earliest compatible seat, never double-booked."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock, riyadh
from majlis.db import transaction
from notify.models import OutboxMessage
from scheduler import calendar
from scheduler import service as scheduling
from scheduler.models import Appointment, AppointmentState, Slot, UnavailableDay
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
IDS = ["1000000008", "1000000016", "1000000024", "1000000032", "1000000040"]


async def sunday_hall(sessions: Sessions, clock: FrozenClock, weeks: int = 2) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall", capacity="40")
    await add(sessions, clock, template((hall.id,)))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=weeks)


async def run(sessions: Sessions, clock: FrozenClock) -> scheduling.RunReport:
    async with transaction(sessions) as session:
        return await scheduling.run_allocation(session=session, clock=clock, actor_id=None, status_url=URL)


async def appointments(sessions: Sessions) -> dict[str, Appointment]:
    async with sessions() as session:
        rows = list(await session.scalars(select(Appointment).where(Appointment.state == AppointmentState.SCHEDULED)))
        found = await cases.cases_by_id(session=session, case_ids={a.case_id for a in rows})
    return {found[a.case_id].tracking_number: a for a in rows}


async def test_urgent_first_into_the_earliest_compatible_seat(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    normal = await new_case(sessions, clock, applicant_national_id=IDS[0])
    clock.advance(timedelta(hours=1))
    critical = await new_case(sessions, clock, applicant_national_id=IDS[1])
    await ready(sessions, clock, actor, normal)
    await ready(sessions, clock, actor, critical, category="qisas", urgency="critical")
    report = await run(sessions, clock)
    assert (report.placed, report.unplaced, report.lost_races) == (2, 0, 0)
    placed = await appointments(sessions)
    async with sessions() as session:
        first_slot = await session.get_one(Slot, placed[critical].slot_id)
        second_slot = await session.get_one(Slot, placed[normal].slot_id)
        case = await cases.find_by_tracking_number(session=session, tracking_number=critical)
        told = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose.like("scheduled:%")))
    # Tuesday 24 November: Sunday the 29th is five days away, past the three days' notice.
    assert riyadh(first_slot.starts_at).date() == date(2026, 11, 29) and first_slot.starts_at < second_slot.starts_at
    assert "rank 1" in placed[critical].explanation
    assert case is not None and case.status is CaseStatus.SCHEDULED
    assert told is not None and "هـ" in told.body  # the date in both calendars
    assert (await run(sessions, clock)).placed == 0  # nobody placed twice


async def test_unavailable_days_are_honoured(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        session.add(UnavailableDay(case_id=case.id, day=date(2026, 11, 29)))
    await run(sessions, clock)
    async with sessions() as session:
        slot = await session.get_one(Slot, (await appointments(sessions))[number].slot_id)
    assert riyadh(slot.starts_at).date() == date(2026, 12, 6)


async def test_three_days_notice(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    clock.advance(timedelta(days=2, hours=3))  # Thursday 12:30: all of Sunday 10:00–12:00 is under three days away
    await run(sessions, clock)
    async with sessions() as session:
        slot = await session.get_one(Slot, (await appointments(sessions))[number].slot_id)
    assert riyadh(slot.starts_at).date() == date(2026, 12, 6)


async def test_the_database_refuses_a_double_booking(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock)
    a = await new_case(sessions, clock, applicant_national_id=IDS[0])
    b = await new_case(sessions, clock, applicant_national_id=IDS[1])
    async with sessions() as session:
        slot = await session.scalar(select(Slot).order_by(Slot.starts_at))
        first = await cases.find_by_tracking_number(session=session, tracking_number=a)
        second = await cases.find_by_tracking_number(session=session, tracking_number=b)
    assert slot is not None and first is not None and second is not None

    def booking(case_id: int, slot_id: int) -> Appointment:
        return Appointment(
            case_id=case_id,
            slot_id=slot_id,
            seat=0,
            state=AppointmentState.SCHEDULED,
            placed_at=clock.now(),
            placed_by_id=None,
            explanation="",
            sequence=0,
            release_reason="",
        )

    async with transaction(sessions) as session:
        session.add(booking(first.id, slot.id))
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(booking(second.id, slot.id))  # the same seat
    with pytest.raises(IntegrityError):
        async with transaction(sessions) as session:
            session.add(booking(first.id, slot.id + 1))  # the same request twice


async def test_racing_runs_never_double_book(sessions: Sessions, clock: FrozenClock) -> None:
    await sunday_hall(sessions, clock)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    numbers = [await new_case(sessions, clock, applicant_national_id=i) for i in IDS]
    for number in numbers:
        await ready(sessions, clock, actor, number)
    reports = await asyncio.gather(*(run(sessions, clock) for _ in range(4)))
    assert sum(r.placed for r in reports) == len(numbers)
    async with sessions() as session:
        live = list(await session.scalars(select(Appointment).where(Appointment.state == AppointmentState.SCHEDULED)))
    assert len(live) == len(numbers)
    assert len({(a.slot_id, a.seat) for a in live}) == len(numbers)
    assert len({a.case_id for a in live}) == len(numbers)


async def test_a_run_with_a_horizon_fills_only_the_coming_week(sessions: Sessions, clock: FrozenClock) -> None:
    # One seat a week: the second request waits for next week's run instead of taking a seat two weeks out.
    hall = await add_room(sessions, clock, name="قاعة صغيرة", kind="audience_hall")
    await add(sessions, clock, template((hall.id,), starts="10:00", ends="10:10", slot_minutes="10"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    for national_id in IDS[:2]:
        await ready(sessions, clock, actor, await new_case(sessions, clock, applicant_national_id=national_id))
    async with transaction(sessions) as session:
        report = await scheduling.run_allocation(
            session=session, clock=clock, actor_id=None, status_url=URL, horizon=timedelta(days=7)
        )
    assert (report.placed, report.unplaced) == (1, 1)
    clock.advance(timedelta(days=7))
    async with transaction(sessions) as session:
        report = await scheduling.run_allocation(
            session=session, clock=clock, actor_id=None, status_url=URL, horizon=timedelta(days=7)
        )
    assert report.placed == 1


async def test_the_weekly_runs_leave_no_session_between_them(sessions: Sessions, clock: FrozenClock) -> None:
    """With the default 10-day horizon, a Thursday-afternoon session is filled by one of the Thursday-morning runs."""
    from datetime import datetime

    from majlis.clock import RIYADH
    from majlis.settings import load_settings

    hall = await add_room(sessions, clock, name="قاعة الخميس", kind="audience_hall")
    await add(sessions, clock, template((hall.id,), weekday="3", starts="13:00", ends="13:10", slot_minutes="10"))
    clock.set(datetime(2026, 11, 26, 9, tzinfo=RIYADH))  # a Thursday, the weekly run's time
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=3)
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    horizon = load_settings({}).allocation_horizon
    async with transaction(sessions) as session:
        report = await scheduling.run_allocation(
            session=session, clock=clock, actor_id=None, status_url=URL, horizon=horizon
        )
    assert report.placed == 1  # Thursday 3 December 13:00, a week and four hours away
