"""The assumptions of the year simulation, each with its source, and the seats and demand they lead to.

Split from `scheduler.simulation` (the model): every figure the simulation rests
on, the weekly sessions, and what follows from them alone (the demand for each
kind of seat, the seats offered, the slots of a session).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from majlis.clock import RIYADH
from priority.score import IMPLIED_URGENCY, Urgency
from scheduler.allocation import MIN_NOTICE, Mode


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
            "source": "as the live setting place_urgent_on_route (default true, scheduler.urgent."
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
    routing_ahead_only: bool = field(
        default=True,
        metadata={
            "source": "as scheduler.urgent.place_urgent_arrival since issue 18: the run at routing (or at a no-show's "
            "return) places only the request and those ahead of it in priority order (score at least its own), not "
            "the whole waiting list: normal requests are left for the weekly run, so the seats of the next days stay "
            "free for later urgent requests and weeks are not booked before their cancellations are known. "
            "false: the whole waiting list, as before"
        },
    )
    displace_beyond_target: bool = field(
        default=True,
        metadata={
            "source": "as scheduler.urgent.place_urgent_arrival since issue 18 (with critical_may_displace): a "
            "critical request whose earliest seat is more than critical_target_days away displaces the "
            "lowest-priority appointment of lower score 3 to critical_target_days away whose seat it can use, even "
            "when a later seat is free; false: it displaces only when it found no seat at all within the horizon"
        },
    )
    critical_target_days: float = field(
        default=7.0, metadata={"source": "the aim of issue 18: a critical request seen within 7 days"}
    )
    urgent_no_show_at_once: bool = field(
        default=True,
        metadata={
            "source": "as scheduler.lifecycle's no-show sweep since issue 18 (with place_urgent_on_route): an urgent "
            "or critical request sent back by its first no-show is placed at once, as on routing; false: it waits "
            "for the weekly run"
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
            "into a free seat inside the 3 days' notice (scheduler.by_hand.ByHand.directive waives it)"
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
