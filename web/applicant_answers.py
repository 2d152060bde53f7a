"""The applicant answers what was asked of them, from the status page: a one-time code by SMS to the phone
given with the request, then words and files (a photo taken on the phone, a PDF), then a confirmation.

Every step starts again from the tracking number and the phone (the status page's own check, throttled the
same way) until the code is checked. After that, the permission to answer is a short-lived signed cookie
naming the request and when it stops working (MAJLIS_APPLICANT_ANSWER_MINUTES; web/signed_cookie.py). The
request is read afresh on every step, so the cookie allows no more than answering that request's questions
still open, and it is deleted once none is left.
It is HttpOnly, SameSite=Strict and sent only under /status/answer.

Sending the code answers with a redirect to GET /status/answer/code, so a refresh shows the page again and sends
nothing; which request the code was sent for is kept meanwhile in another signed cookie of the same kind
(CODE_COOKIE, for the code's lifetime), never the phone in the address. Sending the answer likewise redirects to
GET /status/answer/received, the receipt, which names the question answered by a third cookie (RECEIVED_COOKIE), so
a refresh shows the receipt again and records nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from cases import service as cases
from cases.models import Case
from followup import information
from followup.attachments import isolated, megabytes
from followup.models import InformationRequest
from majlis.errors import N_, DomainError, InvalidInput
from majlis.numbers import whole_number
from web import labels
from web.attachments import file_link
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import ATTACHMENTS, CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import error_response, see_other
from web.pages import render
from web.public import in_their_language, lookup_for_applicant
from web.signed_cookie import set_signed, signed_subject, signed_value
from web.uploads import accepts_uploads, uploads_in

routes = web.RouteTableDef()

ANSWER_COOKIE = "majlis_answer"
ANSWER_PATH = "/status/answer"
_PURPOSE = b"majlis-answer-permission-v1:"
CODE_COOKIE = "majlis_answer_code"
CODE_PATH = "/status/answer/code"
_CODE_PURPOSE = b"majlis-answer-code-sent-v1:"
RECEIVED_COOKIE = "majlis_answer_received"
RECEIVED_PATH = "/status/answer/received"
_RECEIVED_PURPOSE = b"majlis-answer-received-v1:"
NOT_PERMITTED = N_(
    "The time to answer has ended, or this browser has not checked a code. "
    "Track the request again and ask for a new code."
)
NOT_THIS_REQUEST = N_("There is no such question on this request.")


def code_policy(request: web.Request) -> information.CodePolicy:
    settings = request.app[SETTINGS]
    return information.CodePolicy(
        lifetime=timedelta(minutes=settings.applicant_code_minutes),
        per_hour=settings.applicant_codes_per_hour,
        max_tries=settings.applicant_code_max_tries,
    )


# --- the permission to answer -------------------------------------------------------------------------


def permission_token(request: web.Request, case_id: int) -> tuple[str, datetime]:
    """The cookie's value for this request and when it stops working."""
    minutes = request.app[SETTINGS].applicant_answer_minutes
    return signed_value(request, _PURPOSE, str(case_id), minutes)


def permitted_case_id(request: web.Request) -> int | None:
    """The request the cookie allows answering, if it is ours and still in time."""
    subject = signed_subject(request, _PURPOSE, ANSWER_COOKIE)
    return int(subject) if subject is not None else None


async def _permitted_case(request: web.Request) -> Case | None:
    case_id = permitted_case_id(request)
    if case_id is None:
        return None
    case = await cases.get_case(session=request[DB], case_id=case_id)
    if case is not None:
        in_their_language(request, case)
    return case


# --- pages --------------------------------------------------------------------------------------------


def _page(request: web.Request, template: str, context: dict[str, object], status: int = 200) -> web.Response:
    response = render(request, template, {"labels": labels, **context}, status=status)
    # Codes, questions and answers are on these pages: no cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


