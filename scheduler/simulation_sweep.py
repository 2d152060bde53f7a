"""The load sweep: the same arrivals at 70, 90, 100 and 110 % load under the three policies, in one table.

**Load**, two ways (`LoadBasis`), both shown in the table:

- *nominal*: the mean number of requests over the seats offered, before the
  cancelled sessions and the no-shows take their share (capacity_factor =
  1 / load);
- *effective* (the default, and what the aims are judged on): the expected
  seat demand — each request's first appointment and, after a first no-show,
  its second: 1 + no_show_rate appointments a request — over the seats held
  after the expected cancellations (cancel_probability a week, one session of
  the week's sessions: 1 − cancel_probability / sessions of the seats). At the
  default assumptions effective = nominal × 1.08 / 0.967 ≈ 1.12 × nominal: a
  nominal 90 % is 100.5 % of the usable seats, where the queue grows without
  bound and no order of the queue can see everyone within 30 days. "90 %
  load" in the aims means a tenth of the usable seats to spare.

Each kind of seat in each branch is offered at capacity_factor × its mean
demand (`scheduler.simulation_assumptions.weekly_seats`). The arrivals do not
depend on the capacity, so every row of the table runs on the very same
requests, the same cancelled sessions and the same no-shows: a difference
between two rows comes from the load or the policy alone.

**Starvation**, plainly: a request starves when a request that came
`WAITING_TARGET_DAYS` (30) days or more after it, wanting the same kind of seat
(branch, in person / men's video / women's video, wheelchair or not), was seen
before it — whatever that one's priority. A request that has waited the target
should go before anything that arrives from then on; a rule that keeps letting
newcomers by, as strict priority does with the lower bands, leaves it waiting
for ever however many seats it would have taken. Being passed by a more urgent
request that came soon after it is the queue doing its work (with Majlis's
score no newcomer can outrank a request after 23 days: `priority.score`), and
waiting long because the seats are too few is not starvation either (the
"waited > 60 days" column counts those). A request that missed an audience it
was given (a no-show) is not counted: it had its seat.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import sys
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from majlis.clock import RIYADH
from priority.score import WAITING_TARGET_DAYS, Urgency
from scheduler.simulation import (
    Arrival,
    Policy,
    SimulationResult,
    arrivals,
    simulate,
)
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_text import progress_bar

LOADS: Final = (0.70, 0.90, 1.00, 1.10)


class LoadBasis(enum.StrEnum):
    NOMINAL = "nominal"  # requests / seats offered
    EFFECTIVE = "effective"  # appointments expected (no-shows' second ones too) / seats held after cancellations


def effective_per_nominal(assumptions: Assumptions) -> float:
    """Effective load over nominal load: (1 + no_show_rate) / (1 − cancel_probability / sessions a week)."""
    a = assumptions
    return (1.0 + a.no_show_rate) / (1.0 - a.cancel_probability / len(a.sessions))


def nominal_load(assumptions: Assumptions, load: float, basis: LoadBasis) -> float:
    """The nominal load that `load` on `basis` is."""
    return load if basis is LoadBasis.NOMINAL else load / effective_per_nominal(assumptions)


STARVATION_DAYS: Final = 60.0
# The aims of issue 18, checked against the rows at or below AIM_LOAD.
AIM_LOAD: Final = 0.90
AIM_CRITICAL_P95_DAYS: Final = 7.0


@dataclass(frozen=True, slots=True)
class SweepRow:
    """One policy at one load."""

    load: float  # on the sweep's basis
    policy: Policy
    result: SimulationResult
    starved: int
    over_60_days: int  # waited more than STARVATION_DAYS, whoever was seen meanwhile (no-shows aside)
    # The critical p95 over the requests that came to their first audience: without the waits of
    # those sent back by a no-show, which run on from their submission to their second audience.
    critical_p95_first: float | None
    nominal: float = 0.0  # the load as requests / seats offered
    effective: float = 0.0  # the load as appointments expected / seats held after cancellations

    def p95(self, urgency: Urgency) -> float | None:
        """The 95th percentile wait in days of the urgency's requests seen."""
        return self.result.outcome(urgency).p95_wait_days


def period_end(assumptions: Assumptions, days: int) -> datetime:
    """The end of the simulated period, as `simulate` works it out."""
    return datetime.combine(assumptions.start, time(0), tzinfo=RIYADH).astimezone(UTC) + timedelta(days=days)


def starved(requests: Sequence[Arrival], result: SimulationResult, end: datetime) -> tuple[int, int]:
    """How many of `requests` starved in `result` by `end` (see the module's docstring), and how many waited more
    than `STARVATION_DAYS` at all (no-shows aside): the second counts every long wait, starved or not."""
    waits = result.waits
    seen_at = {r.case_id: r.submitted_at + timedelta(days=waits[r.case_id]) for r in requests if r.case_id in waits}
    groups: dict[tuple[str, str, bool, bool], list[Arrival]] = {}
    for request in requests:
        key = (request.branch, request.mode.value, request.women_section, request.wheelchair)
        groups.setdefault(key, []).append(request)
    target = timedelta(days=WAITING_TARGET_DAYS)
    long_wait = timedelta(days=STARVATION_DAYS)
    count = 0
    long_waits = 0
    for members in groups.values():
        members.sort(key=lambda r: (r.submitted_at, r.case_id))
        submitted = [r.submitted_at for r in members]
        # earliest[i]: the earliest audience among members[i:], those submitted at or after members[i].
        earliest = [end] * (len(members) + 1)
        for index in range(len(members) - 1, -1, -1):
            earliest[index] = min(earliest[index + 1], seen_at.get(members[index].case_id, end))
        for request in members:
            if request.case_id in result.missed_case_ids:
                continue
            until = seen_at.get(request.case_id, end)
            long_waits += until - request.submitted_at > long_wait
            came_later = bisect_left(submitted, request.submitted_at + target)
            count += earliest[came_later] < until
    return count, long_waits


