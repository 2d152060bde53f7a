"""The figures of the statistics dashboard and the monthly reports, as plain data, with small counts suppressed.

Statistics name nobody: they are counts, rates and times over groups. A group of fewer than five requests (or
ratings, or visits) could point at a person, so every figure built on one is suppressed: the count reads None
("fewer than 5"), and so do the rate, mean or percentile computed from it. Zero is shown: it points at nobody.
A share (`hits` of `total`) is published only when neither the hits nor the misses are 1 to 4: 2 no-shows of 13
would otherwise come back from the rate (0.1538 × 13), and 11 of 13 would tell the 2 as well (`share`).

Secondary suppression: a group whose cells add up to a figure published beside them (the requests by kind against
the requests submitted; the satisfaction of each week against the whole period's; a branch's figure in the monthly
e-mail against everything's) would give back a suppressed cell as "the total minus the others". Where that could
work (one cell suppressed, or the suppressed ones adding up to 1 to 4), the smallest shown cells are withheld too
(`withheld`), until two cells or more are hidden and they add up to 5 or more. Every hidden figure says why
(`Hidden`): a count of 1 to 4 is "fewer than 5"; a withheld cell, or a share hidden because its misses are 1 to
4, is neither, and reads "withheld".

Medians and percentiles have one definition on both databases, one PostgreSQL computes itself
(`percentile_cont(0.5)` and `percentile_disc(p)` WITHIN GROUP) and Python computes identically on SQLite, to the
last bit: `median` and `percentile` below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from quality.periods import Span

# Counts from 1 to 4 are suppressed, and anything computed from them.
SMALLEST_SHOWN = 5
# The average time at a reception centre the service publishes (source documents 001 and 002), in minutes.
CENTRE_MINUTES_AIM = 6.0
# A request is "seen in time" when its first audience comes within this many days of its submission.
SEEN_WITHIN_DAYS = 30
# The dimensions requests are counted by, in the dashboard's order.
DIMENSIONS = ("kind", "channel", "branch", "gender", "applicant_kind")


# Shares (rates) to four places.
SHARE_PLACES = 4

# Why a figure is hidden: a count of 1 to 4 (or a figure over one), or held back so that another cannot be worked
# out (secondary suppression; a share whose misses are 1 to 4).
Hidden = Literal["fewer_than_5", "withheld"]
FEWER_THAN_5: Hidden = "fewer_than_5"
WITHHELD: Hidden = "withheld"


def shown(count: int) -> int | None:
    """The count as it may be published: None for 1 to 4."""
    return None if 0 < count < SMALLEST_SHOWN else count


def shown_value(count: int, value: float | None) -> float | None:
    """A rate, mean or percentile over `count` items, as it may be published: None over 1 to 4 items, or none."""
    return None if count < SMALLEST_SHOWN else value


def _small(count: int) -> bool:
    return 0 < count < SMALLEST_SHOWN


def share(hits: int, total: int) -> float | None:
    """hits / total to four places, as it may be published: None over 0 to 4 items, and None when the hits or
    the misses (total − hits) are 1 to 4, since the share times the total would give them back."""
    if total < SMALLEST_SHOWN or _small(hits) or _small(total - hits):
        return None
    return round(hits / total, SHARE_PLACES)


def share_hidden(hits: int, total: int) -> Hidden | None:
    """Why `share(hits, total)` is None: a total or hits of 1 to 4 are "fewer than 5", misses of 1 to 4 withheld;
    None when it is published, or when there is nothing (a total of 0)."""
    if total == 0 or share(hits, total) is not None:
        return None
    return FEWER_THAN_5 if _small(total) or _small(hits) else WITHHELD


def rate_row(key: str, total: int, hits: int) -> RateRow:
    """`hits` of `total` as published: the hits and the rate go together (either tells the other)."""
    rate = share(hits, total)
    told = rate is not None or total == 0
    return RateRow(
        key=key, total=shown(total), hits=hits if told else None, rate=rate, hidden=share_hidden(hits, total)
    )


def withheld(published: Sequence[int | None], hidden_sum: int) -> frozenset[int]:
    """Which shown cells of a group to withhold as well, so that its hidden cells cannot be worked out.

    `published` are the group's cells as they would be shown (None: hidden, 1 to 4), `hidden_sum` what the hidden
    ones add up to (as a reader could work it out from the figure the group adds up to). When one cell alone is
    hidden, or the hidden ones add up to 1 to 4, the smallest shown non-zero cells are added to them until two or
    more are hidden and they add up to 5 or more. Zeros stay: they point at nobody. The indices to withhold.
    """
    hidden = sum(1 for count in published if count is None)
    if not hidden:
        return frozenset()
    more: set[int] = set()
    for count, index in sorted((count, index) for index, count in enumerate(published) if count):
        if hidden + len(more) >= 2 and hidden_sum >= SMALLEST_SHOWN:
            break
        more.add(index)
        hidden_sum += count
    return frozenset(more)


def withheld_of(counts: Sequence[int]) -> frozenset[int]:
    """`withheld` over a group's true counts (those of 1 to 4 hidden)."""
    return withheld([shown(count) for count in counts], sum(count for count in counts if _small(count)))


