"""Headers every answer carries, and the WebSocket origin check.

Set when a response is prepared (``on_response_prepare``), so they hold for
every answer the app sends: pages, the API, files, redirects, errors made by any
middleware, and answers that handlers stream themselves.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import hdrs, web, web_response
from aiohttp.web_urldispatcher import MatchInfoError

from majlis.errors import N_
from web.keys import SETTINGS
from web.middleware import Handler, error_response

# Names the service without its software or versions (aiohttp's default names Python's and its own).
SERVER = "Majlis"
STATIC = "/static/"


async def finish_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Server without versions, Allow on 405, and no-store unless the handler chose its own caching.

    Staff pages and answers carrying personal data must never stay in a shared or
    browser cache; rather than sort every route into "personal" or not, every
    dynamic answer is no-store. Static files (versioned names) and the few handlers
    that set Cache-Control themselves (the official's calendar feed) keep theirs.
    """
    headers = response.headers
    headers[hdrs.SERVER] = SERVER
    if response.status == 405 and hdrs.ALLOW not in headers:
        refusal = request.match_info.http_exception if isinstance(request.match_info, MatchInfoError) else None
        if isinstance(refusal, web.HTTPMethodNotAllowed):
            headers[hdrs.ALLOW] = ", ".join(sorted(refusal.allowed_methods))
    if not request.path.startswith(STATIC):
        headers.setdefault(hdrs.CACHE_CONTROL, "no-store")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def origin_allowed(request: web.Request) -> bool:
    """Whether a WebSocket handshake's Origin is this site: its public URL, or the address it was sent to.

    The second is the same origin in the browser's own terms (a page can only name
    the host it was loaded from), and lets a server reached by another name than
    the public URL (a test server, a second address) keep its consoles working.
    Without an Origin the client is not a browser: no page of another site can
    have opened it, and a non-browser client can send any Origin it likes anyway.
    """
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is None:
        return True
    own = (request.scheme.lower(), request.host.lower())
    return _origin(origin) in (_origin(request.app[SETTINGS].public_url), own)


@web.middleware
async def websocket_origin(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuses a WebSocket handshake from a page of another site (cross-site WebSocket hijacking).

    Browsers send cookies with a cross-site handshake and the same-origin policy
    does not apply to WebSockets, so the Origin header is the only sign of the
    page that opened it (every /ws/ route: the consoles and the video signalling).
    """
    upgrade = request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"
    if upgrade and not origin_allowed(request):
        return error_response(request, 403, N_("This connection did not come from this site."))
    return await handler(request)


def setup(app: web.Application) -> None:
    app.on_response_prepare.append(finish_headers)
    # Answers aiohttp makes before any app sees the request (a malformed request line or header: 400) skip
    # on_response_prepare and take the Server header from this constant; the process serves only Majlis.
    web_response.SERVER_SOFTWARE = SERVER  # type: ignore[attr-defined]