def sweep(
    assumptions: Assumptions,
    *,
    days: int = 365,
    seed: int = 2026,
    loads: Sequence[float] = LOADS,
    policies: Sequence[Policy] = tuple(Policy),
    requests: Sequence[Arrival] | None = None,
    progress: bool = False,
    basis: LoadBasis = LoadBasis.EFFECTIVE,
) -> list[SweepRow]:
    """Each policy at each load (on `basis`), on the same arrivals; a progress bar per run on stderr when `progress`."""
    drawn = arrivals(assumptions, days, seed) if requests is None else requests
    end = period_end(assumptions, days)
    kept = [r for r in drawn if r.submitted_at < end]
    rows = []
    for load in loads:
        if load <= 0:
            raise ValueError(f"load {load} is not positive")
        nominal = nominal_load(assumptions, load, basis)
        effective = nominal * effective_per_nominal(assumptions)
        at_load = dataclasses.replace(assumptions, capacity_factor=1.0 / nominal)
        for policy in policies:
            bar = progress_bar(sys.stderr, label=f"{policy.value:>6} at {load:.0%}") if progress else None
            result = simulate(policy, at_load, days=days, seed=seed, requests=drawn, progress=bar)
            first = sorted(
                result.waits[r.case_id]
                for r in kept
                if r.urgency is Urgency.CRITICAL
                and r.case_id in result.waits
                and r.case_id not in result.missed_case_ids
            )
            p95_first = first[max(math.ceil(0.95 * len(first)) - 1, 0)] if first else None
            rows.append(SweepRow(load, policy, result, *starved(kept, result, end), p95_first, nominal, effective))
    return rows


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def sweep_table(rows: Sequence[SweepRow]) -> str:
    """The sweep as one Markdown table: a row per load and policy."""
    lines = [
        "| load nominal | load effective | policy | critical p95 (days) | critical p95, first audience | urgent p95 "
        "| normal p95 | max wait "
        "| seen within 30 days | waiting at end | waited > 60 days | starved | displaced | directives |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        overall = row.result.overall
        within = "–" if overall.within_target is None else f"{100 * overall.within_target:.1f} %"
        lines.append(
            f"| {row.nominal:.0%} | {row.effective:.0%} | {row.policy.label} | {_days(row.p95(Urgency.CRITICAL))} "
            f"| {_days(row.critical_p95_first)} "
            f"| {_days(row.p95(Urgency.URGENT))} | {_days(row.p95(Urgency.NORMAL))} "
            f"| {_days(overall.max_wait_days)} | {within} | {overall.still_waiting:,} | {row.over_60_days:,} "
            f"| {row.starved:,} "
            f"| {row.result.appointments_displaced:,} | {row.result.directives:,} |"
        )
    return "\n".join(lines)


def _load(row: SweepRow) -> str:
    return f"{row.effective:.0%} effective ({row.nominal:.0%} nominal)"


def aims(rows: Sequence[SweepRow], policy: Policy = Policy.MAJLIS) -> list[str]:
    """The aims of issue 18 for `policy`, each as "met" or "not met" with the figure, one a line.

    Judged on the sweep's own load (`SweepRow.load`, effective by default); both loads are named.
    """
    lines = []
    for row in rows:
        if row.policy is not policy:
            continue
        overall = row.result.overall
        if row.load <= AIM_LOAD + 1e-9:
            p95 = row.p95(Urgency.CRITICAL)
            met = p95 is not None and p95 <= AIM_CRITICAL_P95_DAYS
            lines.append(
                f"{_load(row)}: critical p95 ≤ 7 days — {'met' if met else 'not met'} ({_days(p95)}; "
                f"{_days(row.critical_p95_first)} over those who came to their first audience)"
            )
            every = overall.within_target == 1.0
            within = "–" if overall.within_target is None else f"{100 * overall.within_target:.2f} %"
            lines.append(
                f"{_load(row)}: every request within 30 days — {'met' if every else 'not met'} "
                f"({within} of those submitted 30+ days before the end; longest wait {_days(overall.max_wait_days)})"
            )
        if row.load >= 1.10 - 1e-9:
            lines.append(f"{_load(row)}: none starves — {'met' if row.starved == 0 else 'not met'} ({row.starved})")
    return lines


def by_load(rows: Sequence[SweepRow]) -> Mapping[tuple[float, Policy], SweepRow]:
    """The rows by (load, policy)."""
    return {(row.load, row.policy): row for row in rows}