def tallies_of(counts: Sequence[tuple[str, int]]) -> list[Tally]:
    """A breakdown of a published total as published: counts of 1 to 4 suppressed, and `withheld_of` those that
    would give them back."""
    more = withheld_of([count for _, count in counts])
    return [
        Tally(key, None, WITHHELD)
        if index in more
        else Tally(key, shown(count), FEWER_THAN_5 if _small(count) else None)
        for index, (key, count) in enumerate(counts)
    ]


def withhold_points(points: Sequence[ScorePoint], counts: Sequence[int], whole: ScorePoint) -> list[ScorePoint]:
    """The buckets of a series (true counts `counts`) beside its whole period's point `whole`: those `withheld_of`
    picks lose their count, mean and share; then those whose negative (or other) ratings would come back as the
    whole's less the other buckets' lose their share (`_shares_withheld`)."""
    more = withheld_of(counts)
    out = [
        replace(point, count=None, mean=None, negative=None, hidden=WITHHELD) if index in more else point
        for index, point in enumerate(points)
    ]
    shares = _shares_withheld(whole, out)
    return [replace(point, negative=None) if index in shares else point for index, point in enumerate(out)]


def median(ordered: Sequence[float]) -> float:
    """The median of an ascending, non-empty sequence: the middle value, or between the two middle ones as
    PostgreSQL's `percentile_cont(0.5)` interpolates (lower + (upper − lower) × 0.5, the same floating-point steps)."""
    lower, upper = ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2]
    return lower if lower == upper else lower + (upper - lower) * 0.5


