"""Retry-After on a throttle's 429 (RFC 9110 §10.2.3): how many seconds the client must wait before trying again.

The throttles' refusals (accounts.sign_in_throttle.TooManyAttempts, cases.service.TooManyLookups) carry the wait;
the code that meets one notes it on the request (note_wait), and this middleware puts it on the 429 that the
handler answers, whatever page or API answered it (the status form, the status APIs, the sign-in page).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RETRY_AFTER: web.RequestKey[int] = web.RequestKey("retry_after")


def note_wait(request: web.Request, exc: BaseException) -> None:
    """Keeps the wait a throttle's refusal carries, for the answer's Retry-After."""
    seconds = getattr(exc, "retry_after", None)
    if isinstance(seconds, int):
        request[RETRY_AFTER] = seconds


@web.middleware
async def retry_after(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    seconds = request.get(RETRY_AFTER)
    if response.status == 429 and seconds is not None and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(seconds)
    return response
