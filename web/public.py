"""Pages for applicants, no sign-in: submit a request, read the tracking number, follow its status."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from aiohttp import web

from cases import service as cases
from cases.intake import check_request
from cases.models import Case, Channel
from majlis.errors import DomainError, InvalidInput
from priority import duplicates
from web import labels
from web.errors import domain_message
from web.intake_forms import errors_by_field, form_values, read_form
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import see_other
from web.pages import render
from web.security import LANGUAGE_COOKIE, cookie_flags, safe_local_path

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def lookup_policy(request: web.Request) -> cases.LookupPolicy:
    settings = request.app[SETTINGS]
    return cases.LookupPolicy(
        max_misses=settings.lookup_max_misses, window=timedelta(minutes=settings.login_window_minutes)
    )


async def lookup_for_applicant(request: web.Request, tracking_number: str, phone: str) -> Case | None:
    """The case for a status enquiry; the enquiry itself is kept (committed), matched or not, for the throttle."""
    case = await cases.find_for_applicant(
        session=request[DB],
        clock=request.app[CLOCK],
        tracking_number=tracking_number,
        phone=phone,
        address=request.remote or "unknown",
        policy=lookup_policy(request),
    )
    await request[DB].commit()
    return case


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
    return render(request, "public/request_form.html", form_context(values, {}))


@routes.post("/requests")
async def submit_request(request: web.Request) -> web.Response:
    form = await request.post()
    applicant, fields = read_form(form)
    # A fresh key per form: a double click or a re-sent form returns the first request.
    key = str(form.get("idempotency_key", "")).strip()[:200] or None
    values = form_values(applicant, fields)
    values["idempotency_key"] = key or str(uuid.uuid4())
    try:
        details = check_request(applicant, fields, channel=Channel.PORTAL)
        submission = await cases.submit(
            session=request[DB],
            clock=request.app[CLOCK],
            details=details,
            status_url=status_url(request),
            idempotency_key=f"portal:{key}" if key else None,
        )
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return render(request, "public/request_form.html", form_context(values, errors), status=422)
    except DomainError as exc:
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return render(request, "public/request_form.html", form_context(values, {}, form_error=message), status=422)
    await after_intake(request, submission)
    return render(request, "public/received.html", {"case": submission.case})


@routes.get("/status")
async def status_form(request: web.Request) -> web.Response:
    return render(request, "public/status_form.html", {"values": {}, "not_found": False, "form_error": None})


@routes.post("/status")
async def status_lookup(request: web.Request) -> web.Response:
    """The status only when the phone matches; a miss says nothing of which part was wrong."""
    form = await request.post()
    tracking_number = str(form.get("tracking_number", ""))
    phone = str(form.get("phone", ""))
    values = {"tracking_number": tracking_number, "phone": phone}
    try:
        case = await lookup_for_applicant(request, tracking_number, phone)
    except DomainError as exc:
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        context = {"values": values, "not_found": False, "form_error": message}
        return render(request, "public/status_form.html", context, status=429)
    if case is None:
        context = {"values": values, "not_found": True, "form_error": None}
        return render(request, "public/status_form.html", context, status=404)
    steps = await cases.history(session=request[DB], case_id=case.id)
    return render(request, "public/status.html", {"case": case, "history": steps, "labels": labels})


@routes.get("/lang/{language}")
async def switch_language(request: web.Request) -> web.Response:
    """Remembers the language in a cookie and goes back to the page the reader was on."""
    target = safe_local_path(request.query.get("next")) or "/"
    response = see_other(target)
    language = request.match_info["language"]
    if language in ("ar", "en"):
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, **cookie_flags(request))  # type: ignore[arg-type]
    return response
