"""The 30-day target page's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from scheduler.target import extra_slots_needed, target_report
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_runs import IDS

NOW = datetime(2026, 11, 24, 6, tzinfo=UTC)


def test_extra_slots_needed() -> None:
    assert extra_slots_needed([], NOW) == 0
    # Four requests due within the first week need four extra seats that week.
    assert extra_slots_needed([NOW + timedelta(days=5)] * 4, NOW) == 4
    # Four due in four weeks can share one extra seat a week.
    assert extra_slots_needed([NOW + timedelta(days=3, weeks=4)] * 4, NOW) == 1
    # The tightest stretch decides: two now and two later still need two a week.
    assert extra_slots_needed([NOW + timedelta(days=5)] * 2 + [NOW + timedelta(days=3, weeks=4)] * 2, NOW) == 2


async def test_requests_without_a_seat_are_at_risk(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    numbers = [await new_case(sessions, clock, applicant_national_id=i) for i in IDS[:3]]
    for number in numbers:
        await ready(sessions, clock, actor, number)
    async with sessions() as session:
        report = await target_report(session=session, clock=clock)  # no sessions at all yet
    assert sorted(r.case.tracking_number for r in report.at_risk) == sorted(numbers)
    assert all(r.projected is None for r in report.at_risk)
    assert report.extra_slots_per_week == 1  # three requests, four weeks to their deadlines
