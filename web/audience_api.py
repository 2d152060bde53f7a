"""Audience day over JSON: the desk's check-in, the hall's order of the day, Call next, the in-person outcome
and the day's report (/api/v1/arrivals, /api/v1/hall/…, /api/v1/reports/day).

Signed in with the staff session cookie; every change carries the X-CSRF-Token
header (GET /api/v1/session gives it). The rules are the domain's
(audience_day.arrival, .hall, .report), the same the pages use; a refusal names
its rule by its code: 404 for what is not there, 409 for a step the rules refuse,
422 for input to correct.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from aiohttp import web
from pydantic import BaseModel

from accounts.roles import Role
from audience_day import arrival, hall
from audience_day.hall import InLine
from audience_day.models import HallAudience, Outcome
from audience_day.report import day_report
from cases import service as cases
from majlis.clock import riyadh
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required
from scheduler.models import AudienceSession
from web import personal_data
from web.api import invalid_input
from web.api_models import (
    ID_LIMIT,
    ArrivalIn,
    ArrivalOut,
    CallNextIn,
    CallNextOut,
    CurrentOut,
    DayReportOut,
    HallSessionOut,
    InLineOut,
    OutcomeIn,
    OutcomeOut,
    TimedAudienceOut,
)
from web.auth import requires, signed_in_user
from web.department_choices import joined_codes
from web.errors import bilingual, refusal
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS, SETTINGS
from web.middleware import error_response
from web.public import status_url
from web.triage_api import parsed

routes = web.RouteTableDef()
DESK_ROLES = (Role.INTAKE_DESK, Role.PROTOCOL)
HALL_ROLES = (Role.OFFICIAL, Role.PROTOCOL)
REPORT_ROLES = (Role.PROTOCOL, Role.MANAGER, Role.OFFICIAL)

ONE_WAY = N_("Give one of: the appointment, the arrival code, or the tracking number with the phone's last 4 digits.")


async def _answer(
    request: web.Request, work: Callable[[], Awaitable[BaseModel | list[HallSessionOut]]], status: int = 200
) -> web.Response:
    """Runs the work; InvalidInput is a 422 naming the fields, a DomainError its code with 404, 409 or 422."""
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    if isinstance(body, BaseModel):
        return web.json_response(body.model_dump(mode="json"), status=status)
    return web.json_response([item.model_dump(mode="json") for item in body], status=status)


def _not_there(request: web.Request, code: str, message: str) -> web.Response:
    messages = bilingual(request.app[CATALOGS], message)
    body = {"error": code, "message": messages[request[LANGUAGE]], "messages": messages, "fields": []}
    return web.json_response(body, status=404)


def _id_in_path(request: web.Request, name: str) -> int | None:
    """The id in the path, or None when it is too large to name any row."""
    value = int(request.match_info[name])
    return value if value <= ID_LIMIT else None


# --- arrival at the desk -------------------------------------------------------------------------


def _one_identification(body: ArrivalIn) -> None:
    given = [
        body.appointment_id is not None,
        body.arrival_code is not None,
        body.tracking_number is not None or body.phone_last4 is not None,
    ]
    if sum(given) != 1:
        raise InvalidInput(
            [
                FieldError(
                    "body",
                    "one_identification",
                    ONE_WAY,
                )
            ]
        )
    missing = [name for name in ("tracking_number", "phone_last4") if given[2] and getattr(body, name) is None]
    if missing:
        raise InvalidInput([required(name) for name in missing])


@routes.post("/api/v1/arrivals")
@requires(*DESK_ROLES)
async def check_in(request: web.Request) -> web.Response:
    """Checks an applicant in at the desk, as /desk/arrivals does; the kiosk's identifications work too."""

    async def work() -> ArrivalOut:
        body = await parsed(request, ArrivalIn)
        _one_identification(body)
        session, clock = request[DB], request.app[CLOCK]
        came = await arrival.check_in_at_desk(
            session=session,
            clock=clock,
            policy=arrival.policy_from(request.app[SETTINGS]),
            links=request.app[LINKS],
            branch_code=body.branch,
            actor_id=signed_in_user(request).id,
            appointment_id=body.appointment_id,
            code=body.arrival_code or "",
            tracking_number=body.tracking_number or "",
            phone_last4=body.phone_last4 or "",
        )
        return ArrivalOut(
            appointment_id=came.appointment_id,
            queue_number=came.queue_number,
            arrived_at=came.arrived_at,
            late=came.late,
            session_id=came.session_id,
        )

    return await _answer(request, work, status=201)


# --- the hall ------------------------------------------------------------------------------------


def _current_out(line: list[InLine], current: HallAudience | None) -> CurrentOut | None:
    item = next((i for i in line if current is not None and i.appointment.id == current.appointment_id), None)
    if current is None or item is None:
        return None
    return CurrentOut(
        audience_id=current.id, queue_number=item.arrival.queue_number, tracking_number=item.case.tracking_number
    )


def _in_line_out(item: InLine) -> InLineOut:
    audience = item.audience
    return InLineOut(
        queue_number=item.arrival.queue_number,
        tracking_number=item.case.tracking_number,
        applicant_name=item.case.applicant_name,
        late=item.arrival.late,
        arrived_at=item.arrival.arrived_at,
        state=item.appointment.state.value,
        waiting=item.waiting,
        audience_id=audience.id if audience else None,
        called_at=audience.called_at if audience else None,
        ended_at=audience.ended_at if audience else None,
        outcome=audience.outcome.value if audience and audience.outcome else None,
    )


