"""Middleware: request ids, errors, language and cookies, security headers, one transaction per request."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from majlis.errors import N_
from majlis.logs import request_id_set, taken_or_new
from web.errors import bilingual
from web.i18n import pick_language
from web.keys import CATALOGS, CSRF_SECRET, DB, LANGUAGE, REQUEST_ID, SESSIONS, SETTINGS
from web.pages import render
from web.security import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, LANGUAGE_COOKIE, SESSION_COOKIE, cookie_flags, csrf_valid

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_STATUS_MESSAGES = {
    400: N_("The request could not be read."),
    401: N_("Sign in first."),
    403: N_("You are not allowed to open this page."),
    404: N_("The page you asked for was not found."),
    405: N_("This address does not accept that kind of request."),
    413: N_("What you sent is too large."),
    415: N_("Send the request as JSON."),
    429: N_("Too many requests. Wait a little and try again."),
    500: N_("Something went wrong on our side. Nothing you sent was half-saved; please try again."),
}

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Posted by providers, never by a browser; each handler checks the provider's signature.
WEBHOOKS = "/webhooks/"


def see_other(location: str) -> web.Response:
    """A 303 redirect that handlers can add cookies to before returning it."""
    return web.Response(status=303, headers={"Location": location})


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path in ("/openapi.json", "/healthz")


def is_webhook(request: web.Request) -> bool:
    return request.path.startswith(WEBHOOKS)


def error_response(request: web.Request, status: int, message: str | None = None) -> web.Response:
    """A bilingual error: JSON for the API, a page for people. Never a stack trace."""
    catalogs = request.app[CATALOGS]
    text = message or _STATUS_MESSAGES.get(status) or _STATUS_MESSAGES[500]
    if is_api(request):
        messages = bilingual(catalogs, text)
        body = {"error": _error_code(status), "message": messages[request[LANGUAGE]], "messages": messages}
        return web.json_response(body, status=status)
    return render(request, "error.html", {"status": status, "message": text}, status=status)


def _error_code(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        415: "unsupported_media_type",
        422: "invalid_input",
        429: "too_many_requests",
    }.get(status, "server_error")


REQUEST_ID_HEADER = "X-Request-Id"


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Gives the request its id (a well-formed incoming X-Request-Id, else a new one) for everything it does.

    Set in the context while the request is handled, so its log lines, the tasks it starts and the outbox
    messages it writes carry it (majlis.logs); the answer echoes it (echo_request_id).
    """
    request_id = taken_or_new(request.headers.get(REQUEST_ID_HEADER))
    request[REQUEST_ID] = request_id
    with request_id_set(request_id):
        return await handler(request)


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Puts the request's id on its answer, whichever way it was made (a page, an error, a WebSocket's upgrade)."""
    if REQUEST_ID in request:
        response.headers[REQUEST_ID_HEADER] = request[REQUEST_ID]


@web.middleware
async def errors_and_language(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Picks the language, shields users from tracebacks and sets the cookies every page needs."""
    settings = request.app[SETTINGS]
    query_language = request.query.get("lang")
    request[LANGUAGE] = pick_language(
        query=query_language,
        cookie=request.cookies.get(LANGUAGE_COOKIE),
        accept=request.headers.get("Accept-Language") if is_api(request) else None,
        default=settings.default_language,
    )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            # Redirects: answered as a plain response, so cookies can still be added below.
            response = web.Response(status=exc.status, headers=exc.headers)
        else:
            response = error_response(request, exc.status)
    except json.JSONDecodeError:
        response = error_response(request, 400, N_("The request body is not valid JSON."))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        response = error_response(request, 500)
    if query_language in ("ar", "en"):
        response.set_cookie(LANGUAGE_COOKIE, query_language, max_age=365 * 86400, **cookie_flags(request))  # type: ignore[arg-type]
    if CSRF_SECRET in request and request.cookies.get(CSRF_COOKIE) != request[CSRF_SECRET]:
        response.set_cookie(CSRF_COOKIE, request[CSRF_SECRET], **cookie_flags(request))  # type: ignore[arg-type]
    _security_headers(response)
    return response


def _security_headers(response: web.StreamResponse) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )


@web.middleware
async def csrf_protection(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every form post must carry the token of its page (a page's JSON post: in the X-CSRF-Token header).

    The public API takes no cookies as authority, so it needs no token unless a
    staff session cookie comes with the call; then the X-CSRF-Token header must.
    Webhooks carry none either: the provider's signature is their authority,
    checked by their handlers (web.twilio_webhooks).
    """
    if request.method in UNSAFE_METHODS and not is_webhook(request):
        if is_api(request):
            if SESSION_COOKIE in request.cookies and not csrf_valid(request, request.headers.get(CSRF_HEADER)):
                raise web.HTTPForbidden()
        else:
            form = await request.post()
            submitted = form.get(CSRF_FIELD)
            if request.content_type == "application/json":
                # A page's script posting JSON (the room's pre-call check) sends the token as the API does.
                submitted = request.headers.get(CSRF_HEADER)
            if not csrf_valid(request, submitted if isinstance(submitted, str) else None):
                return error_response(
                    request,
                    403,
                    N_("This form has expired or did not come from this site. Reload the page and try again."),
                )
    return await handler(request)


@web.middleware
async def db_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """One transaction per request: committed when the answer is a success, else rolled back."""
    async with request.app[SESSIONS]() as session:
        request[DB] = session
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                await session.commit()
            else:
                await session.rollback()
            raise
        except BaseException:
            await session.rollback()
            raise
        if response.status < 400:
            await session.commit()
        else:
            await session.rollback()
        return response
