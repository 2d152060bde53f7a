from __future__ import annotations

import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from priority.score import (
    CATEGORY_WEIGHTS,
    DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL,
    IMPLIED_URGENCY,
    MAX_CATEGORY_WEIGHT,
    URGENCY_POINTS,
    WAITING_TARGET_DAYS,
    QueueEntry,
    Urgency,
    category_weight,
    order,
    priority_score,
    sort_key,
)

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
BANDS = (Urgency.CRITICAL, Urgency.URGENT, Urgency.NORMAL)  # most urgent first

weights = st.integers(min_value=0, max_value=MAX_CATEGORY_WEIGHT)
urgencies = st.sampled_from(Urgency)
# Up to ten years, to the microsecond; far past any real wait.
waits = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650))
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 6, 1), timezones=st.just(UTC))


def entries(moment: st.SearchStrategy[datetime] = moments) -> st.SearchStrategy[list[QueueEntry]]:
    """Lists of queue entries with distinct tracking numbers."""
    entry = st.builds(
        QueueEntry,
        tracking_number=st.integers(min_value=1, max_value=999_999).map(lambda serial: f"26-{serial:06d}-0"),
        submitted_at=moment,
        urgency=urgencies,
        category_weight=weights,
    )
    return st.lists(entry, max_size=20, unique_by=lambda e: e.tracking_number)


def score(entry: QueueEntry, now: datetime = NOW) -> float:
    return -sort_key(entry, now)[0]


def test_seeded_categories_and_their_urgency() -> None:
    assert set(CATEGORY_WEIGHTS) == set(IMPLIED_URGENCY)
    assert IMPLIED_URGENCY["qisas"] is IMPLIED_URGENCY["security"] is Urgency.CRITICAL
    assert max(CATEGORY_WEIGHTS.values()) == MAX_CATEGORY_WEIGHT
    assert category_weight("qisas") == MAX_CATEGORY_WEIGHT
    assert category_weight("general") == 0


def test_the_seeded_weights_and_urgencies_are_the_source_documents_and_the_migrations() -> None:
    seeded = {
        "qisas": (30, Urgency.CRITICAL),
        "security": (30, Urgency.CRITICAL),
        "detention_legal": (20, Urgency.URGENT),
        "humanitarian_medical": (20, Urgency.URGENT),
        "family_personal_status": (10, Urgency.NORMAL),
        "employment": (10, Urgency.NORMAL),
        "housing": (10, Urgency.NORMAL),
        "general": (0, Urgency.NORMAL),
    }
    assert {code: (category_weight(code), IMPLIED_URGENCY[code]) for code in CATEGORY_WEIGHTS} == seeded
    # The migration that seeded the database's managed list carries its own copy (a migration never imports
    # the code it would outlive): the two must not drift apart.
    migration = importlib.import_module("migrations.versions.0002_triage")
    assert {code: (weight, Urgency(urgency)) for code, _ar, _en, weight, urgency in migration.CATEGORIES} == seeded


def test_a_category_added_later_weighs_nothing() -> None:
    assert category_weight("new_managed_category") == 0


@given(weights, weights, waits)
def test_at_equal_waiting_critical_beats_urgent_beats_normal(higher: int, lower: int, waited: timedelta) -> None:
    for above, below in itertools.pairwise(BANDS):
        assert priority_score(urgency=above, category_weight=lower, waited=waited) > priority_score(
            urgency=below, category_weight=higher, waited=waited
        )


@given(urgencies, weights, waits, waits)
def test_score_never_falls_as_waiting_grows(urgency: Urgency, weight: int, a: timedelta, b: timedelta) -> None:
    shorter, longer = sorted((a, b))
    assert priority_score(urgency=urgency, category_weight=weight, waited=shorter) <= priority_score(
        urgency=urgency, category_weight=weight, waited=longer
    )


@given(urgencies, weights, st.timedeltas(max_value=timedelta(0)))
def test_negative_waiting_counts_as_zero(urgency: Urgency, weight: int, waited: timedelta) -> None:
    assert priority_score(urgency=urgency, category_weight=weight, waited=waited) == priority_score(
        urgency=urgency, category_weight=weight, waited=timedelta(0)
    )


