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

Everything here is pure and in memory: no database, no clock; the same
assumptions, days and seed give the same result on every machine.
"""

from __future__ import annotations

import enum
import math
import random
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from itertools import count
from typing import Final, Protocol, TextIO

from majlis.clock import RIYADH
from priority.score import (
    IMPLIED_URGENCY,
    URGENCY_POINTS,
    WAITING_TARGET_DAYS,
    Urgency,
    category_weight,
    priority_score,
)
from scheduler import simulation_urgent
from scheduler.allocation import MIN_NOTICE, Mode, OpenSeat, Placement, Waiting, allocate
from scheduler.simulation_noshow import Attendance, NoShowRecord, no_show_draws

_DAY_SECONDS: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class WeeklySession:
    """One weekly audience block, held at the same Riyadh hours in every branch."""

    name: str
    weekday: int  # days after Sunday: 0 Sunday … 4 Thursday
    opens: time  # Riyadh wall time
    closes: time
    mode: Mode
    women_section: bool  # in the rooms of the women's section, for women's video audiences


# The kind of seat a request needs, beyond its branch and a wheelchair.
Kind = tuple[Mode, bool]  # (mode, women's section)
IN_PERSON: Final[Kind] = (Mode.IN_PERSON, False)
WOMEN_VIDEO: Final[Kind] = (Mode.VIDEO, True)
MEN_VIDEO: Final[Kind] = (Mode.VIDEO, False)

_FIRST_SUNDAY_2026: Final = date(2026, 1, 4)
_EIGHT: Final = time(8)
_FOUR_PM: Final = time(16)
_WEEKLY_SESSIONS: Final = (
    WeeklySession("in-person audience", 0, time(10), time(12), Mode.IN_PERSON, False),
    WeeklySession("women's video block", 2, time(11), time(12), Mode.VIDEO, True),
    WeeklySession("men's video block", 3, time(10), time(12), Mode.VIDEO, False),
)


@dataclass(frozen=True, slots=True)
class Assumptions:
    """Every figure the simulation rests on, each with its source or marked as assumed.

    Sources are the numbered documents of `seeds/` as summarised in
    `../shared/MISSION.md`; `assumption_lines` prints them one a line.
    """

    start: date = field(
        default=_FIRST_SUNDAY_2026, metadata={"source": "assumed: the first Sunday of 2026; the calendar starts empty"}
    )
    branches: tuple[str, ...] = field(
        default=("riyadh", "jeddah"), metadata={"source": "001/002: reception centres in Riyadh and Jeddah"}
    )
    visitors_per_day: float = field(default=150.0, metadata={"source": "003: about 150 visitors a day per centre"})
    working_days: tuple[int, ...] = field(
        default=(0, 1, 2, 3, 4), metadata={"source": "working week Sunday–Thursday (days after Sunday)"}
    )
    day_opens: time = field(
        default=_EIGHT, metadata={"source": "001/002: working hours 08:00–16:00; visitors arrive evenly through them"}
    )
    day_closes: time = field(default=_FOUR_PM, metadata={"source": "001/002: working hours 08:00–16:00"})
    audience_share: float = field(
        default=0.12,
        metadata={
            "source": "assumed: share of visitors who ask for an audience; the rest are petitions and enquiries "
            "handled by written referral. 0.12 × 150 × 2 × 260 ≈ 9,400 a year, near the 88,172 "
            "beneficiaries of 2013–2023 (003, ≈ 8,800 a year)"
        },
    )
    women_share: float = field(default=0.23, metadata={"source": "003: women 23 % of beneficiaries"})
    women_video_share: float = field(
        default=0.60,
        metadata={
            "source": "assumed: share of women who ask for a video audience from the women's section; "
            "the rest come in person"
        },
    )
    company_share: float = field(
        default=0.13,
        metadata={
            "source": "003: companies 13 %, in person by their representative (assumed); the published "
            "men 65 % is taken as the remaining 64 % (the three published shares add up to 101 %)"
        },
    )
    men_video_share: float = field(
        default=0.30,
        metadata={
            "source": "assumed: share of the other applicants (men, citizens and residents, 64 %) who ask for a video "
            "audience from an equipped men's room (002); the rest come in person"
        },
    )
    wheelchair_share: float = field(
        default=0.05,
        metadata={
            "source": "assumed: wheelchair users, who need an accessible hall (001: special care for the disabled)"
        },
    )
    urgency_shares: tuple[tuple[Urgency, float], ...] = field(
        default=((Urgency.CRITICAL, 0.03), (Urgency.URGENT, 0.17), (Urgency.NORMAL, 0.80)),
        metadata={
            "source": "assumed: few qisas and security matters (002), more detention and medical cases, most everyday"
        },
    )
    category_shares: tuple[tuple[str, float], ...] = field(
        default=(
            ("qisas", 0.5),
            ("security", 0.5),
            ("detention_legal", 0.4),
            ("humanitarian_medical", 0.6),
            ("general", 0.4),
            ("family_personal_status", 0.2),
            ("employment", 0.2),
            ("housing", 0.2),
        ),
        metadata={"source": "assumed: each category's share of its urgency band (priority.score.IMPLIED_URGENCY)"},
    )
    sessions: tuple[WeeklySession, ...] = field(
        default=_WEEKLY_SESSIONS,
        metadata={
            "source": "as bench/allocation.py: in person Sunday 10:00–12:00 in each branch; women's video Tuesday "
            "11:00–12:00 linking the Riyadh and Jeddah women's rooms; men's video Wednesday 10:00–12:00"
        },
    )
    slot_minutes: int = field(
        default=8, metadata={"source": "assumed: 8-minute slots (001: 6 minutes on average at the centre)"}
    )
    capacity_factor: float = field(
        default=1.05,
        metadata={
            "source": "assumed: each session's weekly seats per branch are this multiple of the mean weekly demand "
            "for them (to the nearest seat), spread evenly over its slots: slightly more seats than requests"
        },
    )
    accessible_seats_per_slot: int = field(
        default=1,
        metadata={
            "source": "assumed: in person, one seat per slot in an accessible hall; video rooms are all accessible"
        },
    )
    cancel_probability: float = field(
        default=0.10,
        metadata={
            "source": "assumed: the chance each week that the official's commitments cancel one of its sessions, "
            "chosen at random (002: audiences subject to the official's commitments); known at the run before it"
        },
    )
    run_weekday: int = field(
        default=4, metadata={"source": "assumed: the allocation runs every Thursday (days after Sunday)"}
    )
    run_time: time = field(
        default=_EIGHT,
        metadata={"source": "assumed: at 08:00 Riyadh, so next Sunday 10:00 is 3 days away (MIN_NOTICE)"},
    )
    horizon_weeks: int = field(
        default=1,
        metadata={
            "source": "as the live setting MAJLIS_ALLOCATION_HORIZON_DAYS=7: a run fills the free seats of "
            "the coming week's sessions (002: told three days before); 5 weeks is shown beside it"
        },
    )
    no_show_rate: float = field(
        default=0.08,
        metadata={
            "source": "assumed, not from the source documents: the share of held appointments whose applicant "
            "never arrives, the same for every appointment; 0 is shown beside it as the reference"
        },
    )
    no_show_keeps_priority: bool = field(
        default=True,
        metadata={
            "source": "as the live setting no_show_keeps_priority (default true): a request sent back after its "
            "first no-show keeps counting its wait from its submission; false: from the no-show. Its second "
            "no-show closes it"
        },
    )
    urgent_on_routing: bool = field(
        default=True,
        metadata={
            "source": "as the live setting place_urgent_on_route (default true, scheduler.changes."
            "place_urgent_arrival): a critical or urgent request routed to an audience starts an allocation run "
            "at once; routed the moment it is submitted (assumed). Majlis's score only"
        },
    )
    critical_may_displace: bool = field(
        default=True,
        metadata={
            "source": "as the live setting critical_may_displace (default true): a critical request with no free "
            "seat takes that of the lowest-priority scheduled appointment 3+ days away (not yet confirmed: "
            "confirmation is asked 3 days before); the displaced waits again and the same run re-places it"
        },
    )
    live_horizon_days: int = field(
        default=10,
        metadata={"source": "as the live setting allocation_horizon_days (default 10): how far a run at routing fills"},
    )
    directive_after_days: float = field(
        default=0.0,
        metadata={
            "source": "assumed: a critical request with no seat within directive_within_days of its submission is "
            "put to the official this many days after its routing (0: at once, the same hour), who may direct it "
            "into a free seat inside the 3 days' notice (scheduler.changes.ByHand.directive waives it)"
        },
    )
    directive_within_days: float = field(
        default=7.0, metadata={"source": "the aim of issue 18: a critical request seen within 7 days"}
    )
    directive_share: float = field(
        default=1.0,
        metadata={
            "source": "assumed, not from the source documents: the share of those requests the official directs "
            "into the earliest free seat inside 3 days (002: the official's commitments come first)"
        },
    )

    def __post_init__(self) -> None:
        shares = {
            "directive_share": self.directive_share,
            "audience_share": self.audience_share,
            "women_share": self.women_share,
            "women_video_share": self.women_video_share,
            "company_share": self.company_share,
            "men_video_share": self.men_video_share,
            "wheelchair_share": self.wheelchair_share,
            "cancel_probability": self.cancel_probability,
            "no_show_rate": self.no_show_rate,
        }
        for name, share in shares.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name} {share} is not a share between 0 and 1")
        if self.women_share + self.company_share > 1.0:
            raise ValueError("women and companies are more than every applicant")
        if self.start.weekday() != 6:  # Monday is 0, Sunday 6
            raise ValueError(f"the simulation starts on a Sunday, not on {self.start:%A}")
        if self.visitors_per_day < 0 or self.capacity_factor <= 0:
            raise ValueError("visitors and capacity must be positive")
        if self.live_horizon_days < 4 or self.directive_after_days < 0 or self.directive_within_days < 0:
            raise ValueError("the live horizon is at least 4 days; the directive's days are not negative")
        if self.horizon_weeks < 1 or self.slot_minutes < 1 or self.accessible_seats_per_slot < 0:
            raise ValueError("the horizon, the slot length and the accessible seats must be positive")
        if abs(sum(share for _, share in self.urgency_shares) - 1.0) > 1e-9:
            raise ValueError("the urgency shares must add up to 1")
        bands: dict[Urgency, float] = {}
        for category, share in self.category_shares:
            if category not in IMPLIED_URGENCY:
                raise ValueError(f"unknown category {category}")
            band = IMPLIED_URGENCY[category]
            bands[band] = bands.get(band, 0.0) + share
        for urgency, share in self.urgency_shares:
            if share > 0 and abs(bands.get(urgency, 0.0) - 1.0) > 1e-9:
                raise ValueError(f"the category shares of the {urgency} band must add up to 1")
        run = timedelta(days=self.run_weekday, hours=self.run_time.hour, minutes=self.run_time.minute)
        for session in self.sessions:
            # Each run fills next week's sessions first: one closer than the
            # notice to the run could never be filled with a one-week horizon.
            starts = timedelta(days=7 + session.weekday, hours=session.opens.hour, minutes=session.opens.minute)
            if starts - run < MIN_NOTICE:
                raise ValueError(f"the weekly run is less than {MIN_NOTICE.days} days before the {session.name}")
        kinds = [(session.mode, session.women_section) for session in self.sessions]
        if sorted(kinds) != sorted([IN_PERSON, WOMEN_VIDEO, MEN_VIDEO]):
            raise ValueError("one weekly session is needed for each kind: in person, women's video, men's video")


def kind_shares(assumptions: Assumptions) -> dict[Kind, float]:
    """The share of audience requests wanting each kind of seat (in person, women's video, men's video)."""
    a = assumptions
    others = 1.0 - a.women_share - a.company_share
    return {
        IN_PERSON: a.women_share * (1 - a.women_video_share) + a.company_share + others * (1 - a.men_video_share),
        WOMEN_VIDEO: a.women_share * a.women_video_share,
        MEN_VIDEO: others * a.men_video_share,
    }


def weekly_demand(assumptions: Assumptions) -> dict[Kind, float]:
    """The mean number of audience requests a week per branch, by the kind of seat they want."""
    a = assumptions
    per_branch = a.visitors_per_day * len(a.working_days) * a.audience_share
    return {kind: per_branch * share for kind, share in kind_shares(a).items()}


def slot_starts(assumptions: Assumptions, session: WeeklySession, day: date) -> list[datetime]:
    """The UTC starts of the session's slots on `day` that end by its closing time."""
    length = timedelta(minutes=assumptions.slot_minutes)
    moment = datetime.combine(day, session.opens, tzinfo=RIYADH)
    closes = datetime.combine(day, session.closes, tzinfo=RIYADH)
    starts = []
    while moment + length <= closes:
        starts.append(moment.astimezone(UTC))
        moment += length
    return starts


