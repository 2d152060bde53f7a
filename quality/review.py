"""The daily review of ratings: a Riyadh day's ratings, negative ones first; a manager's review of one; and the
negative ratings left unreviewed past the end of the next working day (overdue).

A negative rating (a face of 1 or 2) needs an investigation note, a cause from the managed list and an action; any
other is marked reviewed, with a note if the manager wants one. A review can be corrected: the new one overwrites
it, and the audit log keeps what it said before.

The queue shows each rating's comment as the applicant wrote it: free text that may hold personal data (a name, a
phone number, the matter itself). It is for managers reviewing the service only, and the page says not to copy it
elsewhere; exports and statistics never carry it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts import service as accounts
from cases import service as cases
from followup.periods import GREGORIAN_YEARS
from majlis.bidi import without_bidi_controls
from majlis.clock import RIYADH, Clock, riyadh
from majlis.errors import N_, DomainError, FieldError, InvalidInput, invalid_choice, required, too_long
from majlis.hijri import DAY_EXAMPLE, read_day
from quality.models import NEGATIVE_AT_MOST, Rating, RatingReview, ReviewAction, ReviewCause
from worktime import service as worktime

NOTE_LIMIT = 4000
# Sunday … Thursday (Monday is 0), as the rest of Majlis counts working days (notify/outbox.py).
WORKING_DAYS = frozenset({6, 0, 1, 2, 3})
ACTIONS = tuple(action.value for action in ReviewAction)
_ONE_DAY = timedelta(days=1)


class RatingNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("rating_not_found", N_("There is no rating with this number."))


@dataclass(frozen=True)
class QueueItem:
    """A rating as the review queue shows it, with its review if it has one."""

    rating: Rating
    tracking_number: str
    # Who served ("" when nobody is known: a kiosk check-in, a completion by the system).
    staff_name: str
    review: RatingReview | None
    reviewer_name: str
    cause: ReviewCause | None
    # For an overdue rating, the working days since its day (today counted); None otherwise.
    age: int | None = None

    @property
    def negative(self) -> bool:
        return self.rating.score <= NEGATIVE_AT_MOST


def is_negative(score: int) -> bool:
    return score <= NEGATIVE_AT_MOST


def asked_day(text: str | None, *, now: datetime) -> date:
    """The Riyadh day a reader asked for (YYYY-MM-DD in either calendar); today when nothing is asked."""
    text = (text or "").strip()
    if not text:
        return riyadh(now).date()
    try:
        day = read_day(text, field="day")
        # Years the calendars can show (and whose neighbouring days exist): not 0001 or 9999.
        if not GREGORIAN_YEARS[0] <= day.year <= GREGORIAN_YEARS[1]:
            raise InvalidInput([])
        return day
    except InvalidInput:
        raise InvalidInput([FieldError("day", "invalid_day", DAY_EXAMPLE)]) from None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=RIYADH)


def is_working_day(day: date, days_off: frozenset[date]) -> bool:
    return day.weekday() in WORKING_DAYS and day not in days_off


def review_due(rated_on: date, days_off: frozenset[date]) -> datetime:
    """When a negative rating of this Riyadh day becomes overdue: the end of the next working day after it."""
    day = rated_on + _ONE_DAY
    while not is_working_day(day, days_off):
        day += _ONE_DAY
    return _midnight(day + _ONE_DAY)


def working_days_since(rated_on: date, today: date, days_off: frozenset[date]) -> int:
    """The working days after the rating's day up to today, today included."""
    count, day = 0, rated_on + _ONE_DAY
    while day <= today:
        count += is_working_day(day, days_off)
        day += _ONE_DAY
    return count


