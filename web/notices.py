"""The line that tells a member of staff their action was done, shown once on the page they are sent to.

A form that changes something answers with a redirect (a refresh never posts twice), so what it did is said on
the next page: `done(request, location, NOTICE, **params)` redirects and leaves the notice in a short-lived
cookie; `render` (web.pages) shows it at the top of that page, in the reader's language, and removes the cookie.
Only messages registered here with `notice()` are shown, so a cookie set by anyone else can say nothing of its own;
its parameters (a tracking number, a name) are shown as text, isolated, never as markup.
"""

from __future__ import annotations

import json
from typing import Final

from aiohttp import web

from majlis.bidi import first_strong
from majlis.i18n import Catalogs
from web.security import cookie_flags

NOTICE_COOKIE: Final = "majlis_notice"
_KNOWN: set[str] = set()


def notice(message: str) -> str:
    """Registers a message (an English id marked with N_) as one a redirect may leave behind; returns it."""
    _KNOWN.add(message)
    return message


def done(request: web.Request, location: str, message: str, **params: str | int) -> web.Response:
    """A 303 to `location` that shows `message` there (once)."""
    if message not in _KNOWN:
        raise ValueError(f"not a registered notice: {message!r}")
    response = web.Response(status=303, headers={"Location": location})  # web.middleware.see_other (which imports us)
    value = json.dumps({"m": message, "p": {k: str(v) for k, v in params.items()}}, ensure_ascii=True)
    response.set_cookie(NOTICE_COOKIE, value, max_age=120, **{**cookie_flags(request), "samesite": "Lax"})  # type: ignore[arg-type]
    return response


def waiting_notice(request: web.Request, catalogs: Catalogs, language: str) -> str | None:
    """The notice a redirect left for this page, in the reader's language; None when there is none (or it is not
    one of ours)."""
    raw = request.cookies.get(NOTICE_COOKIE)
    if not raw:
        return None
    try:
        found = json.loads(raw)
        message, params = found["m"], found["p"]
    except (ValueError, KeyError, TypeError):
        return None
    if message not in _KNOWN or not isinstance(params, dict):
        return None
    try:
        return catalogs.gettext(language, message, **{str(k): first_strong(v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError):
        return None
