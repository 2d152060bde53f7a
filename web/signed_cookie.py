"""A short-lived permission kept in a signed cookie: what it names (a request's id, a phone's digits) and
when it stops working, HMAC'd with the secret key under a purpose of its own.

A cookie rather than a row: it needs no table, holds across application instances as the signed links do,
and the visitor cannot change what it names. Used by the applicant's answer pages (web/applicant_answers.py,
a request) and by "my requests" (web/my_requests.py, a phone); a value signed for one purpose is refused by
the other.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from aiohttp import web

from web.keys import CLOCK, SETTINGS
from web.security import cookie_flags


def _mac(request: web.Request, purpose: bytes, body: str) -> str:
    key = hashlib.sha256(purpose + request.app[SETTINGS].secret_key.get_secret_value().encode()).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def signed_value(request: web.Request, purpose: bytes, subject: str, minutes: int) -> tuple[str, datetime]:
    """The cookie's value naming `subject` (digits only) and when it stops working."""
    expires = request.app[CLOCK].now() + timedelta(minutes=minutes)
    body = f"{subject}.{int(expires.timestamp())}"
    return f"{body}.{_mac(request, purpose, body)}", expires


def signed_subject(request: web.Request, purpose: bytes, name: str) -> str | None:
    """What the cookie `name` names, if we signed it for `purpose` and it is still in time."""
    parts = request.cookies.get(name, "").split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isalnum() for p in parts):
        return None
    subject, expires, mac = parts
    if not (subject.isdigit() and expires.isdigit()) or len(subject) > 16 or len(expires) > 12:
        return None
    if not hmac.compare_digest(_mac(request, purpose, f"{subject}.{expires}"), mac):
        return None
    if datetime.fromtimestamp(int(expires), UTC) <= request.app[CLOCK].now():
        return None
    return subject


def set_signed(
    response: web.StreamResponse, request: web.Request, name: str, value: str, expires: datetime, path: str
) -> None:
    """Sets the cookie HttpOnly, SameSite=Strict, sent only under `path`, gone when it stops working."""
    flags = {**cookie_flags(request), "path": path, "samesite": "Strict"}
    max_age = int((expires - request.app[CLOCK].now()).total_seconds())
    response.set_cookie(name, value, max_age=max_age, **flags)  # type: ignore[arg-type]
