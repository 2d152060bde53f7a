"""The allocation: which waiting request takes which open seat of an audience, and why.

A run fills the open seats of an audience from the requests routed to it, in
priority order, each request taking its earliest compatible seat:

- **Priority order** is the queue of `priority.score`: highest score first, ties
  to the earlier submission, then to the tracking number. The caller computes
  each `Waiting.score` with `priority.score.priority_score` at the run's `now`,
  so the order here is `priority.score.order` (a test holds the two equal).
- **Seats.** A slot (one time, one room) seats `capacity` applicants in
  parallel; each of those places is an `OpenSeat`. "Earliest" is the order
  `(starts_at, slot_id, seat)`: two seats at the same moment go to the lower
  slot id, then the lower seat number, so every run gives the same placements.
- **Compatible** means all of:
  - the same mode (in person / video) and the same branch;
  - the same women's section: a women's video audience is held in a room of
    the women's section, and a request that does not need one never takes such
    a seat (those rooms are staffed by women, for women);
  - a wheelchair user only in an accessible hall; anyone else in any hall;
  - at least `MIN_NOTICE` (3 days) between `now` and the start, because the
    confirmation goes out three days before;
  - not on a day the applicant cannot come, read as a Riyadh date (a seat at
    21:30 UTC is on the next day in Riyadh);
  - not in a locked session: those are never changed.
- **One live appointment per applicant.** An applicant who already holds one
  (`has_live_appointment` on any of their requests) gets nothing in this run;
  otherwise the applicant's first request placed in this run is their only one.
  A request that finds no seat does not use up its applicant's turn, so a later
  request of theirs with other needs may still be placed.

Everything here is pure and in memory: no database, no clock (the caller passes
`now`).

**How it stays fast.** 100,000 requests over 12 weeks of sessions must allocate
in under 2 seconds (`bench/allocation.py`), so no request scans the seats.
Seats are grouped by what compatibility asks of them (mode, branch, women's
section, accessible) into lists sorted by the seat order above, with the locked
and too-soon seats left out once at the start. In each list a "next free"
pointer chain, path-compressed as in union-find, jumps over taken seats, so the
earliest free seat is found in near-constant time. A request looks only at the
one or two lists it may use. An unavailable day is skipped by a binary search to
the first seat of the next day; the skipped seats stay free for later requests.
"""

from __future__ import annotations

import enum
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from majlis.clock import riyadh

# Confirmations go out three days before an audience; a seat closer than this to
# `now` could not be confirmed in time.
MIN_NOTICE: Final = timedelta(days=3)


class Mode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"


class UnplacedReason(enum.StrEnum):
    NO_COMPATIBLE_SEAT = "no_compatible_seat"
    ALREADY_HAS_APPOINTMENT = "already_has_appointment"  # the applicant holds a live appointment
    DUPLICATE_APPLICANT = "duplicate_applicant"  # another request of the applicant was placed in this run


class SeatRule(enum.StrEnum):
    """The rule of compatibility by which one seat is refused to one request (`seat_refusal`)."""

    HAS_APPOINTMENT = "has_appointment"  # the applicant already holds a live appointment
    SESSION_LOCKED = "session_locked"
    MODE = "mode"  # in person / video
    BRANCH = "branch"
    WOMEN_SECTION_ONLY = "women_section_only"  # a women's-section room; the request is not for that section
    WOMEN_SECTION_NEEDED = "women_section_needed"  # the request is for the women's section; the room is not
    ACCESSIBLE_HALL_NEEDED = "accessible_hall_needed"  # a wheelchair user; the hall is not accessible
    NOTICE = "notice"  # less than the notice (three days) before the start
    UNAVAILABLE_DAY = "unavailable_day"  # a Riyadh date the applicant cannot come
    # Never given by `seat_refusal`: the case is not routed to an audience, so the allocator never sees it.
    NOT_AN_AUDIENCE = "not_an_audience"


@dataclass(frozen=True, slots=True)
class OpenSeat:
    """One place of one slot: a room at a time, `seat` of its parallel capacity."""

    slot_id: int
    seat: int  # 0 .. capacity - 1
    starts_at: datetime  # aware
    mode: Mode
    branch: str  # "riyadh", "jeddah"
    women_section: bool  # a room of the women's section, for women's video audiences
    accessible: bool  # a wheelchair user can reach it
    locked: bool  # its session is locked: never filled

    def __post_init__(self) -> None:
        if self.starts_at.utcoffset() is None:
            raise ValueError("starts_at must be timezone-aware")
        if self.seat < 0:
            raise ValueError("seat numbers start at 0")


@dataclass(frozen=True, slots=True)
class Waiting:
    """What the allocation needs to know of one request waiting for an audience."""

    case_id: int
    tracking_number: str
    applicant_id: int
    score: float  # priority.score.priority_score at the run's `now`
    submitted_at: datetime  # aware
    mode: Mode
    branch: str
    women_section: bool  # needs a room of the women's section (women's video audiences)
    wheelchair: bool  # needs an accessible hall
    unavailable: frozenset[date]  # Riyadh dates the applicant cannot come
    has_live_appointment: bool  # the applicant already holds an appointment

    def __post_init__(self) -> None:
        if self.submitted_at.utcoffset() is None:
            raise ValueError("submitted_at must be timezone-aware")
        # A NaN score would compare false both ways and break the total order.
        if not math.isfinite(self.score):
            raise ValueError(f"score {self.score} is not a finite number")


