"""The daily review of ratings over JSON (/api/v1/quality/reviews…, managers) and one's own ratings
(/api/v1/me/ratings, every member of staff).

Signed in with the staff session cookie; a review carries the X-CSRF-Token header (GET /api/v1/session gives it).
The rules are the domain's, as on the pages: 404 for an unknown rating, 422 for input to correct, each field named
in Arabic and English. A rating's tracking number is given only where the reader's need to know reaches the request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from accounts.roles import Role
from majlis.errors import DomainError, InvalidInput
from quality import own_ratings, review
from quality.models import ReviewCause
from web import personal_data
from web.api import invalid_input
from web.api_models import ID_LIMIT
from web.auth import ALL_STAFF, requires, signed_in_user
from web.errors import refusal
from web.keys import CLOCK, DB
from web.triage_api import parsed

routes = web.RouteTableDef()
__all__ = ["INPUTS", "OUTPUTS", "openapi_paths", "routes"]
REVIEWERS = (Role.MANAGER,)


class RatingReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=review.NOTE_LIMIT, description="The investigation note (negative)")
    cause: str = Field(default="", max_length=40, description="A code from the active list of causes (negative)")
    action: str = Field(default="", max_length=20, description="coaching, no_fault or process_change (negative)")


class ReviewCauseOut(BaseModel):
    code: str
    name_ar: str
    name_en: str
    active: bool


class ReviewOut(BaseModel):
    note: str
    cause: ReviewCauseOut | None
    action: str | None
    reviewed_at: datetime
    reviewed_by: str = Field(description="The full name of the manager who reviewed it")


class ReviewedRatingOut(BaseModel):
    id: int
    score: int = Field(description="The face, 1 (very dissatisfied) to 5 (very satisfied)")
    negative: bool
    comment: str
    visit: str = Field(description="intake, check_in, audience or completion")
    rated_at: datetime
    staff_id: int | None
    staff_name: str = Field(description="Who served; empty when nobody is known")
    branch: str | None
    tracking_number: str | None = Field(description="None when the request is outside the reader's need to know")
    review: ReviewOut | None
    overdue_working_days: int | None = Field(description="For an overdue rating, the working days since its day")


class ReviewQueueOut(BaseModel):
    day: date
    overdue_count: int
    ratings: list[ReviewedRatingOut] = Field(description="The day's ratings, negative ones first")


class OverdueOut(BaseModel):
    count: int
    ratings: list[ReviewedRatingOut] = Field(description="Oldest first")


class OwnTallyOut(BaseModel):
    count: int
    mean: float | None
    faces: dict[str, int] = Field(description="How many of each face, by face 1 to 5")


class OwnCommentOut(BaseModel):
    score: int
    comment: str


class OwnCommentMonthOut(BaseModel):
    month_first_day: date
    month_last_day: date
    ratings: int = Field(description="Your ratings in the month (so far)")
    shown: bool = Field(description="Whether its comments are given: once five ratings share the month")
    comments: list[OwnCommentOut] = Field(description="By face then text; no day, no visit; empty when not shown")


class OwnReviewedOut(BaseModel):
    day: date
    score: int
    visit: str
    cause: ReviewCauseOut | None
    action: str | None


class OwnRatingsOut(BaseModel):
    first_recent_day: date
    today: date
    last_30_days: OwnTallyOut
    month_first_day: date
    this_month: OwnTallyOut
    comment_months: list[OwnCommentMonthOut] = Field(
        description="The months of the last 30 days, newest first: comments by month, nothing about the applicant"
    )
    reviewed_negatives: list[OwnReviewedOut]


INPUTS: tuple[type[BaseModel], ...] = (RatingReviewIn,)
OUTPUTS: tuple[type[BaseModel], ...] = (ReviewedRatingOut, ReviewQueueOut, OverdueOut, OwnRatingsOut)


def _cause(cause: ReviewCause | None) -> ReviewCauseOut | None:
    if cause is None:
        return None
    return ReviewCauseOut(code=cause.code, name_ar=cause.name_ar, name_en=cause.name_en, active=cause.active)


def _rating(item: review.QueueItem, reachable: set[int]) -> ReviewedRatingOut:
    r = item.rating
    shown = item.review
    return ReviewedRatingOut(
        id=r.id,
        score=r.score,
        negative=item.negative,
        comment=r.comment,
        visit=r.visit.value,
        rated_at=r.rated_at,
        staff_id=r.staff_id,
        staff_name=item.staff_name,
        branch=r.branch_code,
        tracking_number=item.tracking_number if r.case_id in reachable else None,
        review=ReviewOut(
            note=shown.note,
            cause=_cause(item.cause),
            action=shown.action.value if shown.action else None,
            reviewed_at=shown.reviewed_at,
            reviewed_by=item.reviewer_name,
        )
        if shown is not None
        else None,
        overdue_working_days=item.age,
    )


async def _ratings(request: web.Request, items: list[review.QueueItem]) -> list[ReviewedRatingOut]:
    reachable = await personal_data.reachable(request, {i.rating.case_id for i in items})
    return [_rating(item, reachable) for item in items]


async def _answer(request: web.Request, work: Callable[[], Awaitable[BaseModel]]) -> web.Response:
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    return web.json_response(body.model_dump(mode="json"))


@routes.get("/api/v1/quality/reviews")
@requires(*REVIEWERS)
async def day_queue(request: web.Request) -> web.Response:
    """The ratings of a Riyadh day (?day=YYYY-MM-DD, today by default), negative ones first."""

    async def work() -> ReviewQueueOut:
        session, clock = request[DB], request.app[CLOCK]
        day = review.asked_day(request.query.get("day"), now=clock.now())
        items = await review.day_queue(session=session, day=day)
        return ReviewQueueOut(
            day=day,
            overdue_count=await review.overdue_count(session, clock),
            ratings=await _ratings(request, items),
        )

    return await _answer(request, work)


@routes.get("/api/v1/quality/reviews/overdue")
@requires(*REVIEWERS)
async def overdue(request: web.Request) -> web.Response:
    async def work() -> OverdueOut:
        items = await review.overdue(session=request[DB], clock=request.app[CLOCK])
        return OverdueOut(count=len(items), ratings=await _ratings(request, items))

    return await _answer(request, work)


@routes.post("/api/v1/quality/reviews/{rating_id:\\d+}")
@requires(*REVIEWERS)
async def record(request: web.Request) -> web.Response:
    """Records or corrects the review of a rating; answers with the rating as reviewed."""

    async def work() -> ReviewedRatingOut:
        rating_id = int(request.match_info["rating_id"])
        if rating_id > ID_LIMIT:
            raise review.RatingNotFound()
        body = await parsed(request, RatingReviewIn)
        session, clock = request[DB], request.app[CLOCK]
        await review.record_review(
            session=session,
            clock=clock,
            rating_id=rating_id,
            actor_id=signed_in_user(request).id,
            note=body.note,
            cause=body.cause,
            action=body.action,
        )
        [out] = await _ratings(request, [await review.rating_item(session=session, rating_id=rating_id)])
        return out

    return await _answer(request, work)


def _tally(tally: own_ratings.Tally) -> OwnTallyOut:
    return OwnTallyOut(count=tally.count, mean=tally.mean, faces={str(k): v for k, v in tally.faces.items()})


@routes.get("/api/v1/me/ratings")
@requires(*ALL_STAFF)
async def my_ratings(request: web.Request) -> web.Response:
    """The signed-in member of staff's own ratings, and nobody else's."""

    async def work() -> OwnRatingsOut:
        summary = await own_ratings.own_ratings(
            session=request[DB], clock=request.app[CLOCK], staff_id=signed_in_user(request).id
        )
        return OwnRatingsOut(
            first_recent_day=summary.first_recent_day,
            today=summary.today,
            last_30_days=_tally(summary.last_30_days),
            month_first_day=summary.month.first_day,
            this_month=_tally(summary.this_month),
            comment_months=[
                OwnCommentMonthOut(
                    month_first_day=m.month.first_day,
                    month_last_day=m.month.last_day,
                    ratings=m.ratings,
                    shown=m.shown,
                    comments=[OwnCommentOut(score=c.score, comment=c.text) for c in m.comments],
                )
                for m in summary.comment_months
            ],
            reviewed_negatives=[
                OwnReviewedOut(
                    day=n.day,
                    score=n.score,
                    visit=n.visit.value,
                    cause=_cause(n.cause),
                    action=n.action.value if n.action else None,
                )
                for n in summary.reviewed_negatives
            ],
        )

    return await _answer(request, work)


# --- the OpenAPI document ------------------------------------------------------------------------

ROLES_NOTE = "The staff session cookie, and X-CSRF-Token on changes (from GET /api/v1/session). Roles: {roles}."


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The review's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    guard = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role of this path")}
    managers = ROLES_NOTE.format(roles="manager, administrators")
    day = {"name": "day", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}}
    rating_id = {"name": "rating_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    return {
        "/api/v1/quality/reviews": {
            "get": {
                "operationId": "qualityReviewQueue",
                "summary": "A Riyadh day's ratings for review, negative ones first (today by default)",
                "description": managers,
                "parameters": [day],
                "responses": {
                    "200": json("ReviewQueueOut", "The day's ratings and the count of overdue reviews"),
                    **guard,
                    "422": json("ErrorOut", "A day not written YYYY-MM-DD"),
                },
            }
        },
        "/api/v1/quality/reviews/overdue": {
            "get": {
                "operationId": "qualityOverdueReviews",
                "summary": "Negative ratings not reviewed by the end of the next working day, oldest first",
                "description": managers,
                "responses": {"200": json("OverdueOut", "The overdue ratings"), **guard},
            }
        },
        "/api/v1/quality/reviews/{rating_id}": {
            "post": {
                "operationId": "qualityReviewRating",
                "summary": (
                    "Review a rating: a negative one needs a note, a cause from the active list and an action; "
                    "any other takes an optional note. A second review corrects the first."
                ),
                "description": managers,
                "parameters": [rating_id, csrf],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("RatingReviewIn")}}},
                "responses": {
                    "200": json("ReviewedRatingOut", "The rating as reviewed"),
                    **guard,
                    "404": json("ErrorOut", "No such rating (rating_not_found)"),
                    "422": json("ErrorOut", "Invalid fields, each listed (nothing is saved)"),
                },
            }
        },
        "/api/v1/me/ratings": {
            "get": {
                "operationId": "ownRatings",
                "summary": "Your own ratings: the last 30 days and this month, comments, reviewed negatives",
                "description": ROLES_NOTE.format(roles="every member of staff"),
                "responses": {"200": json("OwnRatingsOut", "Your summary"), **guard},
            }
        },
    }
