"""The monthly service-quality report: a printable page, its XLSX workbook, and the same over JSON
(/reports/quality-monthly, /reports/quality-monthly.xlsx, /api/v1/quality/monthly).

Managers and administrators. The scope is ?branch=CODE (that branch's requests), ?department=N (requests referred
to it) or neither (everything); the month ?month=2026-11 or ?hijri=1448-05, else the last complete month in the
calendar the monthly e-mails use. A malformed month or department is 400 naming the field (422 from the API, as
the other quality APIs answer); an unknown branch or department is 404; a month not begun is refused. The page and
the workbook render the same tables (quality.monthly_files.tables), so they carry the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel

from accounts.roles import Role
from followup.periods import Period, asked_period
from majlis.clock import riyadh
from majlis.errors import N_, InvalidInput
from quality import monthly_files
from quality.figures import Dashboard
from quality.monthly import (
    QualityMonthly,
    Scope,
    ScopeNotFound,
    asked_scope,
    branch_scopes,
    department_scopes,
    monthly_quality,
)
from rooms import service as rooms
from web import labels
from web.api import invalid_input
from web.auth import requires
from web.errors import refusal
from web.followup_report import months_offered, spreadsheet
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import error_response
from web.pages import render

routes = web.RouteTableDef()
PAGE = "/reports/quality-monthly"
REPORT_ROLES = (Role.MANAGER,)
# The channels a confirmation is asked by (notify's outbox channels).
CONFIRMATION_CHANNELS: Mapping[str, str] = {
    "sms": N_("SMS"),
    "whatsapp": N_("WhatsApp"),
    "voice": N_("Voice call"),
    "email": N_("E-mail"),
}


async def names_for(request: web.Request) -> monthly_files.Names:
    """The names a reader reads for the values the report counts by, branches from the branches table."""
    language = request[LANGUAGE]
    catalogs = request.app[CATALOGS]
    branches = {site.code: site.name_in(language) for site in await rooms.branches(session=request[DB])}
    return names_in(language, branches, catalogs.gettext)


def names_in(language: str, branches: Mapping[str, str], gettext: Any) -> monthly_files.Names:
    """Names from the labels' catalogs and the branches' names given; a value without a label reads as stored."""
    known: dict[str, Mapping[str, str]] = {
        "kind": labels.REQUEST_KINDS,
        "channel": labels.CHANNELS,
        "gender": labels.GENDERS,
        "applicant_kind": labels.APPLICANT_KINDS,
        "urgency": labels.URGENCIES,
        "confirmation_channel": CONFIRMATION_CHANNELS,
    }

    def name(dimension: str, key: str) -> str:
        if dimension == "branch":
            return branches.get(key, key)
        label = known.get(dimension, {}).get(key)
        return key if label is None else str(gettext(language, label))

    return name


class AskedBadly(Exception):
    """The answer already made for a request that cannot be reported (400 or 422, or 404)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


async def _asked(request: web.Request, *, api: bool) -> tuple[Period, Scope]:
    try:
        period = asked_period(
            month=request.query.get("month"),
            hijri=request.query.get("hijri"),
            now=request.app[CLOCK].now(),
            hijri_default=request.app[SETTINGS].followup_report_hijri,
        )
        scope = await asked_scope(
            session=request[DB], branch=request.query.get("branch"), department=request.query.get("department")
        )
    except InvalidInput as exc:
        if api:  # 422 naming the field, as the statistics' and the follow-up report's APIs answer
            raise AskedBadly(invalid_input(request, exc.errors)) from None
        raise AskedBadly(error_response(request, 400, exc.errors[0].message)) from None
    except ScopeNotFound as exc:
        raise AskedBadly(refusal(request, exc) if api else error_response(request, 404, exc.message)) from None
    return period, scope


async def _report(request: web.Request, period: Period, scope: Scope) -> QualityMonthly:
    return await monthly_quality(session=request[DB], period=period, scope=scope, now=request.app[CLOCK].now())