@dataclass(frozen=True, slots=True)
class Placement:
    """A request given a seat, with the reason in words."""

    case_id: int
    slot_id: int
    seat: int
    starts_at: datetime
    score: float
    rank: int  # 1-based place in the priority order among all requests of the run
    ahead: int  # requests placed before it in this run
    explanation: str


@dataclass(frozen=True, slots=True)
class Unplaced:
    """A request left waiting, and why."""

    case_id: int
    reason: UnplacedReason


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """The placements in the order they were made (priority order), and the requests left waiting."""

    placements: tuple[Placement, ...]
    unplaced: tuple[Unplaced, ...]


def priority_key(request: Waiting) -> tuple[float, datetime, str]:
    """The request's place in the queue: (-score, submitted_at, tracking_number); smallest first.

    The key of `priority.score.sort_key`, with the score already worked out.
    """
    return (-request.score, request.submitted_at, request.tracking_number)


def seat_key(seat: OpenSeat) -> tuple[datetime, int, int]:
    """The seat's place in time: (starts_at, slot_id, seat); earliest first, a strict total order."""
    return (seat.starts_at, seat.slot_id, seat.seat)


def seat_refusal(seat: OpenSeat, request: Waiting, now: datetime, *, notice: timedelta = MIN_NOTICE) -> SeatRule | None:
    """The first rule by which `allocate([seat], [request], now, notice=notice)` leaves the request unplaced.

    None when it would place the request in the seat. For telling staff why a
    seat chosen by hand is refused; tests compare it with `allocate` on random
    seats and requests, so the two never disagree. The rules are checked in
    the order of `SeatRule`.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if request.has_live_appointment:
        return SeatRule.HAS_APPOINTMENT
    if seat.locked:
        return SeatRule.SESSION_LOCKED
    if seat.mode != request.mode:
        return SeatRule.MODE
    if seat.branch != request.branch:
        return SeatRule.BRANCH
    if seat.women_section and not request.women_section:
        return SeatRule.WOMEN_SECTION_ONLY
    if request.women_section and not seat.women_section:
        return SeatRule.WOMEN_SECTION_NEEDED
    if request.wheelchair and not seat.accessible:
        return SeatRule.ACCESSIBLE_HALL_NEEDED
    if seat.starts_at < now + notice:
        return SeatRule.NOTICE
    if riyadh(seat.starts_at).date() in request.unavailable:
        return SeatRule.UNAVAILABLE_DAY
    return None


# What compatibility asks of a seat beyond time and date: mode, branch, women's
# section, accessible.
_GroupKey = tuple[Mode, str, bool, bool]


class _Group:
    """The fillable seats of one group key, earliest first, and which of them are still free."""

    __slots__ = ("days", "keys", "local", "next_free", "seats", "size", "words")

    def __init__(self, seats: list[OpenSeat]) -> None:
        seats.sort(key=seat_key)
        self.seats = seats
        self.size = len(seats)
        self.keys = [seat_key(seat) for seat in seats]
        self.local = [riyadh(seat.starts_at) for seat in seats]
        # Riyadh dates, in order like the seats, for skipping an unavailable day
        # with one binary search.
        self.days = [moment.date() for moment in self.local]
        # The seat in words by (start, wheelchair): every seat of a slot reads
        # the same, so each slot's words are formatted once, not once a placement.
        self.words: dict[tuple[datetime, bool], str] = {}
        # next_free[i] is i while seat i is free and a later index once it is
        # taken; `size` stands for "none left". Following the chain from i
        # gives the first free seat at or after i.
        self.next_free = list(range(self.size + 1))

    def first_free(self, index: int) -> int:
        """The index of the first free seat at or after `index`; `size` when there is none."""
        chain = self.next_free
        found = index
        while chain[found] != found:
            found = chain[found]
        # Path compression: point everything passed straight at the answer, so
        # a run of taken seats is walked once, not once per request.
        while index != found:
            following = chain[index]
            chain[index] = found
            index = following
        return found

    def earliest(self, unavailable: frozenset[date]) -> tuple[int, int]:
        """(index of the earliest free seat not on an unavailable day, index of the first seat passed over for its day).

        Each index is `size` when there is none.
        """
        end = self.size
        found = self.first_free(0)
        passed_over = end
        if unavailable:
            days = self.days
            while found < end and days[found] in unavailable:
                if passed_over == end:
                    passed_over = found
                # Jump to the first seat of the next day; the day's seats are
                # left as they are, free for the requests after this one.
                found = self.first_free(bisect_right(days, days[found]))
        return found, passed_over

    def take(self, index: int) -> None:
        self.next_free[index] = index + 1

    def describe(self, index: int, wheelchair: bool) -> str:
        """The seat in words, e.g. "video, riyadh, women's section, 2026-12-01 11:00 Riyadh"."""
        seat = self.seats[index]
        known = self.words.get((seat.starts_at, wheelchair))
        if known is not None:
            return known
        parts = ["in person" if seat.mode == Mode.IN_PERSON else "video", seat.branch]
        if seat.women_section:
            parts.append("women's section")
        if wheelchair:
            parts.append("accessible hall")
        parts.append(f"{self.local[index]:%Y-%m-%d %H:%M} Riyadh")
        words = self.words[seat.starts_at, wheelchair] = ", ".join(parts)
        return words


def _explain(score: float, rank: int, total: int, seat_words: str, ahead: int, passed_over: bool) -> str:
    """One English sentence: the request's score and rank, the seat, and how many were placed first."""
    before = "none placed before it" if ahead == 0 else f"{ahead} placed before it, all higher in priority order"
    days = "; seats on the applicant's unavailable days passed over" if passed_over else ""
    return f"score {score:.1f}, rank {rank} of {total}; earliest compatible seat: {seat_words}{days}; {before}"


