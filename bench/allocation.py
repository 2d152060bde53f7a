"""Allocation benchmark: 1,000 / 10,000 / 100,000 waiting requests over 12 weeks of sessions; aim 100,000 under 2 s.

    .venv/bin/python -m bench.allocation [--sizes 1000,10000,100000] [--runs R] [--seed S]

The calendar is 12 weeks of a typical week, Riyadh times, 8-minute slots:

- Sunday 10:00–12:00, in person, in each branch (Riyadh, Jeddah): the main hall
  and a smaller accessible hall;
- Tuesday 11:00–12:00, the women's video block, linking the women's-section
  rooms of both branches;
- Wednesday 10:00–12:00, the men's video block in each branch.

The first week is locked (its confirmations have gone out). Each slot's parallel
capacity is scaled to the number of requests, so that the seats of each kind of
session hold about 60 % of the requests wanting it: a run fills most seats and
leaves a real queue behind, as when demand runs ahead of the official's time.

The requests are those of `bench.priority` (same urgencies, categories and
submission times for the same seed), scored with `priority.score.priority_score`
at NOW, and given: women 23 % (women's video audiences), companies 13 % (in
person), other applicants 60 % in person and 40 % by video; 65 % Riyadh, 35 %
Jeddah; 5 % wheelchair users; 5 % with one to three unavailable days; 1 % whose
applicant already holds an appointment; 2 % a second request of an applicant.

`allocate` is timed (best and median of R runs) at each size. As the reference,
measured in the same run, the brute-force oracle of the tests (every request
scans every seat left) allocates the smallest size; it must give the same
placements, and the ratio of the two times is the speed-up.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shlex
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import count

from bench.priority import NOW, make_entries, timings
from majlis.clock import riyadh
from priority.score import priority_score
from scheduler.allocation import MIN_NOTICE, Mode, OpenSeat, Waiting, allocate
from tests.scheduler.test_allocation import oracle

WEEKS = 12
SLOT = timedelta(minutes=8)
RIYADH_UTC_OFFSET = timedelta(hours=3)
BRANCH_SHARES = {"riyadh": 65, "jeddah": 35}
SEAT_SHARE = 0.6  # seats of each kind, as a share of the requests wanting it
ACCESSIBLE_HALL_SHARE = 0.1  # of an in-person slot's capacity

# (weekday after Sunday, Riyadh start hour, Riyadh end hour, mode, women's section)
SESSIONS = (
    (0, 10, 12, Mode.IN_PERSON, False),
    (2, 11, 12, Mode.VIDEO, True),
    (3, 10, 12, Mode.VIDEO, False),
)


def first_sunday() -> date:
    """The first Sunday whose sessions can all still be filled at NOW."""
    day = riyadh(NOW + MIN_NOTICE).date() + timedelta(days=1)
    return day + timedelta(days=(6 - day.weekday()) % 7)  # Monday is 0, Sunday 6


def slot_starts(sunday: date, weekday: int, start_hour: int, end_hour: int) -> list[datetime]:
    """The UTC starts of the 8-minute slots of one session that end by its closing hour."""
    opens = datetime(sunday.year, sunday.month, sunday.day, start_hour, tzinfo=UTC) + timedelta(days=weekday)
    closes = opens + timedelta(hours=end_hour - start_hour)
    starts = []
    moment = opens
    while moment + SLOT <= closes:
        starts.append(moment - RIYADH_UTC_OFFSET)  # Riyadh wall time to UTC
        moment += SLOT
    return starts


def make_waiting(size: int, seed: int, days: Sequence[date]) -> list[Waiting]:
    """`size` requests waiting at NOW with the shares of the module's docstring, the same for the same seed."""
    rng = random.Random(seed)
    branches = list(BRANCH_SHARES)
    branch_weights = list(BRANCH_SHARES.values())
    waiting = []
    for case_id, entry in enumerate(make_entries(size, seed), start=1):
        kind = rng.random()
        if kind < 0.23:
            mode, women = Mode.VIDEO, True
        elif kind < 0.36:
            mode, women = Mode.IN_PERSON, False  # a company
        else:
            mode, women = (Mode.IN_PERSON if rng.random() < 0.6 else Mode.VIDEO), False
        unavailable = frozenset(rng.sample(days, rng.randint(1, 3))) if rng.random() < 0.05 else frozenset()
        # A second request of someone already in the list, else a person of its own.
        applicant = rng.randint(1, case_id - 1) if case_id > 1 and rng.random() < 0.02 else case_id
        waiting.append(
            Waiting(
                case_id=case_id,
                tracking_number=entry.tracking_number,
                applicant_id=applicant,
                score=priority_score(
                    urgency=entry.urgency, category_weight=entry.category_weight, waited=NOW - entry.submitted_at
                ),
                submitted_at=entry.submitted_at,
                mode=mode,
                branch=rng.choices(branches, weights=branch_weights)[0],
                women_section=women,
                wheelchair=rng.random() < 0.05,
                unavailable=unavailable,
                has_live_appointment=rng.random() < 0.01,
            )
        )
    return waiting


