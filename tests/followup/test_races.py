"""Races on referrals, each action in its own transaction and connection, run at once (asyncio.gather):
on PostgreSQL the row locks decide; on SQLite the write lock taken at BEGIN serialises them.

Two people closing one referral close it once and tell the applicant once; a department answering and
returning at once does one of the two; repeated acknowledgements take once; two sweeps in two processes
escalate each referral once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from followup import escalation, referrals
from followup.models import EventKind, Referral, ReferralEvent, ReferralState
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.factories import make_staff
from tests.followup.arrange import add_department
from tests.priority.test_triage import new_case, ready

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
START = datetime(2026, 11, 29, 9, 0, tzinfo=RIYADH)  # a Sunday morning


async def referred(sessions: Sessions, clock: FrozenClock, count: int = 1) -> list[int]:
    """`count` requests, each referred in writing to the housing department; their referrals' ids."""
    await add_department(sessions, "housing")
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    clock.set(START)
    for n in range(count):
        number = await new_case(sessions, clock, phone=f"05{n + 10:08d}", subject=f"طلب رقم {n}")
        await ready(sessions, clock, auditor, number, route="written_referral", departments="housing")
    async with sessions() as session:
        return list(await session.scalars(select(Referral.id).order_by(Referral.id)))


async def attempt(sessions: Sessions, step: object) -> object:
    try:
        async with transaction(sessions) as session:
            return await step(session)  # type: ignore[operator]
    except referrals.ReferralRefused as refused:
        return refused


async def count(sessions: Sessions, model: type, *where: object) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


async def test_two_closing_at_once_close_once_and_tell_once(sessions: Sessions, clock: FrozenClock) -> None:
    [referral_id] = await referred(sessions, clock)
    team = [(await make_staff(sessions, clock, Role.FOLLOW_UP, f"followup{i}")).id for i in range(2)]

    def closing(actor: int, words: str) -> object:
        return lambda session: referrals.close(
            session=session, clock=clock, referral_id=referral_id, actor_id=actor, outcome=words, status_url=URL
        )

    results = await asyncio.gather(
        attempt(sessions, closing(team[0], "أُنجز الطلب")), attempt(sessions, closing(team[1], "تم"))
    )
    closed = [r for r in results if isinstance(r, Referral)]
    refused = [r for r in results if isinstance(r, referrals.ReferralRefused)]
    assert len(closed) == 1 and len(refused) == 1, results
    assert refused[0].code == "closed"
    assert await count(sessions, ReferralEvent, ReferralEvent.kind == EventKind.CLOSED) == 1
    assert await count(sessions, OutboxMessage, OutboxMessage.purpose.like("stage:completed:%")) == 1


async def test_answer_and_return_at_once_do_one(sessions: Sessions, clock: FrozenClock) -> None:
    [referral_id] = await referred(sessions, clock)
    results = await asyncio.gather(
        attempt(
            sessions,
            lambda session: referrals.answer(
                session=session,
                clock=clock,
                referral_id=referral_id,
                generation=1,
                actor_id=None,
                by="link",
                text="أُنجز",
                status_url=URL,
            ),
        ),
        attempt(
            sessions,
            lambda session: referrals.return_to_team(
                session=session,
                clock=clock,
                referral_id=referral_id,
                generation=1,
                actor_id=None,
                by="link",
                reason="ليس من اختصاصنا",
            ),
        ),
    )
    done = [r for r in results if isinstance(r, Referral)]
    refused = [r for r in results if isinstance(r, referrals.ReferralRefused)]
    assert len(done) == 1 and len(refused) == 1, results
    async with sessions() as session:
        stored = await session.get_one(Referral, referral_id)
    # Whichever came first stands, and the other was told why it could not act.
    assert stored.state in (ReferralState.ANSWERED, ReferralState.RETURNED)
    assert refused[0].code in ("answered", "returned", "moved_on")
    kinds = {EventKind.ANSWERED, EventKind.RETURNED}
    assert await count(sessions, ReferralEvent, ReferralEvent.kind.in_(kinds)) == 1


async def test_acknowledged_three_times_at_once_takes_once(sessions: Sessions, clock: FrozenClock) -> None:
    [referral_id] = await referred(sessions, clock)
    results = await asyncio.gather(
        *(
            attempt(
                sessions,
                lambda session: referrals.acknowledge(
                    session=session, clock=clock, referral_id=referral_id, generation=1, actor_id=None, by="link"
                ),
            )
            for _ in range(3)
        )
    )
    assert sum(isinstance(r, Referral) for r in results) == 1, results
    assert {r.code for r in results if isinstance(r, referrals.ReferralRefused)} == {"acknowledged"}
    assert await count(sessions, ReferralEvent, ReferralEvent.kind == EventKind.ACKNOWLEDGED) == 1


async def test_two_sweeps_at_once_escalate_each_referral_once(sessions: Sessions, clock: FrozenClock) -> None:
    ids = await referred(sessions, clock, count=12)
    clock.set(datetime(2026, 12, 13, 10, 0, tzinfo=RIYADH))  # past every referral's solution time, in working hours
    reports = await asyncio.gather(*(escalation.sweep(sessions=sessions, clock=clock, batch=5) for _ in range(2)))
    assert sum(r.escalated for r in reports) == len(ids)
    assert all(r.failed == [] for r in reports)
    assert await count(sessions, ReferralEvent, ReferralEvent.kind == EventKind.ESCALATED) == len(ids)
    assert await count(sessions, OutboxMessage, OutboxMessage.purpose.like("followup:escalation:%")) == len(ids)
