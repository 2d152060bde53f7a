"""quality.figures: the one rule for shares (held back when the hits or the misses are 1 to 4), and the median and
percentile definitions PostgreSQL computes alike."""

from __future__ import annotations

import statistics

import pytest

from quality.figures import RateRow, median, percentile, rate_row, share


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
    assert rate_row("all", 13, 2) == RateRow("all", 13, None, None)
    assert rate_row("all", 13, 11) == RateRow("all", 13, None, None)
    assert rate_row("all", 13, 6) == RateRow("all", 13, 6, 0.4615)
    assert rate_row("all", 3, 0) == RateRow("all", None, None, None)
    assert rate_row("all", 0, 0) == RateRow("all", 0, 0, None)


def test_the_median_and_the_percentile() -> None:
    assert median([1.0, 2.0, 9.0]) == 2.0 and median([1.0, 2.0, 4.0, 9.0]) == 3.0
    assert median([0.1, 0.7]) == pytest.approx(statistics.median([0.1, 0.7]))
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 0.95) == 19.0 and percentile(values, 0.9) == 18.0 and percentile([7.0], 0.95) == 7.0
