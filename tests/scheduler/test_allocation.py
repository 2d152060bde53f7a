from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from priority.score import QueueEntry, Urgency, order, priority_score
from scheduler.allocation import (
    MIN_NOTICE,
    AllocationResult,
    Mode,
    OpenSeat,
    UnplacedReason,
    Waiting,
    allocate,
    priority_key,
    seat_refusal,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # a Friday
SOON = NOW + timedelta(days=3)  # the earliest start a run may fill
SUNDAY = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)  # 10:00 in Riyadh


def seat(
    slot_id: int = 1,
    number: int = 0,
    *,
    at: datetime = SUNDAY,
    mode: Mode = Mode.IN_PERSON,
    branch: str = "riyadh",
    women_section: bool = False,
    accessible: bool = False,
    locked: bool = False,
) -> OpenSeat:
    return OpenSeat(
        slot_id=slot_id,
        seat=number,
        starts_at=at,
        mode=mode,
        branch=branch,
        women_section=women_section,
        accessible=accessible,
        locked=locked,
    )


def request(
    case_id: int = 1,
    *,
    score: float = 100.0,
    submitted_at: datetime = NOW - timedelta(days=1),
    tracking_number: str | None = None,
    applicant_id: int | None = None,
    mode: Mode = Mode.IN_PERSON,
    branch: str = "riyadh",
    women_section: bool = False,
    wheelchair: bool = False,
    unavailable: frozenset[date] = frozenset(),
    has_live_appointment: bool = False,
) -> Waiting:
    return Waiting(
        case_id=case_id,
        tracking_number=tracking_number or f"26-{case_id:06d}-0",
        applicant_id=case_id if applicant_id is None else applicant_id,
        score=score,
        submitted_at=submitted_at,
        mode=mode,
        branch=branch,
        women_section=women_section,
        wheelchair=wheelchair,
        unavailable=unavailable,
        has_live_appointment=has_live_appointment,
    )


def places(result: AllocationResult) -> dict[int, tuple[int, int]]:
    return {p.case_id: (p.slot_id, p.seat) for p in result.placements}


def reasons(result: AllocationResult) -> dict[int, UnplacedReason]:
    return {u.case_id: u.reason for u in result.unplaced}


# The oracle: the rule written as plainly as it can be, with nothing from
# scheduler.allocation but its data types. Every request scans every seat left.

RIYADH_OFFSET = timezone(timedelta(hours=3))  # Saudi Arabia keeps UTC+3 all year


def compatible(s: OpenSeat, w: Waiting, now: datetime) -> bool:
    """Whether the request may take the seat, ignoring who else wants it."""
    if s.locked:
        return False
    if s.mode != w.mode or s.branch != w.branch:
        return False
    if s.women_section != w.women_section:
        return False
    if w.wheelchair and not s.accessible:
        return False
    if s.starts_at - now < timedelta(days=3):
        return False
    return s.starts_at.astimezone(RIYADH_OFFSET).date() not in w.unavailable


def oracle(
    seats: Sequence[OpenSeat], waiting: Sequence[Waiting], now: datetime
) -> tuple[dict[int, tuple[int, int]], dict[int, UnplacedReason]]:
    """The brute-force allocation: ({case_id: (slot_id, seat)}, {case_id: reason})."""
    queue = sorted(waiting, key=lambda w: (-w.score, w.submitted_at, w.tracking_number))
    holders = {w.applicant_id for w in waiting if w.has_live_appointment}
    free = list(seats)
    placed: dict[int, tuple[int, int]] = {}
    left: dict[int, UnplacedReason] = {}
    served: set[int] = set()
    for w in queue:
        if w.applicant_id in holders:
            left[w.case_id] = UnplacedReason.ALREADY_HAS_APPOINTMENT
            continue
        if w.applicant_id in served:
            left[w.case_id] = UnplacedReason.DUPLICATE_APPLICANT
            continue
        fits = [s for s in free if compatible(s, w, now)]
        if not fits:
            left[w.case_id] = UnplacedReason.NO_COMPATIBLE_SEAT
            continue
        chosen = min(fits, key=lambda s: (s.starts_at, s.slot_id, s.seat))
        free.remove(chosen)
        placed[w.case_id] = (chosen.slot_id, chosen.seat)
        served.add(w.applicant_id)
    return placed, left


