"""The follow-up's monthly report: a page with a bar chart, CSV and XLSX downloads, and the same over JSON
(/reports/followup, /reports/followup.csv, /reports/followup.xlsx, /api/v1/reports/followup).

Managers, the follow-up team and administrators see every department and the overall figures; a department
liaison sees their own department's only. The month is asked as ?month=2026-11 or ?hijri=1448-05; without
either, the last complete month in the calendar the monthly e-mails use.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from accounts.models import StaffUser
from accounts.roles import Role
from followup import report_files
from followup.periods import Period, asked_period, month_of
from followup.report import Figures, MonthlyReport, monthly_report
from majlis.clock import riyadh
from majlis.errors import N_, InvalidInput
from web.api import invalid_input
from web.auth import requires, signed_in_user
from web.followup_chart import SERIES, bar_chart
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import error_response
from web.pages import gettext_for, render

routes = web.RouteTableDef()
REPORT_ROLES = (Role.MANAGER, Role.FOLLOW_UP, Role.DEPARTMENT_LIAISON)
NOT_LINKED = N_("Your account is not linked to a department; an administrator can link it.")
# How many months back the month pickers offer (any earlier month can be asked for in the address).
PICKER_MONTHS = 24


class EscalationCountOut(BaseModel):
    level: int
    count: int


class FiguresOut(BaseModel):
    """One department's figures, or the overall ones."""

    referred: int
    answered_on_time: int
    answered_late: int
    overdue: int
    median_working_days: float | None
    escalated: int
    escalations: list[EscalationCountOut]
    returned: int


class DepartmentFiguresOut(FiguresOut):
    code: str
    name_ar: str
    name_en: str
    active: bool


class FollowupReportOut(BaseModel):
    """The monthly follow-up report: the period (Riyadh midnights), each department, and all of them."""

    period: str
    kind: Literal["gregorian", "hijri"]
    first_day: date
    last_day: date
    starts_at: datetime
    ends_at: datetime
    as_of: datetime
    departments: list[DepartmentFiguresOut]
    overall: FiguresOut


REPORT_OUTPUTS: tuple[type[BaseModel], ...] = (FollowupReportOut,)


class NotLinked(Exception):
    """A liaison account with no department: there is nothing it may see."""


def _figures(figures: Figures) -> dict[str, Any]:
    return {
        "referred": figures.referred,
        "answered_on_time": figures.answered_on_time,
        "answered_late": figures.answered_late,
        "overdue": figures.overdue,
        "median_working_days": report_files.median_days(figures),
        "escalated": figures.escalated,
        "escalations": [EscalationCountOut(level=k, count=v) for k, v in figures.escalations.items()],
        "returned": figures.returned,
    }


def report_out(report: MonthlyReport) -> FollowupReportOut:
    period = report.period
    return FollowupReportOut(
        period=period.key,
        kind=period.kind,
        first_day=period.first_day,
        last_day=period.last_day,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        as_of=report.as_of,
        departments=[
            DepartmentFiguresOut(
                code=d.code, name_ar=d.name_ar, name_en=d.name_en, active=d.active, **_figures(d.figures)
            )
            for d in report.ordered("en")
        ],
        overall=FiguresOut(**_figures(report.overall)),
    )


async def _scope(request: web.Request) -> list[int] | None:
    """The departments the reader may see: all (None), or a liaison's own."""
    user = signed_in_user(request)
    if user.role is not Role.DEPARTMENT_LIAISON:
        return None
    account = await request[DB].get(StaffUser, user.id)
    if account is None or account.department_id is None:
        raise NotLinked
    return [account.department_id]


def month_asked(request: web.Request, *, hijri_default: bool) -> Period:
    """The month a report's page or API is asked for (?month= or ?hijri=); InvalidInput naming the one refused."""
    return asked_period(
        month=request.query.get("month"),
        hijri=request.query.get("hijri"),
        now=request.app[CLOCK].now(),
        hijri_default=hijri_default,
    )


def _asked(request: web.Request) -> Period:
    return month_asked(request, hijri_default=request.app[SETTINGS].followup_report_hijri)


