"""The answer page: the link in the confirmation messages, where the applicant confirms, reschedules or cancels.

SMS cannot carry a reply in Saudi Arabia, so every confirmation request
carries a signed link to this page. The token in the address is the only
proof, so the page is kept out of search engines and out of Referer headers,
and is never cached. It speaks the applicant's language unless they chose
another with the switch.
"""

from __future__ import annotations

from aiohttp import web

from majlis.errors import N_
from notify.links import AnswerLink, LinkRefused
from scheduler import confirmations
from scheduler import views as scheduler_views
from scheduler.confirmations import ConfirmationRefusal, Via
from scheduler.models import Answer, AppointmentState
from web.errors import domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS, SETTINGS
from web.middleware import see_other
from web.pages import render
from web.public import status_url
from web.security import LANGUAGE_COOKIE

routes = web.RouteTableDef()

ANSWERS = {answer.value: answer for answer in Answer}
LINK_INVALID = N_("This link is not valid. Use the link in the latest message we sent you.")
LINK_EXPIRED = N_("This link has expired: the audience time has passed.")
APPOINTMENT_CHANGED = N_("This appointment has changed since the message was sent; see the latest one.")


def _private(response: web.Response) -> web.Response:
    """The token is in the address: no Referer to other sites, no search engine, no cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: web.Request, template: str, context: dict[str, object], status: int = 200) -> web.Response:
    return _private(render(request, template, context, status=status))


def _closed(request: web.Request, message: str, status: int) -> web.Response:
    """A page saying why the link cannot be used, with the way to follow the request."""
    return _page(request, "answers/closed.html", {"message": message}, status=status)


def _checked(request: web.Request) -> AnswerLink | web.Response:
    try:
        return request.app[LINKS].check(request.match_info["token"], now=request.app[CLOCK].now())
    except LinkRefused as refused:
        if refused.reason == "expired":
            return _closed(request, LINK_EXPIRED, 410)
        return _closed(request, LINK_INVALID, 403)


def _in_their_language(request: web.Request, language: str) -> None:
    """The applicant's own language, unless they picked one with the switch."""
    if "lang" not in request.query and LANGUAGE_COOKIE not in request.cookies:
        request[LANGUAGE] = language


async def _show(
    request: web.Request, link: AnswerLink, *, form_error: str | None = None, status: int = 200
) -> web.Response:
    view = await scheduler_views.appointment_view(
        session=request[DB], appointment_id=link.appointment_id, language=request.get(LANGUAGE, "ar")
    )
    if view is None:
        return _closed(request, APPOINTMENT_CHANGED, 200)
    _in_their_language(request, view.case.language.value)
    answer = view.confirmation.answer if view.confirmation is not None else None
    if view.appointment.state is AppointmentState.RELEASED:
        # Freed by the applicant's own answer: show what it did. Freed by anything else: it changed.
        if answer in (Answer.RESCHEDULED, Answer.CANCELLED) and view.appointment.release_reason == (
            f"applicant_{answer.value}"
        ):
            return _page(request, "answers/done.html", {"view": view, "answer": answer.value})
        return _closed(request, APPOINTMENT_CHANGED, 200)
    context = {
        "view": view,
        "confirmed": view.appointment.state is AppointmentState.CONFIRMED,
        "action": request.path,
        "form_error": form_error,
    }
    return _page(request, "answers/answer.html", context, status=status)


@routes.get("/a/{token}")
async def answer_page(request: web.Request) -> web.Response:
    link = _checked(request)
    if isinstance(link, web.Response):
        return link
    return await _show(request, link)


@routes.post("/a/{token}")
async def answer(request: web.Request) -> web.Response:
    link = _checked(request)
    if isinstance(link, web.Response):
        return link
    form = await request.post()
    choice = ANSWERS.get(str(form.get("answer", "")))
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    if choice is None:
        message = catalogs.gettext(language, N_("Choose one of the three answers."))
        return await _show(request, link, form_error=message, status=422)
    try:
        await confirmations.answer(
            session=request[DB],
            clock=request.app[CLOCK],
            appointment_id=link.appointment_id,
            answer=choice,
            via=Via.PORTAL,
            actor_id=None,
            status_url=status_url(request),
            policy=confirmations.policy_from(request.app[SETTINGS]),
        )
    except ConfirmationRefusal as refused:
        await request[DB].rollback()
        view = await scheduler_views.appointment_view(
            session=request[DB], appointment_id=link.appointment_id, language=request.get(LANGUAGE, "ar")
        )
        if view is not None:
            _in_their_language(request, view.case.language.value)
        return _closed(request, domain_message(catalogs, request[LANGUAGE], refused), 409)
    # After the post, the page of the link itself shows what the answer did (a reload asks nothing again).
    return _private(see_other(request.path))
