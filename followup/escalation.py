"""The escalation ladder: when a referral passes a rung, the next rank is told, and it is recorded.

The sweep reads only `next_escalation_at` (indexed), so its cost is the
number of referrals due, not the number open. It takes them one by one, each
in a savepoint: a failing item is logged and rolled back alone, and the next
sweep tries it again. On PostgreSQL due rows are claimed with SKIP LOCKED, so
two sweeps (two processes) never escalate one referral twice.

No escalation message goes out outside the receiving rank's working time
unless the policy is round the clock: the referral then waits for that
department's next working moment, and is escalated then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import Case
from followup import notices, referrals, timers
from followup.models import Department, EscalationLevel, EventKind, Referral, ReferralEvent
from majlis.clock import Clock
from majlis.db import transaction
from majlis.errors import N_
from worktime import service as worktime
from worktime.clock import is_working, next_working

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    escalated: int = 0
    # Due, but the receiving rank was outside its working time: moved to its next working moment.
    deferred: int = 0
    failed: list[int] = field(default_factory=list)


async def department_at_rank(*, session: AsyncSession, department: Department, rank: int) -> Department:
    """The department `rank` steps up the tree from this one, stopping at the top."""
    current = department
    seen = {current.id}
    for _ in range(rank):
        if current.parent_id is None or current.parent_id in seen:
            break
        parent = await session.get(Department, current.parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        current = parent
    return current


async def escalate(
    *,
    session: AsyncSession,
    clock: Clock,
    referral: Referral,
    actor_id: int | None,
    reason: str = "",
    force: bool = False,
) -> ReferralEvent | None:
    """Takes the referral (locked) up one rung: tells that rank and records it; None when deferred.

    `force` is the follow-up team's own escalation: it goes now, whatever the rung's threshold and the hour.
    """
    rules = (await timers.rules_for(session=session, referrals=[referral]))[referral.id]
    level = timers.next_level(rules, referral)
    if level is None:
        referral.next_escalation_at = None
        return None
    department = await session.get_one(Department, referral.department_id)
    target = await department_at_rank(session=session, department=department, rank=level.rank)
    now = clock.now()
    if not force and not rules.policy.round_the_clock:
        calendar = (await worktime.load(session=session, calendar_ids=[target.calendar_id]))[target.calendar_id]
        if not is_working(calendar, now):
            referral.next_escalation_at = next_working(calendar, now)
            return None
    person = await notices.holder_of(session=session, department=target, role=level.contact_role)
    referral.escalation_level = level.level
    event = ReferralEvent(
        referral_id=referral.id,
        case_id=referral.case_id,
        kind=EventKind.ESCALATED,
        at=now,
        actor_id=actor_id,
        text=reason,
        details={
            "level": str(level.level),
            "department": target.code,
            "role": level.contact_role.value,
            "to": person.name,
        },
    )
    session.add(event)
    await session.flush()
    case = await session.get_one(Case, referral.case_id)
    await notices.email_department(
        session=session,
        clock=clock,
        referral=referral,
        case=case,
        to=person,
        texts=notices.ESCALATION,
        purpose=f"followup:escalation:{event.id}",
        level=str(level.level),
    )
    timers.set_next_escalation(rules, referral)
    return event


async def _due(session: AsyncSession, clock: Clock, batch: int) -> list[Referral]:
    query = (
        select(Referral)
        .where(Referral.next_escalation_at <= clock.now())
        .order_by(Referral.next_escalation_at, Referral.id)
        .limit(batch)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def sweep(
    *, sessions: async_sessionmaker[AsyncSession], clock: Clock, batch: int = 500, rounds: int = 20
) -> SweepReport:
    """Escalates every referral whose next rung is due, in batches of one transaction each."""
    report = SweepReport()
    skip: set[int] = set()
    for _ in range(rounds):
        async with transaction(sessions) as session:
            due = [r for r in await _due(session, clock, batch + len(skip)) if r.id not in skip]
            if not due:
                break
            for referral in due[:batch]:
                try:
                    async with session.begin_nested():
                        event = await escalate(session=session, clock=clock, referral=referral, actor_id=None)
                except Exception:
                    log.exception("escalating referral %s failed; the next sweep tries again", referral.id)
                    report.failed.append(referral.id)
                    skip.add(referral.id)
                    continue
                if event is None:
                    report.deferred += 1
                else:
                    report.escalated += 1
    return report


async def ladder(*, session: AsyncSession, policy_id: int) -> list[EscalationLevel]:
    rows = await session.scalars(
        select(EscalationLevel).where(EscalationLevel.policy_id == policy_id).order_by(EscalationLevel.level)
    )
    return list(rows)


async def escalate_now(
    *, session: AsyncSession, clock: Clock, referral_id: int, actor_id: int, reason: str
) -> ReferralEvent:
    """The follow-up team's own escalation to the next rung, now, with its reason."""
    reason = referrals.checked_text(reason, "reason")
    referral = await referrals.lock(session=session, referral_id=referral_id)
    referrals.require(referral, timers.OWING)
    event = await escalate(
        session=session, clock=clock, referral=referral, actor_id=actor_id, reason=reason, force=True
    )
    if event is None:
        raise referrals.ReferralRefused("top_of_ladder", N_("This referral has reached the top of its ladder."))
    return event