def spreadsheet(body: bytes, kind: Literal["csv", "xlsx"], name: str) -> web.Response:
    """A report's CSV or XLSX file, downloaded under `name`."""
    content_type = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }[kind]
    return web.Response(
        body=body, headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'}
    )


async def _report(request: web.Request, period: Period, scope: list[int] | None) -> MonthlyReport:
    return await monthly_report(session=request[DB], clock=request.app[CLOCK], period=period, department_ids=scope)


def months_offered(today: date, *, hijri: bool) -> list[Period]:
    """The pickers' months, the one under way first."""
    found = [month_of(today, hijri=hijri)]
    while len(found) < PICKER_MONTHS:
        found.append(found[-1].previous())
    return found


@routes.get("/reports/followup")
@requires(*REPORT_ROLES)
async def page(request: web.Request) -> web.Response:
    try:
        scope = await _scope(request)
    except NotLinked:
        return error_response(request, 409, NOT_LINKED)
    language = request[LANGUAGE]
    form_error = None
    try:
        period = _asked(request)
    except InvalidInput as exc:
        # The messages name their field themselves (the Gregorian or the Hijri month).
        form_error = request.app[CATALOGS].gettext(language, exc.errors[0].message)
        period = asked_period(
            month=None,
            hijri=None,
            now=request.app[CLOCK].now(),
            hijri_default=request.app[SETTINGS].followup_report_hijri,
        )
    report = await _report(request, period, scope)
    today = riyadh(request.app[CLOCK].now()).date()
    say = gettext_for(request)
    context = {
        "report": report,
        "period": period,
        "departments": report.ordered(language),
        "levels": report.levels,
        "chart": bar_chart(report, language, say),
        "series": SERIES,
        "gregorian_months": months_offered(today, hijri=False),
        "hijri_months": months_offered(today, hijri=True),
        "query": f"{period.parameter}={period.value}",
        "under_way": report.as_of < period.ends_at,
        "median": report_files.median_days,
        "form_error": form_error,
    }
    return render(request, "reports/followup.html", context, status=422 if form_error else 200)


async def _download(request: web.Request, kind: Literal["csv", "xlsx"]) -> web.Response:
    try:
        scope = await _scope(request)
        period = _asked(request)
    except NotLinked:
        return error_response(request, 409, NOT_LINKED)
    except InvalidInput as exc:
        return error_response(request, 422, exc.errors[0].message)
    report = await _report(request, period, scope)
    language = request[LANGUAGE]
    write = report_files.csv_bytes if kind == "csv" else report_files.xlsx_bytes
    return spreadsheet(write(report, language), kind, f"followup-{period.key}.{kind}")


@routes.get("/reports/followup.csv")
@requires(*REPORT_ROLES)
async def csv_download(request: web.Request) -> web.Response:
    return await _download(request, "csv")


@routes.get("/reports/followup.xlsx")
@requires(*REPORT_ROLES)
async def xlsx_download(request: web.Request) -> web.Response:
    return await _download(request, "xlsx")


@routes.get("/api/v1/reports/followup")
@requires(*REPORT_ROLES)
async def api_report(request: web.Request) -> web.Response:
    """The month's report as JSON; 422 naming month or hijri when the month cannot be reported."""
    try:
        scope = await _scope(request)
        period = _asked(request)
    except NotLinked:
        return error_response(request, 409, NOT_LINKED)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    report = await _report(request, period, scope)
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
        "/api/v1/reports/followup": {
            "get": {
                "operationId": "followupReport",
                "summary": "The follow-up's monthly report per department and overall",
                "description": (
                    "The staff session cookie. Roles: manager, follow-up, administrators (every department); "
                    "department liaison (their own department only)."
                ),
                "parameters": [month, hijri],
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {"application/json": {"schema": ref("FollowupReportOut")}},
                    },
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not a role of this path"),
                    "409": json("ErrorOut", "A liaison account linked to no department"),
                    "422": json("ErrorOut", "The month is malformed, not begun, or both calendars were given"),
                },
            }
        }
    }
