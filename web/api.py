"""The JSON API: submit a request, read its status; refusals are bilingual and list every field."""

from __future__ import annotations

import json
import logging

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import text

from accounts.roles import Role
from cases import service as cases
from cases.models import Case, Channel
from majlis.errors import N_, DomainError, FieldError, InvalidInput, invalid_choice
from web import labels
from web.api_models import (
    AudienceOut,
    AudiencePlaceOut,
    Health,
    ReferralStageOut,
    RequestCreated,
    RequestIn,
    RequestStatus,
    StatusStep,
)
from web.applicant_view import AudienceShown, applicant_history, applicant_referral_stages
from web.auth import current_user
from web.errors import bilingual, refusal
from web.errors import invalid_input as invalid_input  # re-exported: the API modules import it from here
from web.errors import pydantic_errors as pydantic_errors
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SESSIONS
from web.middleware import error_response
from web.public import after_intake, applicant_audience, calendar_download, lookup_for_applicant, status_url

log = logging.getLogger(__name__)
routes = web.RouteTableDef()

# Who may file a request in each channel other than the portal: the staff who receive it there (as the desk
# form lets them). Anyone else, signed in or not, is the public, whose channel is the portal; WhatsApp's own
# requests come through its webhook (web/twilio_webhooks.py), not this API.
STAFF_CHANNELS: dict[Channel, frozenset[Role]] = {
    Channel.WALK_IN: frozenset({Role.INTAKE_DESK, Role.CALL_CENTRE}),
    Channel.CALL_CENTRE: frozenset({Role.INTAKE_DESK, Role.CALL_CENTRE}),
    Channel.WHATSAPP: frozenset({Role.INTAKE_DESK, Role.CALL_CENTRE, Role.WHATSAPP_DESK}),
    Channel.EMAIL: frozenset({Role.INTAKE_DESK, Role.CALL_CENTRE}),
}
MAX_IDEMPOTENCY_KEY = 200
BAD_IDEMPOTENCY_KEY = N_("The Idempotency-Key header must be 1 to 200 printable ASCII characters.")


async def _channel_refused(request: web.Request, raw: object) -> web.Response | None:
    """None when the caller may file in this channel; else the refusal (an unknown value is left to the checks)."""
    try:
        channel = Channel(raw) if isinstance(raw, str) else Channel.PORTAL
    except ValueError:
        return None
    if channel is Channel.PORTAL:
        return None
    user = await current_user(request)
    if user is None:
        return invalid_input(request, [invalid_choice("channel", [Channel.PORTAL.value])])
    if user.must_change_password:
        # As everywhere else (web.auth.requires): a temporary password opens nothing but the password page.
        return error_response(request, 403, N_("Choose a new password before anything else."))
    if user.role not in STAFF_CHANNELS[channel]:
        return error_response(request, 403, N_("Your role does not receive requests in this channel."))
    return None


@routes.post("/api/v1/requests")
async def create_request(request: web.Request) -> web.Response:
    try:
        payload = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return error_response(request, 400, N_("The request body is not valid JSON."))
    if not isinstance(payload, dict):
        return invalid_input(request, [FieldError("body", "model_type", N_("{field} must be a JSON object."))])
    key = request.headers.get("Idempotency-Key")
    # Printable ASCII only: a header's other bytes reach Python as lone surrogates, which cannot be stored.
    if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY and key.isascii() and key.isprintable()):
        return error_response(request, 400, BAD_IDEMPOTENCY_KEY)

    refused = await _channel_refused(request, payload.get("channel"))
    if refused is not None:
        return refused
    try:
        # The one check of the request: its shape and the domain's rules of each field (web.domain_fields).
        details = RequestIn.model_validate(payload).details()
    except ValidationError as exc:
        return invalid_input(request, pydantic_errors(exc))

    try:
        submission = await cases.submit(
            session=request[DB],
            clock=request.app[CLOCK],
            details=details,
            status_url=status_url(request),
            idempotency_key=f"api:{key}" if key is not None else None,
        )
    except InvalidInput as exc:  # a branch that is no open centre (cases.branches), refused before any write
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    await after_intake(request, submission)
    case = submission.case
    created = RequestCreated(
        tracking_number=case.tracking_number, status=case.status.value, submitted_at=case.submitted_at
    )
    response = web.json_response(created.model_dump(mode="json"), status=201)
    response.headers["Location"] = f"/api/v1/requests/{case.tracking_number}"
    if not submission.created:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _status_label(request: web.Request, status: str) -> dict[str, str]:
    return bilingual(request.app[CATALOGS], labels.STATUSES[status])