async def _items(session: AsyncSession, ratings: list[Rating], ages: dict[int, int] | None = None) -> list[QueueItem]:
    """The ratings with their reviews, tracking numbers and the names of who served and who reviewed."""
    ids = [r.id for r in ratings]
    reviews: dict[int, RatingReview] = {}
    if ids:
        rows = await session.scalars(select(RatingReview).where(RatingReview.rating_id.in_(ids)))
        reviews = {r.rating_id: r for r in rows}
    found = await cases.cases_by_id(session=session, case_ids={r.case_id for r in ratings})
    people = {r.staff_id for r in ratings if r.staff_id is not None}
    people |= {r.reviewed_by_id for r in reviews.values() if r.reviewed_by_id is not None}
    names = await accounts.names_by_id(session=session, ids=people)
    causes = {c.code: c for c in await session.scalars(select(ReviewCause))}
    items = []
    for rating in ratings:
        review = reviews.get(rating.id)
        items.append(
            QueueItem(
                rating=rating,
                tracking_number=found[rating.case_id].tracking_number if rating.case_id in found else "",
                staff_name=names.get(rating.staff_id, "") if rating.staff_id is not None else "",
                review=review,
                reviewer_name=names.get(review.reviewed_by_id, "") if review and review.reviewed_by_id else "",
                cause=causes.get(review.cause_code) if review and review.cause_code else None,
                age=(ages or {}).get(rating.id),
            )
        )
    return items


async def day_queue(*, session: AsyncSession, day: date) -> list[QueueItem]:
    """The ratings given on a Riyadh day: negative ones first, then the rest, each in the order they came."""
    ratings = list(
        await session.scalars(
            select(Rating)
            .where(Rating.rated_at >= _midnight(day), Rating.rated_at < _midnight(day + _ONE_DAY))
            .order_by(Rating.rated_at, Rating.id)
        )
    )
    ratings.sort(key=lambda r: not is_negative(r.score))  # stable: time order kept within each group
    return await _items(session, ratings)


async def _overdue_ratings(session: AsyncSession, clock: Clock) -> tuple[list[Rating], dict[int, int]]:
    now = clock.now()
    today = riyadh(now).date()
    # The next working day is at least the day after, so a rating of yesterday or today cannot be overdue yet.
    candidates = list(
        await session.scalars(
            select(Rating)
            .outerjoin(RatingReview, RatingReview.rating_id == Rating.id)
            .where(
                Rating.score <= NEGATIVE_AT_MOST,
                RatingReview.id.is_(None),
                Rating.rated_at < _midnight(today - _ONE_DAY),
            )
            .order_by(Rating.rated_at, Rating.id)
        )
    )
    if not candidates:
        return [], {}
    first = riyadh(candidates[0].rated_at).date()
    # The official calendar's days off (Eid, the national day) are not working days for the review either.
    days_off = await worktime.days_off(session=session, since=first)
    overdue: list[Rating] = []
    ages: dict[int, int] = {}
    for rating in candidates:
        rated_on = riyadh(rating.rated_at).date()
        if now >= review_due(rated_on, days_off):
            overdue.append(rating)
            ages[rating.id] = working_days_since(rated_on, today, days_off)
    return overdue, ages


async def overdue(*, session: AsyncSession, clock: Clock) -> list[QueueItem]:
    """Negative ratings not reviewed by the end of the next working day after theirs, oldest first."""
    ratings, ages = await _overdue_ratings(session, clock)
    return await _items(session, ratings, ages)


async def overdue_count(session: AsyncSession, clock: Clock) -> int:
    """How many negative ratings are overdue for review now (for the operations metrics)."""
    ratings, _ = await _overdue_ratings(session, clock)
    return len(ratings)


async def rating_by_id(*, session: AsyncSession, rating_id: int, lock: bool = False) -> Rating:
    query = select(Rating).where(Rating.id == rating_id)
    if lock:
        # Two managers reviewing the same rating at once: the second waits and then corrects the first's review.
        query = query.with_for_update()
    found = await session.scalar(query)
    if found is None:
        raise RatingNotFound()
    return found


async def rating_item(*, session: AsyncSession, rating_id: int) -> QueueItem:
    """One rating as the queue shows it (after its review, say)."""
    [item] = await _items(session, [await rating_by_id(session=session, rating_id=rating_id)])
    return item


