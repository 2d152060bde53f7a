"""The reception centres as pages show them: names in the reader's language, from the branches table."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from rooms import service as rooms
from web.keys import DB, LANGUAGE


async def branch_context(request: web.Request) -> dict[str, Any]:
    """`branch_names` (every centre, closed ones too, for requests that name them) and `branch_choices`
    (the open centres, for a form's select), both in the reader's language."""
    language = request.get(LANGUAGE, "ar")
    sites = await rooms.branches(session=request[DB])
    return {
        "branch_names": {site.code: site.name_in(language) for site in sites},
        "branch_choices": [(site.code, site.name_in(language)) for site in sites if site.active],
    }
