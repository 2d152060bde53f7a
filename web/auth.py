"""Who is signed in, and which role may open which page."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar
from urllib.parse import quote

from aiohttp import web

from accounts import service as accounts
from accounts import sessions
from accounts.roles import Role
from majlis.errors import N_
from web.keys import BROWSER_SESSION, CLOCK, SESSIONS, SETTINGS, USER
from web.middleware import error_response, is_api
from web.security import SESSION_COOKIE
from web.signed_in import BrowserSession, SignedIn

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

ALL_STAFF: frozenset[Role] = frozenset(Role)
# The attribute the role guard leaves on each handler, so tests can walk the
# router and check every page against every role.
ROLES_ATTRIBUTE = "__majlis_roles__"
# Someone whose password an administrator reset may open only this page (and sign out) until they choose a new one.
PASSWORD_PAGE = "/account/password"  # noqa: S105 (a path, not a password)
STATIC_PREFIX = "/static/"


def sign_in_policy(request: web.Request) -> accounts.SignInPolicy:
    settings = request.app[SETTINGS]
    return accounts.SignInPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
    )


def session_policy(request: web.Request) -> sessions.SessionPolicy:
    settings = request.app[SETTINGS]
    return sessions.SessionPolicy(
        lifetime=timedelta(hours=settings.session_hours),
        idle=timedelta(minutes=settings.session_idle_minutes),
        max_per_user=settings.max_sessions_per_user,
    )


@web.middleware
async def staff_sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Finds the live session behind the cookie before the CSRF check, which needs that session's token.

    Its own short transaction, committed at once: noting the visit (last_seen_at) or dropping an idled-out session
    holds even when the request itself fails, and the request's transaction (db_session) opens only after the
    CSRF check.
    """
    request[BROWSER_SESSION] = None
    request[USER] = None
    token = request.cookies.get(SESSION_COOKIE)
    # Static files (the browser fetches several per page) need no one signed in: no database round trip for them.
    if token and not request.path.startswith(STATIC_PREFIX):
        async with request.app[SESSIONS]() as db:
            live = await sessions.live_session(
                session=db, clock=request.app[CLOCK], policy=session_policy(request), token=token
            )
            await db.commit()
        if live is not None:
            user = SignedIn.of(live.user)
            request[BROWSER_SESSION] = BrowserSession(live.token_hash, live.csrf_token, live.verified, user)
            # Owing a second factor is not being signed in (web.two_factor handles that step).
            request[USER] = user if live.verified else None
    return await handler(request)


async def current_user(request: web.Request) -> SignedIn | None:
    """The signed-in staff member: a live session of an active account whose second factor, if owed, was given."""
    return request.get(USER)


def pending_user(request: web.Request) -> SignedIn | None:
    """Whose password was right but whose session still owes the second factor; None otherwise."""
    browser = request.get(BROWSER_SESSION)
    return browser.user if browser is not None and not browser.verified else None


def _sign_in_step(request: web.Request) -> str:
    """Where a browser not signed in goes: the password, or the second step its waiting sign-in still owes."""
    pending = pending_user(request)
    if pending is None:
        return "/login"
    return "/login/code" if pending.has_authenticator else "/login/enrol"


def requires(*roles: Role) -> Callable[[H], H]:
    """Only these roles (and administrators) may use the handler; others get 403.

    Someone not signed in is sent to the sign-in page (or to the second step their sign-in still owes), and back
    afterwards.
    """
    allowed = frozenset(roles) | {Role.ADMINISTRATOR}

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            user = await current_user(request)
            if user is None:
                if is_api(request):
                    return error_response(request, 401, N_("Sign in first."))
                if request.method == "GET":
                    raise web.HTTPSeeOther(f"{_sign_in_step(request)}?next={quote(request.path_qs, safe='')}")
                return error_response(request, 403, N_("Your session has ended. Sign in again."))
            if user.must_change_password and request.path != PASSWORD_PAGE:
                if request.method == "GET" and not is_api(request):
                    raise web.HTTPSeeOther(PASSWORD_PAGE)
                return error_response(request, 403, N_("Choose a new password before anything else."))
            if user.role not in allowed:
                return error_response(request, 403, N_("This page is not for your role."))
            return await handler(request)

        setattr(guarded, ROLES_ATTRIBUTE, allowed)
        return guarded  # type: ignore[return-value]

    return decorate


def signed_in_user(request: web.Request) -> SignedIn:
    """The user a guarded handler runs for."""
    if USER not in request or (user := request[USER]) is None:
        raise RuntimeError("signed_in_user() called outside a @requires handler")
    return user
