"""The 30-day target: which requests are at risk of waiting longer, and how many extra slots a week would clear them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case
from majlis.clock import Clock
from scheduler import service as scheduling
from scheduler.allocation import MIN_NOTICE, allocate

TARGET = timedelta(days=30)


@dataclass(frozen=True)
class AtRisk:
    case: Case
    deadline: datetime
    # When the next run would seat it, if it would at all.
    projected: datetime | None


@dataclass(frozen=True)
class TargetReport:
    at_risk: list[AtRisk]
    extra_slots_per_week: int


def extra_slots_needed(deadlines: list[datetime], now: datetime) -> int:
    """The fewest extra seats a week that seat every request before its deadline.

    A request whose deadline is k weeks away (counting the three days'
    notice) can use the extra seats of those k weeks; the need is the largest
    share of the at-risk requests due within k weeks, over every k.
    """
    if not deadlines:
        return 0
    weeks_left = sorted(max(1, math.ceil((d - now - MIN_NOTICE) / timedelta(weeks=1))) for d in deadlines)
    return max(math.ceil((i + 1) / k) for i, k in enumerate(weeks_left))


async def target_report(*, session: AsyncSession, clock: Clock) -> TargetReport:
    """A dry run of the allocation: every waiting request the seats would not reach within 30 days of arrival."""
    now = clock.now()
    waiting = await scheduling.waiting_requests(session=session, clock=clock)
    result = allocate(await scheduling.open_seats(session=session, clock=clock), waiting, now)
    projected = {p.case_id: p.starts_at for p in result.placements}
    found = await cases.cases_by_id(session=session, case_ids={w.case_id for w in waiting})
    at_risk = []
    for request in waiting:
        deadline = request.submitted_at + TARGET
        seat = projected.get(request.case_id)
        if seat is None or seat > deadline:
            at_risk.append(AtRisk(found[request.case_id], deadline, seat))
    at_risk.sort(key=lambda r: r.deadline)
    return TargetReport(at_risk, extra_slots_needed([r.deadline for r in at_risk], now))
