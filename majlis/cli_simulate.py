"""`majlis simulate`: a year of operation under three policies, the load sweep and the equal-priority comparison.

Everything is pure and in memory (scheduler.simulation*): no database, no
settings. The progress bars go to stderr, the tables to stdout. About 30 s on
two cores with the defaults; `--permutations` and `--loads` make it shorter.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from scheduler import simulation, simulation_text
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_sweep import LOADS, LoadBasis
from scheduler.simulation_tables import fairness_report

COMMAND = "simulate"


def _loads(text: str) -> tuple[float, ...]:
    """ "70,90,100,110" (per cent) as (0.7, 0.9, 1.0, 1.1); refused unless each is a positive number."""
    try:
        loads = tuple(float(part) / 100 for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--loads: {text!r} is not a list of percentages such as 70,90") from exc
    if not loads or any(load <= 0 for load in loads):
        raise argparse.ArgumentTypeError(f"--loads: {text!r} must be positive percentages")
    return loads


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = commands.add_parser(
        COMMAND,
        help="a year of operation under three policies, from the source documents' figures; "
        "then the load sweep and the equal-priority comparison",
    )
    simulate.add_argument("--days", type=_positive, default=365)
    simulate.add_argument("--seed", type=int, default=2026)
    simulate.add_argument(
        "--no-show-rate",
        type=float,
        default=Assumptions().no_show_rate,
        help="assumed share of held appointments whose applicant never arrives (default %(default)s; 0 for none)",
    )
    simulate.add_argument(
        "--no-show-new-priority",
        action="store_true",
        help="a request back after a no-show waits from the no-show (no_show_keeps_priority false)",
    )
    simulate.add_argument(
        "--loads",
        type=_loads,
        default=LOADS,
        help="the loads of the sweep, in per cent of the seats (default 70,90,100,110)",
    )
    simulate.add_argument(
        "--load-basis",
        choices=[basis.value for basis in LoadBasis],
        default=LoadBasis.EFFECTIVE.value,
        help="what the sweep's loads are: effective (appointments expected, no-shows' second ones too, over seats "
        "held after expected cancellations; the aims are judged on it) or nominal (requests over seats offered); "
        "the table shows both (default %(default)s)",
    )
    simulate.add_argument(
        "--rules-before-issue-18",
        action="store_true",
        help="the live rules as they were before issue 18 (the run at routing places the whole waiting list, a "
        "critical request displaces only with no seat in the horizon, a no-show waits for the weekly run): "
        "the before of the before/after comparison",
    )
    simulate.add_argument(
        "--permutations",
        type=_positive,
        default=2000,
        help="permutations of the equal-priority test (default %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    """Runs the three policies on the same arrivals; prints the comparison, the sweep and the equal-priority table."""
    assumptions = Assumptions(no_show_rate=args.no_show_rate, no_show_keeps_priority=not args.no_show_new_priority)
    if args.rules_before_issue_18:
        assumptions = dataclasses.replace(
            assumptions, routing_ahead_only=False, displace_beyond_target=False, urgent_no_show_at_once=False
        )
    requests = simulation.arrivals(assumptions, args.days, args.seed)
    results = {
        policy: simulation.simulate(
            policy,
            assumptions,
            days=args.days,
            seed=args.seed,
            requests=requests,
            progress=simulation_text.progress_bar(sys.stderr, label=policy.label),
        )
        for policy in simulation.Policy
    }
    print("Assumptions:")
    for line in simulation_text.assumption_lines(assumptions):
        print(f"- {line}")
    print()
    print(simulation_text.comparison_table(results))
    print()
    report = fairness_report(
        assumptions,
        days=args.days,
        seed=args.seed,
        requests=requests,
        loads=args.loads,
        permutations=args.permutations,
        progress=True,
        basis=LoadBasis(args.load_basis),
    )
    print("\n".join(report))
    return 0
