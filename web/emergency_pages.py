"""A mission's emergency reports (/emergency/mission) and one report's page (/emergency/reports/{number}) with
its history and the steps its reader may take: acknowledge, post news, solve or hand over (the mission's staff
and the supervisors), send to another mission (the supervisors).

Confinement (web/emergency_access.py): a report the reader may not see is not found, on the page and on every
step's post, exactly as a number that does not exist. A refused step shows the report again with the reason
beside its form, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from emergency import reports, roster
from emergency.directory import missions
from emergency.lifecycle import ReportNotFound
from emergency.models import EmergencyReport, Mission
from majlis.errors import N_, DomainError, InvalidInput
from web import labels
from web.auth import requires
from web.emergency_access import MISSION, READERS, Reader, ReportHidden, reader_of, visible_report
from web.emergency_actions import ACTIONS, ENDINGS, Perform
from web.emergency_agent import bilingual_errors, words
from web.emergency_view import CLOSED, event_lines, lines
from web.errors import domain_message
from web.keys import CATALOGS, DB, LANGUAGE
from web.middleware import error_response
from web.pages import render

routes = web.RouteTableDef()

NOT_FOUND = N_("There is no such emergency report among those you may see.")
NO_MISSION = N_("This account belongs to no mission, so it has no emergency reports to show. Ask an administrator.")
DONE: Mapping[str, str] = {
    "registered": N_("The report is registered and on its way to the mission."),
    "acknowledge": N_("The report is acknowledged: the mission has taken it on."),
    "update": N_("Your news is in the report's history."),
    "solve": N_("The report is closed, and the citizen is told by SMS."),
    "reassign": N_("The report is sent to the other mission, whose duty officer is alerted."),
}
ENDING_LABELS: Mapping[str, str] = {
    "solved": N_("Solved by the mission"),
    "handed_over": N_("Handed over to another authority (police, hospital, another ministry)"),
}
# How many closed reports the mission's page lists under its open ones.
RECENT_CLOSED = 30


def not_found(request: web.Request) -> web.Response:
    return error_response(request, 404, NOT_FOUND)


@routes.get("/emergency/mission")
@requires(*MISSION)
async def mission_home(request: web.Request) -> web.Response:
    """The mission's open reports (life-threatening first, then the oldest), then its latest closed ones, and
    the gaps flagged in its duty roster."""
    reader = await reader_of(request)
    session, said = request[DB], words(request)
    context: dict[str, Any] = {"no_mission": NO_MISSION, "mission": None, "open": [], "closed": [], "gaps": []}
    mission = await session.get(Mission, reader.mission_id) if reader.mission_id is not None else None
    if mission is not None:
        open_reports = await reports.list_open(session=session, mission_id=mission.id)
        latest = await reports.list_all(session=session, mission_id=mission.id, limit=RECENT_CLOSED * 4)
        closed = [r for r in latest if r.state in CLOSED][:RECENT_CLOSED]
        gaps = await roster.open_gaps(session=session, mission_id=mission.id)
        context.update(
            mission=mission,
            open=await lines(session, said, open_reports),
            closed=await lines(session, said, closed),
            gaps=[(said.times(g.starts_at, mission), said.times(g.ends_at, mission)) for g in gaps],
        )
    return render(request, "emergency/mission.html", context)


async def report_page(
    request: web.Request,
    reader: Reader,
    report: EmergencyReport,
    *,
    errors: Mapping[str, Mapping[str, str]] | None = None,
    values: Mapping[str, str] | None = None,
    failed: str = "",
    form_error: str | None = None,
    status: int = 200,
) -> web.Response:
    session, said, language = request[DB], words(request), request[LANGUAGE]
    found = await reports.missions_by_id(session=session, ids=[report.mission_id, report.covering_mission_id])
    mission = found[report.mission_id]
    covering = found.get(report.covering_mission_id) if report.covering_mission_id is not None else None
    open_report = report.state not in CLOSED
    choices: list[tuple[str, str]] = []
    if reader.may_reassign and open_report:
        every = await missions(session=session, active_only=True)
        choices = [(str(m.id), m.name_in(language)) for m in every if m.id != report.mission_id]
    history = await reports.events(session=session, report_id=report.id)
    done = request.query.get("done", "") if request.method == "GET" else ""
    context: dict[str, Any] = {
        "report": report,
        "line": said.line(report, mission),
        "mission": mission,
        "covering": covering,
        "events": await event_lines(session, said, history, mission),
        "labels": labels,
        "may_act": reader.may_act(report) and open_report,
        "may_reassign": bool(choices),
        "mission_choices": choices,
        "endings": [(value, said.catalogs.gettext(language, ENDING_LABELS[value])) for value in ENDINGS],
        "notice": DONE.get(done) if not failed else None,
        "failed": failed,
        "form_error": form_error,
        "errors": {field: messages[language] for field, messages in (errors or {}).items()},
        "both_errors": errors or {},
        "values": values or {},
    }
    return render(request, "emergency/report.html", context, status=status)


@routes.get("/emergency/reports/{number}")
@requires(*READERS)
async def show_report(request: web.Request) -> web.Response:
    reader = await reader_of(request)
    try:
        report = await visible_report(request, reader, request.match_info["number"])
    except ReportHidden:
        return not_found(request)
    return await report_page(request, reader, report)


async def _step(request: web.Request, name: str, perform: Perform) -> web.Response:
    """One step from the report's page; the page again with the reason when refused, nothing changed. A report
    that left the reader's reach meanwhile (sent to another mission) is not found, as it would have been read."""
    reader = await reader_of(request)
    try:
        report = await visible_report(request, reader, request.match_info["number"])
    except ReportHidden:
        return not_found(request)
    form = await request.post()
    fields = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    # Read before the step: a rollback expires the row, and it is read afresh for the page.
    number, session = report.number, request[DB]
    try:
        await perform(request, reader, report, fields)
    except ReportNotFound:
        await session.rollback()
        return not_found(request)
    except (InvalidInput, DomainError) as exc:
        await session.rollback()
        try:
            again = await visible_report(request, reader, number)
        except ReportHidden:
            return not_found(request)
        if isinstance(exc, InvalidInput):
            errors = bilingual_errors(request, exc.errors)
            return await report_page(request, reader, again, errors=errors, values=fields, failed=name, status=422)
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await report_page(request, reader, again, values=fields, failed=name, form_error=message, status=409)
    raise web.HTTPSeeOther(f"/emergency/reports/{number}?done={name}#result")


def _page_step(name: str, perform: Perform, roles: tuple[Any, ...]) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(*roles)
    async def handler(request: web.Request) -> web.Response:
        return await _step(request, name, perform)

    handler.__name__ = f"emergency_{name}"
    return handler


for _name, (_perform, _roles) in ACTIONS.items():
    routes.post(f"/emergency/reports/{{number}}/{_name}")(_page_step(_name, _perform, _roles))