@routes.get(PAGE)
@requires(*REPORT_ROLES)
async def page(request: web.Request) -> web.Response:
    try:
        period, scope = await _asked(request, api=False)
    except AskedBadly as exc:
        return exc.response
    report = await _report(request, period, scope)
    language = request[LANGUAGE]
    session = request[DB]
    query = {**scope.query(), period.parameter: period.value}
    today = riyadh(request.app[CLOCK].now()).date()
    context = {
        "report": report,
        "period": period,
        "scope": scope,
        "title": monthly_files.title(report, language),
        "tables": monthly_files.tables(report, language, await names_for(request)),
        "branches": await branch_scopes(session=session),
        "departments": await department_scopes(session=session),
        "gregorian_months": months_offered(today, hijri=False),
        "hijri_months": months_offered(today, hijri=True),
        "xlsx_query": urlencode(query),
    }
    return render(request, "reports/quality_monthly.html", context)


@routes.get(PAGE + ".xlsx")
@requires(*REPORT_ROLES)
async def xlsx_download(request: web.Request) -> web.Response:
    try:
        period, scope = await _asked(request, api=False)
    except AskedBadly as exc:
        return exc.response
    report = await _report(request, period, scope)
    body = monthly_files.xlsx_bytes(report, request[LANGUAGE], await names_for(request))
    return spreadsheet(body, "xlsx", f"quality-{scope.slug}-{period.key}.xlsx")


class TallyOut(BaseModel):
    key: str
    count: int | None
    # Why the count is null: fewer_than_5 (1 to 4), or withheld (it would give a hidden one back).
    hidden: Literal["fewer_than_5", "withheld"] | None = None


class WaitOut(BaseModel):
    urgency: str
    count: int | None
    median_days: float | None
    p95_days: float | None
    within: float | None
    # Why `within` is null when it is hidden: fewer_than_5 or withheld (null too when there was nothing to tell).
    within_hidden: Literal["fewer_than_5", "withheld"] | None = None


class RateOut(BaseModel):
    key: str
    total: int | None
    hits: int | None
    rate: float | None
    # Why the hits and the rate are null: fewer_than_5 (the total or the hits are 1 to 4), or withheld (the misses).
    hidden: Literal["fewer_than_5", "withheld"] | None = None


class ScoreOut(BaseModel):
    first_day: date
    last_day: date
    count: int | None
    mean: float | None
    negative: float | None
    # Why the count, mean and share are null: fewer_than_5 (1 to 4 ratings), or withheld (secondary suppression).
    hidden: Literal["fewer_than_5", "withheld"] | None = None


class ServiceTimeOut(BaseModel):
    count: int | None
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None
    within_aim: float | None
    aim_minutes: float


class QualityMonthlyOut(BaseModel):
    """The month's service-quality report for a scope: counts, rates (0 to 1) and times; null where a figure rests
    on 1 to 4 items (suppressed), is withheld so that a hidden one cannot be worked out (`hidden` says which), or
    rests on none. No personal data."""

    period: str
    kind: Literal["gregorian", "hijri"]
    first_day: date
    last_day: date
    starts_at: datetime
    ends_at: datetime
    as_of: datetime
    branch: str | None
    department: int | None
    scope_name_ar: str
    scope_name_en: str
    total_requests: int | None
    requests: dict[str, list[TallyOut]]
    waits: list[WaitOut]
    confirmations: list[RateOut]
    no_shows: RateOut
    referrals_on_time: RateOut
    satisfaction: list[ScoreOut]
    satisfaction_overall: ScoreOut
    service_time: ServiceTimeOut


REPORT_OUTPUTS: tuple[type[BaseModel], ...] = (QualityMonthlyOut,)


def _rate(row: Any) -> RateOut:
    return RateOut(key=row.key, total=row.total, hits=row.hits, rate=row.rate, hidden=row.hidden)


