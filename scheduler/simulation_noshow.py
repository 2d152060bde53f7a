"""No-shows in the year simulation: who misses an audience, what becomes of the request, and the table of their effect.

The rule modelled is the live one (the sweep after each audience session):

- an applicant placed in a session that is held either comes or is marked a
  no-show after the session; the seat is simply wasted that day (a no-show
  frees nothing in advance, so nobody else could have taken it);
- the first no-show sends the request back to wait, once. With the setting
  `no_show_keeps_priority` (true by default, as live) its score keeps counting
  from its original submission; when false it re-enters as if newly submitted
  at the no-show (the end of the session missed);
- a second no-show of the same request closes it: it is not placed again.

Who misses is drawn from the seed alone: each request gets two uniform draws,
one for its first appointment and one for its second, from a generator of their
own in case-id order, and misses its k-th appointment when the k-th draw is
below the rate. So every policy sees the same applicants miss (the comparison is
not blurred by luck), a rate of 0 draws nothing that changes a run, and a higher
rate only adds no-shows to those of a lower one.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from scheduler.simulation import Outcome, Policy, SimulationResult

# The request is closed at its second no-show.
NO_SHOWS_TO_CLOSE: Final = 2


class Attendance(enum.StrEnum):
    CAME = "came"
    RETURNED = "returned"  # the first no-show: the request waits again
    CLOSED = "closed"  # the second no-show: the request is closed


def no_show_draws(seed: int, case_ids: Iterable[int]) -> dict[int, tuple[float, ...]]:
    """Each request's uniform draws for its appointments, from the seed alone, in the order of `case_ids`."""
    rng = random.Random(f"no-shows:{seed}")  # noqa: S311 - a reproducible simulation, not a secret
    return {case_id: tuple(rng.random() for _ in range(NO_SHOWS_TO_CLOSE)) for case_id in case_ids}


class NoShowRecord:
    """The no-shows of one simulated run: who missed how often, and when a returned request waits from."""

    def __init__(self, *, rate: float, keeps_priority: bool, draws: Mapping[int, tuple[float, ...]]) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"no-show rate {rate} is not a share between 0 and 1")
        self.rate = rate
        self.keeps_priority = keeps_priority
        self._draws = draws
        self.missed: dict[int, int] = {}  # case id → no-shows so far
        # case id → the moment its score counts from, when not its submission
        # (a returned request that does not keep its priority).
        self.waits_since: dict[int, datetime] = {}

    def after_audience(self, case_id: int, session_ended: datetime) -> Attendance:
        """Whether the applicant came to their held appointment; a no-show is recorded, and sent back or closed."""
        done = self.missed.get(case_id, 0)
        if self.rate <= 0.0 or self._draws[case_id][done] >= self.rate:
            return Attendance.CAME
        self.missed[case_id] = done + 1
        if done + 1 >= NO_SHOWS_TO_CLOSE:
            return Attendance.CLOSED
        if not self.keeps_priority:
            self.waits_since[case_id] = session_ended
        return Attendance.RETURNED

    def returned(self, case_id: int) -> bool:
        """Whether the request missed an appointment and was sent back to wait."""
        return self.missed.get(case_id, 0) >= 1

    def closed(self, case_id: int) -> bool:
        """Whether the request was closed by its second no-show."""
        return self.missed.get(case_id, 0) >= NO_SHOWS_TO_CLOSE


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _pair(reference: float | None, observed: float | None) -> str:
    """The reference, the figure with no-shows, and their ratio: "12.0 → 13.2 (1.10×)"."""
    if reference is None or observed is None:
        return f"{_days(reference)} → {_days(observed)}"
    ratio = f"{observed / reference:.2f}×" if reference > 0 else "–"
    return f"{_days(reference)} → {_days(observed)} ({ratio})"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


def no_show_table(
    reference: Mapping[Policy, SimulationResult],
    observed: Mapping[Policy, SimulationResult],
    *,
    reference_label: str = "0 %",
    observed_label: str = "",
) -> str:
    """A Markdown table of waits in days without and with no-shows side by side, a row per policy and urgency.

    Each wait cell reads "reference → with no-shows (ratio)"; the counts are of
    the run with no-shows. Waits run from the original submission to the
    audience held, so a returned request's wait includes its missed appointment.
    """
    label = observed_label or "with no-shows"
    lines = [
        f"| policy | urgency | requests | median wait {reference_label} → {label} "
        f"| p95 wait {reference_label} → {label} | max wait {reference_label} → {label} "
        "| no-shows | returned | closed | returned, then seen: median wait | seen within 30 days "
        f"{reference_label} → {label} | waiting at end {reference_label} → {label} |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for policy, result in observed.items():
        base = reference[policy]
        outcomes: list[tuple[Outcome, Outcome]] = [
            *zip(base.by_urgency, result.by_urgency, strict=True),
            (base.overall, result.overall),
        ]
        for before, after in outcomes:
            lines.append(
                f"| {policy.label} | {after.label} | {after.submitted:,} "
                f"| {_pair(before.median_wait_days, after.median_wait_days)} "
                f"| {_pair(before.p95_wait_days, after.p95_wait_days)} "
                f"| {_pair(before.max_wait_days, after.max_wait_days)} "
                f"| {after.no_shows:,} | {after.returned:,} | {after.closed:,} "
                f"| {_days(after.returned_median_wait_days)} "
                f"| {_share(before.within_target)} → {_share(after.within_target)} "
                f"| {before.still_waiting:,} → {after.still_waiting:,} |"
            )
    return "\n".join(lines)
