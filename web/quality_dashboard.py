"""The statistics dashboard (/reports/statistics): charts drawn in the browser by Chart.js, with each chart's numbers
as a table, its CSV (/reports/statistics/{chart}.csv) and the whole as JSON (/api/v1/quality/statistics).

Managers and administrators read it, and the auditor, who reads the fairness report: it is counts, rates and
times over groups and names nobody, with every group of 1 to 4 suppressed (quality/figures.py). The period is
asked as ?period=week|month|hijri|year&value=… or ?period=custom&from=…&to=…, and a centre as ?branch=CODE.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal
from urllib.parse import urlencode

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from accounts.roles import Role
from majlis.errors import N_, FieldError, InvalidInput
from majlis.i18n import RIGHT_TO_LEFT
from quality.periods import Span, asked_span, this_month
from quality.statistics import asked_branch, dashboard
from rooms import service as rooms
from web import vendor
from web.auth import requires
from web.errors import invalid_input
from web.followup_report import spreadsheet
from web.keys import CLOCK, DB, LANGUAGE
from web.middleware import error_response
from web.pages import gettext_for, render
from web.statistics_tables import Say, Table, csv_text, tables

routes = web.RouteTableDef()
READERS = (Role.MANAGER, Role.AUDITOR)
# The names of the fields a refusal names, as the form labels them.
FIELDS = {
    "period": N_("Period"),
    "value": N_("Week, month or year"),
    "from": N_("From"),
    "to": N_("To"),
    "branch": N_("Reception centre"),
}
PERIODS = (
    ("week", N_("Week (a day in it)")),
    ("month", N_("Month")),
    ("hijri", N_("Hijri month")),
    ("year", N_("Year")),
    ("custom", N_("Custom days")),
)
# Western digits, as every number of Majlis is written (the tables too), in either language.
CHART_LOCALES = {"ar": "ar-u-nu-latn", "en": "en-u-nu-latn"}


class SpanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: Literal["week", "month", "hijri", "year", "custom"]
    value: str
    first_day: date
    last_day: date


class TallyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    key: str
    count: int | None
    # Why the count is null: fewer_than_5 (1 to 4), or withheld (it would give a hidden one back).
    hidden: Literal["fewer_than_5", "withheld"] | None = None


class WaitRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    urgency: str
    count: int | None
    median_days: float | None
    p95_days: float | None
    within: float | None
    # Why `within` is null when it is hidden: fewer_than_5 or withheld (null too when there was nothing to tell).
    within_hidden: Literal["fewer_than_5", "withheld"] | None = None


class RateRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    key: str
    total: int | None
    hits: int | None
    rate: float | None
    # Why the hits and the rate are null: fewer_than_5 (the total or the hits are 1 to 4), or withheld (the misses).
    hidden: Literal["fewer_than_5", "withheld"] | None = None


class ScorePointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    first_day: date
    last_day: date
    count: int | None
    mean: float | None
    negative: float | None
    # Why the count, mean and share are null: fewer_than_5 (1 to 4 ratings), or withheld (secondary suppression).
    hidden: Literal["fewer_than_5", "withheld"] | None = None


class ServiceTimeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    count: int | None
    mean_minutes: float | None
    median_minutes: float | None
    p90_minutes: float | None
    within_aim: float | None
    aim_minutes: float


class StatisticsOut(BaseModel):
    """The dashboard's figures; null where a group of 1 to 4 (or a figure computed from one) is suppressed, or
    where a figure is withheld so that a hidden one cannot be worked out from the others (`hidden` says which)."""

    model_config = ConfigDict(from_attributes=True)
    span: SpanOut
    branch_code: str | None
    department_id: int | None
    total_requests: int | None
    requests: dict[str, list[TallyOut]]
    waits: list[WaitRowOut]
    confirmations: list[RateRowOut]
    no_shows: RateRowOut
    referrals_on_time: RateRowOut
    satisfaction: list[ScorePointOut]
    satisfaction_overall: ScorePointOut
    service_time: ServiceTimeOut


OUTPUTS: tuple[type[BaseModel], ...] = (
    SpanOut,
    TallyOut,
    WaitRowOut,
    RateRowOut,
    ScorePointOut,
    ServiceTimeOut,
    StatisticsOut,
)


async def _asked(request: web.Request) -> tuple[Span, str | None]:
    """The span and centre asked for; InvalidInput naming the field refused."""
    query = request.query
    span = asked_span(
        period=query.get("period"),
        value=query.get("value"),
        first=query.get("from"),
        last=query.get("to"),
        now=request.app[CLOCK].now(),
    )
    branch = await asked_branch(session=request[DB], code=query.get("branch"))
    return span, branch


def _refusal(say: Say, error: FieldError) -> str:
    return f"{say(FIELDS.get(error.field, error.field))}: {say(error.message)}"


def chart_data(charts: list[Table], language: str) -> dict[str, Any]:
    """What statistics.js draws: each chart's drawn rows and columns, the direction and the number format."""
    return {
        "rtl": language in RIGHT_TO_LEFT,
        "locale": CHART_LOCALES.get(language, language),
        "charts": [
            {
                "key": t.key,
                "kind": t.kind,
                "labels": [row.label for row in t.rows if row.key not in t.undrawn],
                "series": [
                    {
                        "label": t.headings[column],
                        "data": [row.cells[column].value for row in t.rows if row.key not in t.undrawn],
                        # Why a point is missing (null: shown, or nothing to compute).
                        "hidden": [row.cells[column].hidden for row in t.rows if row.key not in t.undrawn],
                    }
                    for column in t.plotted
                ],
            }
            for t in charts
        ],
    }


