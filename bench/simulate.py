"""Simulation benchmark: a year of audiences under three queue policies, on the same arrivals, in one table.

    .venv/bin/python -m bench.simulate [--days 365] [--seed 2026] [--horizons 1,5] [--no-show-rate 0.08]
        [--capacity-factor 1.05] [--loads 70,90,100,110] [--permutations 2000]

The figures and every further assumption are those of
`scheduler.simulation_assumptions.Assumptions`, printed one a line. The arrivals are drawn
once from the seed and handed to each policy in turn: first come, first served;
strict priority without aging; Majlis's score. Each run is timed (one run, with
the progress bar on stderr), and as the reference, measured in the same run,
the time to draw the arrivals alone (best of 3): the ratio says what the weekly
allocations cost on top of generating the year.

The first horizon is the main table; each further one runs the same arrivals
again with `horizon_weeks` changed, to show how far ahead the runs book
matters. 1 means each run fills next week's sessions only.

No-shows: the tables above run at the assumed `no_show_rate` (an assumption,
not from the source documents; `--no-show-rate` changes it). Then, at the first
horizon, each policy runs again on the same arrivals with no no-shows, the
reference measured in the same run, and a table sets the waits of the two side
by side with their ratio; last, Majlis's score at the assumed rate with
`no_show_keeps_priority` false (a returned request waits from its no-show).

Then the fairness tables of issue 18, as `majlis simulate` prints them
(`scheduler.simulation_tables`): the load sweep (every policy at 70, 90, 100 and
110 % load on the same arrivals, Majlis's score with the live rules for urgent
and critical requests) with the aims checked, and the equal-priority comparison
of Majlis's run at 90 % load.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence

from bench.priority import timings
from scheduler.simulation import (
    Policy,
    SimulationResult,
    arrivals,
    simulate,
)
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_noshow import no_show_table
from scheduler.simulation_sweep import LOADS
from scheduler.simulation_tables import fairness_report
from scheduler.simulation_text import assumption_lines, comparison_table, progress_bar


def main(argv: Sequence[str] | None = None) -> None:
    default = Assumptions()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--horizons", default=f"{default.horizon_weeks},5", help="weeks each run fills; first is main")
    parser.add_argument(
        "--no-show-rate",
        type=float,
        default=default.no_show_rate,
        help=f"assumed share of held appointments missed (default {default.no_show_rate:g}); 0 is the reference",
    )
    parser.add_argument(
        "--capacity-factor",
        type=float,
        default=default.capacity_factor,
        help=f"weekly seats per branch as a multiple of the mean demand (default {default.capacity_factor:g})",
    )
    parser.add_argument(
        "--loads",
        default=",".join(f"{100 * load:g}" for load in LOADS),
        help="the loads of the sweep, in per cent of the seats",
    )
    parser.add_argument("--permutations", type=int, default=2000, help="permutations of the equal-priority test")
    args = parser.parse_args(argv)
    default = dataclasses.replace(default, no_show_rate=args.no_show_rate, capacity_factor=args.capacity_factor)
    horizons = list(dict.fromkeys(int(weeks) for weeks in args.horizons.split(",")))
    started = time.perf_counter()

    command = shlex.join([".venv/bin/python", "-m", "bench.simulate", *(argv if argv is not None else sys.argv[1:])])
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.platform()})")
    print(f"period: {args.days} days from {default.start} (a Sunday), seed {args.seed}")
    print()
    print("assumptions:")
    for line in assumption_lines(default):
        print(f"- {line}")
    print()

    drawn = arrivals(default, args.days, args.seed)
    draw_seconds = min(timings(lambda: arrivals(default, args.days, args.seed), 3))
    print(f"arrivals: {len(drawn):,} audience requests, drawn in {draw_seconds * 1000:.0f} ms (best of 3; reference)")

    def run(policy: Policy, assumptions: Assumptions, label: str) -> tuple[SimulationResult, float]:
        began = time.perf_counter()
        result = simulate(
            policy,
            assumptions,
            days=args.days,
            seed=args.seed,
            requests=drawn,
            progress=progress_bar(sys.stderr, label=f"{policy.value:>6}, {label}"),
        )
        return result, time.perf_counter() - began

    rate = f"{100 * default.no_show_rate:g} %"
    main_results: dict[Policy, SimulationResult] = {}
    for horizon in horizons:
        assumptions = dataclasses.replace(default, horizon_weeks=horizon)
        results: dict[Policy, SimulationResult] = {}
        seconds: dict[Policy, float] = {}
        for policy in Policy:
            results[policy], seconds[policy] = run(policy, assumptions, f"horizon {horizon}")
        if horizon == horizons[0]:
            main_results = results
        first = next(iter(results.values()))
        print()
        title = "main table" if horizon == horizons[0] else "sensitivity"
        print(f"## {title}: each weekly run fills the sessions of the next {horizon} week(s)")
        print()
        print(
            f"{first.runs} weekly runs; {first.sessions_cancelled} sessions cancelled; "
            f"{first.seats_offered:,} seats offered in the sessions held; no-shows at {rate} (assumed)"
        )
        print()
        print(comparison_table(results))
        print()
        print(
            "| policy | seats used | seats wasted by no-shows | placements undone by a cancellation "
            "| run time | × drawing the arrivals |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for policy, result in results.items():
            print(
                f"| {policy.label} | {result.seats_used:,} | {result.overall.no_shows:,} | {result.requests_bumped:,} "
                f"| {seconds[policy] * 1000:.0f} ms | {seconds[policy] / draw_seconds:.1f}× |"
            )

    main = dataclasses.replace(default, horizon_weeks=horizons[0])
    reference: dict[Policy, SimulationResult] = {}
    reference_seconds: dict[Policy, float] = {}
    for policy in Policy:
        reference[policy], reference_seconds[policy] = run(
            policy, dataclasses.replace(main, no_show_rate=0.0), "no no-shows"
        )
    print()
    print(f"## No-shows: none (reference, same run) against {rate} (assumed), horizon {horizons[0]} week(s)")
    print()
    print(
        "A no-show wastes its seat; the request waits again once, keeping its priority "
        "(no_show_keeps_priority true); a second no-show closes it. Waits in days from the original submission "
        "to the audience held; each cell reads reference → with no-shows (ratio)."
    )
    print()
    print(no_show_table(reference, main_results, observed_label=rate))
    print()
    print("| policy | seats used, none → with no-shows | seats wasted | run time with no no-shows |")
    print("| --- | ---: | ---: | ---: |")
    for policy, result in main_results.items():
        print(
            f"| {policy.label} | {reference[policy].seats_used:,} → {result.seats_used:,} "
            f"| {result.overall.no_shows:,} | {reference_seconds[policy] * 1000:.0f} ms |"
        )

    as_new, as_new_seconds = run(
        Policy.MAJLIS, dataclasses.replace(main, no_show_keeps_priority=False), "priority not kept"
    )
    print()
    print(
        f"## The setting: no_show_keeps_priority false (a returned request waits from its no-show), "
        f"Majlis's score, {rate}, horizon {horizons[0]} week(s); run time {as_new_seconds * 1000:.0f} ms"
    )
    print()
    print(
        no_show_table(
            {Policy.MAJLIS: reference[Policy.MAJLIS]},
            {Policy.MAJLIS: as_new},
            observed_label=f"{rate}, not kept",
        )
    )

    began = time.perf_counter()
    loads = tuple(float(part) / 100 for part in args.loads.split(","))
    report = fairness_report(
        main, days=args.days, seed=args.seed, requests=drawn, loads=loads, permutations=args.permutations, progress=True
    )
    print()
    print("\n".join(report))
    print()
    print(f"fairness tables: {time.perf_counter() - began:.1f} s")
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
