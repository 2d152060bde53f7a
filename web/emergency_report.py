"""The emergency line's monthly report for the ministry: a page with charts and tables by country and by mission,
CSV and XLSX downloads, and the same over JSON (/reports/emergency, /reports/emergency.csv, /reports/emergency.xlsx,
/api/v1/reports/emergency).

Consular supervisors and managers (and administrators) see every mission. The month is asked as ?month=2026-11
or ?hijri=1448-05, as the follow-up's report asks it; without either, the last complete Gregorian month.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from accounts.roles import Role
from emergency import monthly_files
from emergency.models import MissionKind
from emergency.monthly import SEVERITIES, EmergencyMonthly, Figures, Line, monthly_report
from followup.periods import Period, asked_period
from majlis.clock import riyadh
from majlis.errors import InvalidInput
from web.api import invalid_input
from web.auth import requires
from web.emergency_chart import ACKNOWLEDGEMENTS, OUTCOMES, bar_chart
from web.followup_report import month_asked, months_offered, spreadsheet
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import error_response
from web.pages import gettext_for, render

routes = web.RouteTableDef()
REPORT_ROLES = (Role.CONSULAR_SUPERVISOR, Role.MANAGER)


class MonthlyEscalationsOut(BaseModel):
    level: int
    count: int


class MonthlyFiguresOut(BaseModel):
    """What happened in the month: received, acknowledged and solved within the service level or late, escalations,
    open at the month's end."""

    received: int
    acknowledged_in_time: int
    acknowledged_late: int
    solved_in_time: int
    solved_late: int
    escalations: int
    escalations_by_level: list[MonthlyEscalationsOut]
    open_at_end: int


class MonthlyLineOut(MonthlyFiguresOut):
    # The same figures for each severity: life_threatening, urgent, normal.
    by_severity: dict[str, MonthlyFiguresOut]


class MonthlyMissionOut(MonthlyLineOut):
    code: str
    kind: Literal["embassy", "consulate", "central_desk"]
    country: str
    name_ar: str
    name_en: str
    live: bool
    active: bool


class MonthlyCountryOut(MonthlyLineOut):
    country: str
    name_ar: str
    name_en: str


class EmergencyMonthlyOut(BaseModel):
    """The emergency line's monthly report: the period (Riyadh midnights), each mission, each country, the ministry."""

    period: str
    kind: Literal["gregorian", "hijri"]
    first_day: date
    last_day: date
    starts_at: datetime
    ends_at: datetime
    as_of: datetime
    missions: list[MonthlyMissionOut]
    countries: list[MonthlyCountryOut]
    overall: MonthlyLineOut


REPORT_OUTPUTS: tuple[type[BaseModel], ...] = (EmergencyMonthlyOut,)


def _figures(figures: Figures) -> dict[str, Any]:
    return {
        "received": figures.received,
        "acknowledged_in_time": figures.acknowledged_in_time,
        "acknowledged_late": figures.acknowledged_late,
        "solved_in_time": figures.solved_in_time,
        "solved_late": figures.solved_late,
        "escalations": figures.escalations,
        "escalations_by_level": [
            MonthlyEscalationsOut(level=level, count=count) for level, count in figures.escalations_by_level.items()
        ],
        "open_at_end": figures.open_at_end,
    }


def _line(line: Line) -> dict[str, Any]:
    return {
        **_figures(line.figures),
        "by_severity": {s.value: MonthlyFiguresOut(**_figures(line.by_severity[s])) for s in SEVERITIES},
    }


def report_out(report: EmergencyMonthly) -> EmergencyMonthlyOut:
    period = report.period
    return EmergencyMonthlyOut(
        period=period.key,
        kind=period.kind,
        first_day=period.first_day,
        last_day=period.last_day,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        as_of=report.as_of,
        missions=[
            MonthlyMissionOut(
                code=m.code,
                kind=m.kind.value,
                country=m.country,
                name_ar=m.name_ar,
                name_en=m.name_en,
                live=m.live,
                active=m.active,
                **_line(m),
            )
            for m in report.ordered_missions("en")
        ],
        countries=[
            MonthlyCountryOut(country=c.country, name_ar=c.name("ar"), name_en=c.name("en"), **_line(c))
            for c in report.ordered_countries("en")
        ],
        overall=MonthlyLineOut(**_line(report.overall)),
    )


