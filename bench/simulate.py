"""Simulation benchmark: a year of audiences under three queue policies, on the same arrivals, in one table.

    .venv/bin/python -m bench.simulate [--days 365] [--seed 2026] [--horizons 1,5]

The figures and every further assumption are those of
`scheduler.simulation.Assumptions`, printed one a line. The arrivals are drawn
once from the seed and handed to each policy in turn: first come, first served;
strict priority without aging; Majlis's score. Each run is timed (one run, with
the progress bar on stderr), and as the reference, measured in the same run,
the time to draw the arrivals alone (best of 3): the ratio says what the weekly
allocations cost on top of generating the year.

The first horizon is the main table; each further one runs the same arrivals
again with `horizon_weeks` changed, to show how far ahead the runs book
matters. 1 means each run fills next week's sessions only.
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
    Assumptions,
    Policy,
    SimulationResult,
    arrivals,
    assumption_lines,
    comparison_table,
    progress_bar,
    simulate,
)


def main(argv: Sequence[str] | None = None) -> None:
    default = Assumptions()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--horizons", default=f"{default.horizon_weeks},5", help="weeks each run fills; first is main")
    args = parser.parse_args(argv)
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

    for horizon in horizons:
        assumptions = dataclasses.replace(default, horizon_weeks=horizon)
        results: dict[Policy, SimulationResult] = {}
        seconds: dict[Policy, float] = {}
        for policy in Policy:
            began = time.perf_counter()
            results[policy] = simulate(
                policy,
                assumptions,
                days=args.days,
                seed=args.seed,
                requests=drawn,
                progress=progress_bar(sys.stderr, label=f"{policy.value:>6}, horizon {horizon}"),
            )
            seconds[policy] = time.perf_counter() - began
        first = next(iter(results.values()))
        print()
        title = "main table" if horizon == horizons[0] else "sensitivity"
        print(f"## {title}: each weekly run fills the sessions of the next {horizon} week(s)")
        print()
        print(
            f"{first.runs} weekly runs; {first.sessions_cancelled} sessions cancelled; "
            f"{first.seats_offered:,} seats offered in the sessions held"
        )
        print()
        print(comparison_table(results))
        print()
        print("| policy | seats used | placements undone by a cancellation | run time | × drawing the arrivals |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for policy, result in results.items():
            print(
                f"| {policy.label} | {result.seats_used:,} | {result.requests_bumped:,} "
                f"| {seconds[policy] * 1000:.0f} ms | {seconds[policy] / draw_seconds:.1f}× |"
            )

    print()
    print(f"total: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
