"""A member of staff's own ratings: over the last 30 days and this month, the count, the mean face and how many of
each face; the comments left; and for the negative ratings already reviewed, the cause found and the action taken.

Nothing about the applicant is given: no tracking number, no name, and the day of a rating without its time. A
comment says most, so it goes further: comments are given by calendar month (those of the last 30 days' months),
with their face but without their day or visit, in no order of time, and only for a month in which at least
COMMENTS_FROM applicants rated the staff member; fewer, and the staff member could tell who wrote one from the
few they served. Only the staff member's own ratings are read; managers see everyone's in the review queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from majlis.clock import RIYADH, Clock, riyadh
from quality.models import NEGATIVE_AT_MOST, SCORES, Rating, RatingReview, ReviewAction, ReviewCause, Visit
from quality.periods import Span, this_month

RECENT_DAYS = 30
# A month's comments are shown once this many ratings of the staff member share it: one of five cannot be told.
COMMENTS_FROM = 5


@dataclass(frozen=True)
class Tally:
    """How a run of ratings went: their number, the mean face (None without any) and the count of each face."""

    count: int
    mean: float | None
    faces: dict[int, int]

    @property
    def largest(self) -> int:
        """The count of the most given face (for drawing bars to scale)."""
        return max(self.faces.values(), default=0)


@dataclass(frozen=True)
class Comment:
    """A comment with its face: no day, no visit (they would point at the applicant)."""

    score: int
    text: str


@dataclass(frozen=True)
class CommentMonth:
    """A calendar month's comments; none given (withheld) while fewer than COMMENTS_FROM ratings share it."""

    month: Span
    ratings: int
    comments: list[Comment]

    @property
    def shown(self) -> bool:
        return self.ratings >= COMMENTS_FROM


@dataclass(frozen=True)
class ReviewedNegative:
    day: date
    score: int
    visit: Visit
    cause: ReviewCause | None
    action: ReviewAction | None


@dataclass(frozen=True)
class OwnRatings:
    first_recent_day: date
    today: date
    last_30_days: Tally
    month: Span
    this_month: Tally
    # The months of the last 30 days and of this one, newest first.
    comment_months: list[CommentMonth]
    reviewed_negatives: list[ReviewedNegative]


def tally(scores: list[int]) -> Tally:
    faces = {score: 0 for score in SCORES}
    for score in scores:
        faces[score] += 1
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return Tally(count=len(scores), mean=mean, faces=faces)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=RIYADH)


def _months(first_day: date, last_day: date) -> list[Span]:
    """The calendar months from the one holding first_day to the one holding last_day, newest first."""
    months = [this_month(_midnight(first_day))]
    while months[-1].last_day < last_day:
        months.append(this_month(_midnight(months[-1].last_day + timedelta(days=1))))
    return months[::-1]


def _comment_month(month: Span, ratings: list[Rating], days: dict[int, date]) -> CommentMonth:
    own = [r for r in ratings if month.first_day <= days[r.id] <= month.last_day]
    if len(own) < COMMENTS_FROM:
        return CommentMonth(month, len(own), [])
    # By face then text: an order of time would tell which visit each came from.
    comments = sorted((Comment(r.score, r.comment) for r in own if r.comment.strip()), key=lambda c: (c.score, c.text))
    return CommentMonth(month, len(own), comments)


async def own_ratings(*, session: AsyncSession, clock: Clock, staff_id: int) -> OwnRatings:
    """The summary of the ratings of the staff member `staff_id`, as of the clock's Riyadh day."""
    now = clock.now()
    today = riyadh(now).date()
    first_recent = today - timedelta(days=RECENT_DAYS - 1)
    month = this_month(now)
    first_day = min(first_recent, month.first_day)
    months = _months(first_day, today)
    # Whole months are read, for their comments; the tallies and the reviews keep to the two periods.
    since = _midnight(months[-1].first_day)
    ratings = list(
        await session.scalars(
            select(Rating)
            .where(Rating.staff_id == staff_id, Rating.rated_at >= since, Rating.rated_at <= now)
            .order_by(Rating.rated_at.desc(), Rating.id.desc())
        )
    )
    days = {r.id: riyadh(r.rated_at).date() for r in ratings}
    recent = [r.score for r in ratings if days[r.id] >= first_recent]
    in_month = [r.score for r in ratings if days[r.id] >= month.first_day]
    negatives = [r.id for r in ratings if r.score <= NEGATIVE_AT_MOST and days[r.id] >= first_day]
    reviews: dict[int, RatingReview] = {}
    if negatives:
        rows = await session.scalars(select(RatingReview).where(RatingReview.rating_id.in_(negatives)))
        reviews = {r.rating_id: r for r in rows}
    causes = {c.code: c for c in await session.scalars(select(ReviewCause))} if reviews else {}
    return OwnRatings(
        first_recent_day=first_recent,
        today=today,
        last_30_days=tally(recent),
        month=month,
        this_month=tally(in_month),
        comment_months=[_comment_month(m, ratings, days) for m in months],
        reviewed_negatives=[
            ReviewedNegative(
                days[r.id],
                r.score,
                r.visit,
                causes.get(reviews[r.id].cause_code or ""),
                reviews[r.id].action,
            )
            for r in ratings
            if r.id in reviews
        ],
    )