def _asked(request: web.Request) -> Period:
    return month_asked(request, hijri_default=False)


async def _report(request: web.Request, period: Period) -> EmergencyMonthly:
    return await monthly_report(session=request[DB], clock=request.app[CLOCK], period=period)


@routes.get("/reports/emergency")
@requires(*REPORT_ROLES)
async def page(request: web.Request) -> web.Response:
    language = request[LANGUAGE]
    form_error = None
    try:
        period = _asked(request)
    except InvalidInput as exc:
        # The messages name their field themselves (the Gregorian or the Hijri month).
        form_error = request.app[CATALOGS].gettext(language, exc.errors[0].message)
        period = asked_period(month=None, hijri=None, now=request.app[CLOCK].now(), hijri_default=False)
    report = await _report(request, period)
    today = riyadh(request.app[CLOCK].now()).date()
    say = gettext_for(request)
    countries = report.ordered_countries(language)
    missions = report.ordered_missions(language)
    context = {
        "report": report,
        "period": period,
        "countries": countries,
        "missions": missions,
        "severities": [(s, monthly_files.SEVERITY_NAMES[s]) for s in SEVERITIES],
        "country_chart": bar_chart([(c.name(language), c.figures) for c in countries], OUTCOMES, language, say),
        "mission_chart": bar_chart([(m.name(language), m.figures) for m in missions], ACKNOWLEDGEMENTS, language, say),
        "outcomes": OUTCOMES,
        "acknowledgements": ACKNOWLEDGEMENTS,
        "central_desk": MissionKind.CENTRAL_DESK,
        "gregorian_months": months_offered(today, hijri=False),
        "hijri_months": months_offered(today, hijri=True),
        "query": f"{period.parameter}={period.value}",
        "under_way": report.as_of < period.ends_at,
        "form_error": form_error,
    }
    return render(request, "reports/emergency.html", context, status=422 if form_error else 200)


async def _download(request: web.Request, kind: Literal["csv", "xlsx"]) -> web.Response:
    try:
        period = _asked(request)
    except InvalidInput as exc:
        return error_response(request, 422, exc.errors[0].message)
    report = await _report(request, period)
    language = request[LANGUAGE]
    write = monthly_files.csv_bytes if kind == "csv" else monthly_files.xlsx_bytes
    return spreadsheet(write(report, language), kind, f"emergency-{period.key}.{kind}")


@routes.get("/reports/emergency.csv")
@requires(*REPORT_ROLES)
async def csv_download(request: web.Request) -> web.Response:
    return await _download(request, "csv")


@routes.get("/reports/emergency.xlsx")
@requires(*REPORT_ROLES)
async def xlsx_download(request: web.Request) -> web.Response:
    return await _download(request, "xlsx")


@routes.get("/api/v1/reports/emergency")
@requires(*REPORT_ROLES)
async def api_report(request: web.Request) -> web.Response:
    """The month's report as JSON; 422 naming month or hijri when the month cannot be reported."""
    try:
        period = _asked(request)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    report = await _report(request, period)
    return web.json_response(report_out(report).model_dump(mode="json"))


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The report's path in the OpenAPI document (ref and json: the document's own helpers)."""
    month = {
        "name": "month",
        "in": "query",
        "required": False,
        "description": "A Gregorian month, YYYY-MM (not with hijri); the last complete month when neither is given",
        "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
    }
    hijri = {
        "name": "hijri",
        "in": "query",
        "required": False,
        "description": "An Umm al-Qura Hijri month, YYYY-MM, e.g. 1448-05 (not with month)",
        "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
    }
    return {
        "/api/v1/reports/emergency": {
            "get": {
                "operationId": "emergencyMonthlyReport",
                "summary": "The emergency line's monthly report per mission, per country and for the ministry",
                "description": (
                    "The staff session cookie. Roles: consular supervisor, manager, administrators. Each figure also "
                    "by severity (life_threatening, urgent, normal)."
                ),
                "parameters": [month, hijri],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {"application/json": {"schema": ref("EmergencyMonthlyOut")}},
                    },
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not a role of this path"),
                    "422": json("ErrorOut", "The month is malformed, not begun, or both calendars were given"),
                },
            }
        }
    }
