"""CSRF tokens and cookie flags.

A signed-in browser's token is its session's own (StaffSession.csrf_token): a new one at each sign-in, gone with
the session. Anonymous visitors (public forms, the sign-in page) keep a signed double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from web.keys import BROWSER_SESSION, CSRF_SECRET, SETTINGS
from web.signed_in import BrowserSession

CSRF_COOKIE = "majlis_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_COOKIE = "majlis_session"
LANGUAGE_COOKIE = "majlis_lang"


def cookie_flags(request: web.Request) -> dict[str, object]:
    """HttpOnly and SameSite always; Secure outside development (served over HTTPS)."""
    settings = request.app[SETTINGS]
    return {"httponly": True, "samesite": "Lax", "secure": not settings.is_development, "path": "/"}


def csrf_secret(request: web.Request) -> str:
    """The browser's CSRF cookie value, created for this response if it had none."""
    if CSRF_SECRET not in request:
        existing = request.cookies.get(CSRF_COOKIE, "")
        request[CSRF_SECRET] = existing if len(existing) >= 32 else secrets.token_urlsafe(32)
    return request[CSRF_SECRET]


def csrf_token(request: web.Request) -> str:
    """The token forms carry: the session's own, or for a visitor an HMAC of the cookie, so a forged page cannot
    know it."""
    browser: BrowserSession | None = request.get(BROWSER_SESSION)
    if browser is not None:
        return browser.csrf_token
    key = request.app[SETTINGS].secret_key.get_secret_value().encode()
    return hmac.new(key, csrf_secret(request).encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: web.Request, submitted: str | None) -> bool:
    if not submitted:
        return False
    if request.get(BROWSER_SESSION) is None and not request.cookies.get(CSRF_COOKIE):
        return False
    return hmac.compare_digest(csrf_token(request).encode(), submitted.encode("utf-8", "replace"))


def rotate_visitor_csrf(request: web.Request) -> None:
    """A new anonymous CSRF cookie (sent with this response): a token seen before sign-in is worth nothing after."""
    request[CSRF_SECRET] = secrets.token_urlsafe(32)


def safe_local_path(target: str | None) -> str | None:
    """The target if it is a path on this site, else None: never an open redirect.

    Browsers read "/\\evil.example" like "//evil.example", and a line break
    would split the Location header, so both are refused with any scheme or host.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
