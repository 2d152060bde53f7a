"""The emergency line's call queue over JSON (/api/v1/emergency/calls…): callers waiting, callbacks owed, the
latest called back; an agent takes a callback and records it called back.

Signed in with the staff session cookie; every change carries the X-CSRF-Token header (GET /api/v1/session
gives it). Agents act, consular supervisors read. 404 for a call that is not there, 409 for a step its state
refuses (no callback owed, taken by another agent, already called back), 422 for input to correct.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from emergency import calls
from emergency.models import LineCall
from majlis.errors import DomainError, InvalidInput
from majlis.i18n import known_language
from web.api import invalid_input
from web.auth import requires, signed_in_user
from web.emergency_calls import AGENTS, READERS, call_id, new_report_url
from web.errors import refusal
from web.keys import CLOCK, DB
from web.triage_api import parsed

routes = web.RouteTableDef()
BASE = "/api/v1/emergency/calls"


class CalledBackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(max_length=calls.MAX_NOTE, description="What came of the callback (required)")
    report_number: str = Field(
        default="", max_length=16, description="The report registered from the call, if any: the call is linked to it"
    )


class LineCallOut(BaseModel):
    id: int
    caller: str = Field(description="The caller's number in E.164; empty when it was withheld")
    language: Literal["ar", "en"]
    state: Literal["waiting", "answered", "missed", "called_back"]
    arrived_at: datetime
    ended_at: datetime | None = Field(description="When the caller left the queue")
    handled_by_id: int | None = Field(description="The agent who took the callback, or made it")
    handled_by: str
    handled_at: datetime | None
    note: str
    report_id: int | None
    report_number: str | None
    new_report_url: str = Field(description="The agent screen with the caller's number filled in")


class CallQueueOut(BaseModel):
    waiting: list[LineCallOut] = Field(description="Callers waiting for an agent now, oldest first")
    callbacks: list[LineCallOut] = Field(description="Missed calls owed a callback, oldest first")
    called_back: list[LineCallOut] = Field(description="The latest called back, newest first")


INPUTS: tuple[type[BaseModel], ...] = (CalledBackIn,)
OUTPUTS: tuple[type[BaseModel], ...] = (LineCallOut, CallQueueOut)


def _out(call: LineCall, names: dict[int, str], numbers: dict[int, str]) -> LineCallOut:
    return LineCallOut(
        id=call.id,
        caller=call.caller,
        language=known_language(call.language),
        state=call.state.value,
        arrived_at=call.arrived_at,
        ended_at=call.ended_at,
        handled_by_id=call.handled_by_id,
        handled_by=names.get(call.handled_by_id, "") if call.handled_by_id is not None else "",
        handled_at=call.handled_at,
        note=call.note,
        report_id=call.report_id,
        report_number=numbers.get(call.report_id) if call.report_id is not None else None,
        new_report_url=new_report_url(call),
    )


async def _answer(request: web.Request, work: Callable[[], Awaitable[BaseModel]]) -> web.Response:
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    return web.json_response(body.model_dump(mode="json"))


async def _one(request: web.Request, number: int) -> LineCallOut:
    call = await calls.get_call(session=request[DB], call_id=number)
    queue = await calls.agent_queue(session=request[DB])
    return _out(call, queue.names, queue.report_numbers)


@routes.get(BASE)
@requires(*READERS)
async def list_calls(request: web.Request) -> web.Response:
    async def work() -> CallQueueOut:
        queue = await calls.agent_queue(session=request[DB])

        def out(rows: list[LineCall]) -> list[LineCallOut]:
            return [_out(c, queue.names, queue.report_numbers) for c in rows]

        return CallQueueOut(
            waiting=out(queue.waiting), callbacks=out(queue.callbacks), called_back=out(queue.called_back)
        )

    return await _answer(request, work)


@routes.post(BASE + "/{call_id:\\d+}/take")
@requires(*AGENTS)
async def take(request: web.Request) -> web.Response:
    async def work() -> LineCallOut:
        number = call_id(request)
        await calls.take_callback(
            session=request[DB], clock=request.app[CLOCK], call_id=number, actor_id=signed_in_user(request).id
        )
        return await _one(request, number)

    return await _answer(request, work)


@routes.post(BASE + "/{call_id:\\d+}/called-back")
@requires(*AGENTS)
async def called_back(request: web.Request) -> web.Response:
    async def work() -> LineCallOut:
        number = call_id(request)
        body = await parsed(request, CalledBackIn)
        await calls.called_back(
            session=request[DB],
            clock=request.app[CLOCK],
            call_id=number,
            actor_id=signed_in_user(request).id,
            note=body.note,
            report_number=body.report_number,
        )
        return await _one(request, number)

    return await _answer(request, work)


# --- the OpenAPI document ------------------------------------------------------------------------

ROLES_NOTE = (
    "The staff session cookie, and X-CSRF-Token on changes (from GET /api/v1/session). "
    "Roles: emergency_agent (consular_supervisor reads the list), administrators."
)


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The call queue's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    number = {"name": "call_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    guard = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role of this path")}
    refusals = {
        **guard,
        "404": json("ErrorOut", "No such call (line_call_not_found)"),
        "409": json("ErrorOut", "Refused by its state: no_callback_owed, taken_by_another, already_called_back"),
        "422": json("ErrorOut", "Invalid fields, each listed"),
    }
    return {
        BASE: {
            "get": {
                "operationId": "emergencyCalls",
                "summary": "The emergency line's calls: waiting for an agent, callbacks owed, called back recently",
                "description": ROLES_NOTE,
                "responses": {"200": json("CallQueueOut", "The call queue"), **guard},
            }
        },
        BASE + "/{call_id}/take": {
            "post": {
                "operationId": "emergencyCallTake",
                "summary": "Take a callback owed, so no other agent calls the same caller",
                "description": ROLES_NOTE,
                "parameters": [number, csrf],
                "responses": {"200": json("LineCallOut", "The call, taken"), **refusals},
            }
        },
        BASE + "/{call_id}/called-back": {
            "post": {
                "operationId": "emergencyCallCalledBack",
                "summary": "Record a callback made, with what came of it and the report it gave",
                "description": ROLES_NOTE,
                "parameters": [number, csrf],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("CalledBackIn")}}},
                "responses": {"200": json("LineCallOut", "The call, called back"), **refusals},
            }
        },
    }
