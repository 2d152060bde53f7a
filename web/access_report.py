"""Managers' report of who saw which request's personal data, and when (cases/access_log.py), as a page and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import timedelta

from aiohttp import web

from accounts.roles import Role
from cases import access_log
from majlis.errors import N_
from web import labels, pagination
from web.auth import requires
from web.keys import CLOCK, DB
from web.middleware import error_response
from web.pages import render
from web.reports import SafeWriter

routes = web.RouteTableDef()

# The periods offered, in days back from now; no ?days= reads as the default, any other value is refused.
PERIODS: Mapping[int, str] = {
    1: N_("The last day"),
    7: N_("The last week"),
    30: N_("The last 30 days"),
    90: N_("The last 90 days"),
}
DEFAULT_DAYS = 7
PER_PAGE = 50
UNKNOWN_PERIOD = N_("The period must be one of those offered: the last day, week, 30 days or 90 days.")


def _days(request: web.Request) -> int | None:
    """The period asked for (the default when none is); None for one not offered."""
    if "days" not in request.query:
        return DEFAULT_DAYS
    asked = request.query["days"]
    if asked.isascii() and asked.isdigit() and len(asked) <= 3 and int(asked) in PERIODS:
        return int(asked)
    return None


async def _rows(request: web.Request, days: int) -> list[access_log.AccessRow]:
    now = request.app[CLOCK].now()
    return await access_log.accesses(session=request[DB], since=now - timedelta(days=days), until=now)


@routes.get("/reports/access")
@requires(Role.MANAGER)
async def access_report(request: web.Request) -> web.Response:
    days, number = _days(request), pagination.asked_page(request)
    if days is None:
        return error_response(request, 400, UNKNOWN_PERIOD)
    if number is None:
        return pagination.refused(request)
    now = request.app[CLOCK].now()
    paged = await access_log.accesses_page(
        session=request[DB], since=now - timedelta(days=days), until=now, page=number, per_page=PER_PAGE
    )
    context = {
        "rows": paged.items,
        "pager": pagination.pager(request, paged, N_("Pages of the views")),
        "days": days,
        "periods": PERIODS,
        "limit": access_log.REPORT_LIMIT,
        "labels": labels,
    }
    return render(request, "reports/access.html", context)


@routes.get("/reports/access.csv")
@requires(Role.MANAGER)
async def access_report_csv(request: web.Request) -> web.Response:
    """The same rows for a spreadsheet: time (UTC), username, name, role, tracking number, page or API route."""
    days = _days(request)
    if days is None:
        return error_response(request, 400, UNKNOWN_PERIOD)
    out = io.StringIO()
    writer = SafeWriter(csv.writer(out))
    writer.writerow(["at_utc", "username", "full_name", "role", "tracking_number", "via"])
    for row in await _rows(request, days):
        writer.writerow([row.at.isoformat(), row.username, row.full_name, row.role.value, row.tracking_number, row.via])
    # A byte-order mark lets spreadsheet programs read the Arabic names as UTF-8.
    return web.Response(
        text="\ufeff" + out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="personal-data-access.csv"'},
    )