@routes.get("/api/v1/hall/sessions")
@requires(*HALL_ROLES)
async def hall_sessions(request: web.Request) -> web.Response:
    """Today's in-person sessions, each with its order of the day and the audience now before the official."""

    async def work() -> list[HallSessionOut]:
        session = request[DB]
        out = []
        for audience_session in await hall.in_person_sessions(session=session, clock=request.app[CLOCK]):
            line = await hall.order_of_day(session=session, session_id=audience_session.id)
            # Names: only requests within the reader's need to know, each view logged.
            visible = await personal_data.seen_in_list(request, [item.case.id for item in line])
            line = [item for item in line if item.case.id in visible]
            current = await hall.current_audience(session=session, session_id=audience_session.id)
            room = await hall.room_of_session(session=session, session_id=audience_session.id)
            out.append(
                HallSessionOut(
                    id=audience_session.id,
                    branch=room.branch_code if room else None,
                    room=room.name if room else None,
                    starts_at=audience_session.starts_at,
                    ends_at=audience_session.ends_at,
                    current=_current_out(line, current),
                    line=[_in_line_out(item) for item in line],
                )
            )
        return out

    return await _answer(request, work)


@routes.post("/api/v1/hall/sessions/{session_id:\\d+}/call-next")
@requires(Role.OFFICIAL)
async def call_next(request: web.Request) -> web.Response:
    """Ends the current audience and calls the next applicant; a stale press changes nothing (moved: false)."""
    session_id = _id_in_path(request, "session_id")
    if session_id is None or await request[DB].get(AudienceSession, session_id) is None:
        return _not_there(request, "no_session", N_("There is no such audience session."))
    if signed_in_user(request).role is not Role.OFFICIAL:
        return error_response(request, 403, N_("This page is not for your role."))  # he calls his own audience

    async def work() -> CallNextOut:
        body = await parsed(request, CallNextIn)
        session = request[DB]
        result = await hall.call_next(
            session=session,
            clock=request.app[CLOCK],
            session_id=session_id,
            current_id=body.current_id,
            actor_id=signed_in_user(request).id,
        )
        line = await hall.order_of_day(session=session, session_id=session_id)
        return CallNextOut(moved=result.moved, current=_current_out(line, result.current))

    return await _answer(request, work)


@routes.post("/api/v1/hall/audiences/{audience_id:\\d+}/outcome")
@requires(Role.OFFICIAL)
async def record_outcome(request: web.Request) -> web.Response:
    """The official's outcome and directive of an in-person audience: the request moves on, the applicant is told."""
    audience_id = _id_in_path(request, "audience_id")
    if audience_id is None or await request[DB].get(HallAudience, audience_id) is None:
        return _not_there(request, "no_audience", N_("There is no such audience."))
    if signed_in_user(request).role is not Role.OFFICIAL:
        return error_response(request, 403, N_("This page is not for your role."))  # the directive is his own

    async def work() -> OutcomeOut:
        body = await parsed(request, OutcomeIn)
        audience = await hall.record_outcome(
            session=request[DB],
            clock=request.app[CLOCK],
            audience_id=audience_id,
            outcome=Outcome(body.outcome),
            directive=body.directive,
            referred_to=joined_codes(body.referred_to),
            actor_id=signed_in_user(request).id,
            status_url=status_url(request),
        )
        case = await cases.get_case(session=request[DB], case_id=audience.case_id)
        assert case is not None and audience.outcome is not None
        return OutcomeOut(
            audience_id=audience.id,
            tracking_number=case.tracking_number,
            outcome=audience.outcome.value,
            directive=audience.directive,
            referred_to=audience.referred_to,
            called_at=audience.called_at,
            ended_at=audience.ended_at,
            outcome_at=audience.outcome_at,
        )

    return await _answer(request, work)


# --- the day's report ----------------------------------------------------------------------------


@routes.get("/api/v1/reports/day")
@requires(*REPORT_ROLES)
async def report(request: web.Request) -> web.Response:
    """The report of one Riyadh day (today unless `day` is given), across every branch."""

    async def work() -> DayReportOut:
        asked = request.query.get("day", "").strip()
        try:
            day = date.fromisoformat(asked) if asked else riyadh(request.app[CLOCK].now()).date()
        except ValueError:
            raise InvalidInput(
                [FieldError("day", "invalid_date", N_("{field} must be a date such as 2026-12-06."))]
            ) from None
        found = await day_report(session=request[DB], day=day)
        return DayReportOut(
            day=found.day,
            appointments=found.appointments,
            arrived=found.arrived,
            on_time=found.on_time,
            late=found.late,
            held=found.held,
            no_shows=found.no_shows,
            released=found.released,
            in_audience=found.in_audience,
            reference_minutes=found.reference_minutes,
            mean_minutes=found.mean_minutes,
            median_minutes=found.median_minutes,
            over_reference=found.over_reference,
            mean_wait_minutes=found.mean_wait_minutes,
            audiences=[
                TimedAudienceOut(
                    tracking_number=a.tracking_number,
                    mode=a.mode.value,
                    room=a.room,
                    queue_number=a.queue_number,
                    started_at=a.started_at,
                    ended_at=a.ended_at,
                    minutes=round(a.minutes, 2),
                    over_reference=a.over_reference,
                )
                for a in found.audiences
            ],
        )

    return await _answer(request, work)
