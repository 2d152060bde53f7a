""" "My requests" (/status/mine): a phone, a one-time code sent to it by SMS, then every request of that phone.

The domain (cases/my_requests.py) decides who is texted and counts the codes; here the page answers the same
way whether the phone has requests or not. Once the code is checked, this browser holds a signed cookie naming
the phone (web/signed_cookie.py) for MAJLIS_MY_REQUESTS_MINUTES: HttpOnly, SameSite=Strict, sent only under
/status/mine. The list links to each request's tracker (/status/mine/<number>), which shows it only when the
request was given with the cookie's phone; nothing else is kept.

Asking for a code answers with a redirect to GET /status/mine/code (a refresh shows the page and sends nothing),
the phone kept meanwhile in a signed cookie of its own (CODE_COOKIE, for the code's lifetime), not in the address;
the same redirect whether or not the phone has requests.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from cases import my_requests
from cases import service as cases
from cases.one_time_codes import CodePolicy, CodeRefused
from cases.tracking import parse_tracking_number
from majlis.errors import N_, InvalidInput
from web import labels
from web.applicant_view import ENDING_LINES, STAGE_NAMES, audience_shown
from web.client_address import client_address
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS, SETTINGS
from web.middleware import see_other
from web.pages import render
from web.public import in_their_language, lookup_policy, status_page
from web.retry_after import note_wait
from web.signed_cookie import set_signed, signed_subject, signed_value

routes = web.RouteTableDef()
NEEDS_INFORMATION = N_("Information is needed from you")

MINE_COOKIE = "majlis_mine"
MINE_PATH = "/status/mine"
_PURPOSE = b"majlis-my-requests-v1:"
CODE_COOKIE = "majlis_mine_code"
CODE_PATH = "/status/mine/code"
_CODE_PURPOSE = b"majlis-my-requests-code-sent-v1:"


def code_policy(request: web.Request) -> CodePolicy:
    settings = request.app[SETTINGS]
    return CodePolicy(
        lifetime=timedelta(minutes=settings.applicant_code_minutes),
        per_hour=settings.applicant_codes_per_hour,
        max_tries=settings.applicant_code_max_tries,
    )


def _page(request: web.Request, template: str, context: dict[str, object], status: int = 200) -> web.Response:
    response = render(request, template, {"labels": labels, "errors": {}, "form_error": None, **context}, status=status)
    # Phones, codes and requests are on these pages: no cache keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


def _cookie_phone(request: web.Request) -> str | None:
    """The phone (E.164) this browser checked a code for, while the cookie is in time."""
    digits = signed_subject(request, _PURPOSE, MINE_COOKIE)
    return f"+{digits}" if digits else None


def _phone_form(request: web.Request, values: dict[str, str], **context: object) -> web.Response:
    status = int(str(context.pop("status", 200)))
    return _page(request, "public/my_requests_phone.html", {"values": values, **context}, status)


def _code_form(request: web.Request, values: dict[str, str], **context: object) -> web.Response:
    status = int(str(context.pop("status", 200)))
    return _page(request, "public/my_requests_code.html", {"values": values, **context}, status)


@routes.get("/status/mine")
async def my_requests_page(request: web.Request) -> web.Response:
    """The list of the phone's requests once a code was checked; else the form asking for the phone."""
    phone = _cookie_phone(request)
    if phone is None:
        return _phone_form(request, {})
    found = await my_requests.requests_of_phone(session=request[DB], clock=request.app[CLOCK], phone=phone)
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    rows = []
    for mine in found:
        progress = mine.progress
        if progress.ending is not None:
            stage = catalogs.gettext(language, ENDING_LINES[progress.ending])
        else:
            assert progress.current is not None
            stage = catalogs.gettext(language, STAGE_NAMES[progress.current])
            if progress.waiting_for_applicant:
                # The tracker says what is asked; the list says that something is.
                stage = f"{stage} — {catalogs.gettext(language, NEEDS_INFORMATION)}"
        audience = None
        if mine.upcoming is not None:
            audience = audience_shown(
                mine.case,
                mine.upcoming,
                catalogs=catalogs,
                language=language,
                links=request.app[LINKS],
                arrive_minutes=request.app[SETTINGS].arrive_minutes_before,
            )
        rows.append({"case": mine.case, "stage": stage, "audience": audience})
    return _page(request, "public/my_requests.html", {"rows": rows})


