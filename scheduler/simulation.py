"""A year of audiences simulated under three queue policies, on the same arrivals.

The question: with the figures of the source documents, how long does a request
wait for its audience, by urgency, when the weekly allocation orders the queue

- first come, first served (`Policy.FCFS`: the waiting time alone),
- by strict priority without aging (`Policy.STRICT`: urgency band + category
  weight; ties to the earlier submission), or
- by Majlis's score (`Policy.MAJLIS`: `priority.score.priority_score`, the band
  and weight plus 10 points a day waited)?

All three run the same allocator (`scheduler.allocation.allocate`): only the
`Waiting.score` it is given differs. They also run on the same arrivals and the
same cancelled sessions, both drawn from the seed alone, so a difference between
two rows of the table comes from the policy, not from the luck of the draw.

**How a run goes.** `arrivals` draws the requests of the whole period: visitors
come to each centre through the working day as a Poisson process, and a share of
them ask for an audience with the official (the rest are petitions and enquiries
handled by referral, out of scope). Then, week by week, at the weekly allocation
run (Thursday 08:00 Riyadh):

1. the requests submitted since the last run join the waiting list;
2. the sessions held since the last run are swept for no-shows
   (`scheduler.simulation_noshow`, the live rule): an applicant who did not
   come has wasted the seat; the request waits again once, from its original
   submission (`no_show_keeps_priority`) or from the no-show, and a second
   no-show closes it;
3. if the official's commitments cancel one of next week's sessions, its seats
   are withdrawn and whoever was placed in it goes back to the waiting list,
   keeping their submission time (and so their aging points);
4. `allocate` places the waiting requests, in the policy's order, in the free
   seats of the sessions of the next `horizon_weeks` weeks (the allocator itself
   keeps the three days' notice); a placed request holds its seat from then on.

A request's wait is the time from its submission to the start of the audience
it attended. Placed applicants miss their audience at the assumed
`no_show_rate` and otherwise attend; postponements at the applicant's request
are out of scope, as are public holidays (the calendar has no Eid closure), a
second request from one applicant, and days an applicant cannot come.

Majlis's score also runs the live rules for urgent and critical requests
between the weekly runs, each at its own moment (`scheduler.simulation_urgent`:
placement on routing, critical displacement, the official's directive).

Everything here is pure and in memory: no database, no clock; the same
assumptions, days and seed give the same result on every machine. The model is
split over modules: the assumptions and the seats they lead to
(`simulation_assumptions`), this run, its week-by-week state (`simulation_run`),
no-shows (`simulation_noshow`), the live rules (`simulation_urgent`), the tables
in words (`simulation_text`), the load sweep and starvation (`simulation_sweep`), the equal-priority comparison
(`simulation_equal`) and the fairness tables both commands print
(`simulation_tables`).
"""

from __future__ import annotations

import enum
import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import count
from typing import Final, Protocol

from majlis.clock import RIYADH
from priority.score import (
    IMPLIED_URGENCY,
    URGENCY_POINTS,
    WAITING_TARGET_DAYS,
    Urgency,
    priority_score,
)
from scheduler import simulation_urgent
from scheduler.allocation import Mode
from scheduler.simulation_assumptions import Assumptions
from scheduler.simulation_noshow import NoShowRecord, no_show_draws
from scheduler.simulation_run import Run

_DAY_SECONDS: Final = 86_400.0


class Policy(enum.StrEnum):
    FCFS = "fcfs"
    STRICT = "strict"
    MAJLIS = "majlis"

    @property
    def label(self) -> str:
        """The policy in words."""
        return _POLICY_LABELS[self]


_POLICY_LABELS: Final = {
    Policy.FCFS: "first come, first served",
    Policy.STRICT: "strict priority without aging",
    Policy.MAJLIS: "Majlis's score",
}


class ScoreFunction(Protocol):
    def __call__(self, *, urgency: Urgency, category_weight: int, waited: timedelta) -> float:
        """The request's points at a moment; higher goes first, ties to the earlier submission."""
        ...


def fcfs_score(*, urgency: Urgency, category_weight: int, waited: timedelta) -> float:
    """The days waited, whatever the urgency: the longest wait goes first."""
    return max(waited.total_seconds(), 0.0) / _DAY_SECONDS


def strict_score(*, urgency: Urgency, category_weight: int, waited: timedelta) -> float:
    """The urgency band plus the category weight, with no points for waiting."""
    return float(URGENCY_POINTS[urgency] + category_weight)


