"""quality.figures: the one rule for shares (held back when the hits or the misses are 1 to 4), secondary
suppression (no hidden cell comes back as the total less the others), and the median and percentile definitions
PostgreSQL computes alike."""

from __future__ import annotations

import itertools
import statistics
from datetime import date

import pytest

from quality.figures import (
    Dashboard,
    RateRow,
    ScorePoint,
    ServiceTime,
    median,
    percentile,
    rate_row,
    share,
    share_hidden,
    tallies_of,
    withheld,
    withheld_of,
    withhold_across,
    withhold_points,
)
from quality.periods import Span


@pytest.mark.parametrize(
    ("hits", "total", "published"),
    [
        (2, 13, None),  # 0.1538 × 13 = 2
        (11, 13, None),  # the 2 others
        (5, 13, 0.3846),
        (8, 13, 0.6154),
        (0, 13, 0.0),
        (13, 13, 1.0),
        (3, 3, None),
        (0, 4, None),
        (0, 0, None),
        (0, 5, 0.0),
        (4, 9, None),
    ],
)
def test_a_share_is_published_only_when_neither_side_is_one_to_four(
    hits: int, total: int, published: float | None
) -> None:
    assert share(hits, total) == published


def test_a_rate_row_holds_back_its_hits_with_its_rate() -> None:
    # 2 hits are fewer than 5; 11 of 13 are not, they are withheld (their 2 misses would come back).
    assert rate_row("all", 13, 2) == RateRow("all", 13, None, None, "fewer_than_5")
    assert rate_row("all", 13, 11) == RateRow("all", 13, None, None, "withheld")
    assert rate_row("all", 13, 6) == RateRow("all", 13, 6, 0.4615)
    assert rate_row("all", 3, 0) == RateRow("all", None, None, None, "fewer_than_5")
    assert rate_row("all", 0, 0) == RateRow("all", 0, 0, None)


def test_why_a_share_is_hidden() -> None:
    assert share_hidden(2, 13) == "fewer_than_5" and share_hidden(3, 3) == "fewer_than_5"
    # Not a group under 5: 11 of 13 are held back for the 2 misses.
    assert share_hidden(11, 13) == "withheld"
    assert share_hidden(6, 13) is None and share_hidden(0, 0) is None and share_hidden(0, 13) is None


def _recoverable(counts: list[int], hidden: set[int]) -> bool:
    """Whether a reader who knows the total and the shown cells can tell any hidden cell: the hidden ones' sum is
    known, so one hidden cell alone is told, and so are hidden ones adding up to 1 to 4 (each then lies in a
    range of 1 to 4 — a count the rule would not show)."""
    rest = sum(counts[i] for i in hidden)
    return bool(hidden) and (len(hidden) == 1 or rest < 5)


@pytest.mark.parametrize(
    ("counts", "more"),
    [
        ([20, 9, 3, 0], {1}),  # 3 alone would be 32 − 29: 9 goes with it
        ([20, 9, 6, 1, 1], {2}),  # 1 + 1 = 2: the smallest shown, 6, brings it to 8
        ([20, 9, 3, 4, 0], set()),  # 3 + 4 = 7 hidden: nothing to tell
        ([20, 9, 0], set()),  # nothing hidden
        ([4, 2, 0], set()),  # the total, 6, against 4 and 2 hidden: 6 in two cells, fine
        ([3, 0], set()),  # the total is 3 itself, hidden
        ([7, 7, 1], {0}),  # equals: the first
    ],
)
def test_secondary_suppression_withholds_the_smallest_shown_cells(counts: list[int], more: set[int]) -> None:
    assert withheld_of(counts) == more
    hidden = {i for i, n in enumerate(counts) if 0 < n < 5} | more
    if sum(counts) >= 5:
        assert not _recoverable(counts, hidden)


def test_no_group_of_small_counts_gives_a_hidden_cell_back() -> None:
    for counts in itertools.product((0, 1, 2, 4, 5, 6, 11), repeat=4):
        total = sum(counts)
        hidden = {i for i, n in enumerate(counts) if 0 < n < 5} | withheld_of(list(counts))
        if total >= 5:
            assert not _recoverable(list(counts), hidden), counts
        # Nothing is withheld that did not need to be: no small cell, nothing more.
        if not any(0 < n < 5 for n in counts):
            assert not withheld_of(list(counts))