def _groups(seats: Iterable[OpenSeat], now: datetime, notice: timedelta) -> dict[_GroupKey, _Group]:
    """The seats that may be filled at `now`, grouped by what compatibility asks of them."""
    earliest_start = now + notice
    seen: set[tuple[int, int]] = set()
    grouped: dict[_GroupKey, list[OpenSeat]] = {}
    for seat in seats:
        place = (seat.slot_id, seat.seat)
        if place in seen:
            raise ValueError(f"seat {seat.seat} of slot {seat.slot_id} is given twice")
        seen.add(place)
        if seat.locked or seat.starts_at < earliest_start:
            continue
        key = (seat.mode, seat.branch, seat.women_section, seat.accessible)
        grouped.setdefault(key, []).append(seat)
    return {key: _Group(members) for key, members in grouped.items()}


def allocate(
    seats: Iterable[OpenSeat], waiting: Iterable[Waiting], now: datetime, *, notice: timedelta = MIN_NOTICE
) -> AllocationResult:
    """The placements of one run at `now`: each request, in priority order, in its earliest compatible seat.

    `notice` is the least time between now and a seat's start: three days for
    runs; less only for a freed seat offered at short notice (backfill).
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    groups = _groups(seats, now, notice)
    queue = sorted(waiting, key=priority_key)
    if len({request.case_id for request in queue}) != len(queue):
        raise ValueError("a case is in the waiting list twice")
    holders = {request.applicant_id for request in queue if request.has_live_appointment}
    placed_applicants: set[int] = set()
    # The groups a kind of request may use, worked out once per kind: a
    # wheelchair user only accessible halls, anyone else every hall.
    options: dict[tuple[Mode, str, bool, bool], tuple[_Group, ...]] = {}
    total = len(queue)
    placements: list[Placement] = []
    unplaced: list[Unplaced] = []

    for rank, request in enumerate(queue, start=1):
        applicant = request.applicant_id
        if applicant in holders:
            unplaced.append(Unplaced(request.case_id, UnplacedReason.ALREADY_HAS_APPOINTMENT))
            continue
        if applicant in placed_applicants:
            unplaced.append(Unplaced(request.case_id, UnplacedReason.DUPLICATE_APPLICANT))
            continue

        kind = (request.mode, request.branch, request.women_section, request.wheelchair)
        usable = options.get(kind)
        if usable is None:
            halls = (True,) if request.wheelchair else (False, True)
            usable = tuple(
                groups[key]
                for key in ((request.mode, request.branch, request.women_section, accessible) for accessible in halls)
                if key in groups
            )
            options[kind] = usable

        best: _Group | None = None
        best_index = 0
        best_key: tuple[datetime, int, int] | None = None
        first_passed_over: tuple[datetime, int, int] | None = None
        unavailable = request.unavailable
        for group in usable:
            if unavailable:
                index, passed_over = group.earliest(unavailable)
                if passed_over < group.size:
                    skipped = group.keys[passed_over]
                    if first_passed_over is None or skipped < first_passed_over:
                        first_passed_over = skipped
            else:
                index = group.first_free(0)  # most requests: no day to skip
            if index < group.size:
                key = group.keys[index]
                if best_key is None or key < best_key:
                    best, best_index, best_key = group, index, key
        if best is None or best_key is None:
            unplaced.append(Unplaced(request.case_id, UnplacedReason.NO_COMPATIBLE_SEAT))
            continue

        best.take(best_index)
        placed_applicants.add(applicant)
        seat = best.seats[best_index]
        ahead = len(placements)
        # Mentioned only when a seat the applicant would otherwise have had
        # went by because of their unavailable days.
        passed = first_passed_over is not None and first_passed_over < best_key
        placements.append(
            Placement(
                case_id=request.case_id,
                slot_id=seat.slot_id,
                seat=seat.seat,
                starts_at=seat.starts_at,
                score=request.score,
                rank=rank,
                ahead=ahead,
                explanation=_explain(
                    request.score, rank, total, best.describe(best_index, request.wheelchair), ahead, passed
                ),
            )
        )
    return AllocationResult(tuple(placements), tuple(unplaced))
