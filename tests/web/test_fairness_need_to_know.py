"""The managers' fairness report names a queue jump's requests only within the manager's need to know: the
jumps and every figure stay exact, the numbers and the words written on the request are "not shown"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import PersonalDataAccess
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from priority import service as triage
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import desk, new_case, ready

Sessions = async_sessionmaker[AsyncSession]


async def test_a_jump_outside_the_manager_s_reach_is_counted_and_not_named(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    actor = await desk(sessions, clock)
    older = await new_case(sessions, clock)
    clock.advance(timedelta(days=1))
    newer = await new_case(sessions, clock, applicant_national_id="1000000016")
    for number in (older, newer):
        await ready(sessions, clock, actor, number)
    async with transaction(sessions) as session:
        await triage.move_up(
            session=session,
            clock=clock,
            tracking_number=newer,
            actor_id=actor,
            points=50,
            change_reason="legal_deadline",
            change_text="مهلة استئناف تنتهي قريبا",
        )
    # Both wait for an audience: protocol's work, not the manager's (referred requests).
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    await sign_in(client, "manager")
    html = await (await client.get("/reports/fairness")).text()
    assert html.count('class="unjustified"') == 0 and html.count('class="not-shown"') == 3
    assert '<bdi dir="ltr" class="number">1</bdi> — ' in html and "غير معروض" in html
    assert older not in html and newer not in html and "مهلة استئناف" not in html
    csv = await (await client.get("/reports/fairness.csv", params={"lang": "en"})).text()
    assert "queue_jump,Not shown,Not shown,1,,,legal_deadline: Not shown" in csv
    assert older not in csv and newer not in csv and "مهلة استئناف" not in csv
    assert "waiting,urgency,normal,2," in csv  # the figures are over every request
    async with sessions() as session:
        assert list(await session.scalars(select(PersonalDataAccess))) == []
