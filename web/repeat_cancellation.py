"""Undoing the WhatsApp desk's automatic cancellation of a repeated request: the audit desk's form and JSON API.

The request's triage page (web/triage.py) shows the cancellation ("cancelled automatically as a repeat of N")
with this form; the API does the same at POST /api/v1/requests/{tracking_number}/duplicate-cancellation/undo.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from accounts.roles import Role
from cases.models import Case
from majlis.errors import N_, DomainError, InvalidInput
from priority.errors import CaseNotFound
from web.api import invalid_input
from web.auth import requires, signed_in_user
from web.errors import domain_message, refusal
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.public import status_url
from web.triage import case_page
from web.triage_api import parsed
from whatsapp_desk import repeats

routes = web.RouteTableDef()


class UndoIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500, description="Why the request is not a repeat (kept in the fairness record)")


class UndoOut(BaseModel):
    tracking_number: str
    status: str
    original_tracking_number: str
    undone_at: str


UNDONE = notice(N_("The cancellation of request {number} was undone: it is back with the received requests."))
INPUTS: tuple[type[BaseModel], ...] = (UndoIn,)
OUTPUTS: tuple[type[BaseModel], ...] = (UndoOut,)


async def _undo(request: web.Request, reason: str) -> Case:
    return await repeats.undo_cancellation(
        session=request[DB],
        clock=request.app[CLOCK],
        tracking_number=request.match_info["tracking_number"],
        actor_id=signed_in_user(request).id,
        reason=reason,
        status_url=status_url(request),
    )


@routes.post("/audit/cases/{tracking_number}/duplicate-cancellation/undo")
@requires(Role.AUDIT_DESK)
async def undo_page(request: web.Request) -> web.Response:
    """The triage page's Undo: the request back to received; a refusal shows the page again, nothing changed."""
    number = request.match_info["tracking_number"]
    form = await request.post()
    reason = str(form.get("reason", ""))
    try:
        await _undo(request, reason)
    except InvalidInput as exc:
        await request[DB].rollback()
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await case_page(request, number, errors=errors, values={"undo_reason": reason}, status=422)
    except CaseNotFound:
        raise web.HTTPNotFound() from None
    except DomainError as exc:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await case_page(request, number, form_error=message, status=409)
    return done(request, f"/audit/cases/{number}", UNDONE, number=number)


@routes.post("/api/v1/requests/{tracking_number}/duplicate-cancellation/undo")
@requires(Role.AUDIT_DESK)
async def undo_api(request: web.Request) -> web.Response:
    try:
        body = await parsed(request, UndoIn)
        case = await _undo(request, body.reason)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    cancellation = await repeats.cancellation_of(session=request[DB], case_id=case.id)
    assert cancellation is not None and cancellation.record.undone_at is not None  # just undone
    out = UndoOut(
        tracking_number=case.tracking_number,
        status=case.status.value,
        original_tracking_number=cancellation.original_number,
        undone_at=cancellation.record.undone_at.isoformat(),
    )
    return web.json_response(out.model_dump())


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The API's path in the OpenAPI document (ref and json: the document's own helpers)."""
    return {
        "/api/v1/requests/{tracking_number}/duplicate-cancellation/undo": {
            "post": {
                "operationId": "undoDuplicateCancellation",
                "summary": "Undo the automatic cancellation of a WhatsApp request as a repeat: it is received again "
                "and its applicant told by SMS",
                "description": "Audit desk and administrators only: the staff session cookie, and X-CSRF-Token "
                "(from GET /api/v1/session). In the fairness record as a correction, with the reason.",
                "parameters": [
                    {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("UndoIn")}}},
                "responses": {
                    "200": json("UndoOut", "The request, received again"),
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not the audit desk, or no valid X-CSRF-Token"),
                    "404": json("ErrorOut", "No request has this tracking number"),
                    "409": json("ErrorOut", "Not cancelled automatically as a repeat, or already undone"),
                    "422": json("ErrorOut", "The reason is missing or too long"),
                },
            }
        }
    }
