"""A signed-in member of staff's own authenticator: set one up (any role may), or, once set up, replace the
recovery codes after showing a current code. The sign-in's own second step is web/two_factor.py."""

from __future__ import annotations

from aiohttp import web

from accounts import service as accounts
from accounts import two_factor
from accounts.models import StaffUser
from majlis.errors import DomainError, InvalidInput
from web.auth import ALL_STAFF, requires, signed_in_user
from web.errors import domain_message, field_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.pages import render
from web.security import SESSION_COOKIE
from web.two_factor import enrol_page, recovery_codes_page

routes = web.RouteTableDef()

PAGE = "/account/two-factor"


async def _me(request: web.Request) -> StaffUser:
    user = await accounts.get_user(session=request[DB], user_id=signed_in_user(request).id)
    if user is None:  # the session middleware found this account a moment ago, in this transaction
        raise web.HTTPNotFound()
    return user


async def _page(
    request: web.Request, user: StaffUser, errors: dict[str, str], error: str | None = None, status: int = 200
) -> web.Response:
    if user.totp_secret is None:
        token = request.cookies.get(SESSION_COOKIE, "")
        return await enrol_page(request, user, token, PAGE, errors, action=PAGE + "/enrol", status=status)
    context = {
        "enabled_at": user.totp_enabled_at,
        "codes_left": await two_factor.recovery_codes_left(session=request[DB], user_id=user.id),
        "required": two_factor.required(user.role, all_roles=request.app[SETTINGS].two_factor_all_roles),
        "errors": errors,
        "values": {},
        "error": error,
    }
    return render(request, "staff/two_factor_account.html", context, status=status)


@routes.get(PAGE)
@requires(*ALL_STAFF)
async def own_two_factor(request: web.Request) -> web.Response:
    return await _page(request, await _me(request), {})


async def _refused(request: web.Request, user: StaffUser, exc: InvalidInput | DomainError) -> web.Response:
    """The wrong code is kept (guessing is counted) although the answer is an error."""
    await request[DB].commit()
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    if isinstance(exc, InvalidInput):
        errors = {e.field: field_message(catalogs, language, e) for e in exc.errors}
        return await _page(request, user, errors, status=400)
    status = 429 if isinstance(exc, two_factor.TooManyWrongCodes) else 409
    return await _page(request, user, {}, domain_message(catalogs, language, exc), status=status)


@routes.post(PAGE + "/enrol")
@requires(*ALL_STAFF)
async def enrol(request: web.Request) -> web.Response:
    form = await request.post()
    user = await _me(request)
    try:
        codes = await two_factor.confirm_enrolment(
            session=request[DB],
            clock=request.app[CLOCK],
            user=user,
            code=str(form.get("code", "")),
            token=request.cookies.get(SESSION_COOKIE, ""),
            max_sessions=request.app[SETTINGS].max_sessions_per_user,
        )
    except (InvalidInput, DomainError) as exc:
        return await _refused(request, user, exc)
    return recovery_codes_page(request, codes, PAGE)


@routes.post(PAGE + "/recovery-codes")
@requires(*ALL_STAFF)
async def new_recovery_codes(request: web.Request) -> web.Response:
    form = await request.post()
    user = await _me(request)
    try:
        codes = await two_factor.renew_recovery_codes(
            session=request[DB], clock=request.app[CLOCK], user=user, code=str(form.get("code", ""))
        )
    except (InvalidInput, DomainError) as exc:
        return await _refused(request, user, exc)
    return recovery_codes_page(request, codes, PAGE)
