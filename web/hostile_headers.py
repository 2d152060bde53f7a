"""Cookies and headers holding bytes that are not text, made safe before any middleware or handler reads them.

aiohttp hands header bytes that are not UTF-8 to Python as lone surrogates ("\\xff" becomes "\\udcff"), and
nothing can encode those: a session token hashed, a CSRF cookie signed, a device cookie checked, a browser's
name stored with its session all raised, and the client got a 500 with a traceback in the log. (A NUL never
gets this far: aiohttp's parser refuses it with a 400.) Each header is decided by what it is for:

- Cookie: a cookie that is not printable ASCII is treated as absent. Majlis only ever sets printable ASCII
  cookies, so such a cookie is junk (another site's on the same domain, or forged); refusing the request instead
  would lock the browser out of the site until its owner found and cleared the cookie.
- User-Agent: each broken character is replaced by U+FFFD. It is only shown (a session's browser), never
  trusted, and an odd browser must still be able to sign in.
- Any other header: 400 naming it. The others Majlis reads carry meaning that a silent drop would change:
  without its Idempotency-Key a retry creates a second request, without X-Forwarded-For a client behind a
  proxy would be counted as the proxy; a well-behaved client never sends such bytes in any of them.

The request is cloned with the safe headers by the first middleware, so that everything after it, the error
and language middleware included, shares the one clean request (and the state handlers leave on it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from aiohttp import hdrs, web
from multidict import CIMultiDict

from web.middleware import Handler

_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
# The headers refused, for web.hostile_input to answer once the language is known (400 naming the first).
REFUSED_HEADERS: web.RequestKey[tuple[str, ...]] = web.RequestKey("refused_headers")


def _broken(ch: str) -> bool:
    return ch == "\x00" or "\ud800" <= ch <= "\udfff"


def text_safe(value: str) -> bool:
    """False for a value holding a NUL or a lone surrogate (a byte that was not UTF-8)."""
    return not any(_broken(ch) for ch in value)


def _kept_cookies(header: str) -> str:
    """The Cookie header without the cookies that are not printable ASCII ("" when none is left)."""
    pairs = (pair.strip() for pair in header.split(";"))
    return "; ".join(pair for pair in pairs if pair and _PRINTABLE_ASCII.fullmatch(pair))


def safe_headers(headers: Mapping[str, str]) -> tuple[CIMultiDict[str], tuple[str, ...]]:
    """The headers made safe as the module says, and the names of those refused (left out of the first)."""
    kept: CIMultiDict[str] = CIMultiDict()
    refused: list[str] = []
    for name, value in headers.items():
        if name.lower() == hdrs.COOKIE.lower():
            cookies = _kept_cookies(value)
            if cookies:
                kept.add(name, cookies)
        elif text_safe(value):
            kept.add(name, value)
        elif name.lower() == hdrs.USER_AGENT.lower():
            kept.add(name, "".join("\ufffd" if _broken(ch) else ch for ch in value))
        elif name not in refused:
            refused.append(name)
    return kept, tuple(refused)


def _needs_cleaning(request: web.Request) -> bool:
    for name, value in request.headers.items():
        if name.lower() == hdrs.COOKIE.lower():
            if not _PRINTABLE_ASCII.fullmatch(value):
                return True
        elif not text_safe(value):
            return True
    return False


@web.middleware
async def hostile_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hands on a clone with safe headers when any header or cookie holds what cannot be text; else the request."""
    if not _needs_cleaning(request):
        return await handler(request)
    headers, refused = safe_headers(request.headers)
    cleaned = request.clone(headers=headers)
    if refused:
        cleaned[REFUSED_HEADERS] = refused
    return await handler(cleaned)
