"""The sign-in device cookie (accounts/sign_in_throttle.py): read at the password step, issued or renewed when the
sign-in is complete — after the password when nothing more is owed, else after the second factor."""

from __future__ import annotations

from aiohttp import web

from accounts.sign_in_throttle import DeviceCookies
from web.keys import SETTINGS
from web.security import cookie_flags

DEVICE_COOKIE = "majlis_device"
# A device stays trusted for a year of not signing in; every sign-in renews it.
DEVICE_COOKIE_DAYS = 365


def _cookies(request: web.Request) -> DeviceCookies:
    return DeviceCookies(request.app[SETTINGS].secret_key.get_secret_value())


def trusted_device(request: web.Request, username: str) -> str | None:
    """The trusted device this browser is for the username typed, or None (an untrusted client)."""
    return _cookies(request).device_for(username, request.cookies.get(DEVICE_COOKIE))


def remember_device(request: web.Request, response: web.StreamResponse, username: str) -> None:
    """Gives the browser a fresh device cookie for the username just signed in with, keeping its others."""
    value = _cookies(request).remember(request.cookies.get(DEVICE_COOKIE), username)
    flags = cookie_flags(request)
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_COOKIE_DAYS * 86400, **flags)  # type: ignore[arg-type]