def test_a_request_stamped_after_now_is_scored_as_just_arrived() -> None:
    stamped_ahead = QueueEntry("26-000001-4", NOW + timedelta(hours=1), Urgency.URGENT, 20)
    assert score(stamped_ahead) == URGENCY_POINTS[Urgency.URGENT] + 20
    # 219 + 0.8 points: behind 220, yet ahead of the 219.58 an hour's negative wait would give.
    waited_a_little = QueueEntry("26-000002-1", NOW - timedelta(hours=1.92), Urgency.URGENT, 19)
    assert order([waited_a_little, stamped_ahead], NOW) == [stamped_ahead, waited_a_little]


def test_a_wait_under_a_second_counts_too() -> None:
    # Half a second is 1/17,280 of a point: enough to put a weight-1 request just arrived ahead of a weight-0 one
    # that has waited 2.4 hours and a tenth of a second (one point and 1/86,400 of one).
    assert priority_score(urgency=Urgency.NORMAL, category_weight=1, waited=timedelta(seconds=0.5)) == 101 + 1 / 17_280
    just_arrived = QueueEntry("26-000001-4", NOW - timedelta(seconds=0.5), Urgency.NORMAL, 1)
    waited_longer = QueueEntry("26-000002-1", NOW - timedelta(hours=2.4, seconds=0.1), Urgency.NORMAL, 0)
    assert order([waited_longer, just_arrived], NOW) == [just_arrived, waited_longer]


def test_the_score_is_band_plus_weight_plus_ten_a_day() -> None:
    waited = timedelta(days=2, hours=12)
    assert priority_score(urgency=Urgency.NORMAL, category_weight=10, waited=waited) == 100 + 10 + 25


@pytest.mark.parametrize("weight", [-1, MAX_CATEGORY_WEIGHT + 1])
def test_a_weight_that_could_jump_a_band_is_refused(weight: int) -> None:
    with pytest.raises(ValueError, match="category weight"):
        priority_score(urgency=Urgency.NORMAL, category_weight=weight, waited=timedelta(0))
    with pytest.raises(ValueError, match="category weight"):
        QueueEntry("26-000001-4", NOW, Urgency.NORMAL, weight)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^submitted_at must be timezone-aware$"):
        QueueEntry("26-000001-4", NOW.replace(tzinfo=None), Urgency.NORMAL, 0)
    with pytest.raises(ValueError, match=r"^now must be timezone-aware$"):
        order([], NOW.replace(tzinfo=None))


@given(entries(), st.data())
def test_order_is_the_same_whatever_the_input_order(queue: list[QueueEntry], data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(queue))
    assert order(shuffled, NOW) == order(queue, NOW)


# Few distinct moments and weights, so that equal scores are common.
crowded = entries(st.sampled_from([NOW - timedelta(days=days) for days in (-0.05, 0, 0.08, 1, 10, 20)]))


@given(crowded)
def test_each_entry_is_strictly_ahead_of_the_next(queue: list[QueueEntry]) -> None:
    ordered = order(queue, NOW)
    assert ordered == sorted(queue, key=lambda entry: sort_key(entry, NOW))
    for ahead, behind in itertools.pairwise(ordered):
        if score(ahead) == score(behind):
            assert (ahead.submitted_at, ahead.tracking_number) < (behind.submitted_at, behind.tracking_number)
        else:
            assert score(ahead) > score(behind)


def test_equal_scores_go_by_submission_time_then_tracking_number() -> None:
    # Normal weight 0 after 10 days = 200 = urgent weight 0 just arrived = normal weight 10 after 9 days.
    older = QueueEntry("26-000009-1", NOW - timedelta(days=10), Urgency.NORMAL, 0)
    newest_b = QueueEntry("26-000002-1", NOW, Urgency.URGENT, 0)
    newest_a = QueueEntry("26-000001-4", NOW, Urgency.URGENT, 0)
    middle = QueueEntry("26-000005-9", NOW - timedelta(days=9), Urgency.NORMAL, 10)
    queue = [newest_b, middle, newest_a, older]
    assert len({score(entry) for entry in queue}) == 1
    assert order(queue, NOW) == [older, middle, newest_a, newest_b]


