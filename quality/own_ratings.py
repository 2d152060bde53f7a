"""A member of staff's own ratings: over the last 30 days and this month, the count, the mean face and how many of
each face; the comments left; and for the negative ratings already reviewed, the cause found and the action taken.

Nothing about the applicant is given: no tracking number, no name, and the day of a rating without its time, so a
comment cannot be matched to the person served just then. Only the staff member's own ratings are read; managers
see everyone's in the review queue instead.
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
    day: date
    score: int
    visit: Visit
    text: str


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
    # Over both periods, newest first.
    comments: list[Comment]
    reviewed_negatives: list[ReviewedNegative]


def tally(scores: list[int]) -> Tally:
    faces = {score: 0 for score in SCORES}
    for score in scores:
        faces[score] += 1
    mean = round(sum(scores) / len(scores), 2) if scores else None
    return Tally(count=len(scores), mean=mean, faces=faces)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=RIYADH)


async def own_ratings(*, session: AsyncSession, clock: Clock, staff_id: int) -> OwnRatings:
    """The summary of the ratings of the staff member `staff_id`, as of the clock's Riyadh day."""
    now = clock.now()
    today = riyadh(now).date()
    first_recent = today - timedelta(days=RECENT_DAYS - 1)
    month = this_month(now)
    since = _midnight(min(first_recent, month.first_day))
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
    negatives = [r.id for r in ratings if r.score <= NEGATIVE_AT_MOST]
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
        comments=[Comment(days[r.id], r.score, r.visit, r.comment) for r in ratings if r.comment.strip()],
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