SCORES: Final[Mapping[Policy, ScoreFunction]] = {
    Policy.FCFS: fcfs_score,
    Policy.STRICT: strict_score,
    Policy.MAJLIS: priority_score,
}


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request for an audience, as it reaches the waiting list."""

    case_id: int
    submitted_at: datetime  # aware, UTC
    branch: str
    mode: Mode
    women_section: bool
    wheelchair: bool
    urgency: Urgency
    category: str

    @property
    def tracking_number(self) -> str:
        """A unique stand-in for the tracking number, in submission order."""
        return f"SIM-{self.case_id:07d}"


def _seeded(seed: int | str) -> random.Random:
    """A private generator: the same draws for the same seed, untouched by anything else."""
    return random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret


def arrivals(assumptions: Assumptions, days: int, seed: int) -> list[Arrival]:
    """The audience requests of `days` days from the start, in submission order; the same for the same seed."""
    a = assumptions
    rng = _seeded(seed)
    others = 1.0 - a.women_share - a.company_share
    urgencies = [urgency for urgency, _ in a.urgency_shares]
    urgency_weights = [share for _, share in a.urgency_shares]
    in_band = {
        urgency: (
            [c for c, _ in a.category_shares if IMPLIED_URGENCY[c] is urgency],
            [s for c, s in a.category_shares if IMPLIED_URGENCY[c] is urgency],
        )
        for urgency in urgencies
    }
    opening_hours = (datetime.combine(a.start, a.day_closes) - datetime.combine(a.start, a.day_opens)).total_seconds()
    # Visitors of a centre come as a Poisson process over the opening hours.
    rate = a.visitors_per_day / opening_hours if opening_hours > 0 else 0.0
    found: list[Arrival] = []
    serial = count(1)
    for offset in range(days):
        day = a.start + timedelta(days=offset)
        if (offset % 7) not in a.working_days:
            continue
        opens = datetime.combine(day, a.day_opens, tzinfo=RIYADH).astimezone(UTC)
        today: list[tuple[datetime, str, Mode, bool, bool, Urgency, str]] = []
        for branch in a.branches:
            elapsed = 0.0
            while rate > 0:
                elapsed += rng.expovariate(rate)
                if elapsed >= opening_hours:
                    break
                if rng.random() >= a.audience_share:
                    continue  # a petition or an enquiry, handled by referral
                who = rng.random()
                if who < a.women_share:
                    women = rng.random() < a.women_video_share
                    mode = Mode.VIDEO if women else Mode.IN_PERSON
                elif who < a.women_share + a.company_share or others <= 0:
                    mode, women = Mode.IN_PERSON, False
                else:
                    women = False
                    mode = Mode.VIDEO if rng.random() < a.men_video_share else Mode.IN_PERSON
                wheelchair = rng.random() < a.wheelchair_share
                urgency = rng.choices(urgencies, weights=urgency_weights)[0]
                names, weights = in_band[urgency]
                category = rng.choices(names, weights=weights)[0]
                moment = opens + timedelta(microseconds=round(elapsed * 1_000_000))
                today.append((moment, branch, mode, women, wheelchair, urgency, category))
        today.sort(key=lambda visit: visit[0])  # stable: a tie keeps the branch order
        found.extend(
            Arrival(next(serial), moment, branch, mode, women, wheelchair, urgency, category)
            for moment, branch, mode, women, wheelchair, urgency, category in today
        )
    return found


def cancellations(assumptions: Assumptions, weeks: int, seed: int) -> frozenset[tuple[int, int]]:
    """The (week, index in `assumptions.sessions`) of the sessions the official's commitments cancel.

    Drawn from a generator of their own, so they are the same whatever the
    arrivals, and the same for every policy.
    """
    rng = _seeded(f"cancellations:{seed}")
    cancelled = set()
    for week in range(weeks):
        if rng.random() < assumptions.cancel_probability:
            cancelled.add((week, rng.randrange(len(assumptions.sessions))))
    return frozenset(cancelled)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How the requests of one urgency (or all of them) fared."""

    label: str  # an urgency, or "all"
    submitted: int
    seen: int  # their audience was held before the end
    median_wait_days: float | None  # over those seen; None when none was
    p95_wait_days: float | None
    max_wait_days: float | None
    # Share seen within 30 days, of those submitted 30+ days before the end and
    # not closed by their own no-shows.
    within_target: float | None
    still_waiting: int  # neither seen nor closed by the end: waiting, or placed in a later session
    no_shows: int  # appointments missed (a closed request missed two)
    returned: int  # requests sent back to wait after their first no-show
    closed: int  # requests closed by their second no-show
    returned_median_wait_days: float | None  # of the returned requests seen later, from their submission

    def __post_init__(self) -> None:
        assert self.seen + self.still_waiting + self.closed == self.submitted
        assert self.no_shows == self.returned + self.closed


