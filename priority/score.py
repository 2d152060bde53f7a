"""The priority score: who is next in the queue for an audience, and why.

A request's score, in points, is the sum of three parts:

    score = urgency points + category weight + aging points per day waited

- **Urgency** puts each request in a band: critical 300, urgent 200, normal 100.
  The bands are 100 points apart, wider than the largest category bonus (30), so
  at equal waiting time every critical request is ahead of every urgent one, and
  every urgent one ahead of every normal one, whatever their categories. The
  category only orders requests *within* a band.
- **Category weight** is a small bonus from the category's row (0 to 30): among
  requests equally urgent and equally old, a retribution (qisas) case goes ahead
  of a housing one.
- **Waiting time** adds 10 points per day since submission. Without it a normal
  request could wait for ever behind a steady stream of new urgent ones
  (starvation). With it, a normal request of the lowest category that has waited
  23 days scores 100 + 230 = 330, as much as a brand-new critical request of the
  highest category (300 + 30), and ties go to the earlier submission; from then on
  no new arrival can pass it. Since every request gains points at the same rate,
  two requests already waiting never change places: only newcomers can be put
  ahead of a request, and after 23 days none can, so the line ahead of it only
  shrinks. With more audiences a day than arrivals it reaches the head inside the
  30-day target (tests/priority/test_score.py simulates such a queue).

Requests with equal scores are ordered by submission time, then by tracking
number, which is unique, so the order is a strict total order: the same requests
give the same queue on every run, whatever order they were read in.

Everything here is pure: the caller passes the current time, nothing reads a
clock or a database.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final


class Urgency(enum.StrEnum):
    CRITICAL = "critical"
    URGENT = "urgent"
    NORMAL = "normal"


# The seeded categories. Categories become a managed list in the database, each
# with its own weight; these are the starting values and the weight of record
# for code that has no database row at hand.
CATEGORY_WEIGHTS: Final[Mapping[str, int]] = MappingProxyType(
    {
        "qisas": 30,  # retribution: a life may depend on the hearing
        "security": 30,  # a security matter of national concern
        "detention_legal": 20,
        "humanitarian_medical": 20,
        "family_personal_status": 10,
        "employment": 10,
        "housing": 10,
        "general": 0,
    }
)

IMPLIED_URGENCY: Final[Mapping[str, Urgency]] = MappingProxyType(
    {
        "qisas": Urgency.CRITICAL,
        "security": Urgency.CRITICAL,
        "detention_legal": Urgency.URGENT,
        "humanitarian_medical": Urgency.URGENT,
        "family_personal_status": Urgency.NORMAL,
        "employment": Urgency.NORMAL,
        "housing": Urgency.NORMAL,
        "general": Urgency.NORMAL,
    }
)

# A managed category may not weigh more than this, or it could jump a band.
MAX_CATEGORY_WEIGHT: Final = 30

# Bands 100 apart: wider than MAX_CATEGORY_WEIGHT, so at equal waiting time the
# worst critical (300 + 0) still beats the best urgent (200 + 30), and likewise
# urgent over normal.
URGENCY_POINTS: Final[Mapping[Urgency, int]] = MappingProxyType(
    {Urgency.CRITICAL: 300, Urgency.URGENT: 200, Urgency.NORMAL: 100}
)

# Aging. A normal request of weight 0 overtakes the newest critical request of
# the heaviest category once 100 + 10·W ≥ 300 + 30, that is after W = 23 days
# (at exactly 23 the scores tie and the earlier submission goes first). 23 days
# leaves a week of the 30-day target to clear whatever was already ahead of it.
POINTS_PER_DAY: Final = 10

WAITING_TARGET_DAYS: Final = 30

# Days after which no new arrival, however urgent, can be put ahead of a request.
DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL: Final[float] = (
    URGENCY_POINTS[Urgency.CRITICAL] + MAX_CATEGORY_WEIGHT - URGENCY_POINTS[Urgency.NORMAL]
) / POINTS_PER_DAY

_SECONDS_PER_DAY: Final = 86_400
# Dividing by this (8640 s, exact) keeps whole days at whole points: 10 days are
# exactly 100.0, so equal scores are really equal and fall to the tie-breakers.
_SECONDS_PER_POINT: Final = _SECONDS_PER_DAY / POINTS_PER_DAY

assert all(0 <= weight <= MAX_CATEGORY_WEIGHT for weight in CATEGORY_WEIGHTS.values())
assert set(IMPLIED_URGENCY) == set(CATEGORY_WEIGHTS)
assert URGENCY_POINTS[Urgency.CRITICAL] - URGENCY_POINTS[Urgency.URGENT] > MAX_CATEGORY_WEIGHT
assert URGENCY_POINTS[Urgency.URGENT] - URGENCY_POINTS[Urgency.NORMAL] > MAX_CATEGORY_WEIGHT
assert DAYS_TO_OUTRANK_ANY_NEW_ARRIVAL < WAITING_TARGET_DAYS


def category_weight(code: str) -> int:
    """The seeded weight of a category; 0 for a category added to the managed list since."""
    return CATEGORY_WEIGHTS.get(code, 0)


def _check_weight(weight: int) -> None:
    if not 0 <= weight <= MAX_CATEGORY_WEIGHT:
        raise ValueError(f"category weight {weight} is outside 0..{MAX_CATEGORY_WEIGHT}")


def priority_score(*, urgency: Urgency, category_weight: int, waited: timedelta) -> float:
    """The points of a request: urgency band + category weight + 10 per day waited.

    A negative wait (a submission stamped slightly ahead of this machine's clock)
    counts as zero, so the score never falls as time passes.
    """
    _check_weight(category_weight)
    seconds = waited.total_seconds()
    if seconds < 0:
        seconds = 0.0
    return URGENCY_POINTS[urgency] + category_weight + seconds / _SECONDS_PER_POINT


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """What the queue needs to know of one request."""

    tracking_number: str
    submitted_at: datetime
    urgency: Urgency
    category_weight: int

    def __post_init__(self) -> None:
        if self.submitted_at.utcoffset() is None:
            raise ValueError("submitted_at must be timezone-aware")
        _check_weight(self.category_weight)


def sort_key(entry: QueueEntry, now: datetime) -> tuple[float, datetime, str]:
    """The entry's place in the queue at `now`: (-score, submitted_at, tracking_number); smallest first."""
    return (
        -priority_score(urgency=entry.urgency, category_weight=entry.category_weight, waited=now - entry.submitted_at),
        entry.submitted_at,
        entry.tracking_number,
    )


def order(entries: Iterable[QueueEntry], now: datetime) -> list[QueueEntry]:
    """The entries as a queue at `now`, head of the line first; the same as sorting by `sort_key`."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    # The key of sort_key, inlined: a queue of 100,000 is ordered on every
    # allocation, and the function calls and the weight check (already done when
    # each QueueEntry was made) would double the time. A test holds the two equal.
    points = {urgency: float(value) for urgency, value in URGENCY_POINTS.items()}
    per_point = _SECONDS_PER_POINT

    def key(entry: QueueEntry) -> tuple[float, datetime, str]:
        seconds = (now - entry.submitted_at).total_seconds()
        if seconds < 0:
            seconds = 0.0
        return (
            -(points[entry.urgency] + entry.category_weight + seconds / per_point),
            entry.submitted_at,
            entry.tracking_number,
        )

    return sorted(entries, key=key)