async def _figures(request: web.Request, span: Span, branch: str | None) -> tuple[Any, list[Table]]:
    figures = await dashboard(session=request[DB], span=span, now=request.app[CLOCK].now(), branch_code=branch)
    language = request[LANGUAGE]
    sites = await rooms.branches(session=request[DB])
    names = {site.code: site.name_in(language) for site in sites}
    return figures, tables(figures, gettext_for(request), language, names)


def _query(span: Span, branch: str | None) -> str:
    asked = span.query()
    if branch is not None:
        asked["branch"] = branch
    return urlencode(asked)


@routes.get("/reports/statistics")
@requires(*READERS)
async def page(request: web.Request) -> web.Response:
    say = gettext_for(request)
    language = request[LANGUAGE]
    form_error = None
    try:
        span, branch = await _asked(request)
    except InvalidInput as exc:
        # The page again with the refusal and nothing else: no figures of a period nobody asked for.
        form_error = _refusal(say, exc.errors[0])
        span, branch = this_month(request.app[CLOCK].now()), None
    context: dict[str, Any] = {
        "span": span,
        "branch": branch,
        "asked": {key: request.query.get(key, "") for key in FIELDS},
        "periods": PERIODS,
        "branch_choices": [(site.code, site.name_in(language)) for site in await rooms.branches(session=request[DB])],
        "form_error": form_error,
        "chart_js": vendor.url("chart.umd.min.js"),
        "charts": [],
        "chart_json": "",
        "query": "",
        "places": None,
    }
    if form_error is None:
        figures, charts = await _figures(request, span, branch)
        context.update(
            figures=figures,
            charts=charts,
            # Escaped for a <script type="application/json"> element: no "</" can close it early.
            chart_json=json.dumps(chart_data(charts, language), ensure_ascii=False).replace("</", "<\\/"),
            query=_query(span, branch),
        )
    return render(request, "reports/statistics.html", context, status=400 if form_error else 200)


@routes.get("/reports/statistics/{chart}.csv")
@requires(*READERS)
async def chart_csv(request: web.Request) -> web.Response:
    """One chart's numbers as CSV: its table's headings and rows, "fewer than 5" where a figure is suppressed."""
    say = gettext_for(request)
    try:
        span, branch = await _asked(request)
    except InvalidInput as exc:
        return error_response(request, 400, _refusal(say, exc.errors[0]))
    _, charts = await _figures(request, span, branch)
    chosen = next((t for t in charts if t.key == request.match_info["chart"]), None)
    if chosen is None:
        return error_response(request, 404, N_("There is no such chart."))
    body = csv_text(chosen, say)
    name = f"statistics-{chosen.key}-{span.first_day.isoformat()}-{span.last_day.isoformat()}.csv"
    # A byte-order mark, so that a spreadsheet reads the Arabic as UTF-8.
    return spreadsheet(body.encode("utf-8"), "csv", name)


@routes.get("/api/v1/quality/statistics")
@requires(*READERS)
async def api_statistics(request: web.Request) -> web.Response:
    """The dashboard's figures as JSON; 422 naming period, value, from, to or branch when refused."""
    try:
        span, branch = await _asked(request)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    figures = await dashboard(session=request[DB], span=span, now=request.app[CLOCK].now(), branch_code=branch)
    return web.json_response(StatisticsOut.model_validate(figures).model_dump(mode="json"))


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The dashboard's path in the OpenAPI document (ref and json: the document's own helpers)."""

    def parameter(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string"}
        if pattern:
            schema["pattern"] = pattern
        return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}

    return {
        "/api/v1/quality/statistics": {
            "get": {
                "operationId": "qualityStatistics",
                "summary": "The statistics dashboard's figures for a period, over all centres or one",
                "description": (
                    "The staff session cookie. Roles: manager, auditor, administrators. Counts of 1 to 4, and every "
                    "rate, mean or percentile over such a group, are null (suppressed); so is a rate, with its hits, "
                    "whose hits or misses are 1 to 4. Percentiles are nearest-rank; a median between two middle "
                    "values interpolates as percentile_cont(0.5)."
                ),
                "parameters": [
                    {
                        "name": "period",
                        "in": "query",
                        "required": False,
                        "description": "week, month, hijri, year or custom; the month under way when not given",
                        "schema": {"type": "string", "enum": ["week", "month", "hijri", "year", "custom"]},
                    },
                    parameter("value", "A day of the week (YYYY-MM-DD), a month (YYYY-MM, Hijri 1448-05) or a year"),
                    parameter("from", "The first day of custom days, YYYY-MM-DD", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
                    parameter("to", "The last day of custom days, YYYY-MM-DD", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
                    parameter("branch", "A reception centre's code; every centre when not given"),
                ],
                "responses": {
                    "200": {
                        "description": "The figures",
                        "content": {"application/json": {"schema": ref("StatisticsOut")}},
                    },
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not a role of this path"),
                    "422": json("ErrorOut", "The period is malformed or not begun, or the centre is unknown"),
                },
            }
        }
    }
