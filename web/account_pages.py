"""A member of staff's own account: changing the password, and the list of their sessions with sign-out."""

from __future__ import annotations

from aiohttp import web

from accounts import account_changes, sessions
from accounts.passwords import MIN_PASSWORD_LENGTH
from accounts.sign_in_throttle import ThrottlePolicy, TooManyAttempts
from majlis.errors import N_, InvalidInput
from web.auth import ALL_STAFF, PASSWORD_PAGE, requires, session_policy, sign_in_policy, signed_in_user
from web.client_address import client_address
from web.device_cookie import trusted_device
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import BROWSER_SESSION, CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import error_response, see_other
from web.notices import done, notice
from web.pages import render
from web.retry_after import note_wait
from web.security import SESSION_COOKIE, cookie_flags

routes = web.RouteTableDef()

SESSIONS_PAGE = "/account/sessions"
SESSION_ENDED = notice(N_("The session was signed out."))
OTHERS_ENDED = notice(N_("Your other sessions were signed out."))

# Browser names people recognise, by the token that identifies each in a User-Agent (order matters: Edge and
# Opera also say "Chrome", Chrome also says "Safari").
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def browser_name(user_agent: str) -> str:
    """The browser and system ("Chrome · Windows") from a User-Agent; else the raw text, cut short."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or user_agent[:60]


def _password_page(request: web.Request, errors: dict[str, str], status: int = 200) -> web.Response:
    context = {"values": {}, "errors": errors, "min_password_length": MIN_PASSWORD_LENGTH}
    return render(request, "account/password.html", context, status=status)


@routes.get(PASSWORD_PAGE)
@requires(*ALL_STAFF)
async def password_form(request: web.Request) -> web.Response:
    return _password_page(request, {})


@routes.post(PASSWORD_PAGE)
@requires(*ALL_STAFF)
async def change_password(request: web.Request) -> web.StreamResponse:
    """A new password ends every session of the account; this browser continues in a new one (a new CSRF token)."""
    form = await request.post()
    session, clock, user = request[DB], request.app[CLOCK], signed_in_user(request)
    policy = sign_in_policy(request)
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    try:
        changed = await account_changes.change_password(
            session=session,
            clock=clock,
            user_id=user.id,
            current_password=str(form.get("current_password", "")),
            new_password=str(form.get("new_password", "")),
            confirmation=str(form.get("confirm_password", "")),
            throttle=ThrottlePolicy.scaled(max_failures=policy.max_failures, window=policy.window),
            address=client_address(request),
            device=trusted_device(request, user.username),
            token=request.cookies.get(SESSION_COOKIE, ""),
        )
    except InvalidInput as exc:
        # A wrong current password is kept for the throttle although the answer is an error.
        await session.commit()
        return _password_page(request, errors_by_field(catalogs, language, exc.errors), status=422)
    except TooManyAttempts as exc:
        note_wait(request, exc)
        return _password_page(request, {"current_password": domain_message(catalogs, language, exc)}, status=429)
    except account_changes.SignedOutForWrongPasswords as exc:
        await session.commit()
        context = {"error": domain_message(catalogs, language, exc), "failed": False, "username": "", "next": ""}
        response = render(request, "staff/login.html", context, status=401)
        response.del_cookie(SESSION_COOKIE, path="/")
        return response
    token = await sessions.open_session(
        session=session,
        clock=clock,
        policy=session_policy(request),
        user=changed,
        verified=True,
        address=client_address(request),
        user_agent=request.headers.get("User-Agent", ""),
    )
    response = see_other(f"{SESSIONS_PAGE}?changed=1")
    max_age = request.app[SETTINGS].session_hours * 3600
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, **cookie_flags(request))  # type: ignore[arg-type]
    return response


@routes.get(SESSIONS_PAGE)
@requires(*ALL_STAFF)
async def own_sessions(request: web.Request) -> web.Response:
    user = signed_in_user(request)
    browser = request[BROWSER_SESSION]
    rows = await sessions.sessions_of(
        session=request[DB], clock=request.app[CLOCK], policy=session_policy(request), user_id=user.id
    )
    listed = [
        {
            "key": row.token_hash,
            "current": browser is not None and row.token_hash == browser.token_hash,
            "address": row.address,
            "browser": browser_name(row.user_agent),
            "since": row.created_at,
            "last_seen": row.last_seen_at or row.created_at,
        }
        for row in rows
    ]
    context = {"sessions": listed, "changed": request.query.get("changed") == "1"}
    return render(request, "account/sessions.html", context)


@routes.post(SESSIONS_PAGE + "/revoke")
@requires(*ALL_STAFF)
async def revoke_session(request: web.Request) -> web.StreamResponse:
    """Signs out one of one's own sessions (this one too, if chosen)."""
    form = await request.post()
    ended = await sessions.revoke_session(
        session=request[DB],
        clock=request.app[CLOCK],
        user_id=signed_in_user(request).id,
        session_key=str(form.get("session", "")),
    )
    if not ended:
        return error_response(request, 404, None)
    return done(request, SESSIONS_PAGE, SESSION_ENDED)


@routes.post(SESSIONS_PAGE + "/revoke-others")
@requires(*ALL_STAFF)
async def revoke_other_sessions(request: web.Request) -> web.StreamResponse:
    await sessions.revoke_other_sessions(
        session=request[DB],
        clock=request.app[CLOCK],
        user_id=signed_in_user(request).id,
        keep_token=request.cookies.get(SESSION_COOKIE, ""),
    )
    return done(request, SESSIONS_PAGE, OTHERS_ENDED)
