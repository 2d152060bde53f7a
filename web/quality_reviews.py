"""The daily review of ratings (managers): the day's ratings, negative ones first, under the overdue ones; a review
recorded or corrected from the queue. And each member of staff's own summary of their ratings (/me/ratings).

Who served is named: holding staff to account is the review's work. The request's tracking number is shown, and
links to the request, only where the manager's need to know reaches it (cases/need_to_know.py: referred
requests); the queue shows no applicant's personal data, so nothing is logged as seen.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_, InvalidInput
from majlis.i18n import in_language
from quality import causes as cause_list
from quality import own_ratings, review
from quality.models import ReviewCause
from web import labels, personal_data
from web.api_models import ID_LIMIT
from web.auth import ALL_STAFF, requires, signed_in_user
from web.branch_names import branch_context
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()
PAGE = "/quality/reviews"
REVIEWERS = (Role.MANAGER,)

DONE = N_("The review is saved.")


def words() -> dict[str, Any]:
    """The names the review pages give faces, visits and actions."""
    return {"faces": labels.FACES, "visits": labels.VISITS, "actions": labels.REVIEW_ACTIONS}


def cause_name(cause: ReviewCause | None, language: str) -> str:
    if cause is None:
        return ""
    return in_language(language, cause.name_ar, cause.name_en)


def _day_of(request: web.Request, text: str | None) -> tuple[date, str | None]:
    """The day asked for, or today with the reason the asked one was refused."""
    now = request.app[CLOCK].now()
    try:
        return review.asked_day(text, now=now), None
    except InvalidInput as exc:
        message = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)["day"]
        return review.asked_day(None, now=now), message


async def _queue_page(
    request: web.Request,
    day: date,
    *,
    notice: str | None = None,
    form_error: str | None = None,
    failed: int | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    session = request[DB]
    overdue = await review.overdue(session=session, clock=request.app[CLOCK])
    queue = await review.day_queue(session=session, day=day)
    offered = await cause_list.causes(session=session, active_only=True)
    reachable = await personal_data.reachable(request, {i.rating.case_id for i in [*overdue, *queue]})
    language = request[LANGUAGE]
    context = {
        "day": day,
        "previous_day": (day - timedelta(days=1)).isoformat(),
        "next_day": (day + timedelta(days=1)).isoformat(),
        "overdue": overdue,
        "queue": queue,
        "negatives": sum(1 for i in queue if i.negative),
        "unreviewed": sum(1 for i in queue if i.review is None),
        "causes": [(c.code, cause_name(c, language)) for c in offered],
        "cause_name": lambda cause: cause_name(cause, language),
        "reachable": reachable,
        "notice": notice,
        "form_error": form_error,
        # The rating whose form was refused, with what was typed and what is wrong with it.
        "failed": failed,
        "values": values or {},
        "errors": errors or {},
        **words(),
        **await branch_context(request),
    }
    return render(request, "quality/reviews.html", context, status=status)


@routes.get(PAGE)
@requires(*REVIEWERS)
async def queue(request: web.Request) -> web.Response:
    day, form_error = _day_of(request, request.query.get("day"))
    done = request.query.get("done") == "reviewed"
    notice = request.app[CATALOGS].gettext(request[LANGUAGE], DONE) if done else None
    return await _queue_page(request, day, notice=notice, form_error=form_error, status=422 if form_error else 200)


@routes.post(PAGE + "/{rating_id:\\d+}")
@requires(*REVIEWERS)
async def record(request: web.Request) -> web.Response:
    form = await request.post()
    rating_id = int(request.match_info["rating_id"])
    day, _ = _day_of(request, str(form.get("day", "")))
    values = {name: str(form.get(name, "")) for name in ("note", "cause", "action")}
    if rating_id > ID_LIMIT:
        raise web.HTTPNotFound()
    try:
        await review.record_review(
            session=request[DB],
            clock=request.app[CLOCK],
            rating_id=rating_id,
            actor_id=signed_in_user(request).id,
            **values,
        )
    except review.RatingNotFound:
        raise web.HTTPNotFound() from None
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _queue_page(request, day, failed=rating_id, values=values, errors=errors, status=422)
    return see_other(f"{PAGE}?day={day.isoformat()}&done=reviewed#rating-{rating_id}")


@routes.get("/me/ratings")
@requires(*ALL_STAFF)
async def my_ratings(request: web.Request) -> web.Response:
    """The signed-in member of staff's own ratings; nobody else's, whatever their role."""
    summary = await own_ratings.own_ratings(
        session=request[DB], clock=request.app[CLOCK], staff_id=signed_in_user(request).id
    )
    language = request[LANGUAGE]
    context = {
        "summary": summary,
        "month_name": summary.month.name(language),
        "cause_name": lambda cause: cause_name(cause, language),
        **words(),
    }
    return render(request, "quality/my_ratings.html", context)