def weekly_seats(assumptions: Assumptions) -> dict[Kind, int]:
    """The seats a week of each session offers per branch: capacity_factor × the mean demand, to the nearest seat."""
    return {kind: round(assumptions.capacity_factor * demand) for kind, demand in weekly_demand(assumptions).items()}


def slot_capacities(seats: int, slots: int) -> list[int]:
    """`seats` shared over `slots` slots as evenly as possible, the earlier slots taking the remainder."""
    if slots == 0:
        return []
    each, extra = divmod(seats, slots)
    return [each + 1 if index < extra else each for index in range(slots)]


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


@dataclass(slots=True)
class _Session:
    """One dated session: its seats in every branch, and who holds them."""

    seats: list[OpenSeat]
    starts_at: datetime  # its first slot
    ends_at: datetime  # its closing time, when it is swept for no-shows
    holders: list[int]  # case ids placed in it


def _calendar(assumptions: Assumptions, weeks: int) -> dict[tuple[int, int], _Session]:
    """Every session of `weeks` weeks from the start, by (week, index in assumptions.sessions), with its seats."""
    a = assumptions
    seats_of = weekly_seats(a)
    slot_ids = count(1)
    calendar = {}
    for week in range(weeks):
        for index, session in enumerate(a.sessions):
            day = a.start + timedelta(weeks=week, days=session.weekday)
            starts = slot_starts(a, session, day)
            kind = (session.mode, session.women_section)
            seats: list[OpenSeat] = []
            for branch in a.branches:
                for starts_at, capacity in zip(starts, slot_capacities(seats_of[kind], len(starts)), strict=True):
                    if session.mode is Mode.IN_PERSON:
                        accessible = min(a.accessible_seats_per_slot, capacity)
                        halls: tuple[tuple[bool, int], ...] = ((False, capacity - accessible), (True, accessible))
                    else:
                        halls = ((True, capacity),)  # the video rooms are all accessible (assumed)
                    for is_accessible, hall_capacity in halls:
                        if hall_capacity == 0:
                            continue
                        slot_id = next(slot_ids)
                        seats.extend(
                            OpenSeat(
                                slot_id=slot_id,
                                seat=number,
                                starts_at=starts_at,
                                mode=session.mode,
                                branch=branch,
                                women_section=session.women_section,
                                accessible=is_accessible,
                                locked=False,
                            )
                            for number in range(hall_capacity)
                        )
            if starts:
                closes = datetime.combine(day, session.closes, tzinfo=RIYADH).astimezone(UTC)
                calendar[week, index] = _Session(seats, starts[0], closes, [])
    return calendar


