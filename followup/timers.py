"""A referral's clocks: first response, updates, solution and the next rung of the escalation ladder.

Every deadline counts from the referral's creation in working minutes of the
receiving department's calendar (round the clock where the policy says so),
plus `extended_minutes`: the working time it was paused for the applicant and
any extension granted. So a pause or an extension moves every deadline by the
same working time, and the deadlines are stored as moments, which is all a
sweep or the daily list has to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from followup.models import Department, EscalationLevel, Referral, ReferralState, SlaPolicy
from worktime import service as worktime
from worktime.clock import Calendar, add_working, working_between

ROUND_THE_CLOCK = Calendar(zone=ZoneInfo("UTC"), always_open=True)
# States in which the department owes an answer, so the solution clock and the ladder run.
OWING = frozenset({ReferralState.SENT, ReferralState.ACKNOWLEDGED})


@dataclass(frozen=True)
class Rules:
    """What the clocks of one referral need: its policy, the policy's ladder and the calendar to count in."""

    policy: SlaPolicy
    levels: tuple[EscalationLevel, ...]
    calendar: Calendar


async def rules_for(*, session: AsyncSession, referrals: list[Referral]) -> dict[int, Rules]:
    """Each referral's rules (by referral id), loading every policy, ladder and calendar once."""
    policy_ids = {r.policy_id for r in referrals}
    department_ids = {r.department_id for r in referrals}
    policies = {p.id: p for p in await session.scalars(select(SlaPolicy).where(SlaPolicy.id.in_(policy_ids)))}
    ladders: dict[int, list[EscalationLevel]] = {i: [] for i in policy_ids}
    for level in await session.scalars(
        select(EscalationLevel).where(EscalationLevel.policy_id.in_(policy_ids)).order_by(EscalationLevel.level)
    ):
        ladders[level.policy_id].append(level)
    calendar_of: dict[int, int] = {
        department_id: calendar_id
        for department_id, calendar_id in await session.execute(
            select(Department.id, Department.calendar_id).where(Department.id.in_(department_ids))
        )
    }
    calendars = await worktime.load(session=session, calendar_ids=set(calendar_of.values()))
    rules: dict[int, Rules] = {}
    for referral in referrals:
        policy = policies[referral.policy_id]
        calendar = ROUND_THE_CLOCK if policy.round_the_clock else calendars[calendar_of[referral.department_id]]
        rules[referral.id] = Rules(policy=policy, levels=tuple(ladders[policy.id]), calendar=calendar)
    return rules


def _after(rules: Rules, referral: Referral, minutes: int) -> datetime:
    return add_working(rules.calendar, referral.created_at, timedelta(minutes=minutes + referral.extended_minutes))


def level_threshold(rules: Rules, referral: Referral, level: EscalationLevel) -> datetime:
    """When a rung of the ladder is reached: a share of the solution time plus its extra working time."""
    minutes = rules.policy.solution_minutes * level.percent_of_solution // 100 + level.extra_minutes
    return _after(rules, referral, minutes)


def next_level(rules: Rules, referral: Referral) -> EscalationLevel | None:
    """The rung above the one the referral has reached, if any."""
    return next((level for level in rules.levels if level.level > referral.escalation_level), None)


def set_deadlines(rules: Rules, referral: Referral) -> None:
    """Stores every deadline of the referral as moments, from its creation, policy and extensions so far."""
    policy = rules.policy
    referral.first_response_due_at = _after(rules, referral, policy.first_response_minutes)
    referral.solution_due_at = _after(rules, referral, policy.solution_minutes)
    set_update_due(rules, referral)
    set_next_escalation(rules, referral)


def set_update_due(rules: Rules, referral: Referral) -> None:
    """The next news owed by a department that has acknowledged and not yet answered."""
    every = rules.policy.update_minutes
    since = referral.last_update_at
    if every is None or since is None or referral.state is not ReferralState.ACKNOWLEDGED:
        referral.next_update_due_at = None
        return
    referral.next_update_due_at = add_working(rules.calendar, since, timedelta(minutes=every))


def set_next_escalation(rules: Rules, referral: Referral) -> None:
    """When the sweep must look at the referral next: the next rung's threshold while an answer is owed."""
    level = next_level(rules, referral)
    if referral.state not in OWING or referral.paused_since is not None or level is None:
        referral.next_escalation_at = None
        return
    referral.next_escalation_at = level_threshold(rules, referral, level)


def pause(referral: Referral, *, now: datetime) -> None:
    """Stops the clocks while the request waits for the applicant."""
    if referral.paused_since is None:
        referral.paused_since = now
    referral.next_escalation_at = None
    referral.next_update_due_at = None


def resume(rules: Rules, referral: Referral, *, now: datetime) -> None:
    """Starts the clocks again: every deadline moves on by the working time spent waiting."""
    if referral.paused_since is not None:
        waited = working_between(rules.calendar, referral.paused_since, now)
        referral.extended_minutes += int(waited.total_seconds() // 60)
        referral.paused_since = None
    set_deadlines(rules, referral)


def extend(rules: Rules, referral: Referral, *, minutes: int) -> None:
    """Gives the department more working time; every deadline moves on by it."""
    referral.extended_minutes += minutes
    set_deadlines(rules, referral)


@dataclass(frozen=True)
class Standing:
    """Where a referral stands against its clocks at a moment, for the follow-up list."""

    overdue: bool
    # Working time left to the nearest deadline still owed (negative when past it).
    left: timedelta
    # Which clock that is: "first_response", "update" or "solution"; "" when nothing is owed.
    clock: str


def standing(rules: Rules, referral: Referral, *, now: datetime) -> Standing:
    """The nearest deadline still owed and the working time left to it (paused referrals owe nothing)."""
    if referral.paused_since is not None or referral.state not in OWING:
        return Standing(overdue=False, left=timedelta.max, clock="")
    owed: list[tuple[datetime, str]] = [(referral.solution_due_at, "solution")]
    if referral.acknowledged_at is None:
        owed.append((referral.first_response_due_at, "first_response"))
    if referral.next_update_due_at is not None:
        owed.append((referral.next_update_due_at, "update"))
    due, clock = min(owed)
    if due <= now:
        return Standing(overdue=True, left=-working_between(rules.calendar, due, now), clock=clock)
    return Standing(overdue=False, left=working_between(rules.calendar, now, due), clock=clock)
