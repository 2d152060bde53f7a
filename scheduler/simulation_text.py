"""The year simulation in words: its assumptions one a line, the comparison table, and a progress bar.

Split from `scheduler.simulation`, which keeps the model; everything here only
reads its results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import time, timedelta
from typing import TextIO

from scheduler.simulation import Policy, SimulationResult
from scheduler.simulation_assumptions import Assumptions, WeeklySession, slot_starts, weekly_demand, weekly_seats


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def comparison_table(results: Mapping[Policy, SimulationResult]) -> str:
    """A Markdown table of the results: a row per policy and urgency, and an "all" row per policy with its slot use.

    Slot use counts the seats of applicants who came; "closed" counts the
    requests closed by their second no-show (neither seen nor waiting).
    """
    lines = [
        "| policy | urgency | requests | median wait (days) | p95 wait (days) | seen within 30 days "
        "| waiting at end | no-shows | closed | slot use |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for policy, result in results.items():
        for outcome in (*result.by_urgency, result.overall):
            use = _share(result.slot_use) if outcome is result.overall else ""
            lines.append(
                f"| {policy.label} | {outcome.label} | {outcome.submitted:,} | {_days(outcome.median_wait_days)} "
                f"| {_days(outcome.p95_wait_days)} | {_share(outcome.within_target)} | {outcome.still_waiting:,} "
                f"| {outcome.no_shows:,} | {outcome.closed:,} | {use} |"
            )
    return "\n".join(lines)


def progress_bar(
    stream: TextIO, *, label: str = "", unit: str = "weeks", width: int = 30
) -> Callable[[int, int], None]:
    """A progress callback drawing "\\r[#####.....] 52/52 weeks" on `stream`, ending the line when done."""
    prefix = f"{label} " if label else ""

    def show(done: int, total: int) -> None:
        filled = width if total <= 0 else width * min(done, total) // total
        stream.write(f"\r{prefix}[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {unit}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


def assumption_lines(assumptions: Assumptions) -> list[str]:
    """Every assumption, one a line ("name = value: source"), then the capacity they lead to."""
    a = assumptions
    lines = []
    for spec in fields(a):
        value = getattr(a, spec.name)
        lines.append(f"{spec.name} = {_shown(value)}: {spec.metadata.get('source', '')}")
    demand = weekly_demand(a)
    seats = weekly_seats(a)
    for session in a.sessions:
        kind = (session.mode, session.women_section)
        slots = len(slot_starts(a, session, a.start + timedelta(days=session.weekday)))
        lines.append(
            f"derived: {session.name}, per branch: {slots} slots, {seats[kind]} seats a week "
            f"for a mean demand of {demand[kind]:.1f} ({seats[kind] / demand[kind]:.3f}×)"
            if demand[kind]
            else f"derived: {session.name}, per branch: {slots} slots, {seats[kind]} seats a week, no demand"
        )
    total_seats = sum(seats.values()) * len(a.branches)
    total_demand = sum(demand.values()) * len(a.branches)
    # A cancelled session takes its seats away; which one is cancelled is drawn evenly.
    expected_loss = a.cancel_probability * sum(seats.values()) / len(a.sessions) * len(a.branches)
    if total_demand:
        lines.append(
            f"derived: {total_seats} seats a week for a mean demand of {total_demand:.1f} requests "
            f"({total_seats / total_demand:.3f}×; {(total_seats - expected_loss) / total_demand:.3f}× "
            "after the expected cancellations)"
        )
    return lines


def _shown(value: object) -> str:
    """A value of the assumptions as it reads best on one line."""
    if isinstance(value, tuple) and value and isinstance(value[0], WeeklySession):
        return "; ".join(
            f"{s.name} day {s.weekday} {s.opens:%H:%M}–{s.closes:%H:%M}" for s in value if isinstance(s, WeeklySession)
        )
    if isinstance(value, tuple) and value and isinstance(value[0], tuple):
        return ", ".join(f"{name} {share:g}" for name, share in value)
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return str(value)
