"""The fairness tables of `majlis simulate` and bench/simulate.py: the load sweep and the equal-priority comparison.

Both commands print the same text, made here once: the sweep table (every
policy at every load, on the same arrivals), the aims of issue 18 checked
against Majlis's rows, then the equal-priority comparison of Majlis's run at 90 %
load (the load the aims are set for), with the assumptions about the applicants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from scheduler.simulation import Arrival, Policy, simulate
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_equal import Applicants, applicant_lines, equal_priority, equal_priority_table
from scheduler.simulation_sweep import AIM_LOAD, LOADS, STARVATION_DAYS, aims, by_load, sweep, sweep_table


def fairness_report(
    assumptions: Assumptions,
    *,
    days: int,
    seed: int,
    requests: Sequence[Arrival],
    loads: Sequence[float] = LOADS,
    permutations: int = 2000,
    progress: bool = False,
) -> list[str]:
    """The sweep table, the aims and the equal-priority table, as lines of Markdown."""
    rows = sweep(assumptions, days=days, seed=seed, loads=loads, requests=requests, progress=progress)
    lines = [
        f"## Load sweep: {', '.join(f'{load:.0%}' for load in loads)} load, three policies, the same arrivals",
        "",
        "Load = mean demand / seats offered (capacity_factor = 1 / load), before cancelled sessions and no-shows "
        "take their share. Majlis's score runs with the live rules (placement on routing, critical displacement, "
        "the official's directive); the other two policies are the weekly allocator alone. p95 and max are days "
        "from submission to the audience held, over the requests seen; a no-show's wait runs on to its second "
        "audience (the first-audience column leaves those out). "
        f"Starved: waited over {STARVATION_DAYS:.0f} days (to its audience, or to the end) while a "
        "request submitted after it, of equal or lower base priority (band + category weight) and wanting the "
        "same kind of seat, was seen first; no-shows aside. Waited > 60 days counts every such long wait.",
        "",
        sweep_table(rows),
        "",
        "Aims (issue 18), Majlis's score:",
        *(f"- {line}" for line in aims(rows)),
        "",
    ]
    found = by_load(rows).get((AIM_LOAD, Policy.MAJLIS))
    at_aim = dataclasses.replace(assumptions, capacity_factor=1.0 / AIM_LOAD)
    result = (
        found.result if found is not None else simulate(Policy.MAJLIS, at_aim, days=days, seed=seed, requests=requests)
    )
    applicants = Applicants()
    comparisons = equal_priority(at_aim, result, requests, seed=seed, applicants=applicants, permutations=permutations)
    lines += [
        f"## Equal priority, equal wait: Majlis's score at {AIM_LOAD:.0%} load",
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
