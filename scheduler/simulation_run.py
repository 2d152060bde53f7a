"""The state of one simulated year as it advances week by week: the dated sessions and their seats, who
waits, who holds which seat.

Split from `scheduler.simulation`, which draws the arrivals and cancellations, drives this state through
the weeks (`simulate`) and reports the outcome. The live rules (`scheduler.simulation_urgent`) act on it
between the weekly runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING

from majlis.clock import RIYADH
from priority.score import category_weight
from scheduler.allocation import Mode, OpenSeat, Placement, Waiting, allocate
from scheduler.simulation_assumptions import Assumptions, slot_capacities, slot_starts, weekly_seats
from scheduler.simulation_noshow import Attendance, NoShowRecord

if TYPE_CHECKING:
    from scheduler.simulation import Arrival, ScoreFunction


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


class Run:
    """The state of one simulation as it advances week by week."""

    def __init__(
        self,
        assumptions: Assumptions,
        score: ScoreFunction,
        built: int,
        cancelled: frozenset[tuple[int, int]],
        no_shows: NoShowRecord,
    ) -> None:
        """`built` weeks of sessions from the start, `cancelled` those of them that will be cancelled (drawn by
        `scheduler.simulation.cancellations`), the requests ordered by the policy's `score`."""
        a = assumptions
        self.assumptions = a
        self.score = score
        self.calendar = _calendar(a, built)
        self.cancelled = cancelled
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
        self.returned_now: list[int] = []  # sent back by the sweep just done, for the live rules

    def sweep(self, now: datetime, by_id: Mapping[int, Arrival], *, started_before: bool = False) -> None:
        """Marks the no-shows of the sessions ended by `now` (begun by `now` if `started_before`).

        A no-show's seat stays taken: it was wasted that day. The request waits
        again after its first no-show and is closed after its second.
        """
        self.returned_now = []
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
                    self.returned_now.append(case_id)

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