@dataclass(frozen=True, slots=True)
class SimulationResult:
    """The waits by urgency, and the seats, of one policy over the simulated days."""

    policy: Policy
    days: int
    seed: int
    by_urgency: tuple[Outcome, ...]  # critical, urgent, normal
    overall: Outcome
    seats_offered: int  # in sessions held before the end (cancelled ones not counted)
    seats_used: int  # by applicants who came; a no-show's seat is wasted (`overall.no_shows`)
    sessions_cancelled: int
    requests_bumped: int  # placements undone because their session was cancelled
    runs: int
    appointments_displaced: int = 0  # given to a critical request (live rules)
    directives: int = 0  # critical requests placed inside three days on the official's directive (live rules)
    # Each seen request's wait in days, by case id: for the load sweep and the equal-priority comparison.
    waits: Mapping[int, float] = field(default_factory=dict, compare=False, repr=False)
    closed_case_ids: frozenset[int] = field(default_factory=frozenset, compare=False, repr=False)  # by no-shows
    missed_case_ids: frozenset[int] = field(default_factory=frozenset, compare=False, repr=False)  # a no-show or two

    @property
    def slot_use(self) -> float:
        """Seats used / seats offered; 0 when none were offered."""
        return self.seats_used / self.seats_offered if self.seats_offered else 0.0

    def outcome(self, urgency: Urgency) -> Outcome:
        """The outcome of one urgency."""
        return next(o for o in self.by_urgency if o.label == urgency.value)


