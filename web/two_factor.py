"""The second step of staff sign-in: the authenticator's code, or enrolment by QR code for a role that needs one.

These pages serve a sign-in whose password was right but whose session is not yet verified (accounts.two_factor):
such a session opens no other page. A signed-in member of staff manages their own authenticator at
/account/two-factor (web/two_factor_account.py).
"""

from __future__ import annotations

from urllib.parse import quote

import segno
from aiohttp import web
from markupsafe import Markup

from accounts import two_factor
from accounts.models import StaffUser
from majlis.errors import N_, DomainError, InvalidInput
from web.device_cookie import remember_device
from web.errors import domain_message, field_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import see_other
from web.pages import gettext_for, render
from web.security import SESSION_COOKIE, safe_local_path

routes = web.RouteTableDef()


async def after_password(request: web.Request, user: StaffUser, token: str, destination: str) -> tuple[str, bool]:
    """Where the browser goes once the password was right: the destination, or the second step owed first; and
    whether the sign-in is complete already (nothing owed)."""
    step = await two_factor.after_password(
        session=request[DB],
        clock=request.app[CLOCK],
        user=user,
        token=token,
        all_roles=request.app[SETTINGS].two_factor_all_roles,
        max_sessions=request.app[SETTINGS].max_sessions_per_user,
    )
    if step is two_factor.NextStep.NONE:
        return destination, True
    return f"/login/{step.value}?next={quote(destination, safe='')}", False


def _next(request: web.Request, form_value: object = None) -> str:
    chosen = form_value if isinstance(form_value, str) else request.query.get("next")
    return safe_local_path(chosen) or "/staff"


async def _waiting(request: web.Request) -> tuple[StaffUser, str] | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    user = await two_factor.waiting_user(session=request[DB], clock=request.app[CLOCK], token=token)
    return (user, token) if user is not None else None


def _start_again(request: web.Request) -> web.Response:
    return see_other("/login?next=" + quote(_next(request), safe=""))


def qr_svg(uri: str, title: str) -> Markup:
    """The authenticator's URI as an inline SVG QR code, drawn here: the secret never leaves Majlis."""
    qr = segno.make(uri, error="m", micro=False)
    svg = qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", title=title, svgclass="totp-qr")
    return Markup(svg)  # noqa: S704 (segno's own markup of a URI we made; the title is escaped by segno)


@routes.get("/login/code")
async def code_form(request: web.Request) -> web.Response:
    waiting = await _waiting(request)
    if waiting is None:
        return _start_again(request)
    if waiting[0].totp_secret is None:
        return see_other("/login/enrol?next=" + quote(_next(request), safe=""))
    return render(request, "staff/second_step.html", {"next": _next(request), "errors": {}, "values": {}})


@routes.post("/login/code")
async def give_code(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    destination = _next(request, form.get("next"))
    waiting = await _waiting(request)
    if waiting is None:
        return _start_again(request)
    user, token = waiting
    session = request[DB]
    try:
        await two_factor.give_code(
            session=session,
            clock=request.app[CLOCK],
            user=user,
            code=str(form.get("code", "")),
            token=token,
            max_sessions=request.app[SETTINGS].max_sessions_per_user,
        )
    except InvalidInput as exc:
        # The wrong code must be kept, so that guessing is counted, although the answer is an error.
        await session.commit()
        errors = {e.field: field_message(request.app[CATALOGS], request[LANGUAGE], e) for e in exc.errors}
        return render(
            request, "staff/second_step.html", {"next": destination, "errors": errors, "values": {}}, status=401
        )
    except two_factor.TooManyWrongCodes as exc:
        return await _too_many(request, exc)
    response = see_other(destination)
    # Only now is the sign-in complete: the browser becomes a trusted device (OWASP device cookies).
    remember_device(request, response, user.username)
    return response


async def _too_many(request: web.Request, exc: DomainError) -> web.Response:
    """The waiting sign-in is over: back to the password, saying why."""
    await request[DB].commit()
    message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
    context = {"error": message, "failed": False, "username": "", "next": _next(request)}
    response = render(request, "staff/login.html", context, status=429)
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def enrol_page(
    request: web.Request,
    user: StaffUser,
    token: str,
    destination: str,
    errors: dict[str, str],
    *,
    action: str = "/login/enrol",
    status: int = 200,
) -> web.Response:
    """The key of this browser's session as a QR code and as text, and the field for the first code; never cached
    (it shows the key)."""
    try:
        enrolment = await two_factor.begin_enrolment(session=request[DB], user=user, token=token)
    except two_factor.SignInEnded:
        return _start_again(request)
    context = {
        "next": destination,
        "errors": errors,
        "values": {},
        "qr": qr_svg(enrolment.uri, gettext_for(request)(N_("QR code for your authenticator app"))),
        # Grouped by four, as authenticator apps show a key typed by hand.
        "secret": " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
        "action": action,
    }
    response = render(request, "staff/enrol.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/login/enrol")
async def enrol_form(request: web.Request) -> web.Response:
    waiting = await _waiting(request)
    if waiting is None:
        return _start_again(request)
    if waiting[0].totp_secret is not None:
        return see_other("/login/code?next=" + quote(_next(request), safe=""))
    return await enrol_page(request, waiting[0], waiting[1], _next(request), {})


@routes.post("/login/enrol")
async def confirm_enrolment(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    destination = _next(request, form.get("next"))
    waiting = await _waiting(request)
    if waiting is None:
        return _start_again(request)
    user, token = waiting
    session = request[DB]
    try:
        codes = await two_factor.confirm_enrolment(
            session=session,
            clock=request.app[CLOCK],
            user=user,
            code=str(form.get("code", "")),
            token=token,
            max_sessions=request.app[SETTINGS].max_sessions_per_user,
        )
    except two_factor.AlreadyEnrolled:
        return see_other("/login/code?next=" + quote(destination, safe=""))
    except two_factor.SignInEnded:
        return _start_again(request)
    except InvalidInput as exc:
        await session.commit()
        errors = {e.field: field_message(request.app[CATALOGS], request[LANGUAGE], e) for e in exc.errors}
        return await enrol_page(request, user, token, destination, errors, status=400)
    except two_factor.TooManyWrongCodes as exc:
        return await _too_many(request, exc)
    response = recovery_codes_page(request, codes, destination)
    # The first code completed the sign-in: the browser becomes a trusted device (OWASP device cookies).
    remember_device(request, response, user.username)
    return response


def recovery_codes_page(request: web.Request, codes: list[str], destination: str) -> web.Response:
    """The recovery codes, shown this once (only their hashes are kept).

    The answer to the POST itself, on purpose, not a redirect: a page a GET could show again would have to keep
    the codes somewhere to show them."""
    response = render(request, "staff/recovery_codes.html", {"codes": codes, "next": destination})
    response.headers["Cache-Control"] = "no-store"
    return response