class _Run:
    """The state of one simulation as it advances week by week."""

    def __init__(self, assumptions: Assumptions, policy: Policy, weeks: int, seed: int, no_shows: NoShowRecord) -> None:
        a = assumptions
        self.assumptions = a
        self.score = SCORES[policy]
        # Sessions beyond the last run's horizon are built too, so that every
        # run sees a full horizon of seats.
        built = weeks + a.horizon_weeks + 1
        self.calendar = _calendar(a, built)
        self.cancelled = cancellations(a, built, seed)
        self.waiting: dict[int, Arrival] = {}
        self.placed: dict[int, datetime] = {}  # case id → the start of its audience
        self.taken: set[tuple[int, int]] = set()  # (slot id, seat)
        self.seat_of: dict[int, tuple[OpenSeat, _Session]] = {}  # case id → the seat it holds, and its session
        self.seats = {
            (seat.slot_id, seat.seat): (seat, session) for session in self.calendar.values() for seat in session.seats
        }
        self.by_start = sorted(self.calendar.items(), key=lambda item: item[1].starts_at)
        self.known_cancellations = 1  # the cancellations of the sessions of weeks before this one are known
        self.displaced = 0  # appointments given to a critical request (live rules)
        self.directed = 0  # critical requests placed inside three days on the official's directive (live rules)
        self.bumped = 0
        self.no_shows = no_shows
        # The sessions held, in the order they end, and how many are swept.
        self.to_sweep = sorted(
            (session for key, session in self.calendar.items() if key not in self.cancelled),
            key=lambda session: session.ends_at,
        )
        self.swept = 0

    def sweep(self, now: datetime, by_id: Mapping[int, Arrival], *, started_before: bool = False) -> None:
        """Marks the no-shows of the sessions ended by `now` (begun by `now` if `started_before`).

        A no-show's seat stays taken: it was wasted that day. The request waits
        again after its first no-show and is closed after its second.
        """
        while self.swept < len(self.to_sweep):
            session = self.to_sweep[self.swept]
            if not (session.ends_at <= now or (started_before and session.starts_at < now)):
                break
            self.swept += 1
            for case_id in session.holders:
                verdict = self.no_shows.after_audience(case_id, session.ends_at)
                if verdict is Attendance.CAME:
                    continue
                del self.placed[case_id]
                self.seat_of.pop(case_id, None)
                if verdict is Attendance.RETURNED:
                    self.waiting[case_id] = by_id[case_id]

    def cancel(self, week: int, by_id: Mapping[int, Arrival]) -> None:
        """Withdraws the week's cancelled sessions; their applicants wait again, keeping their submission time."""
        for index in range(len(self.assumptions.sessions)):
            session = self.calendar.get((week, index))
            if session is None or (week, index) not in self.cancelled:
                continue
            for case_id in session.holders:
                del self.placed[case_id]
                self.seat_of.pop(case_id, None)
                self.waiting[case_id] = by_id[case_id]
            self.bumped += len(session.holders)
            session.holders.clear()

    def allocate(self, week: int, now: datetime) -> None:
        """Places the waiting requests, in the policy's order, in the free seats of the next weeks' sessions."""
        a = self.assumptions
        seats: list[OpenSeat] = []
        for ahead in range(1, a.horizon_weeks + 1):
            for index in range(len(a.sessions)):
                key = (week + ahead, index)
                session = self.calendar.get(key)
                # Only next week's cancellations are known at this run; a later
                # session is offered, and undone if it turns out cancelled.
                if session is None or (ahead == 1 and key in self.cancelled):
                    continue
                seats.extend(seat for seat in session.seats if (seat.slot_id, seat.seat) not in self.taken)
        self.place(allocate(seats, self.queue(now), now).placements)

    def queue(self, now: datetime, case_ids: Iterable[int] | None = None) -> list[Waiting]:
        """The waiting requests (or those of `case_ids`) as the allocator sees them at `now`, scored by the policy."""
        score = self.score
        # A returned request that does not keep its priority waits from its no-show.
        since = self.no_shows.waits_since
        chosen = self.waiting.values() if case_ids is None else [self.waiting[case_id] for case_id in case_ids]
        return [
            Waiting(
                case_id=request.case_id,
                tracking_number=request.tracking_number,
                applicant_id=request.case_id,  # one request per applicant (assumed)
                score=score(
                    urgency=request.urgency,
                    category_weight=category_weight(request.category),
                    waited=now - since.get(request.case_id, request.submitted_at),
                ),
                submitted_at=since.get(request.case_id, request.submitted_at),
                mode=request.mode,
                branch=request.branch,
                women_section=request.women_section,
                wheelchair=request.wheelchair,
                unavailable=frozenset(),
                has_live_appointment=False,
            )
            for request in chosen
        ]

    def place(self, placements: Iterable[Placement]) -> None:
        """Gives each placed request its seat: it leaves the waiting list and holds the seat from then on."""
        for placement in placements:
            seat, session = self.seats[placement.slot_id, placement.seat]
            self.taken.add((placement.slot_id, placement.seat))
            self.placed[placement.case_id] = placement.starts_at
            self.seat_of[placement.case_id] = (seat, session)
            session.holders.append(placement.case_id)
            del self.waiting[placement.case_id]

    def release(self, case_id: int, by_id: Mapping[int, Arrival]) -> None:
        """Takes a request's seat back (free again) and puts the request back on the waiting list."""
        seat, session = self.seat_of.pop(case_id)
        self.taken.discard((seat.slot_id, seat.seat))
        session.holders.remove(case_id)
        del self.placed[case_id]
        self.waiting[case_id] = by_id[case_id]

    def hold(self, case_id: int, seat: OpenSeat) -> None:
        """Gives a waiting request back a seat it held (a directive that found nothing better)."""
        _, session = self.seats[seat.slot_id, seat.seat]
        self.taken.add((seat.slot_id, seat.seat))
        self.placed[case_id] = seat.starts_at
        self.seat_of[case_id] = (seat, session)
        session.holders.append(case_id)
        del self.waiting[case_id]

    def free_seats(self, earliest: datetime, latest: datetime) -> list[OpenSeat]:
        """The free seats of the sessions starting from `earliest` to `latest`, not known to be cancelled."""
        found: list[OpenSeat] = []
        for key, session in self.by_start:
            if session.starts_at > latest:
                break
            # A session's last slot may still be ahead when its first has begun.
            if session.ends_at <= earliest:
                continue
            if key in self.cancelled and key[0] < self.known_cancellations:
                continue
            found.extend(seat for seat in session.seats if (seat.slot_id, seat.seat) not in self.taken)
        return found


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
    state = _Run(a, policy, weeks, seed, no_shows)

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