def _score(point: Any) -> ScoreOut:
    return ScoreOut(
        first_day=point.first_day,
        last_day=point.last_day,
        count=point.count,
        mean=point.mean,
        negative=point.negative,
        hidden=point.hidden,
    )


def report_out(report: QualityMonthly) -> QualityMonthlyOut:
    f: Dashboard = report.figures
    period, t = report.period, f.service_time
    return QualityMonthlyOut(
        period=period.key,
        kind=period.kind,
        first_day=period.first_day,
        last_day=period.last_day,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        as_of=report.as_of,
        branch=report.scope.branch_code,
        department=report.scope.department_id,
        scope_name_ar=report.scope.name("ar"),
        scope_name_en=report.scope.name("en"),
        total_requests=f.total_requests,
        requests={k: [TallyOut(key=t.key, count=t.count, hidden=t.hidden) for t in v] for k, v in f.requests.items()},
        waits=[
            WaitOut(
                urgency=w.urgency,
                count=w.count,
                median_days=w.median_days,
                p95_days=w.p95_days,
                within=w.within,
                within_hidden=w.within_hidden,
            )
            for w in f.waits
        ],
        confirmations=[_rate(r) for r in f.confirmations],
        no_shows=_rate(f.no_shows),
        referrals_on_time=_rate(f.referrals_on_time),
        satisfaction=[_score(p) for p in f.satisfaction],
        satisfaction_overall=_score(f.satisfaction_overall),
        service_time=ServiceTimeOut(
            count=t.count,
            mean_minutes=t.mean_minutes,
            median_minutes=t.median_minutes,
            p90_minutes=t.p90_minutes,
            within_aim=t.within_aim,
            aim_minutes=t.aim_minutes,
        ),
    )


@routes.get("/api/v1/quality/monthly")
@requires(*REPORT_ROLES)
async def api_report(request: web.Request) -> web.Response:
    """The month's report as JSON; 422 naming the field refused, 404 for an unknown branch or department."""
    try:
        period, scope = await _asked(request, api=True)
    except AskedBadly as exc:
        return exc.response
    report = await _report(request, period, scope)
    return web.json_response(report_out(report).model_dump(mode="json"))


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The report's path in the OpenAPI document (ref and json: the document's own helpers)."""
    month_pattern = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"}
    parameters = [
        {
            "name": "branch",
            "in": "query",
            "required": False,
            "description": "A branch's code: the requests of that reception centre (not with department)",
            "schema": {"type": "string"},
        },
        {
            "name": "department",
            "in": "query",
            "required": False,
            "description": "A department's number: the requests referred to it (not with branch); neither: all",
            "schema": {"type": "integer", "minimum": 1},
        },
        {
            "name": "month",
            "in": "query",
            "required": False,
            "description": "A Gregorian month, YYYY-MM (not with hijri); the last complete month when neither is given",
            "schema": month_pattern,
        },
        {
            "name": "hijri",
            "in": "query",
            "required": False,
            "description": "An Umm al-Qura Hijri month, YYYY-MM, e.g. 1448-05 (not with month)",
            "schema": month_pattern,
        },
    ]
    return {
        "/api/v1/quality/monthly": {
            "get": {
                "operationId": "qualityMonthlyReport",
                "summary": "The monthly service-quality report, overall or for one branch or department",
                "description": (
                    "The staff session cookie. Roles: manager, administrators. Counts of 1 to 4, and figures "
                    "computed from them, are null. No personal data."
                ),
                "parameters": parameters,
                "responses": {
                    "200": {
                        "description": "The report",
                        "content": {"application/json": {"schema": ref("QualityMonthlyOut")}},
                    },
                    "422": json(
                        "ErrorOut",
                        "The month or department is malformed, the month not begun, or both "
                        "calendars or both scopes were given",
                    ),
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not a role of this path"),
                    "404": json("ErrorOut", "No branch or department of that code or number"),
                },
            }
        }
    }
