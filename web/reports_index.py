"""/reports: every report the signed-in member may open, each with a line on what it answers.

Which roles may open a report is what its own page's guard says (web.auth.requires leaves the roles on the
handler), read from the router, so this list can never offer a page that would refuse the reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from accounts.roles import Role
from majlis.errors import N_
from web.auth import ROLES_ATTRIBUTE, requires, signed_in_user
from web.pages import render

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Report:
    path: str
    title: str
    about: str


REPORTS = (
    Report("/reports/statistics", N_("Statistics"), N_("Requests, waits, audiences and ratings over a period.")),
    Report("/reports/quality-monthly", N_("Service quality report"), N_("The month's ratings, per centre.")),
    Report("/quality/reviews", N_("The daily review of ratings"), N_("Each day's ratings, negative ones first.")),
    Report("/reports/fairness", N_("Fairness report"), N_("Manual changes to the queue and who made them.")),
    Report("/audit/placements", N_("Placements explained"), N_("Why each request got its seat.")),
    Report("/audit/chain", N_("The record's verification"), N_("Whether the fairness record is intact.")),
    Report("/reports/followup", N_("Follow-up report"), N_("Referrals per department: answered, on time, overdue.")),
    Report("/reports/day", N_("The day's report"), N_("One audience day: arrivals, waits and outcomes.")),
    Report("/reports/emergency", N_("Emergency line report"), N_("The emergency line's reports per mission.")),
    Report("/reports/access", N_("Access to personal data"), N_("Who opened which request's personal data.")),
)


def open_to(app: web.Application, role: Role, reports: Iterable[Report] = REPORTS) -> list[Report]:
    """The reports whose page lets this role in."""
    allowed: dict[str, frozenset[Role]] = {}
    for route in app.router.routes():
        if route.method == "GET" and route.resource is not None:
            roles = getattr(route.handler, ROLES_ATTRIBUTE, None)
            if roles is not None:
                allowed[route.resource.canonical] = roles
    return [r for r in reports if role in allowed.get(r.path, frozenset())]


@routes.get("/reports")
@requires(Role.MANAGER, Role.AUDITOR)
async def reports_index(request: web.Request) -> web.Response:
    reports = open_to(request.app, signed_in_user(request).role)
    return render(request, "reports/index.html", {"reports": reports})