async def _checked_cause(
    session: AsyncSession, code: str, kept: str | None, errors: list[FieldError]
) -> ReviewCause | None:
    if not code:
        errors.append(required("cause"))
        return None
    cause = await session.get(ReviewCause, code)
    # A retired cause is offered no more, but a correction may keep the one the review already has.
    if cause is None or (not cause.active and cause.code != kept):
        active = await session.scalars(
            select(ReviewCause.code).where(ReviewCause.active.is_(True)).order_by(ReviewCause.position)
        )
        if cause is None:
            errors.append(invalid_choice("cause", list(active)))
        else:
            errors.append(
                FieldError("cause", "retired", N_("This cause is retired; choose one from the list of causes."))
            )
        return None
    return cause


async def record_review(
    *,
    session: AsyncSession,
    clock: Clock,
    rating_id: int,
    actor_id: int | None,
    note: str,
    cause: str = "",
    action: str = "",
) -> RatingReview:
    """Records (or corrects) a manager's review of a rating; InvalidInput names every bad field, nothing saved."""
    rating = await rating_by_id(session=session, rating_id=rating_id, lock=True)
    existing = await session.scalar(select(RatingReview).where(RatingReview.rating_id == rating.id))
    note = without_bidi_controls(note).strip()
    cause, action = cause.strip().lower(), action.strip().lower()
    errors: list[FieldError] = []
    if len(note) > NOTE_LIMIT:
        errors.append(too_long("note", NOTE_LIMIT))
    chosen_cause: ReviewCause | None = None
    chosen_action: ReviewAction | None = None
    if is_negative(rating.score):
        if not note:
            errors.append(required("note"))
        kept = existing.cause_code if existing is not None else None
        chosen_cause = await _checked_cause(session, cause, kept, errors)
        if not action:
            errors.append(required("action"))
        elif action not in ACTIONS:
            errors.append(invalid_choice("action", ACTIONS))
        else:
            chosen_action = ReviewAction(action)
    else:
        # A cause and an action answer an investigation, which only a negative rating has.
        for field, value in (("cause", cause), ("action", action)):
            if value:
                errors.append(FieldError(field, "not_negative", N_("{field} is given only for a negative rating.")))
    if errors:
        raise InvalidInput(errors)
    after: dict[str, Any] = {
        "note": note,
        "cause": chosen_cause.code if chosen_cause else None,
        "action": chosen_action.value if chosen_action else None,
    }
    details: dict[str, Any] = {"score": rating.score, **after}
    if existing is None:
        try:
            # In a savepoint: on SQLite (no row lock) another manager's review of this rating can land between the
            # read above and this insert. The unique rating_id refuses ours, and ours then corrects theirs, as
            # it would have had it come a moment later.
            async with session.begin_nested():
                review = _filled(RatingReview(rating_id=rating.id), after, clock=clock, actor_id=actor_id)
                session.add(review)
                await session.flush()
        except IntegrityError:
            existing = await session.scalar(
                select(RatingReview)
                .where(RatingReview.rating_id == rating.id)
                .execution_options(populate_existing=True)
            )
            if existing is None:
                raise
    if existing is None:
        verb = "record"
    else:
        verb = "correct"
        details["before"] = {
            "note": existing.note,
            "cause": existing.cause_code,
            "action": existing.action.value if existing.action else None,
            "by": existing.reviewed_by_id,
            "at": existing.reviewed_at.isoformat(),
        }
        review = _filled(existing, after, clock=clock, actor_id=actor_id)
        await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=f"quality.review.{verb}",
        target_type="rating",
        target_id=rating.id,
        details=details,
    )
    return review


def _filled(review: RatingReview, after: dict[str, Any], *, clock: Clock, actor_id: int | None) -> RatingReview:
    """The review saying `after` (note, cause, action), by the actor, now."""
    review.note = after["note"]
    review.cause_code = after["cause"]
    review.action = ReviewAction(after["action"]) if after["action"] else None
    review.reviewed_at = clock.now()
    review.reviewed_by_id = actor_id
    return review
