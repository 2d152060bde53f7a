"""The queue of requests awaiting an audience, in priority order, and the fairness report.

The report's equal-priority comparison (fairness/equal_wait.py) sets each group's waits against the rest of its
urgency band and category, so that a group's share of urgent requests does not pass for favour or neglect.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case, CaseStatus
from fairness.equal_wait import GroupComparison, WaitRecord, compare
from majlis.clock import Clock
from priority.models import Category, ManualChange
from priority.score import Urgency, priority_score
from priority.service import triages

# Relabellings (and bootstrap resamples) per group in the live report: p to a thousandth, computed on each view.
# The test is sequential (fairness.equal_wait.permutation_test): over 10,000 classified requests the comparison
# takes under a second on one core (bench/fairness.py), most groups stopping after a hundred relabellings or so.
LIVE_PERMUTATIONS = 999

WAITING = frozenset({CaseStatus.RECEIVED, CaseStatus.NEEDS_INFORMATION, CaseStatus.AWAITING_AUDIENCE})


@dataclass(frozen=True)
class QueuePlace:
    case: Case
    urgency: Urgency
    category: str
    # Score from the rule alone, and with any manual move up the queue added.
    base_score: float
    score: float


async def awaiting_audience(*, session: AsyncSession, clock: Clock, limit: int = 5000) -> list[QueuePlace]:
    """Requests routed to an audience, head of the line first (ties: older first, then tracking number)."""
    waiting = await cases.list_by_status(session=session, statuses={CaseStatus.AWAITING_AUDIENCE}, limit=limit)
    rows = await triages(session=session, case_ids={c.id for c in waiting})
    listed = {c.code: c for c in await session.scalars(select(Category))}
    now = clock.now()
    places = []
    for case in waiting:
        triage = rows.get(case.id)
        if triage is None or triage.urgency is None or triage.category_code is None:
            continue
        category = listed.get(triage.category_code)
        weight = category.weight if category else 0
        waited = now - case.submitted_at
        score = priority_score(urgency=triage.urgency, category_weight=weight, waited=waited)
        # The rule's own priority: the urgency the category implies, no hand-made change.
        implied = category.implied_urgency if category else triage.urgency
        base = priority_score(urgency=implied, category_weight=weight, waited=waited)
        places.append(QueuePlace(case, triage.urgency, triage.category_code, base, score + triage.queue_adjustment))
    places.sort(key=lambda p: (-p.score, p.case.submitted_at, p.case.tracking_number))
    return places


@dataclass(frozen=True)
class QueueJump:
    """A request placed ahead of older requests of equal or higher priority by the rule."""

    ahead: QueuePlace
    # How many such older requests it passed, and the oldest of them.
    passed: int
    oldest_passed: QueuePlace
    # The latest hand-made change that put it there (urgency or queue position), if any.
    justification: ManualChange | None


_PLACING_FIELDS = frozenset({"urgency", "queue_position"})
_MICROSECOND = timedelta(microseconds=1)


def queue_jumps(places: list[QueuePlace], changes: dict[int, list[ManualChange]]) -> list[QueueJump]:
    """Every request ahead of an older request whose rule-based priority is at least its own, once each."""
    if not places:
        return []
    # Each place is set against every one after it: vectorised, so a queue of 10,000 is columns compared in
    # numpy (tens of milliseconds), not fifty million comparisons in Python. Times as whole microseconds since
    # the oldest, so that no two moments are rounded together.
    oldest_moment = min(p.case.submitted_at for p in places)
    submitted = np.array([(p.case.submitted_at - oldest_moment) // _MICROSECOND for p in places], dtype=np.int64)
    base = np.array([p.base_score for p in places], dtype=np.float64)
    jumps = []
    for i, ahead in enumerate(places):
        later = np.flatnonzero((submitted[i + 1 :] < submitted[i]) & (base[i + 1 :] >= base[i])) + i + 1
        if len(later) == 0:
            continue
        earliest = submitted[later].min()
        oldest = min((places[j] for j in later[submitted[later] == earliest]), key=lambda p: p.case.tracking_number)
        moves = [c for c in changes.get(ahead.case.id, []) if c.field.value in _PLACING_FIELDS]
        jumps.append(QueueJump(ahead, len(later), oldest, moves[-1] if moves else None))
    return jumps


@dataclass(frozen=True)
class WaitingStats:
    group: str
    value: str
    count: int
    median_days: float
    p90_days: float


def _p90(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[-1]


@dataclass(frozen=True)
class FairnessReport:
    # Keyed by the member of staff; None holds the decisions Majlis took by rule (a repeated request cancelled).
    changes_by_staff: dict[int | None, Counter[str]]
    changes_by_reason: Counter[str]
    waiting: list[WaitingStats]
    jumps: list[QueueJump]
    changes: list[ManualChange]
    # Each group against the rest of its urgency band and category (classified requests only).
    equal_wait: list[GroupComparison]


async def fairness_report(*, session: AsyncSession, clock: Clock) -> FairnessReport:
    """Manual changes per member of staff and reason, waiting times by group, and every queue jump."""
    changes = list(await session.scalars(select(ManualChange).order_by(ManualChange.at)))
    by_staff: dict[int | None, Counter[str]] = defaultdict(Counter)
    for change in changes:
        by_staff[change.actor_id][change.reason.value] += 1
    by_reason = Counter(change.reason.value for change in changes)

    now = clock.now()
    everyone = await cases.list_by_status(session=session, statuses=set(CaseStatus), limit=100_000)
    left = await cases.first_left_status(
        session=session, case_ids={c.id for c in everyone}, status=CaseStatus.AWAITING_AUDIENCE
    )
    rows = await triages(session=session, case_ids={c.id for c in everyone})
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    records: list[WaitRecord] = []
    for case in everyone:
        triage = rows.get(case.id)
        if case.status in WAITING:
            end = now
        elif case.id in left:
            end = left[case.id]
        else:
            continue  # closed without waiting for an audience (rejected, merged, referred at once)
        days = max((end - case.submitted_at) / timedelta(days=1), 0.0)
        keys = {
            "urgency": triage.urgency.value if triage and triage.urgency else "unclassified",
            "category": triage.category_code if triage and triage.category_code else "unclassified",
            "gender": case.gender.value if case.gender else "unknown",
            "applicant_kind": case.applicant.kind.value,
            "channel": case.channel.value,
            "branch": case.branch,
        }
        for group, value in keys.items():
            groups[(group, value)].append(days)
        if triage is not None and triage.urgency is not None and triage.category_code is not None:
            # A company has no gender: it is left out of that comparison only.
            dimensions = {name: keys[name] for name in ("applicant_kind", "channel", "branch")}
            if case.gender is not None:
                dimensions["gender"] = case.gender.value
            records.append(WaitRecord(triage.urgency.value, triage.category_code, dimensions, days))
    waiting = [
        WaitingStats(group, value, len(days), statistics.median(days), _p90(sorted(days)))
        for (group, value), days in sorted(groups.items())
    ]
    places = await awaiting_audience(session=session, clock=clock)
    by_case: dict[int, list[ManualChange]] = defaultdict(list)
    for change in changes:
        by_case[change.case_id].append(change)
    # Relabellings for every group of every cell: off the event loop, so other requests are served meanwhile.
    equal_wait = await asyncio.to_thread(compare, records, permutations=LIVE_PERMUTATIONS)
    return FairnessReport(dict(by_staff), by_reason, waiting, queue_jumps(places, by_case), changes, equal_wait)
