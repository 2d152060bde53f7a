"""The cookie an enrolled device keeps (a kiosk, a desk tablet): its token, set when it opens its enrolment link."""

from __future__ import annotations

from aiohttp import web

from web.middleware import see_other
from web.security import cookie_flags

# As long as browsers keep a cookie (400 days): a device is enrolled once, and its token ends when it is revoked.
MAX_AGE_SECONDS = 400 * 86400


def enrolled(request: web.Request, *, cookie: str, token: str, then: str) -> web.Response:
    """To the device's screen (`then`), keeping its token in `cookie`."""
    response = see_other(then)
    response.set_cookie(cookie, token, max_age=MAX_AGE_SECONDS, **cookie_flags(request))  # type: ignore[arg-type]
    return response