def test_the_turnover_comes_inside_the_target() -> None:
    assert DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL == 23
    assert DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL < WAITING_TARGET_DAYS


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
def test_after_the_turnover_a_normal_request_outranks_any_new_one(extra: timedelta) -> None:
    waited = timedelta(days=DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL) + extra
    old_general = QueueEntry("26-000002-1", NOW - waited, Urgency.NORMAL, category_weight("general"))
    new_qisas = QueueEntry("26-000001-4", NOW, Urgency.CRITICAL, category_weight("qisas"))
    assert order([new_qisas, old_general], NOW) == [old_general, new_qisas]


def test_just_before_the_turnover_the_new_critical_request_goes_first() -> None:
    waited = timedelta(days=DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL) - timedelta(minutes=1)
    old_general = QueueEntry("26-000002-1", NOW - waited, Urgency.NORMAL, 0)
    new_qisas = QueueEntry("26-000001-4", NOW, Urgency.CRITICAL, MAX_CATEGORY_WEIGHT)
    assert order([old_general, new_qisas], NOW) == [new_qisas, old_general]


# The simulation: a year of a queue heard at a fixed number of audiences a day.


@dataclass(frozen=True, slots=True)
class Arrivals:
    """How many requests of each kind come in each day."""

    critical_qisas: int
    urgent_detention: int
    normal_general: int


def simulate(
    *,
    days: int,
    per_day: int,
    arrivals: Arrivals,
    backlog: int,
    arrange: Callable[[list[QueueEntry], datetime], list[QueueEntry]],
) -> dict[Urgency, timedelta]:
    """The longest wait of each urgency from arrival to audience, over `days` days.

    `arrange` puts the waiting requests in the order they are heard at a moment.
    """
    start = datetime(2026, 1, 1, tzinfo=UTC)
    serials = itertools.count(1)
    waiting: list[QueueEntry] = []
    longest = dict.fromkeys(Urgency, timedelta(0))

    def arrive(at: datetime, urgency: Urgency, weight: int) -> None:
        waiting.append(QueueEntry(f"26-{next(serials):06d}-0", at, urgency, weight))

    for _ in range(backlog):
        arrive(start, Urgency.NORMAL, 0)
    for day in range(days):
        morning = start + timedelta(days=day)
        # Arrivals are spread over the night before the day's audiences.
        for hour in range(arrivals.critical_qisas):
            arrive(morning + timedelta(hours=hour), Urgency.CRITICAL, MAX_CATEGORY_WEIGHT)
        for hour in range(arrivals.urgent_detention):
            arrive(morning + timedelta(hours=hour), Urgency.URGENT, 20)
        for hour in range(arrivals.normal_general):
            arrive(morning + timedelta(hours=hour), Urgency.NORMAL, 0)
        hearing = morning + timedelta(hours=23)
        waiting = arrange(waiting, hearing)
        for heard in waiting[:per_day]:
            longest[heard.urgency] = max(longest[heard.urgency], hearing - heard.submitted_at)
        del waiting[:per_day]
    assert len(waiting) < per_day, "the simulation must end with the backlog cleared"
    return longest


# 19 arrivals a day for 20 audiences, 12 of them new critical cases every day,
# and 150 normal requests already waiting on the first morning (7.5 days of
# audiences). Heard by score, the longest wait is about 25 days; heard by band
# alone, the backlog gets the one spare audience a day and waits about 39.
BUSY_OFFICE = Arrivals(critical_qisas=12, urgent_detention=4, normal_general=3)
BACKLOG = 150


def test_with_capacity_to_spare_every_request_is_heard_within_the_target() -> None:
    longest = simulate(days=365, per_day=20, arrivals=BUSY_OFFICE, backlog=BACKLOG, arrange=order)
    target = timedelta(days=WAITING_TARGET_DAYS)
    assert all(wait <= target for wait in longest.values()), longest
    assert longest[Urgency.CRITICAL] < longest[Urgency.NORMAL]


def test_without_aging_the_same_office_leaves_normal_requests_waiting_past_the_target() -> None:
    # The control: urgency and category alone, as a plain priority queue would.
    def by_band(waiting: list[QueueEntry], _now: datetime) -> list[QueueEntry]:
        return sorted(
            waiting,
            key=lambda e: (-URGENCY_POINTS[e.urgency] - e.category_weight, e.submitted_at, e.tracking_number),
        )

    longest = simulate(days=365, per_day=20, arrivals=BUSY_OFFICE, backlog=BACKLOG, arrange=by_band)
    assert longest[Urgency.NORMAL] > timedelta(days=WAITING_TARGET_DAYS)