async def _enquiry(request: web.Request) -> tuple[dict[str, str], Case | web.Response]:
    """The tracking number and phone of the form and the request they match, or the status form again."""
    form = await request.post()
    values = {"tracking_number": str(form.get("tracking_number", "")), "phone": str(form.get("phone", ""))}
    try:
        case = await lookup_for_applicant(request, values["tracking_number"], values["phone"])
    except DomainError as exc:
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        context = {"values": values, "not_found": False, "form_error": message}
        return values, render(request, "public/status_form.html", context, status=429)
    if case is None:
        context = {"values": values, "not_found": True, "form_error": None}
        return values, render(request, "public/status_form.html", context, status=404)
    in_their_language(request, case)
    return values, case


async def _code_page(
    request: web.Request, case: Case, values: dict[str, str], *, form_error: str | None = None, status: int = 200
) -> web.Response:
    """The form asking for the code; `values` are the tracking number and phone the next step checks again."""
    questions = await information.open_requests(session=request[DB], case=case)
    context = {
        "case": case,
        "values": values,
        "questions": questions,
        "form_error": form_error,
        "errors": {},
        "minutes": request.app[SETTINGS].applicant_code_minutes,
    }
    return _page(request, "information/code.html", context, status)


@routes.post("/status/answer/code")
async def send_code(request: web.Request) -> web.Response:
    """Sends a code to the request's phone (never one typed here) and asks for it."""
    values, case = await _enquiry(request)
    if isinstance(case, web.Response):
        return case
    try:
        await information.send_code(
            session=request[DB], clock=request.app[CLOCK], case=case, policy=code_policy(request)
        )
    except information.NothingToAnswer as exc:
        return error_response(request, 409, exc.message)
    except information.TooManyCodes as exc:
        # A code sent earlier may still work: the form stays.
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await _code_page(request, case, values, form_error=message, status=429)
    minutes = request.app[SETTINGS].applicant_code_minutes
    token, expires = signed_value(request, _CODE_PURPOSE, str(case.id), minutes)
    response = see_other(CODE_PATH)
    set_signed(response, request, CODE_COOKIE, token, expires, CODE_PATH)
    return response


@routes.get("/status/answer/code")
async def code_form(request: web.Request) -> web.Response:
    """Asks for the code sent to the request this browser asked it for; sends nothing (a refresh is harmless).
    Without that cookie (too late, another browser) the applicant starts again from the status page."""
    subject = signed_subject(request, _CODE_PURPOSE, CODE_COOKIE)
    case = await cases.get_case(session=request[DB], case_id=int(subject)) if subject else None
    if case is None:
        return see_other("/status")
    in_their_language(request, case)
    # The next step checks the request again as the status page does: its number and the phone it was given with.
    return await _code_page(request, case, {"tracking_number": case.tracking_number, "phone": case.phone})


@routes.post("/status/answer/verify")
async def verify_code(request: web.Request) -> web.Response:
    """Checks the code; the browser may then answer this request for a while."""
    values, case = await _enquiry(request)
    if isinstance(case, web.Response):
        return case
    form = await request.post()
    session = request[DB]
    try:
        await information.check_code(
            session=session,
            clock=request.app[CLOCK],
            case=case,
            code=str(form.get("code", "")),
            policy=code_policy(request),
        )
    except InvalidInput:
        message = request.app[CATALOGS].gettext(request[LANGUAGE], N_("Type the code sent to you by SMS."))
        return await _code_page(request, case, values, form_error=message, status=422)
    except information.CodeRefused as exc:
        await session.commit()  # the wrong try counts
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await _code_page(request, case, values, form_error=message, status=422)
    token, expires = permission_token(request, case.id)
    response = see_other(ANSWER_PATH)
    set_signed(response, request, ANSWER_COOKIE, token, expires, ANSWER_PATH)
    response.del_cookie(CODE_COOKIE, path=CODE_PATH)
    return response


