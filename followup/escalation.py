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
from followup import contacts, notices, referrals, timers
from followup.contacts import Addressee
from followup.models import ContactRole, Department, EscalationLevel, EventKind, Referral, ReferralEvent
from majlis.clock import Clock
from majlis.db import transaction
from majlis.errors import N_
from worktime import service as worktime
from worktime.clock import Calendar, is_working, next_working

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    escalated: int = 0
    # Due, but the receiving rank was outside its working time: moved to its next working moment.
    deferred: int = 0
    failed: list[int] = field(default_factory=list)


class Known:
    """What escalating a batch needs, read once for the whole batch: each referral's rules, the departments
    (a small table: the ranks are walked in memory), their calendars, the addressees and the requests."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rules: dict[int, timers.Rules] = {}
        self.departments: dict[int, Department] = {}
        self.calendars: dict[int, Calendar] = {}
        self.holders: dict[tuple[int, ContactRole], Addressee] = {}
        self.cases: dict[int, Case] = {}

    async def prepare(self, referrals: list[Referral]) -> None:
        session = self.session
        self.rules.update(await timers.rules_for(session=session, referrals=referrals))
        if not self.departments:
            self.departments = {d.id: d for d in await session.scalars(select(Department))}
            calendar_ids = {d.calendar_id for d in self.departments.values()}
            self.calendars = await worktime.load(session=session, calendar_ids=calendar_ids)
        wanted = {r.case_id for r in referrals} - self.cases.keys()
        if wanted:
            self.cases.update({c.id: c for c in await session.scalars(select(Case).where(Case.id.in_(wanted)))})

    def at_rank(self, department_id: int, rank: int) -> Department:
        """The department `rank` steps up the tree from this one, stopping at the top."""
        current = self.departments[department_id]
        seen = {current.id}
        for _ in range(rank):
            parent = self.departments.get(current.parent_id) if current.parent_id is not None else None
            if parent is None or parent.id in seen:
                break
            seen.add(parent.id)
            current = parent
        return current

    async def holder(self, department: Department, role: ContactRole) -> Addressee:
        key = (department.id, role)
        if key not in self.holders:
            self.holders[key] = await contacts.contact_for(session=self.session, department_id=department.id, role=role)
        return self.holders[key]


async def escalate(
    *,
    session: AsyncSession,
    clock: Clock,
    referral: Referral,
    actor_id: int | None,
    reason: str = "",
    force: bool = False,
    known: Known | None = None,
) -> ReferralEvent | None:
    """Takes the referral (locked) up one rung: tells that rank and records it; None when deferred.

    `force` is the follow-up team's own escalation: it goes now, whatever the rung's threshold and the hour.
    A sweep passes what it has read for its batch (`known`).
    """
    if known is None:
        known = Known(session)
        await known.prepare([referral])
    rules = known.rules[referral.id]
    level = timers.next_level(rules, referral)
    if level is None:
        referral.next_escalation_at = None
        return None
    target = known.at_rank(referral.department_id, level.rank)
    now = clock.now()
    if not force and not rules.policy.round_the_clock:
        calendar = known.calendars[target.calendar_id]
        if not is_working(calendar, now):
            referral.next_escalation_at = next_working(calendar, now)
            return None
    person = await known.holder(target, level.contact_role)
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
    # Named by referral and rung (each reached once), so nothing needs flushing before the savepoint ends:
    # its three rows (the referral, the event, the e-mail) go in one round.
    await notices.email_department(
        session=session,
        clock=clock,
        referral=referral,
        case=known.cases[referral.case_id],
        to=person,
        texts=notices.ESCALATION,
        purpose=f"followup:escalation:{referral.id}:{level.level}",
        flush=False,
        level=str(level.level),
    )
    timers.set_next_escalation(rules, referral)
    if force:
        await session.flush()
    return event


async def _due(session: AsyncSession, clock: Clock, batch: int, skip: set[int]) -> list[Referral]:
    # `skip` holds at most a sweep's work (rounds × batch) plus its failures: well within a statement's parameters.
    query = (
        select(Referral)
        .where(Referral.next_escalation_at <= clock.now(), Referral.id.not_in(skip))
        .order_by(Referral.next_escalation_at, Referral.id)
        .limit(batch)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def _whole_batch(session: AsyncSession, clock: Clock, due: list[Referral]) -> list[ReferralEvent | None] | None:
    """Escalates the batch in one savepoint, its rows written together; None (and nothing kept) if any item fails."""
    try:
        async with session.begin_nested():
            known = Known(session)
            await known.prepare(due)
            return [
                await escalate(session=session, clock=clock, referral=referral, actor_id=None, known=known)
                for referral in due
            ]
    except Exception:
        log.warning("a batch of %d escalations failed; taking its referrals one by one", len(due), exc_info=True)
        return None


async def _one_by_one(
    session: AsyncSession, clock: Clock, ids: list[int], report: SweepReport
) -> list[ReferralEvent | None]:
    """Each referral in its own savepoint: a failing one is logged and left for the next sweep."""
    # Read afresh (by id: the objects were expired when the batch's savepoint took back what it had changed).
    fresh = {
        r.id: r
        for r in await session.scalars(
            select(Referral).where(Referral.id.in_(ids)).execution_options(populate_existing=True)
        )
    }
    known = Known(session)
    await known.prepare(list(fresh.values()))
    done: list[ReferralEvent | None] = []
    for referral_id in ids:
        referral = fresh[referral_id]
        try:
            async with session.begin_nested():
                event = await escalate(session=session, clock=clock, referral=referral, actor_id=None, known=known)
        except Exception:
            log.exception("escalating referral %s failed; the next sweep tries again", referral_id)
            report.failed.append(referral_id)
            continue
        done.append(event)
    return done


async def sweep(
    *, sessions: async_sessionmaker[AsyncSession], clock: Clock, batch: int = 500, rounds: int = 20
) -> SweepReport:
    """Escalates every referral whose next rung is due, in batches of one transaction each.

    A batch is first tried whole, its rows written together (the fast way); if any item fails, the
    batch's savepoint takes everything back and its referrals are taken one by one, each in its own.
    """
    report = SweepReport()
    skip: set[int] = set()
    for _ in range(rounds):
        async with transaction(sessions) as session:
            due = await _due(session, clock, batch, skip)
            if not due:
                break
            ids = [r.id for r in due]
            # One rung per referral per sweep, even one long past several: each rank hears in turn.
            skip.update(ids)
            events = await _whole_batch(session, clock, due)
            if events is None:
                events = await _one_by_one(session, clock, ids, report)
            report.escalated += sum(event is not None for event in events)
            report.deferred += sum(event is None for event in events)
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