@routes.post("/status/mine/code")
async def send_code(request: web.Request) -> web.Response:
    """Sends a code to the typed phone if a request has it, and asks for the code either way."""
    form = await request.post()
    values = {"phone": str(form.get("phone", ""))[:40]}
    catalogs, language, session = request.app[CATALOGS], request[LANGUAGE], request[DB]
    try:
        phone = my_requests.phone_of(values["phone"])
    except InvalidInput as exc:
        return _phone_form(request, values, errors=errors_by_field(catalogs, language, exc.errors), status=422)
    try:
        await my_requests.send_code(
            session=session,
            clock=request.app[CLOCK],
            phone=phone,
            address=client_address(request),
            policy=lookup_policy(request),
            codes=code_policy(request),
        )
    except cases.TooManyLookups as exc:
        note_wait(request, exc)
        return _phone_form(request, values, form_error=domain_message(catalogs, language, exc), status=429)
    except my_requests.TooManyCodes as exc:
        # The enquiry is counted against the address all the same; a code sent earlier may still work.
        await session.commit()
        return _code_form(request, values, form_error=domain_message(catalogs, language, exc), status=429)
    await session.commit()
    token, expires = signed_value(
        request, _CODE_PURPOSE, phone.lstrip("+"), request.app[SETTINGS].applicant_code_minutes
    )
    response = see_other(CODE_PATH)
    set_signed(response, request, CODE_COOKIE, token, expires, CODE_PATH)
    return response


@routes.get("/status/mine/code")
async def code_form(request: web.Request) -> web.Response:
    """Asks for the code sent to the phone this browser typed; sends nothing. Without that cookie, the phone form."""
    digits = signed_subject(request, _CODE_PURPOSE, CODE_COOKIE)
    if digits is None:
        return see_other(MINE_PATH)
    return _code_form(request, {"phone": f"+{digits}"})


@routes.post("/status/mine/verify")
async def verify_code(request: web.Request) -> web.Response:
    """Checks the code; this browser may then see the phone's requests for a while."""
    form = await request.post()
    values = {"phone": str(form.get("phone", ""))[:40]}
    catalogs, language, session = request.app[CATALOGS], request[LANGUAGE], request[DB]
    try:
        phone = my_requests.phone_of(values["phone"])
        await my_requests.check_code(
            session=session,
            clock=request.app[CLOCK],
            phone=phone,
            code=str(form.get("code", ""))[:40],
            codes=code_policy(request),
        )
    except InvalidInput as exc:
        errors = errors_by_field(catalogs, language, exc.errors)
        if "phone" in errors:
            return _phone_form(request, values, errors=errors, status=422)
        return _code_form(request, values, errors=errors, status=422)
    except CodeRefused as exc:
        await session.commit()  # the wrong try counts
        errors = {"code": domain_message(catalogs, language, exc)}
        return _code_form(request, values, errors=errors, status=422)
    await session.commit()
    token, expires = signed_value(request, _PURPOSE, phone.lstrip("+"), request.app[SETTINGS].my_requests_minutes)
    response = see_other(MINE_PATH)
    set_signed(response, request, MINE_COOKIE, token, expires, MINE_PATH)
    response.del_cookie(CODE_COOKIE, path=CODE_PATH)
    return response


@routes.get("/status/mine/{number}")
async def my_request(request: web.Request) -> web.Response:
    """One request's tracker, when it was given with the phone this browser checked; else back to the list."""
    phone = _cookie_phone(request)
    number = parse_tracking_number(request.match_info["number"][:40])
    if phone is None or number is None:
        return see_other(MINE_PATH)
    case = await my_requests.request_of_phone(session=request[DB], phone=phone, tracking_number=number)
    if case is None:
        return see_other(MINE_PATH)
    in_their_language(request, case)
    return await status_page(request, case, {"tracking_number": case.tracking_number, "phone": case.phone})


@routes.post("/status/mine/leave")
async def leave(request: web.Request) -> web.Response:
    """Forgets the phone in this browser (a shared computer)."""
    response = see_other(MINE_PATH)
    response.del_cookie(MINE_COOKIE, path=MINE_PATH)
    return response
