"""Emergency reports over JSON (/api/v1/emergency-reports…): the agent registers one; readers list and read the
reports within their reach; mission staff and supervisors acknowledge, post news, solve or hand over; the
supervisors send a report to another mission.

Signed in with the staff session cookie; every change carries the X-CSRF-Token header (GET /api/v1/session).
The same confinement as the pages (web/emergency_access.py): a report out of the reader's reach is 404, as a
number that does not exist. 409 for a step the report's state refuses, 422 for input to correct, each field
named in Arabic and English.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from accounts import service as accounts
from emergency import reports
from emergency.checks import country_name
from emergency.lifecycle import ReportNotFound
from emergency.models import EmergencyReport, Mission, ReportSource
from majlis import paging
from majlis.clock import RIYADH
from majlis.errors import DomainError, InvalidInput
from web.api import invalid_input
from web.auth import requires
from web.emergency_access import AGENTS, READERS, Reader, ReportHidden, reader_of, visible_report
from web.emergency_actions import ACTIONS
from web.emergency_agent import register_report, words
from web.emergency_api_models import (
    INPUTS,
    OUTPUTS,
    AcknowledgeIn,
    EmergencyReportDetailOut,
    EmergencyReportIn,
    EmergencyReportListOut,
    EmergencyReportOut,
    ReassignIn,
    ReportEventOut,
    ReportMissionOut,
    SolveIn,
    UpdateIn,
)
from web.emergency_pages import NOT_FOUND
from web.emergency_times import zone
from web.emergency_view import CLOSED
from web.errors import refusal
from web.keys import DB
from web.middleware import error_response
from web.pagination import page_or_invalid
from web.triage_api import parsed

routes = web.RouteTableDef()
# The shapes web/openapi.py lists in the document's schemas.
__all__ = ["INPUTS", "OUTPUTS", "openapi_paths", "routes"]
BASE = "/api/v1/emergency-reports"
REPORTS_PER_PAGE = 50  # the lists other than the open queue (?page=)


def _not_found(request: web.Request) -> web.Response:
    return error_response(request, 404, NOT_FOUND)


def _mission(mission: Mission) -> ReportMissionOut:
    return ReportMissionOut(
        id=mission.id,
        code=mission.code,
        name_ar=mission.name_ar,
        name_en=mission.name_en,
        country=mission.country,
        time_zone=mission.time_zone,
    )


def _local_and_riyadh(moment: datetime, mission: Mission) -> tuple[str, str]:
    return moment.astimezone(zone(mission.time_zone)).isoformat(), moment.astimezone(RIYADH).isoformat()


def _zoned(name: str, moment: datetime | None, mission: Mission) -> dict[str, str | None]:
    """`name`_mission and `name`_riyadh: the moment in the mission's local time and in Riyadh's, beside the
    UTC instant (None where the moment is)."""
    local, riyadh = _local_and_riyadh(moment, mission) if moment is not None else (None, None)
    return {f"{name}_mission": local, f"{name}_riyadh": riyadh}


async def report_out(request: web.Request, report: EmergencyReport, *, detail: bool = False) -> EmergencyReportOut:
    session, said = request[DB], words(request)
    found = await reports.missions_by_id(session=session, ids=[report.mission_id, report.covering_mission_id])
    mission = found[report.mission_id]
    covering = found.get(report.covering_mission_id) if report.covering_mission_id is not None else None
    line = said.line(report, mission)
    fields: dict[str, Any] = {
        "number": report.number,
        "state": report.state.value,
        "severity": report.severity.value,
        "type": report.type.value,
        "country": report.country,
        "country_name": country_name(report.country, said.language),
        "city": report.city,
        "mission": _mission(mission),
        "through_central_desk": covering is not None,
        "covering_mission": _mission(covering) if covering is not None else None,
        "national_id": report.national_id,
        "caller_name": report.caller_name,
        "phone": report.phone,
        "language": report.language,
        "account": report.account,
        "source": report.source.value,
        "created_at": report.created_at,
        **_zoned("created_at", report.created_at, mission),
        "acknowledge_due_at": report.acknowledge_due_at,
        **_zoned("acknowledge_due_at", report.acknowledge_due_at, mission),
        "solve_due_at": report.solve_due_at,
        **_zoned("solve_due_at", report.solve_due_at, mission),
        "acknowledged_at": report.acknowledged_at,
        **_zoned("acknowledged_at", report.acknowledged_at, mission),
        "acknowledged_by": report.acknowledged_by,
        "solved_at": report.solved_at,
        **_zoned("solved_at", report.solved_at, mission),
        "outcome": report.outcome,
        "escalation_level": report.escalation_level,
        "overdue": line.overdue and report.state not in CLOSED,
    }
    if not detail:
        return EmergencyReportOut(**fields)
    events = await reports.events(session=session, report_id=report.id)
    staff = await accounts.names_by_id(session=session, ids={e.actor_id for e in events if e.actor_id is not None})
    return EmergencyReportDetailOut(
        **fields,
        events=[
            ReportEventOut(
                kind=e.kind.value,
                at=e.at,
                at_mission=local,
                at_riyadh=riyadh,
                by=(staff.get(e.actor_id, "") if e.actor_id is not None else "") or e.by,
                note=e.note,
            )
            for e in events
            for local, riyadh in [_local_and_riyadh(e.at, mission)]
        ],
    )


async def _answer(request: web.Request, work: Callable[[], Awaitable[BaseModel]], status: int = 200) -> web.Response:
    try:
        body = await work()
    except InvalidInput as exc:
        await request[DB].rollback()
        return invalid_input(request, exc.errors)
    except ReportHidden:
        return _not_found(request)
    except ReportNotFound:
        # Sent to another mission between the reader's read and their step: as out of reach as it now is.
        await request[DB].rollback()
        return _not_found(request)
    except DomainError as exc:
        await request[DB].rollback()
        return refusal(request, exc)
    return web.json_response(body.model_dump(mode="json"), status=status)


@routes.post(BASE)
@requires(*AGENTS)
async def register(request: web.Request) -> web.Response:
    async def work() -> EmergencyReportOut:
        body = await parsed(request, EmergencyReportIn)
        report = await register_report(request, body.details(), ReportSource.AGENT)
        return await report_out(request, report, detail=True)

    return await _answer(request, work, status=201)


async def _listed(request: web.Request, reader: Reader) -> list[EmergencyReport] | paging.Paged[EmergencyReport]:
    """?open=1: the open reports within reach, whole (a working queue); ?mine=1: what the reader registered; else
    the newest within reach. The last two come a page at a time (?page=)."""
    session = request[DB]
    page = page_or_invalid(request)
    if request.query.get("mine") == "1":
        return await reports.registered_by_page(
            session=session, agent_id=reader.user_id, page=page, per_page=REPORTS_PER_PAGE
        )
    if reader.role in AGENTS:
        # An agent's reach is the open queue (and their own, asked with mine=1).
        return await reports.list_open(session=session)
    if reader.is_mission_staff:
        if reader.mission_id is None:
            return []
        if request.query.get("open") == "1":
            return await reports.list_open(session=session, mission_id=reader.mission_id)
        return await reports.newest_page(
            session=session, mission_id=reader.mission_id, page=page, per_page=REPORTS_PER_PAGE
        )
    if request.query.get("open") == "1":
        return await reports.list_open(session=session)
    return await reports.newest_page(session=session, page=page, per_page=REPORTS_PER_PAGE)


@routes.get(BASE)
@requires(*READERS)
async def list_reports(request: web.Request) -> web.Response:
    async def work() -> EmergencyReportListOut:
        reader = await reader_of(request)
        listed = await _listed(request, reader)
        if isinstance(listed, paging.Paged):
            found = [r for r in listed.items if reader.may_see(r)]
            return EmergencyReportListOut(
                reports=[await report_out(request, r) for r in found],
                page=listed.page,
                pages=listed.pages,
                per_page=listed.per_page,
                total=listed.total,
            )
        found = [r for r in listed if reader.may_see(r)]
        return EmergencyReportListOut(
            reports=[await report_out(request, r) for r in found],
            page=None,
            pages=None,
            per_page=None,
            total=len(found),
        )

    return await _answer(request, work)


@routes.get(BASE + "/{number}")
@requires(*READERS)
async def show_report(request: web.Request) -> web.Response:
    async def work() -> EmergencyReportOut:
        report = await visible_report(request, await reader_of(request), request.match_info["number"])
        return await report_out(request, report, detail=True)

    return await _answer(request, work)


# The path of each step, and the body it takes; its fields go to the step as text, as a form's would.
PATHS: Mapping[str, tuple[str, type[BaseModel]]] = {
    "acknowledge": ("acknowledge", AcknowledgeIn),
    "update": ("updates", UpdateIn),
    "solve": ("solve", SolveIn),
    "reassign": ("reassign", ReassignIn),
}


def _fields(body: BaseModel) -> dict[str, str]:
    fields = {key: str(value) for key, value in body.model_dump().items()}
    if isinstance(body, SolveIn):
        fields["ending"] = "handed_over" if body.handed_over else "solved"
    return fields


def _api_step(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    perform, roles = ACTIONS[name]
    model = PATHS[name][1]

    @requires(*roles)
    async def handler(request: web.Request) -> web.Response:
        async def work() -> EmergencyReportOut:
            reader = await reader_of(request)
            report = await visible_report(request, reader, request.match_info["number"])
            body = model() if model is AcknowledgeIn and not request.can_read_body else await parsed(request, model)
            await perform(request, reader, report, _fields(body))
            again = await reports.get(session=request[DB], report_id=report.id)
            assert again is not None
            return await report_out(request, again, detail=True)

        return await _answer(request, work)

    handler.__name__ = f"emergency_api_{name}"
    return handler


for _name, (_path, _model) in PATHS.items():
    routes.post(f"{BASE}/{{number}}/{_path}")(_api_step(_name))


# --- the OpenAPI document ------------------------------------------------------------------------

ROLES_NOTE = (
    "The staff session cookie, and X-CSRF-Token on changes (from GET /api/v1/session). A mission's staff reach "
    "their own mission's reports only; consular supervisors every report; agents what they registered and the "
    "open queue. A report out of reach is 404, as a number that does not exist."
)
# (step, operationId, body model, roles, summary)
STEPS = (
    ("acknowledge", "emergencyAcknowledge", "AcknowledgeIn", "mission_staff, consular_supervisor", "Acknowledge"),
    ("updates", "emergencyUpdate", "UpdateIn", "mission_staff, consular_supervisor", "Post news on the report"),
    (
        "solve",
        "emergencySolve",
        "SolveIn",
        "mission_staff, consular_supervisor",
        "Close the report, solved or handed over; the citizen is told by SMS",
    ),
    (
        "reassign",
        "emergencyReassign",
        "ReassignIn",
        "consular_supervisor",
        "Send the report to another mission (a reason required); its duty officer is alerted",
    ),
)


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The emergency reports' paths in the OpenAPI document (ref and json: the document's own helpers)."""
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    guard = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role of this path")}
    refusals = {
        **guard,
        "404": json("ErrorOut", "No such report within the reader's reach"),
        "409": json("ErrorOut", "Refused by the report's state: acknowledged, solved, handed_over"),
        "422": json("ErrorOut", "Invalid fields, each listed in Arabic and English"),
    }
    flags = [
        {"name": flag, "in": "query", "required": False, "schema": {"type": "string", "enum": ["1"]}}
        for flag in ("open", "mine")
    ]
    paths: dict[str, Any] = {
        BASE: {
            "post": {
                "operationId": "emergencyRegister",
                "summary": "Register a citizen's emergency report: routed, numbered, the citizen told by SMS",
                "description": ROLES_NOTE + " Roles: emergency_agent.",
                "parameters": [csrf],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": ref("EmergencyReportIn")}},
                },
                "responses": {
                    "201": json("EmergencyReportDetailOut", "The registered report"),
                    **guard,
                    "422": json("ErrorOut", "Invalid fields (an unknown country, a city no mission covers …)"),
                },
            },
            "get": {
                "operationId": "emergencyReports",
                "summary": "Reports within reach: open=1 the open ones (most severe first), mine=1 those I registered",
                "description": ROLES_NOTE
                + " The open ones come whole; the rest, newest first, fifty a page (?page=, from 1; past the last,"
                " the last).",
                "parameters": [
                    *flags,
                    {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {
                    "200": json("EmergencyReportListOut", "The reports"),
                    "422": json("ErrorOut", "The page is not a whole number from 1"),
                    **guard,
                },
            },
        },
        BASE + "/{number}": {
            "get": {
                "operationId": "emergencyReport",
                "summary": "One report with its history",
                "description": ROLES_NOTE,
                "parameters": [number],
                "responses": {"200": json("EmergencyReportDetailOut", "The report"), **refusals},
            }
        },
    }
    for step, operation_id, body, roles, summary in STEPS:
        paths[f"{BASE}/{{number}}/{step}"] = {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": f"{ROLES_NOTE} Roles: {roles}.",
                "parameters": [number, csrf],
                "requestBody": {
                    "required": body != "AcknowledgeIn",
                    "content": {"application/json": {"schema": ref(body)}},
                },
                "responses": {"200": json("EmergencyReportDetailOut", "The report after the step"), **refusals},
            }
        }
    return paths
