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
from web import labels
from web.auth import requires
from web.keys import CLOCK, DB
from web.pages import render
from web.reports import SafeWriter

routes = web.RouteTableDef()

# The periods offered, in days back from now; any other value reads as the default.
PERIODS: Mapping[int, str] = {
    1: N_("The last day"),
    7: N_("The last week"),
    30: N_("The last 30 days"),
    90: N_("The last 90 days"),
}
DEFAULT_DAYS = 7


def _days(request: web.Request) -> int:
    asked = request.query.get("days", "")
    return int(asked) if asked.isascii() and asked.isdigit() and int(asked) in PERIODS else DEFAULT_DAYS


async def _rows(request: web.Request, days: int) -> list[access_log.AccessRow]:
    now = request.app[CLOCK].now()
    return await access_log.accesses(session=request[DB], since=now - timedelta(days=days), until=now)


@routes.get("/reports/access")
@requires(Role.MANAGER)
async def access_report(request: web.Request) -> web.Response:
    days = _days(request)
    context = {
        "rows": await _rows(request, days),
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
    out = io.StringIO()
    writer = SafeWriter(csv.writer(out))
    writer.writerow(["at_utc", "username", "full_name", "role", "tracking_number", "via"])
    for row in await _rows(request, _days(request)):
        writer.writerow([row.at.isoformat(), row.username, row.full_name, row.role.value, row.tracking_number, row.via])
    # A byte-order mark lets spreadsheet programs read the Arabic names as UTF-8.
    return web.Response(
        text="\ufeff" + out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="personal-data-access.csv"'},
    )
