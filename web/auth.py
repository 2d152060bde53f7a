"""Who is signed in, and which role may open which page."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar
from urllib.parse import quote

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from majlis.errors import N_
from web.keys import CLOCK, DB, SETTINGS, USER
from web.middleware import error_response, is_api
from web.security import SESSION_COOKIE
from web.signed_in import SignedIn

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)

ALL_STAFF: frozenset[Role] = frozenset(Role)
# The attribute the role guard leaves on each handler, so tests can walk the
# router and check every page against every role.
ROLES_ATTRIBUTE = "__majlis_roles__"


def sign_in_policy(request: web.Request) -> accounts.SignInPolicy:
    settings = request.app[SETTINGS]
    return accounts.SignInPolicy(
        max_failures=settings.login_max_failures,
        window=timedelta(minutes=settings.login_window_minutes),
        session_lifetime=timedelta(hours=settings.session_hours),
    )


async def current_user(request: web.Request) -> SignedIn | None:
    """The signed-in staff member, looked up once per request."""
    if USER not in request:
        token = request.cookies.get(SESSION_COOKIE)
        user = (
            await accounts.user_for_token(session=request[DB], clock=request.app[CLOCK], token=token) if token else None
        )
        request[USER] = SignedIn.of(user) if user is not None else None
    return request[USER]


def requires(*roles: Role) -> Callable[[H], H]:
    """Only these roles (and administrators) may use the handler; others get 403.

    Someone not signed in is sent to the sign-in page, and back afterwards.
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
                    raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
                return error_response(request, 403, N_("Your session has ended. Sign in again."))
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
