"""Pages for applicants, no sign-in: submit a request, read the tracking number, follow its status."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from aiohttp import web

from cases import my_requests
from cases import service as cases
from cases.models import Case, Channel
from emergency.numbers import looks_like_report_number
from followup import information
from majlis.errors import N_, DomainError, InvalidInput
from priority import duplicates
from scheduler import views
from web import emergency_status, labels
from web.applicant_view import (
    AudienceShown,
    applicant_history,
    applicant_referral_stages,
    audience_shown,
    calendar_file,
    tracker,
)
from web.branch_names import branch_context
from web.client_address import client_address
from web.errors import domain_message
from web.intake_forms import checked_request, errors_by_field, form_values, read_form
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS, SETTINGS
from web.middleware import error_response, see_other
from web.pages import render
from web.retry_after import note_wait
from web.security import LANGUAGE_COOKIE, cookie_flags, safe_local_path
from web.signed_cookie import set_signed, signed_subject, signed_value

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def lookup_policy(request: web.Request) -> cases.LookupPolicy:
    settings = request.app[SETTINGS]
    return cases.LookupPolicy(
        max_misses=settings.lookup_max_misses, window=timedelta(minutes=settings.login_window_minutes)
    )


async def lookup_for_applicant(request: web.Request, tracking_number: str, phone: str) -> Case | None:
    """The case for a status enquiry; the enquiry itself is kept (committed), matched or not, for the throttle.

    Too many misses raise cases.service.TooManyLookups, whose wait becomes the 429's Retry-After (web/retry_after).
    """
    try:
        case = await cases.find_for_applicant(
            session=request[DB],
            clock=request.app[CLOCK],
            tracking_number=tracking_number,
            phone=phone,
            address=client_address(request),
            policy=lookup_policy(request),
        )
    except cases.TooManyLookups as exc:
        note_wait(request, exc)
        raise
    await request[DB].commit()
    return case


async def applicant_audience(
    request: web.Request, case: Case
) -> tuple[views.UpcomingAppointment, AudienceShown] | None:
    """The request's audience ahead, in the reader's language, or None."""
    upcoming = await views.upcoming_appointment_of(session=request[DB], clock=request.app[CLOCK], case_id=case.id)
    if upcoming is None:
        return None
    shown = audience_shown(
        case,
        upcoming,
        catalogs=request.app[CATALOGS],
        language=request[LANGUAGE],
        links=request.app[LINKS],
        arrive_minutes=request.app[SETTINGS].arrive_minutes_before,
    )
    return upcoming, shown


NO_AUDIENCE = N_("This request has no audience ahead.")


async def calendar_download(request: web.Request, case: Case) -> web.Response:
    """The request's audience ahead as an .ics file to add to a calendar; 404 when it has none."""
    found = await applicant_audience(request, case)
    if found is None:
        return error_response(request, 404, NO_AUDIENCE)
    upcoming, shown = found
    body = await calendar_file(
        session=request[DB],
        case=case,
        appointment=upcoming.appointment,
        shown=shown,
        settings=request.app[SETTINGS],
        catalogs=request.app[CATALOGS],
        language=request[LANGUAGE],
    )
    response = web.Response(body=body, content_type="text/calendar", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="audience-{case.tracking_number}.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


def in_their_language(request: web.Request, case: Case) -> None:
    """The applicant's own language on their status page, unless the reader picked one with the switch."""
    if "lang" not in request.query and LANGUAGE_COOKIE not in request.cookies:
        request[LANGUAGE] = case.language.value


def status_url(request: web.Request) -> str:
    return request.app[SETTINGS].public_url.rstrip("/") + "/status"


async def after_intake(request: web.Request, submission: cases.Submission) -> None:
    """Commits the new request, then flags its likely duplicates for the desk in a transaction of its own.

    The request is saved first: the tracking-number counter's lock is released
    at once (concurrent intakes queue on it), and a failure of the advisory
    duplicate check can never cost the applicant the request.
    """
    session = request[DB]
    await session.commit()
    if not submission.created:
        return
    window = timedelta(days=request.app[SETTINGS].duplicate_window_days)
    try:
        await duplicates.flag_on_intake(session=session, clock=request.app[CLOCK], case=submission.case, window=window)
    except Exception:
        log.exception("duplicate check failed for %s; the request is saved", submission.case.tracking_number)
        await session.rollback()


def form_context(values: dict[str, object], errors: dict[str, str], **extra: object) -> dict[str, object]:
    return {"values": values, "errors": errors, "labels": labels, "form_error": None, **extra}


@routes.get("/")
async def request_form(request: web.Request) -> web.Response:
    values: dict[str, object] = {"applicant.language": request[LANGUAGE], "idempotency_key": str(uuid.uuid4())}
    return render(request, "public/request_form.html", form_context(values, {}, **await branch_context(request)))


RECEIPT_PATH = "/requests/received"
RECEIPT_COOKIE = "majlis_receipt"
RECEIPT_MINUTES = 30
_RECEIPT = b"majlis-receipt-v1:"


@routes.post("/requests")
async def submit_request(request: web.Request) -> web.Response:
    form = await request.post()
    applicant, fields = read_form(form)
    # A fresh key per form: a double click or a re-sent form returns the first request.
    key = str(form.get("idempotency_key", "")).strip()[:200] or None
    values = form_values(applicant, fields)
    values["idempotency_key"] = key or str(uuid.uuid4())
    try:
        details = checked_request(applicant, fields, channel=Channel.PORTAL)
        submission = await cases.submit(
            session=request[DB],
            clock=request.app[CLOCK],
            details=details,
            status_url=status_url(request),
            idempotency_key=f"portal:{key}" if key else None,
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return render(
            request,
            "public/request_form.html",
            form_context(values, errors, **await branch_context(request)),
            status=422,
        )
    except DomainError as exc:
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return render(
            request,
            "public/request_form.html",
            form_context(values, {}, form_error=message, **await branch_context(request)),
            status=422,
        )
    await after_intake(request, submission)
    # POST then redirect: the receipt is a page of its own, so a refresh shows it again instead of posting again.
    # The browser that sent the request may see its receipt for a while (a signed cookie naming it).
    response = see_other(RECEIPT_PATH)
    value, expires = signed_value(request, _RECEIPT, str(submission.case.id), RECEIPT_MINUTES)
    set_signed(response, request, RECEIPT_COOKIE, value, expires, RECEIPT_PATH)
    return response


@routes.get(RECEIPT_PATH)
async def receipt(request: web.Request) -> web.Response:
    """The receipt of the request this browser just sent: its tracking number, once the form has redirected here."""
    subject = signed_subject(request, _RECEIPT, RECEIPT_COOKIE)
    case = await cases.get_case(session=request[DB], case_id=int(subject)) if subject else None
    if case is None:
        return see_other("/status")  # the receipt's time is over: the request is followed by its number
    return render(request, "public/received.html", {"case": case})


@routes.get("/status")
async def status_form(request: web.Request) -> web.Response:
    return render(request, "public/status_form.html", {"values": {}, "not_found": False, "form_error": None})


async def _status_enquiry(request: web.Request) -> tuple[dict[str, str], Case | web.Response]:
    """The status form's tracking number and phone, and the request they match, read in its applicant's language;
    or the form again: 429 after too many misses, 404 for a miss, which says nothing of which part was wrong."""
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


@routes.post("/status")
async def status_lookup(request: web.Request) -> web.Response:
    """The status only when the phone matches; a miss says nothing of which part was wrong.

    One page follows both kinds of number: an emergency report's (it starts with E) is shown by
    web/emergency_status.py.

    It answers the POST with the page, no redirect: a lookup changes nothing (a refresh only asks again), and the
    phone stays out of the address.
    """
    form = await request.post()
    if looks_like_report_number(str(form.get("tracking_number", ""))):
        values = {"tracking_number": str(form.get("tracking_number", "")), "phone": str(form.get("phone", ""))}
        return await emergency_status.status_page(request, values)
    values, case = await _status_enquiry(request)
    if isinstance(case, web.Response):
        return case
    return await status_page(request, case, values)


async def status_page(request: web.Request, case: Case, values: dict[str, str]) -> web.Response:
    """The request's progress tracker, its audience ahead, its referrals' stages and the history meant for its
    applicant; `values` (its tracking number and phone) go with the page's own forms (answer, calendar)."""
    session = request[DB]
    steps = await cases.history(session=session, case_id=case.id)
    history = applicant_history(steps, request.app[CATALOGS], request[LANGUAGE])
    found = await applicant_audience(request, case)
    stages = await applicant_referral_stages(
        session=session, case_id=case.id, catalogs=request.app[CATALOGS], language=request[LANGUAGE]
    )
    progress = await my_requests.progress_of_case(session=session, case=case)
    audience = found[1] if found else None
    context = {
        "case": case,
        "tracker": tracker(progress, audience, request.app[CATALOGS], request[LANGUAGE]),
        "history": history,
        "referral_stages": stages,
        "labels": labels,
        "audience": audience,
        "values": values,
        # What was asked and is still open: the page offers to answer it (web/applicant_answers.py).
        "questions": await information.open_requests(session=session, case=case),
    }
    response = render(request, "public/status.html", context)
    # The arrival code is on the page: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.post("/status/calendar.ics")
async def status_calendar(request: web.Request) -> web.Response:
    """The audience as a calendar file, for the same tracking number and phone as the status (a form on the page)."""
    _, case = await _status_enquiry(request)
    if isinstance(case, web.Response):
        return case
    return await calendar_download(request, case)


@routes.get("/lang/{language}")
async def switch_language(request: web.Request) -> web.Response:
    """Remembers the language in a cookie and goes back to the page the reader was on."""
    target = safe_local_path(request.query.get("next")) or "/"
    response = see_other(target)
    language = request.match_info["language"]
    if language in ("ar", "en"):
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, **cookie_flags(request))  # type: ignore[arg-type]
    return response