def _appointment_out(case: Case, shown: AudienceShown) -> AudienceOut:
    return AudienceOut(
        starts_at=shown.starts_at,
        ends_at=shown.ends_at,
        mode=shown.mode.value,
        mode_label=shown.mode_label,
        place=AudiencePlaceOut(branch=shown.branch, centre=shown.centre, room=shown.room, address=shown.address),
        state=shown.state.value,
        state_label=shown.state_label,
        date=shown.date,
        time=shown.time,
        arrive_by=shown.arrive_by,
        bring=shown.bring,
        arrival_code=shown.arrival_code,
        calendar_url=f"/api/v1/requests/{case.tracking_number}/calendar.ics",
    )


async def _status_body(request: web.Request, case: Case) -> RequestStatus:
    steps = await cases.history(session=request[DB], case_id=case.id)
    found = await applicant_audience(request, case)
    return RequestStatus(
        tracking_number=case.tracking_number,
        status=case.status.value,
        status_label=_status_label(request, case.status),
        kind=case.kind.value,
        submitted_at=case.submitted_at,
        history=[
            StatusStep(status=s.to_status.value, status_label=_status_label(request, s.to_status), at=s.at, note=s.note)
            for s in applicant_history(steps, request.app[CATALOGS], request[LANGUAGE])
        ],
        appointment=_appointment_out(case, found[1]) if found else None,
        referral_stages=[
            ReferralStageOut(stage=s.stage, at=s.at, department=s.department, text=s.text, outcome=s.outcome)
            for s in await applicant_referral_stages(
                session=request[DB], case_id=case.id, catalogs=request.app[CATALOGS], language=request[LANGUAGE]
            )
        ],
    )


NO_MATCH = N_("No request matches this tracking number and phone.")


async def _applicant_case(request: web.Request) -> Case | web.Response:
    """The request for the tracking number in the path and the phone in the query; any miss is the same 404."""
    try:
        case = await lookup_for_applicant(
            request, request.match_info["tracking_number"], request.query.get("phone", "")
        )
    except DomainError:
        return error_response(request, 429)
    if case is None:
        return error_response(request, 404, NO_MATCH)
    return case


@routes.get("/api/v1/requests/{tracking_number}")
async def request_status(request: web.Request) -> web.Response:
    """The status, the history meant for the applicant and the audience ahead, only for the phone given with
    the request."""
    case = await _applicant_case(request)
    if isinstance(case, web.Response):
        return case
    body = await _status_body(request, case)
    response = web.json_response(body.model_dump(mode="json"))
    response.headers["Cache-Control"] = "no-store"  # the arrival code is in it
    return response


@routes.get("/api/v1/requests/{tracking_number}/calendar.ics")
async def request_calendar(request: web.Request) -> web.Response:
    """The audience ahead as an iCalendar file, guarded as the status is: the phone given with the request."""
    case = await _applicant_case(request)
    if isinstance(case, web.Response):
        return case
    return await calendar_download(request, case)


@routes.get("/healthz")
async def health(request: web.Request) -> web.Response:
    try:
        async with request.app[SESSIONS]() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        log.exception("health check: database unavailable")
        return web.json_response(Health(status="unavailable", database="unavailable").model_dump(), status=503)
    return web.json_response(Health(status="ok", database="ok").model_dump())