def percentile(ordered: Sequence[float], p: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty sequence: the value at rank ⌈p·n⌉, as PostgreSQL's
    `percentile_disc(p)` takes it (the product in double precision on both)."""
    return ordered[max(math.ceil(p * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class Tally:
    """Requests of one value of a dimension (a kind, a channel, a branch code, a gender, an applicant kind)."""

    key: str
    count: int | None
    # Why `count` is None.
    hidden: Hidden | None = None


@dataclass(frozen=True)
class WaitRow:
    """Days from submission to the first audience, for one urgency.

    `count` are the requests of the period heard so far; `within` is the share of the period's requests
    (heard or not; rejected, duplicate and closed ones left out) whose first audience came within 30 days, over
    those old enough to tell (submitted 30 days or more before now, or heard already), published as `share`
    publishes one. The requests are those heading for an audience: routed to one by triage, or asking for one
    before triage; the first audience is the earliest held. Medians are `median`, p95 `percentile` (nearest rank).
    """

    urgency: str
    count: int | None
    median_days: float | None
    p95_days: float | None
    within: float | None
    # Why `within` is None when it is hidden (None too when there was nothing to tell: `share_hidden`).
    within_hidden: Hidden | None = None


@dataclass(frozen=True)
class RateRow:
    """`hits` of `total`, and their share (confirmations answered of those sent, no-shows of audiences due,
    referrals answered on time of those due); the hits and the rate are None together when `share` holds the
    rate back."""

    key: str
    total: int | None
    hits: int | None
    rate: float | None
    # Why `hits` (and the rate) are None: the total or the hits are 1 to 4, or the misses are (withheld).
    hidden: Hidden | None = None


@dataclass(frozen=True)
class ScorePoint:
    """Ratings given from `first_day` to `last_day`: how many, their mean face (1 to 5), and the share negative
    (as `share` publishes one)."""

    first_day: date
    last_day: date
    count: int | None
    mean: float | None
    negative: float | None
    # Why `count` (and with it the mean and the share) is None: 1 to 4 ratings, or withheld (`withhold_points`).
    hidden: Hidden | None = None


@dataclass(frozen=True)
class ServiceTime:
    """Minutes at the centre, from arrival to the end of the audience, against the published 6 minutes.

    The mean is the total in whole microseconds over the count (one division, exact on both databases); the
    median `median`, p90 `percentile`; `within_aim` as `share` publishes one."""

    count: int | None
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None
    # The share of visits done within the aim.
    within_aim: float | None
    aim_minutes: float = CENTRE_MINUTES_AIM


@dataclass(frozen=True)
class Dashboard:
    """Every figure of one span, over all requests or one branch's (`branch_code`) or one department's
    (`department_id`: requests referred to it)."""

    span: Span
    branch_code: str | None
    department_id: int | None
    total_requests: int | None
    # DIMENSIONS → tallies, largest first.
    requests: dict[str, list[Tally]]
    waits: list[WaitRow]
    # Confirmations asked in the span, and answered (by any means): "all" of them first, then by each channel
    # (whatsapp, voice, sms, email) those whose request went out by it.
    confirmations: list[RateRow]
    # Appointments due in the span (up to now) that were held or missed: missed.
    no_shows: RateRow
    # Referrals whose solution deadline fell in the span (up to now): answered by it. Counted as the follow-up's
    # monthly report counts them (followup.report.still_owed): those answered by the span's end, and those the
    # department still owed then (late); closed without an answer, returned as not theirs, or waiting for the
    # applicant's information, they are left out.
    referrals_on_time: RateRow
    # One point per bucket of the span (Span.buckets), and the whole span.
    satisfaction: list[ScorePoint]
    satisfaction_overall: ScorePoint
    service_time: ServiceTime
    # Why `total_requests` is None: 1 to 4, or withheld beside other scopes' (`withhold_across`).
    total_hidden: Hidden | None = None


def _across(whole: int | None, parts: Sequence[int | None]) -> frozenset[int]:
    # A whole hidden itself (1 to 4) has nothing to subtract the parts from.
    if whole is None:
        return frozenset()
    return withheld(parts, max(whole - sum(part for part in parts if part is not None), 0))


def _negatives(point: ScorePoint) -> tuple[int | None, int | None]:
    """The negative and the other ratings of a point, as a reader works them out from its count and share."""
    if point.count == 0:
        return 0, 0
    if point.count is None or point.negative is None:
        return None, None
    negative = round(point.negative * point.count)
    return negative, point.count - negative


def _shares_withheld(whole: ScorePoint, parts: Sequence[ScorePoint]) -> frozenset[int]:
    """The parts of `whole` whose share negative to withhold, so that no hidden part's negative ratings (or
    others) come back as the whole's less the shown parts'."""
    negative, positive = _negatives(whole)
    negatives = [_negatives(part) for part in parts]
    return _across(negative, [n for n, _ in negatives]) | _across(positive, [p for _, p in negatives])


def withhold_across(whole: Dashboard, parts: Sequence[Dashboard]) -> list[Dashboard]:
    """The figures of the parts of `whole` (each branch's: every request has one branch) as published beside it,
    as the monthly e-mail does: a part's hidden count would come back as the whole's less the other parts', so
    `withheld` picks more parts to withhold. For the requests submitted, and the ratings: their count (with the
    mean and the share), and the negative ones and the others (with the share)."""
    totals = _across(whole.total_requests, [p.total_requests for p in parts])
    points = [p.satisfaction_overall for p in parts]
    ratings = _across(whole.satisfaction_overall.count, [p.count for p in points])
    points = [
        replace(point, count=None, mean=None, negative=None, hidden=WITHHELD) if index in ratings else point
        for index, point in enumerate(points)
    ]
    shares = _shares_withheld(whole.satisfaction_overall, points)
    out = []
    for index, part in enumerate(parts):
        point = replace(points[index], negative=None) if index in shares else points[index]
        if index in totals:
            part = replace(part, total_requests=None, total_hidden=WITHHELD)
        out.append(replace(part, satisfaction_overall=point))
    return out