async def _answer_page(
    request: web.Request,
    case: Case,
    *,
    failed_id: int | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    settings = request.app[SETTINGS]
    context = {
        "case": case,
        "questions": await information.open_requests(session=request[DB], case=case),
        "failed_id": failed_id,
        "errors": errors or {},
        "values": values or {},
        "max_files": isolated(str(settings.attachment_max_files)),
        "max_mb": isolated(megabytes(settings.attachment_max_bytes)),
        "max_answer": information.MAX_ANSWER,
    }
    return _page(request, "information/answer.html", context, status)


@routes.get("/status/answer")
async def answer_form(request: web.Request) -> web.Response:
    case = await _permitted_case(request)
    if case is None:
        return error_response(request, 403, NOT_PERMITTED)
    return await _answer_page(request, case)


async def _question_of(request: web.Request, case: Case, raw: object) -> InformationRequest | None:
    request_id = whole_number(raw) if isinstance(raw, str) else None
    asked = await information.get_request(session=request[DB], request_id=request_id) if request_id else None
    return asked if asked is not None and asked.case_id == case.id else None


@routes.post("/status/answer")
@accepts_uploads
async def submit_answer(request: web.Request) -> web.Response:
    """Records the answer and its files; a refusal shows the form again with every problem named."""
    case = await _permitted_case(request)
    if case is None:
        return error_response(request, 403, NOT_PERMITTED)
    form = await request.post()
    asked = await _question_of(request, case, form.get("information_request_id"))
    if asked is None:
        return error_response(request, 404, NOT_THIS_REQUEST)
    text = str(form.get("answer", ""))
    session = request[DB]
    case_id, asked_id = case.id, asked.id
    try:
        await information.answer(
            session=session,
            clock=request.app[CLOCK],
            request=asked,
            text=text,
            uploads=uploads_in(form),
            store=request.app[ATTACHMENTS],
        )
    except InvalidInput as exc:
        # Nothing was written; the rollback only ends the transaction, and the page reads the request afresh.
        await session.rollback()
        again = await cases.get_case(session=session, case_id=case_id)
        if again is None:
            raise web.HTTPNotFound() from exc
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _answer_page(
            request, again, failed_id=asked_id, errors=errors, values={"answer": text}, status=422
        )
    except DomainError as exc:
        await session.rollback()
        return error_response(request, 409, exc.message)
    # The receipt is a page of its own (POST then redirect): a refresh shows it again and posts nothing.
    token, expires = signed_value(
        request, _RECEIVED_PURPOSE, str(asked_id), request.app[SETTINGS].applicant_answer_minutes
    )
    response = see_other(RECEIVED_PATH)
    set_signed(response, request, RECEIVED_COOKIE, token, expires, RECEIVED_PATH)
    if not await information.open_requests(session=session, case=case):
        response.del_cookie(ANSWER_COOKIE, path=ANSWER_PATH)
    return response


@routes.get(RECEIVED_PATH)
async def answer_received(request: web.Request) -> web.Response:
    """The receipt of the answer this browser just sent: the question, the answer and its files as recorded; it
    changes nothing. Without its cookie (too late, another browser) the applicant is sent to the status page."""
    subject = signed_subject(request, _RECEIVED_PURPOSE, RECEIVED_COOKIE)
    session = request[DB]
    asked = await information.get_request(session=session, request_id=int(subject)) if subject else None
    case = await cases.get_case(session=session, case_id=asked.case_id) if asked is not None else None
    if asked is None or case is None:
        return see_other("/status")
    in_their_language(request, case)
    exchange = next(
        (e for e in await information.conversation(session=session, case_id=case.id) if e.request.id == asked.id), None
    )
    if exchange is None:
        return see_other("/status")
    context = {
        "case": case,
        "asked": exchange.request,
        "files": [file_link(row) for row in exchange.attachments],
        "remaining": await information.open_requests(session=session, case=case),
    }
    return _page(request, "information/answered.html", context)