def test_a_breakdown_says_why_each_count_is_hidden() -> None:
    tallies = tallies_of([("a", 20), ("b", 9), ("c", 3), ("d", 0)])
    assert [(t.key, t.count, t.hidden) for t in tallies] == [
        ("a", 20, None),
        ("b", None, "withheld"),
        ("c", None, "fewer_than_5"),
        ("d", 0, None),
    ]


def _point(day: int, count: int | None, mean: float | None = 4.0, negative: float | None = 0.0) -> ScorePoint:
    return ScorePoint(date(2026, 11, day), date(2026, 11, day), count, mean, negative)


def test_a_withheld_bucket_loses_its_mean_and_share_too() -> None:
    points = [_point(1, 10), _point(2, None, None, None), _point(3, 6)]
    out = withhold_points(points, [10, 2, 6], _point(1, 18, 4.0, 0.0))
    assert out[0] == points[0]
    assert (out[2].count, out[2].mean, out[2].negative, out[2].hidden) == (None, None, None, "withheld")


def test_a_share_withheld_in_one_bucket_is_not_the_whole_less_the_others() -> None:
    # 2 negatives of 10 on the 1st (withheld), 5 of 10 on the 2nd; 7 of 20 in all: 7 − 5 would tell the 2.
    points = [_point(1, 10, 3.0, None), _point(2, 10, 3.0, 0.5)]
    out = withhold_points(points, [10, 10], _point(1, 20, 3.0, 0.35))
    assert out[1].count == 10 and out[1].negative is None and out[1].mean == 3.0


def _board(total: int | None, ratings: int | None, negative: float | None = 0.0) -> Dashboard:
    span = Span("month", date(2026, 11, 1), date(2026, 11, 30), "2026-11")
    time = ServiceTime(count=0, mean_minutes=None, median_minutes=None, p90_minutes=None, within_aim=None)
    return Dashboard(
        span=span,
        branch_code=None,
        department_id=None,
        total_requests=total,
        requests={},
        waits=[],
        confirmations=[],
        no_shows=RateRow("all", 0, 0, None),
        referrals_on_time=RateRow("all", 0, 0, None),
        satisfaction=[],
        satisfaction_overall=_point(1, ratings, None if ratings is None else 4.0, negative),
        service_time=time,
    )


def test_two_branches_beside_everything_withhold_each_other() -> None:
    # Everything 30 requests: riyadh 27, jeddah 3 (hidden) — 30 − 27 would tell it.
    whole = _board(30, 20, 0.5)
    parts = withhold_across(whole, [_board(27, 17, 0.5294), _board(None, None, None)])
    assert (parts[0].total_requests, parts[0].total_hidden) == (None, "withheld")
    assert (parts[0].satisfaction_overall.count, parts[0].satisfaction_overall.hidden) == (None, "withheld")
    assert parts[0].satisfaction_overall.mean is None and parts[0].satisfaction_overall.negative is None
    # A share withheld in one branch (2 negatives of 13) is not everything's less the other's.
    whole = _board(40, 30, 0.2333)  # 7 negatives of 30
    parts = withhold_across(whole, [_board(20, 17, 0.2941), _board(20, 13, None)])  # 5 of 17; 2 of 13
    assert parts[0].satisfaction_overall.count == 17 and parts[0].satisfaction_overall.negative is None
    assert parts[0].total_requests == 20
    # Nothing hidden, nothing withheld.
    whole = _board(40, 30, 0.5)
    parts = withhold_across(whole, [_board(20, 20, 0.5), _board(20, 10, 0.5)])
    assert parts == [_board(20, 20, 0.5), _board(20, 10, 0.5)]


def test_withheld_works_from_what_a_reader_can_subtract() -> None:
    # Unbranched requests: everything 33 = 27 + 3 (hidden) + 3 without a branch; the reader gets 6 from 33 − 27,
    # 3 + 3 — still one hidden cell, whose true value the reader can bound: withhold 27 too.
    assert withheld([27, None], 33 - 27) == {0}
    assert withheld([27, 9, None, None], 7) == set()


def test_the_median_and_the_percentile() -> None:
    assert median([1.0, 2.0, 9.0]) == 2.0 and median([1.0, 2.0, 4.0, 9.0]) == 3.0
    assert median([0.1, 0.7]) == pytest.approx(statistics.median([0.1, 0.7]))
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0 and percentile(values, 0.9) == 18.0 and percentile([7.0], 0.95) == 7.0