def _percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty sequence."""
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _outcome(
    label: str, requests: Sequence[Arrival], waits: Mapping[int, float], end: datetime, no_shows: NoShowRecord
) -> Outcome:
    """The outcome of `requests`, given the waits in days of those seen before `end` and the no-shows before it."""
    seen = sorted(waits[r.case_id] for r in requests if r.case_id in waits)
    closed = sum(1 for r in requests if no_shows.closed(r.case_id))
    returned = sum(1 for r in requests if no_shows.returned(r.case_id))
    returned_seen = sorted(waits[r.case_id] for r in requests if r.case_id in waits and no_shows.returned(r.case_id))
    # Only a request submitted 30 days before the end could have been seen within
    # 30 days; counting later ones would hold the end of the run against it. A
    # request closed by its applicant's two no-shows is left out too.
    eligible = [
        r
        for r in requests
        if r.submitted_at <= end - timedelta(days=WAITING_TARGET_DAYS) and not no_shows.closed(r.case_id)
    ]
    on_time = sum(1 for r in eligible if waits.get(r.case_id, math.inf) <= WAITING_TARGET_DAYS)
    return Outcome(
        label=label,
        submitted=len(requests),
        seen=len(seen),
        median_wait_days=statistics.median(seen) if seen else None,
        p95_wait_days=_percentile(seen, 0.95) if seen else None,
        max_wait_days=seen[-1] if seen else None,
        within_target=on_time / len(eligible) if eligible else None,
        still_waiting=len(requests) - len(seen) - closed,
        no_shows=sum(no_shows.missed.get(r.case_id, 0) for r in requests),
        returned=returned,
        closed=closed,
        returned_median_wait_days=statistics.median(returned_seen) if returned_seen else None,
    )


def simulate(
    policy: Policy,
    assumptions: Assumptions,
    *,
    days: int = 365,
    seed: int = 2026,
    progress: Callable[[int, int], None] | None = None,
    requests: Sequence[Arrival] | None = None,
) -> SimulationResult:
    """The waits and seat use of `days` days of weekly allocations under `policy`.

    `requests` are the arrivals to use, `arrivals(assumptions, days, seed)` when
    not given: pass them to run several policies on one draw without drawing it
    again. The cancelled sessions and who misses an audience always come from
    `seed`. `progress` is called with (weeks done, weeks in all) before the
    first week and after each.
    """
    if days < 1:
        raise ValueError("simulate at least one day")
    a = assumptions
    start = datetime.combine(a.start, time(0), tzinfo=RIYADH).astimezone(UTC)
    end = start + timedelta(days=days)
    weeks = math.ceil(days / 7)
    given = arrivals(a, days, seed) if requests is None else requests
    ordered = sorted((r for r in given if r.submitted_at < end), key=lambda r: (r.submitted_at, r.case_id))
    by_id = {r.case_id: r for r in ordered}
    if len(by_id) != len(ordered):
        raise ValueError("two requests have one case id")
    no_shows = NoShowRecord(
        rate=a.no_show_rate,
        keeps_priority=a.no_show_keeps_priority,
        draws=no_show_draws(seed, (r.case_id for r in ordered)),
    )
    # Sessions beyond the last run's horizon are built too, so that every
    # run sees a full horizon of seats.
    built = weeks + a.horizon_weeks + 1
    state = Run(a, SCORES[policy], built, cancellations(a, built, seed), no_shows)

    admitted = 0

    def admit(now: datetime, *, at_once: bool = False) -> None:
        """Puts on the waiting list the requests submitted before `now` (by `now` when `at_once`)."""
        nonlocal admitted
        while admitted < len(ordered) and (
            ordered[admitted].submitted_at < now or (at_once and ordered[admitted].submitted_at == now)
        ):
            state.waiting[ordered[admitted].case_id] = ordered[admitted]
            admitted += 1

    # The live rules act between the weekly runs, under Majlis's score only.
    events = simulation_urgent.live_events(a, ordered, seed) if policy is Policy.MAJLIS else []
    acted = 0

    def act_until(moment: datetime) -> None:
        """Applies the live rules' events before `moment`, each at its own time."""
        nonlocal acted
        while acted < len(events) and events[acted].at < min(moment, end):
            event = events[acted]
            acted += 1
            admit(event.at, at_once=True)
            state.sweep(event.at, by_id)
            simulation_urgent.on_returns(state, state.returned_now, event.at, by_id)
            if event.rule is simulation_urgent.Rule.ROUTING:
                simulation_urgent.on_routing(state, by_id[event.case_id], event.at, by_id)
            else:
                simulation_urgent.on_directive(state, by_id[event.case_id], event.at, by_id)

    runs = 0
    if progress is not None:
        progress(0, weeks)
    for week in range(weeks):
        run_day = a.start + timedelta(weeks=week, days=a.run_weekday)
        now = datetime.combine(run_day, a.run_time, tzinfo=RIYADH).astimezone(UTC)
        act_until(now)
        if now < end:
            runs += 1
            admit(now)
            state.sweep(now, by_id)
            if policy is Policy.MAJLIS:
                simulation_urgent.on_returns(state, state.returned_now, now, by_id)
            state.known_cancellations = week + 2
            # The official's commitments are known a week ahead (assumed).
            state.cancel(week + 1, by_id)
            state.allocate(week, now)
        if progress is not None:
            progress(week + 1, weeks)

    act_until(end)
    # The sessions begun since the last run are swept too: who came was known by the end.
    state.sweep(end, by_id, started_before=True)
    # Week 0's sessions come before the first run: nobody could be placed in them.
    held = [
        key
        for key, session in state.calendar.items()
        if key[0] >= 1 and session.starts_at < end and key not in state.cancelled
    ]
    waits = {
        r.case_id: (state.placed[r.case_id] - r.submitted_at).total_seconds() / _DAY_SECONDS
        for r in ordered
        if r.case_id in state.placed and state.placed[r.case_id] < end
    }
    return SimulationResult(
        policy=policy,
        days=days,
        seed=seed,
        by_urgency=tuple(
            _outcome(urgency.value, [r for r in ordered if r.urgency is urgency], waits, end, no_shows)
            for urgency in Urgency
        ),
        overall=_outcome("all", ordered, waits, end, no_shows),
        seats_offered=sum(len(state.calendar[key].seats) for key in held),
        seats_used=len(waits),
        sessions_cancelled=sum(
            1
            for key in state.cancelled
            if key[0] >= 1 and key in state.calendar and state.calendar[key].starts_at < end
        ),
        requests_bumped=state.bumped,
        runs=runs,
        appointments_displaced=state.displaced,
        directives=state.directed,
        waits=waits,
        closed_case_ids=frozenset(r.case_id for r in ordered if no_shows.closed(r.case_id)),
        missed_case_ids=frozenset(no_shows.missed),
    )
