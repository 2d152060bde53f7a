"""The citizen's view of an emergency report, with its number and the phone given with it: on the one status page
(a number starting with E is a report's, web/public.py hands it here) and at
GET /api/v1/emergency-reports/{number}/status (staff read the report itself at /api/v1/emergency-reports/{number},
web/emergency_api.py).

What the citizen reads: the state in plain words, the type, the mission handling it, and the steps taken, each
time at the mission and in Riyadh. Never the account, the agent's or the mission's notes, alerts or escalations:
those are for staff. A wrong phone answers exactly as an unknown number does, and misses count against the same
throttle as requests' status enquiries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from cases.service import LookupPolicy, TooManyLookups
from emergency import reports
from emergency.models import EmergencyReport, Mission, ReportEventKind, ReportState
from majlis.clock import RIYADH
from majlis.errors import N_, DomainError
from web import labels
from web.client_address import client_address
from web.emergency_times import BothTimes, both_times, zone
from web.errors import bilingual, domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import error_response
from web.pages import render
from web.retry_after import note_wait
from web.security import LANGUAGE_COOKIE

routes = web.RouteTableDef()

# The state as the citizen reads it: what is happening with the report, not the staff's short label.
CITIZEN_STATES: Mapping[str, str] = {
    ReportState.OPEN: N_("Registered. The mission responsible has been alerted and will contact you."),
    ReportState.ACKNOWLEDGED: N_("The mission has taken up your report and is working on it."),
    ReportState.SOLVED: N_("The mission has closed your report as solved."),
    ReportState.HANDED_OVER: N_("Your report has been handed over to the competent authority, which follows it up."),
}
# The steps the citizen sees; alerts, escalations, notes and news meant for staff are left out.
CITIZEN_STEPS: Mapping[str, str] = {
    ReportEventKind.REGISTERED: N_("Your report was registered"),
    ReportEventKind.ACKNOWLEDGED: N_("The mission took up your report"),
    ReportEventKind.REASSIGNED: N_("Your report was passed to another mission"),
    ReportEventKind.SOLVED: N_("Your report was closed as solved"),
    ReportEventKind.HANDED_OVER: N_("Your report was handed over to the competent authority"),
}
NO_REPORT = N_("No emergency report matches this number and phone. Check both and try again.")


@dataclass(frozen=True)
class CitizenStep:
    kind: str
    text: str
    at: datetime
    times: BothTimes


@dataclass(frozen=True)
class CitizenView:
    """A report as its citizen may see it, in one language."""

    report: EmergencyReport
    mission: Mission
    mission_name: str
    state: str
    type: str
    registered: BothTimes
    acknowledged: BothTimes | None
    closed: BothTimes | None
    steps: list[CitizenStep]


async def citizen_view(request: web.Request, report: EmergencyReport) -> CitizenView:
    session = request[DB]
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]
    mission = await session.get(Mission, report.mission_id)
    assert mission is not None  # a report's mission is a foreign key

    def times(moment: datetime) -> BothTimes:
        return both_times(moment, mission.time_zone, language)

    steps = [
        CitizenStep(e.kind.value, catalogs.gettext(language, CITIZEN_STEPS[e.kind]), e.at, times(e.at))
        for e in await reports.events(session=session, report_id=report.id)
        if e.kind in CITIZEN_STEPS
    ]
    return CitizenView(
        report=report,
        mission=mission,
        mission_name=mission.name_in(language),
        state=catalogs.gettext(language, CITIZEN_STATES[report.state]),
        type=catalogs.gettext(language, labels.REPORT_TYPES[report.type]),
        registered=times(report.created_at),
        acknowledged=times(report.acknowledged_at) if report.acknowledged_at else None,
        closed=times(report.solved_at) if report.solved_at else None,
        steps=steps,
    )


def _lookup_policy(request: web.Request) -> LookupPolicy:
    # The same limit as requests' status (web/public.py): one throttle for both kinds of number.
    settings = request.app[SETTINGS]
    return LookupPolicy(max_misses=settings.lookup_max_misses, window=timedelta(minutes=settings.login_window_minutes))


async def lookup_for_citizen(request: web.Request, number: str, phone: str) -> EmergencyReport | None:
    """The report for a status enquiry; the enquiry itself is kept (committed), matched or not, for the throttle."""
    try:
        report = await reports.find_for_citizen(
            session=request[DB],
            clock=request.app[CLOCK],
            number=number,
            phone=phone,
            lookup=reports.CitizenLookup(policy=_lookup_policy(request), address=client_address(request)),
        )
    except TooManyLookups as exc:
        # Its wait becomes the 429's Retry-After (web/retry_after).
        note_wait(request, exc)
        raise
    await request[DB].commit()
    return report


async def status_page(request: web.Request, values: dict[str, str]) -> web.Response:
    """The status page of the report numbered in the status form, or the form again: 429 after too many misses,
    404 for a miss (which says nothing of which part was wrong)."""
    try:
        report = await lookup_for_citizen(request, values["tracking_number"], values["phone"])
    except DomainError as exc:
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        context = {"values": values, "not_found": False, "form_error": message}
        return render(request, "public/status_form.html", context, status=429)
    if report is None:
        not_found = request.app[CATALOGS].gettext(request[LANGUAGE], NO_REPORT)
        context = {"values": values, "not_found": False, "form_error": not_found}
        return render(request, "public/status_form.html", context, status=404)
    if "lang" not in request.query and LANGUAGE_COOKIE not in request.cookies:
        # The citizen's own language, unless the reader picked one with the switch.
        request[LANGUAGE] = report.language
    response = render(request, "public/emergency_status.html", {"view": await citizen_view(request, report)})
    response.headers["Cache-Control"] = "no-store"
    return response


class EmergencyMomentOut(BaseModel):
    """One moment: in UTC, as the mission's clock reads it and as Riyadh's does (ISO 8601 with the offset)."""

    at: datetime
    mission_time: str = Field(description="At the mission, e.g. 2026-11-24T10:30+04:00")
    riyadh_time: str = Field(description="In Riyadh, e.g. 2026-11-24T09:30+03:00")


class EmergencyStepOut(BaseModel):
    kind: str
    label: dict[str, str]
    at: EmergencyMomentOut


class EmergencyMissionOut(BaseModel):
    code: str
    name: dict[str, str]
    time_zone: str


class EmergencyReportStatus(BaseModel):
    """An emergency report as its citizen may follow it: no account, no notes, no alerts or escalations."""

    number: str
    state: str
    state_label: dict[str, str]
    type: str
    type_label: dict[str, str]
    mission: EmergencyMissionOut
    registered: EmergencyMomentOut
    acknowledged: EmergencyMomentOut | None
    closed: EmergencyMomentOut | None
    steps: list[EmergencyStepOut]


OUTPUTS: tuple[type[BaseModel], ...] = (EmergencyReportStatus,)


def _moment(moment: datetime, time_zone: str) -> EmergencyMomentOut:
    return EmergencyMomentOut(
        at=moment,
        mission_time=moment.astimezone(zone(time_zone)).isoformat(timespec="minutes"),
        riyadh_time=moment.astimezone(RIYADH).isoformat(timespec="minutes"),
    )


def status_body(request: web.Request, view: CitizenView) -> EmergencyReportStatus:
    catalogs = request.app[CATALOGS]
    report, mission = view.report, view.mission
    tz = mission.time_zone
    return EmergencyReportStatus(
        number=report.number,
        state=report.state.value,
        state_label=bilingual(catalogs, CITIZEN_STATES[report.state]),
        type=report.type.value,
        type_label=bilingual(catalogs, labels.REPORT_TYPES[report.type]),
        mission=EmergencyMissionOut(
            code=mission.code, name={"ar": mission.name_ar, "en": mission.name_en}, time_zone=tz
        ),
        registered=_moment(report.created_at, tz),
        acknowledged=_moment(report.acknowledged_at, tz) if report.acknowledged_at else None,
        closed=_moment(report.solved_at, tz) if report.solved_at else None,
        steps=[
            EmergencyStepOut(kind=s.kind, label=bilingual(catalogs, CITIZEN_STEPS[s.kind]), at=_moment(s.at, tz))
            for s in view.steps
        ],
    )


@routes.get("/api/v1/emergency-reports/{number}/status")
async def report_status(request: web.Request) -> web.Response:
    """The report's state and steps, only for the phone given with it; any miss is the same 404."""
    try:
        report = await lookup_for_citizen(request, request.match_info["number"], request.query.get("phone", ""))
    except DomainError:
        return error_response(request, 429)
    if report is None:
        return error_response(request, 404, NO_REPORT)
    body = status_body(request, await citizen_view(request, report))
    response = web.json_response(body.model_dump(mode="json"))
    response.headers["Cache-Control"] = "no-store"
    return response


def openapi_paths(ref: Callable[[str], dict[str, str]], json: Callable[[str, str], dict[str, Any]]) -> dict[str, Any]:
    """The citizen's status of an emergency report, for the OpenAPI document."""
    return {
        "/api/v1/emergency-reports/{number}/status": {
            "get": {
                "operationId": "getEmergencyReportStatus",
                "summary": "The state of an emergency report and its steps, for the citizen who gave the phone",
                "description": (
                    "The number as sent by SMS (E26-000123-4; a small e, spaces and Arabic-Indic digits are read). "
                    "Times are given in UTC, at the mission and in Riyadh."
                ),
                "parameters": [
                    {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "phone",
                        "in": "query",
                        "required": True,
                        "description": "The phone given with the report, with its country code",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": json("EmergencyReportStatus", "The state, the mission and the steps so far"),
                    "404": json("ErrorOut", "No emergency report matches this number and phone"),
                    "429": json("ErrorOut", "Too many enquiries that matched nothing from this address"),
                },
            }
        }
    }
