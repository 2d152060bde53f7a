"""The fairness tables of `majlis simulate` and bench/simulate.py: the load sweep and the equal-priority comparison.

Both commands print the same text, made here once: the sweep table (every
policy at every load, on the same arrivals), the aims of issue 18 checked
against Majlis's rows, then the equal-priority comparison of Majlis's run at 90 %
load (the load the aims are set for), with the assumptions about the applicants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from priority.score import WAITING_TARGET_DAYS, Urgency
from scheduler.simulation import Arrival, Policy, simulate
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_equal import Applicants, applicant_lines, equal_priority, equal_priority_table
from scheduler.simulation_sweep import (
    AIM_CRITICAL_P95_DAYS,
    AIM_LOAD,
    LOADS,
    STARVATION_DAYS,
    LoadBasis,
    aims,
    by_load,
    nominal_load,
    sweep,
    sweep_table,
)
from scheduler.simulation_urgent import beyond_notice


def fairness_report(
    assumptions: Assumptions,
    *,
    days: int,
    seed: int,
    requests: Sequence[Arrival],
    loads: Sequence[float] = LOADS,
    permutations: int = 2000,
    progress: bool = False,
    basis: LoadBasis = LoadBasis.EFFECTIVE,
) -> list[str]:
    """The sweep table, the aims and the equal-priority table, as lines of Markdown."""
    rows = sweep(assumptions, days=days, seed=seed, loads=loads, requests=requests, progress=progress, basis=basis)
    beyond = beyond_notice(assumptions, requests, AIM_CRITICAL_P95_DAYS)
    critical_missed = [
        row.result.outcome(Urgency.CRITICAL) for row in rows if row.policy is Policy.MAJLIS and row.load == AIM_LOAD
    ]
    lines = [
        f"## Load sweep: {', '.join(f'{load:.0%}' for load in loads)} {basis.value} load, three policies, "
        "the same arrivals",
        "",
        "Nominal load = requests / seats offered (capacity_factor = 1 / load). Effective load = appointments "
        "expected (a first one each, and a second after a first no-show: 1 + no_show_rate) / seats held after the "
        "expected cancellations (1 − cancel_probability / sessions a week). The sweep is on the "
        f"{basis.value} load, and the aims are judged on it: at a nominal 90 % the usable seats are full "
        "(≈ 101 % effective), the queue grows all year and no order of it can see everyone within 30 days. "
        "Majlis's score runs with the live rules (placement on routing of the request and those ahead of it, "
        "critical displacement within 7 days, urgent no-shows placed again at once, the official's directive); "
        "the other two policies are the weekly allocator alone. p95 and max are days "
        "from submission to the audience held, over the requests seen; a no-show's wait runs on to its second "
        "audience (the first-audience column leaves those out). "
        f"Starved: passed by a request that came {WAITING_TARGET_DAYS} days or more after it, wanting the same "
        "kind of seat, whatever that one's priority (no-shows aside). "
        f"Waited > {STARVATION_DAYS:.0f} days counts every long wait, starved or not.",
        "",
        sweep_table(rows),
        "",
        "Aims (issue 18), Majlis's score:",
        *(f"- {line}" for line in aims(rows)),
        "",
        "Why critical p95 ≤ 7 days is out of reach of any order of the queue here:",
        f"- one session of each kind a week and three days' notice: {_share(beyond)} of critical requests have no "
        "slot of their kind from 3 to 7 days after their submission; only the official's directive inside the "
        "notice reaches them, and only into a seat still free;",
        *(
            f"- no-shows: {outcome.returned:,} of the {outcome.submitted:,} critical requests "
            f"({_share(outcome.returned / outcome.submitted if outcome.submitted else None)}) missed their first "
            "audience and were sent back to wait; a wait runs from the submission, past the missed audience, to "
            "the next one at least three days later, so more than 5 % of the critical requests wait over 7 days "
            "whatever the rules (the first-audience column leaves them out)."
            for outcome in critical_missed
        ),
        "",
    ]
    found = by_load(rows).get((AIM_LOAD, Policy.MAJLIS))
    at_aim = dataclasses.replace(assumptions, capacity_factor=1.0 / nominal_load(assumptions, AIM_LOAD, basis))
    result = (
        found.result if found is not None else simulate(Policy.MAJLIS, at_aim, days=days, seed=seed, requests=requests)
    )
    applicants = Applicants()
    comparisons = equal_priority(at_aim, result, requests, seed=seed, applicants=applicants, permutations=permutations)
    lines += [
        f"## Equal priority, equal wait: Majlis's score at {AIM_LOAD:.0%} {basis.value} load",
        "",
        "Within each urgency band and category, each group's waits against the rest of the cell: medians and "
        f"p90 in days, a two-sided permutation test ({permutations} permutations) and a bootstrap 95 % interval "
        "of the median difference; flagged when the gap is over 10 % and p < 0.05. Requests seen only. "
        "Applicants (drawn per case id from a generator of their own):",
        *(f"- {line}" for line in applicant_lines(applicants)),
        "",
        equal_priority_table(comparisons),
    ]
    return lines


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"