# --- each rule on its own ---


def test_mode_must_match() -> None:
    seats = [seat(1, at=SUNDAY, mode=Mode.VIDEO), seat(2, at=SUNDAY + timedelta(hours=1), mode=Mode.IN_PERSON)]
    result = allocate(seats, [request(1, mode=Mode.IN_PERSON), request(2, mode=Mode.VIDEO)], NOW)
    assert places(result) == {1: (2, 0), 2: (1, 0)}


def test_branch_must_match() -> None:
    seats = [seat(1, branch="jeddah"), seat(2, at=SUNDAY + timedelta(days=7), branch="riyadh")]
    result = allocate(seats, [request(1, branch="riyadh", score=500)], NOW)
    assert places(result) == {1: (2, 0)}


def test_a_womens_video_audience_takes_only_a_womens_section_room() -> None:
    seats = [
        seat(1, at=SUNDAY, mode=Mode.VIDEO),
        seat(2, at=SUNDAY + timedelta(days=2), mode=Mode.VIDEO, women_section=True),
    ]
    result = allocate(seats, [request(1, mode=Mode.VIDEO, women_section=True)], NOW)
    assert places(result) == {1: (2, 0)}


def test_a_womens_section_room_is_never_given_to_anyone_else() -> None:
    seats = [seat(1, mode=Mode.VIDEO, women_section=True)]
    result = allocate(seats, [request(1, mode=Mode.VIDEO, women_section=False)], NOW)
    assert places(result) == {}
    assert reasons(result) == {1: UnplacedReason.NO_COMPATIBLE_SEAT}


def test_a_wheelchair_user_only_in_an_accessible_hall() -> None:
    seats = [seat(1, at=SUNDAY), seat(2, at=SUNDAY + timedelta(minutes=8), accessible=True)]
    result = allocate(seats, [request(1, wheelchair=True)], NOW)
    assert places(result) == {1: (2, 0)}
    assert result.placements[0].explanation == (
        "score 100.0, rank 1 of 1; earliest compatible seat: "
        "in person, riyadh, accessible hall, 2026-11-29 10:08 Riyadh; none placed before it"
    )


def test_anyone_else_takes_the_earliest_hall_accessible_or_not() -> None:
    seats = [seat(1, at=SUNDAY + timedelta(minutes=8)), seat(2, at=SUNDAY, accessible=True)]
    result = allocate(seats, [request(1, score=300), request(2, score=200)], NOW)
    assert places(result) == {1: (2, 0), 2: (1, 0)}


def test_notice_of_exactly_three_days_is_enough_and_a_moment_less_is_not() -> None:
    assert SOON - NOW == MIN_NOTICE
    just_too_soon = seat(1, at=SOON - timedelta(microseconds=1))
    exactly = seat(2, at=SOON)
    result = allocate([just_too_soon, exactly], [request(1, score=300), request(2, score=200)], NOW)
    assert places(result) == {1: (2, 0)}
    assert reasons(result) == {2: UnplacedReason.NO_COMPATIBLE_SEAT}


