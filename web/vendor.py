"""The front-end libraries Majlis serves from itself: the pinned npm packages `make install` put in node_modules/.

Only the files listed here are served (never a path a request makes up), under /static/vendor/ with the package's
version in the address, so a year's cache is safe: a new version is a new address. When npm did not run, the
answer is a 404 that says so, not a page without its charts and no word why.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from aiohttp import web

from majlis.errors import N_
from web.middleware import error_response

routes = web.RouteTableDef()
PREFIX = "/static/vendor/"
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# Served name → (package, file inside it).
FILES: dict[str, tuple[str, str]] = {
    "chart.umd.min.js": ("chart.js", "dist/chart.umd.min.js"),
}
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8"}
# A year: the address changes with the version.
LONG_CACHE = "public, max-age=31536000, immutable"
NOT_INSTALLED = N_("The charts' library is not installed on this server: run make install (npm ci).")


@cache
def version(package: str) -> str:
    """The installed version of a package ("missing" when npm did not run)."""
    try:
        manifest = json.loads((NODE_MODULES / package / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "missing"
    return str(manifest.get("version", "missing"))


def url(name: str) -> str:
    """The address a page loads a vendored file from, versioned."""
    package, _ = FILES[name]
    return f"{PREFIX}{name}?v={version(package)}"


@routes.get(PREFIX + "{name}")
async def vendored(request: web.Request) -> web.StreamResponse:
    known = FILES.get(request.match_info["name"])
    if known is None:
        raise web.HTTPNotFound
    package, inside = known
    path = NODE_MODULES / package / inside
    if not path.is_file():
        return error_response(request, 404, NOT_INSTALLED)
    return web.FileResponse(
        path,
        headers={
            "Cache-Control": LONG_CACHE,
            "Content-Type": CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
        },
    )
