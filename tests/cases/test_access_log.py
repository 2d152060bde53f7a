"""The access log writes one row per (staff, request, route) an hour at most, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import PersonalDataAccess
from accounts.roles import Role
from cases import access_log
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.cases.test_need_to_know import case_id
from tests.factories import make_staff
from tests.priority.test_triage import new_case
from tests.scheduler.test_runs import IDS

Sessions = async_sessionmaker[AsyncSession]


async def rows(sessions: Sessions) -> list[tuple[int, str]]:
    async with sessions() as session:
        found = await session.execute(
            select(PersonalDataAccess.case_id, PersonalDataAccess.via).order_by(PersonalDataAccess.id)
        )
        return [(row.case_id, row.via) for row in found]


async def test_a_list_refreshed_within_the_hour_is_logged_once(sessions: Sessions, clock: FrozenClock) -> None:
    staff = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    first = await case_id(sessions, await new_case(sessions, clock))
    second = await case_id(sessions, await new_case(sessions, clock, applicant_national_id=IDS[1]))

    async def look(case_ids: list[int], via: str = "GET /audit") -> None:
        async with transaction(sessions) as session:
            await access_log.record_views(session=session, clock=clock, staff_id=staff, case_ids=case_ids, via=via)

    await look([first, first])
    clock.advance(timedelta(seconds=5))
    await look([first, second])
    clock.advance(timedelta(minutes=59))
    await look([first, second])
    # Another route is another row; a request an hour after its last row is written again (the second's row is
    # five seconds younger: not yet).
    await look([first], via="GET /audit/cases/{tracking_number}")
    clock.advance(timedelta(seconds=56))
    await look([first, second])
    assert await rows(sessions) == [
        (first, "GET /audit"),
        (second, "GET /audit"),
        (first, "GET /audit/cases/{tracking_number}"),
        (first, "GET /audit"),
    ]
    # Two readings at once may each write a row, and neither fails.
    clock.advance(timedelta(hours=2))
    await asyncio.gather(look([first]), look([first]))
    assert 1 <= (await rows(sessions)).count((first, "GET /audit")) - 2 <= 2