def make_seats(waiting: Sequence[Waiting]) -> list[OpenSeat]:
    """12 weeks of the weekly sessions, each slot's capacity scaled to the demand for its kind."""
    demand = Counter((w.mode, w.women_section, w.branch) for w in waiting)
    sunday = first_sunday()
    slot_ids = count(1)
    seats: list[OpenSeat] = []
    for weekday, start_hour, end_hour, mode, women in SESSIONS:
        per_week = len(slot_starts(sunday, weekday, start_hour, end_hour))
        for branch in BRANCH_SHARES:
            # Locked week 1 is not counted: its seats are not on offer.
            capacity = max(1, math.ceil(SEAT_SHARE * demand[mode, women, branch] / (per_week * (WEEKS - 1))))
            halls: tuple[tuple[bool, int], ...]
            if mode is Mode.IN_PERSON:
                accessible_capacity = max(1, round(capacity * ACCESSIBLE_HALL_SHARE))
                halls = ((False, capacity - accessible_capacity), (True, accessible_capacity))
            else:
                halls = ((True, capacity),)  # video rooms are on the ground floor
            for week in range(WEEKS):
                for starts_at in slot_starts(sunday + timedelta(weeks=week), weekday, start_hour, end_hour):
                    for accessible, hall_capacity in halls:
                        slot_id = next(slot_ids)
                        seats.extend(
                            OpenSeat(
                                slot_id=slot_id,
                                seat=number,
                                starts_at=starts_at,
                                mode=mode,
                                branch=branch,
                                women_section=women,
                                accessible=accessible,
                                locked=week == 0,
                            )
                            for number in range(hall_capacity)
                        )
    return seats


def session_days() -> list[date]:
    """The Riyadh dates of the calendar's sessions."""
    sunday = first_sunday()
    return [sunday + timedelta(weeks=week, days=weekday) for week in range(WEEKS) for weekday, *_ in SESSIONS]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]

    command = shlex.join([".venv/bin/python", "-m", "bench.allocation", *(argv if argv is not None else sys.argv[1:])])
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.platform()})")
    print(f"calendar: {WEEKS} weeks from {first_sunday()}, week 1 locked; now {NOW:%Y-%m-%d %H:%M} UTC")
    print(f"runs: {args.runs} per size, seed {args.seed}")
    print()
    print("| requests | seats (open) | placed | no seat | has one | duplicate | best | median |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    days = session_days()
    medians: dict[int, float] = {}
    smallest: tuple[list[OpenSeat], list[Waiting], float] | None = None
    for size in sizes:
        waiting = make_waiting(size, args.seed, days)
        seats = make_seats(waiting)
        result = allocate(seats, waiting, NOW)
        measured = timings(partial(allocate, seats, waiting, NOW), args.runs)
        best, median = min(measured), statistics.median(measured)
        medians[size] = median
        if smallest is None or size < len(smallest[1]):
            smallest = (seats, waiting, best)
        reasons = Counter(u.reason.value for u in result.unplaced)
        open_seats = sum(1 for s in seats if not s.locked)
        print(
            f"| {size:,} | {len(seats):,} ({open_seats:,}) | {len(result.placements):,} "
            f"| {reasons['no_compatible_seat']:,} | {reasons['already_has_appointment']:,} "
            f"| {reasons['duplicate_applicant']:,} | {best * 1000:.1f} ms | {median * 1000:.1f} ms |"
        )

    if smallest is not None:
        seats, waiting, best = smallest
        started = time.perf_counter()
        expected, _ = oracle(seats, waiting, NOW)
        oracle_seconds = time.perf_counter() - started
        placed = {p.case_id: (p.slot_id, p.seat) for p in allocate(seats, waiting, NOW).placements}
        assert placed == expected, "the allocator and the oracle disagree"
        print()
        print(
            f"reference: brute-force oracle on {len(waiting):,} requests, {oracle_seconds * 1000:.1f} ms "
            f"(same placements); allocate best {best * 1000:.1f} ms: {oracle_seconds / best:.0f}× faster"
        )

    if 100_000 in medians:
        verdict = "under" if medians[100_000] < 2.0 else "OVER"
        print(f"aim: under 2 s for 100,000 requests; median {medians[100_000]:.3f} s is {verdict} it")


if __name__ == "__main__":
    main()