def test_unavailable_dates_are_riyadh_dates() -> None:
    # 21:30 UTC on 30 November is 00:30 on 1 December in Riyadh.
    late = seat(1, at=datetime(2026, 11, 30, 21, 30, tzinfo=UTC))
    later = seat(2, at=datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    away_1st = request(1, unavailable=frozenset({date(2026, 12, 1)}))
    assert places(allocate([late, later], [away_1st], NOW)) == {1: (2, 0)}
    away_30th = request(1, unavailable=frozenset({date(2026, 11, 30)}))
    assert places(allocate([late, later], [away_30th], NOW)) == {1: (1, 0)}


def test_a_seat_passed_over_for_a_date_stays_free_for_the_next_request() -> None:
    day = date(2026, 11, 29)
    seats = [seat(1, 0), seat(1, 1), seat(2, at=SUNDAY + timedelta(days=7))]
    waiting = [request(1, score=300, unavailable=frozenset({day})), request(2, score=200), request(3, score=100)]
    result = allocate(seats, waiting, NOW)
    assert places(result) == {1: (2, 0), 2: (1, 0), 3: (1, 1)}
    assert result.placements[0].explanation == (
        "score 300.0, rank 1 of 3; earliest compatible seat: in person, riyadh, 2026-12-06 10:00 Riyadh; "
        "seats on the applicant's unavailable days passed over; none placed before it"
    )
    assert "unavailable" not in result.placements[1].explanation


def test_locked_sessions_are_never_filled() -> None:
    seats = [seat(1, locked=True), seat(2, at=SUNDAY + timedelta(days=7))]
    assert places(allocate(seats, [request(1)], NOW)) == {1: (2, 0)}
    assert reasons(allocate(seats[:1], [request(1)], NOW)) == {1: UnplacedReason.NO_COMPATIBLE_SEAT}


def test_one_appointment_per_applicant() -> None:
    seats = [seat(1, 0), seat(1, 1)]
    waiting = [request(1, applicant_id=7, score=300), request(2, applicant_id=7, score=200)]
    result = allocate(seats, waiting, NOW)
    assert places(result) == {1: (1, 0)}
    assert reasons(result) == {2: UnplacedReason.DUPLICATE_APPLICANT}


def test_a_request_without_a_seat_leaves_the_applicant_free_for_another() -> None:
    seats = [seat(1, mode=Mode.IN_PERSON)]
    waiting = [request(1, applicant_id=7, score=300, mode=Mode.VIDEO), request(2, applicant_id=7, score=200)]
    result = allocate(seats, waiting, NOW)
    assert places(result) == {2: (1, 0)}
    assert reasons(result) == {1: UnplacedReason.NO_COMPATIBLE_SEAT}


def test_an_applicant_holding_a_live_appointment_gets_nothing_more() -> None:
    seats = [seat(1, 0), seat(1, 1)]
    waiting = [request(1, applicant_id=7, has_live_appointment=True), request(2, applicant_id=7), request(3)]
    result = allocate(seats, waiting, NOW)
    assert places(result) == {3: (1, 0)}
    assert reasons(result) == {
        1: UnplacedReason.ALREADY_HAS_APPOINTMENT,
        2: UnplacedReason.ALREADY_HAS_APPOINTMENT,
    }


# --- order and explanation ---


def test_higher_score_takes_the_earlier_seat_whatever_the_input_order() -> None:
    seats = [seat(2, at=SUNDAY + timedelta(minutes=8)), seat(1, at=SUNDAY)]
    waiting = [request(1, score=150.0), request(2, score=312.5), request(3, score=90.0)]
    result = allocate(seats, waiting, NOW)
    assert places(result) == {2: (1, 0), 1: (2, 0)}
    assert [p.case_id for p in result.placements] == [2, 1]
    assert [(p.rank, p.ahead) for p in result.placements] == [(1, 0), (2, 1)]
    assert reasons(result) == {3: UnplacedReason.NO_COMPATIBLE_SEAT}
    assert places(allocate(list(reversed(seats)), list(reversed(waiting)), NOW)) == places(result)


def test_equal_scores_go_to_the_earlier_submission_then_the_tracking_number() -> None:
    seats = [seat(1, 0), seat(1, 1), seat(1, 2)]
    earlier = NOW - timedelta(days=2)
    waiting = [
        request(1, tracking_number="26-000300-0"),
        request(2, tracking_number="26-000200-0"),
        request(3, tracking_number="26-000900-0", submitted_at=earlier),
    ]
    assert places(allocate(seats, waiting, NOW)) == {3: (1, 0), 2: (1, 1), 1: (1, 2)}


def test_seats_at_the_same_moment_go_by_slot_id_then_seat_number() -> None:
    seats = [seat(5, 0), seat(3, 1), seat(3, 0)]
    waiting = [request(1, score=300), request(2, score=200), request(3, score=100)]
    assert places(allocate(seats, waiting, NOW)) == {1: (3, 0), 2: (3, 1), 3: (5, 0)}


def test_the_order_is_the_priority_queue() -> None:
    entries = [
        QueueEntry("26-000001-7", NOW - timedelta(days=23), Urgency.NORMAL, 0),
        QueueEntry("26-000002-0", NOW, Urgency.CRITICAL, 30),
        QueueEntry("26-000003-1", NOW - timedelta(days=2), Urgency.URGENT, 10),
        QueueEntry("26-000004-9", NOW - timedelta(days=2), Urgency.URGENT, 10),
        QueueEntry("26-000005-3", NOW - timedelta(hours=5), Urgency.NORMAL, 20),
    ]
    waiting = [
        request(
            case_id,
            tracking_number=entry.tracking_number,
            submitted_at=entry.submitted_at,
            score=priority_score(
                urgency=entry.urgency, category_weight=entry.category_weight, waited=NOW - entry.submitted_at
            ),
        )
        for case_id, entry in enumerate(entries, start=1)
    ]
    queue = [w.tracking_number for w in sorted(waiting, key=priority_key)]
    assert queue == [e.tracking_number for e in order(entries, NOW)]
    seats = [seat(1, number) for number in range(len(entries))]
    placed = [p.case_id for p in allocate(seats, waiting, NOW).placements]
    assert [waiting[case_id - 1].tracking_number for case_id in placed] == queue


def test_the_explanation_says_score_rank_seat_and_who_went_first() -> None:
    seats = [
        seat(1, 0, mode=Mode.VIDEO, women_section=True, at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        seat(1, 1, mode=Mode.VIDEO, women_section=True, at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
    ]
    waiting = [
        request(1, score=400, mode=Mode.VIDEO, women_section=True),
        request(2, score=312.5, mode=Mode.VIDEO, women_section=True),
        request(3, score=100),
    ]
    first, second = allocate(seats, waiting, NOW).placements
    assert first.explanation == (
        "score 400.0, rank 1 of 3; earliest compatible seat: "
        "video, riyadh, women's section, 2026-12-01 11:00 Riyadh; none placed before it"
    )
    assert second.explanation == (
        "score 312.5, rank 2 of 3; earliest compatible seat: "
        "video, riyadh, women's section, 2026-12-01 11:00 Riyadh; 1 placed before it, all higher in priority order"
    )
    assert (second.score, second.rank, second.ahead, second.starts_at) == (312.5, 2, 1, seats[1].starts_at)


# --- what the input must be ---


def test_nothing_to_do() -> None:
    assert allocate([], [], NOW) == AllocationResult((), ())
    assert reasons(allocate([], [request(1)], NOW)) == {1: UnplacedReason.NO_COMPATIBLE_SEAT}


def test_the_input_is_checked() -> None:
    # Anchored: the messages are what a developer reads when a caller gets it wrong.
    with pytest.raises(ValueError, match=r"^now must be timezone-aware$"):
        allocate([], [], NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match=r"^now must be timezone-aware$"):
        seat_refusal(seat(), request(), NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match=r"^seat 0 of slot 1 is given twice$"):
        allocate([seat(1, 0), seat(1, 0, at=SUNDAY + timedelta(days=1))], [], NOW)
    with pytest.raises(ValueError, match=r"^a case is in the waiting list twice$"):
        allocate([], [request(1), request(1, applicant_id=2)], NOW)
    with pytest.raises(ValueError, match=r"^starts_at must be timezone-aware$"):
        seat(at=SUNDAY.replace(tzinfo=None))
    with pytest.raises(ValueError, match=r"^seat numbers start at 0$"):
        seat(number=-1)
    with pytest.raises(ValueError, match=r"^submitted_at must be timezone-aware$"):
        request(submitted_at=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match=r"^score nan is not a finite number$"):
        request(score=float("nan"))


# --- against the oracle ---

# Few distinct values, so that ties, clashes and boundaries are common: starts
# around the 3-day cutoff, on both sides of Riyadh midnight (21:00 UTC), several
# at one moment.
STARTS = (
    SOON - timedelta(hours=1),
    SOON,
    SOON + timedelta(minutes=8),
    datetime(2026, 11, 23, 20, 59, tzinfo=UTC),  # 23:59 on the 23rd in Riyadh
    datetime(2026, 11, 23, 21, 0, tzinfo=UTC),  # 00:00 on the 24th in Riyadh
    datetime(2026, 11, 24, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 25, 22, 0, tzinfo=UTC),
)
DAYS = tuple(date(2026, 11, day) for day in range(22, 28))
BRANCHES = ("riyadh", "riyadh", "jeddah")
RARELY = (False, False, False, True)

seats_strategy = st.lists(
    st.builds(
        OpenSeat,
        slot_id=st.integers(min_value=1, max_value=4),
        seat=st.integers(min_value=0, max_value=2),
        starts_at=st.sampled_from(STARTS),
        mode=st.sampled_from(Mode),
        branch=st.sampled_from(BRANCHES),
        women_section=st.sampled_from((False, False, True)),
        accessible=st.booleans(),
        locked=st.sampled_from(RARELY),
    ),
    max_size=12,
    unique_by=lambda s: (s.slot_id, s.seat),
)


@st.composite
def waiting_strategy(draw: st.DrawFn, max_size: int = 10) -> list[Waiting]:
    count = draw(st.integers(min_value=0, max_value=max_size))
    serials = draw(st.lists(st.integers(min_value=1, max_value=99), min_size=count, max_size=count, unique=True))
    return [
        Waiting(
            case_id=case_id,
            tracking_number=f"26-{serial:06d}-0",
            applicant_id=draw(st.integers(min_value=1, max_value=count + 2)),  # some share an applicant
            score=draw(st.sampled_from((100.0, 150.5, 300.0))),
            submitted_at=draw(st.sampled_from((NOW - timedelta(days=5), NOW - timedelta(days=1)))),
            mode=draw(st.sampled_from(Mode)),
            branch=draw(st.sampled_from(BRANCHES)),
            women_section=draw(st.sampled_from((False, False, True))),
            wheelchair=draw(st.sampled_from(RARELY)),
            unavailable=draw(st.frozensets(st.sampled_from(DAYS), max_size=3)),
            has_live_appointment=draw(st.sampled_from((False, False, False, False, True))),
        )
        for case_id, serial in enumerate(serials, start=1)
    ]


@settings(max_examples=300, deadline=None)
@given(seats_strategy, waiting_strategy(), st.randoms(use_true_random=False))
def test_the_allocation_is_the_brute_force_oracles(
    seats: list[OpenSeat], waiting: list[Waiting], shuffler: random.Random
) -> None:
    shuffler.shuffle(seats)  # input order must not matter
    shuffler.shuffle(waiting)
    result = allocate(seats, waiting, NOW)
    expected_places, expected_reasons = oracle(seats, waiting, NOW)
    assert places(result) == expected_places
    assert reasons(result) == expected_reasons
    assert [p.ahead for p in result.placements] == list(range(len(result.placements)))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.builds(
            seat,
            slot_id=st.integers(min_value=1, max_value=20),
            number=st.integers(min_value=0, max_value=5),
            at=st.sampled_from(STARTS),
            accessible=st.booleans(),
            locked=st.sampled_from(RARELY),
        ),
        max_size=60,
        unique_by=lambda s: (s.slot_id, s.seat),
    ),
    waiting_strategy(max_size=40),
)
def test_under_heavy_contention_too(seats: list[OpenSeat], waiting: list[Waiting]) -> None:
    # One mode and branch for every seat and request: long runs of taken seats
    # and skipped days inside one group, where the next-free chains do their work.
    same = [dataclasses.replace(w, mode=Mode.IN_PERSON, branch="riyadh", women_section=False) for w in waiting]
    assert places(allocate(seats, same, NOW)) == oracle(seats, same, NOW)[0]
