"""The follow-up team over JSON: the daily list, a referral with its history, the team's actions on it, and
a referred request sent (again) to departments (/api/v1/followup, /api/v1/referrals/…, /api/v1/cases/…/refer).

Signed in with the staff session cookie; every change carries the X-CSRF-Token header (GET /api/v1/session
gives it). The follow-up team acts, managers read. The rules are the domain's, the same the pages use: 404
for what is not there, 409 for a step the referral's state refuses (closed twice, answered already…),
422 for input to correct, each field named in Arabic and English.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from accounts import service as accounts
from accounts.roles import Role
from cases.models import Case
from followup import daily, referrals
from followup.models import Department, Referral, ReferralEvent
from majlis.errors import DomainError, InvalidInput
from web import personal_data
from web.api import invalid_input
from web.api_models import ID_LIMIT
from web.auth import requires
from web.errors import refusal
from web.followup_actions import ACTIONS, Perform, refer
from web.followup_api_models import (
    FOLLOWUP_INPUTS,
    FOLLOWUP_OUTPUTS,
    CallIn,
    CloseIn,
    EscalateIn,
    ExtendIn,
    FollowUpCountsOut,
    FollowUpItemOut,
    FollowUpOut,
    ReferIn,
    ReferralDepartmentOut,
    ReferralEventOut,
    ReferralOut,
    RemindIn,
)
from web.keys import CLOCK, DB
from web.triage_api import parsed

routes = web.RouteTableDef()
# The shapes web/openapi.py lists in the document's schemas.
__all__ = ["FOLLOWUP_INPUTS", "FOLLOWUP_OUTPUTS", "openapi_paths", "routes"]
TEAM = (Role.FOLLOW_UP,)
READERS = (Role.FOLLOW_UP, Role.MANAGER)
# What is not there; every other refusal of a referral's step is a conflict with its state.


def _department(department: Department) -> ReferralDepartmentOut:
    return ReferralDepartmentOut(code=department.code, name_ar=department.name_ar, name_en=department.name_en)


def _item(item: daily.Item) -> FollowUpItemOut:
    return FollowUpItemOut(
        tracking_number=item.tracking_number,
        referral_id=item.referral_id,
        department=_department(item.department) if item.department is not None else None,
        state=item.state.value if item.state is not None else daily.UNREFERRED,
        team_action=item.action.value if item.action is not None else None,
        clock=item.clock or None,
        due_at=item.due_at,
        working_minutes_left=int(item.left.total_seconds() // 60) if item.left is not None else None,
        overdue=item.overdue,
        paused=item.paused,
        escalation_level=item.escalation_level,
        waiting_since=item.waiting_since,
    )


async def _answer(request: web.Request, work: Callable[[], Awaitable[BaseModel | list[ReferralOut]]]) -> web.Response:
    """Runs the work; InvalidInput is a 422 naming the fields, a refusal 404 or 409 with its code."""
    try:
        body = await work()
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    if isinstance(body, BaseModel):
        return web.json_response(body.model_dump(mode="json"))
    return web.json_response([item.model_dump(mode="json") for item in body])


async def referral_out(request: web.Request, referral: Referral) -> ReferralOut:
    session = request[DB]
    case = await session.get_one(Case, referral.case_id)
    department = await session.get_one(Department, referral.department_id)
    events: list[ReferralEvent] = await referrals.events_of(session=session, referral_id=referral.id)
    names = await accounts.names_by_id(session=session, ids={e.actor_id for e in events if e.actor_id is not None})
    return ReferralOut(
        id=referral.id,
        tracking_number=case.tracking_number,
        department=_department(department),
        state=referral.state.value,
        source=referral.source.value,
        directive=referral.directive,
        created_at=referral.created_at,
        first_response_due_at=referral.first_response_due_at,
        next_update_due_at=referral.next_update_due_at,
        solution_due_at=referral.solution_due_at,
        extended_minutes=referral.extended_minutes,
        paused_since=referral.paused_since,
        acknowledged_at=referral.acknowledged_at,
        answered_at=referral.answered_at,
        answer=referral.answer,
        closed_at=referral.closed_at,
        outcome=referral.outcome,
        escalation_level=referral.escalation_level,
        events=[
            ReferralEventOut(
                kind=e.kind.value,
                at=e.at,
                by=names.get(e.actor_id, "") if e.actor_id is not None else e.by,
                text=e.text,
                details=dict(e.details or {}),
            )
            for e in events
        ],
    )


def _referral_id(request: web.Request) -> int:
    value = int(request.match_info["referral_id"])
    if value > ID_LIMIT:
        raise referrals.ReferralNotFound()
    return value


async def _referral(request: web.Request, referral_id: int) -> Referral:
    referral = await request[DB].get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise referrals.ReferralNotFound()
    return referral


@routes.get("/api/v1/followup")
@requires(*READERS)
async def followup_list(request: web.Request) -> web.Response:
    """The daily list; ?department=code, ?state=…|unreferred and ?overdue=1 narrow it."""

    async def work() -> FollowUpOut:
        query = request.query
        filters = daily.checked_filters(
            department=query.get("department", ""), state=query.get("state", ""), overdue=query.get("overdue", "")
        )
        # Only requests within the reader's need to know; each one listed logged.
        found = await daily.daily_list(
            session=request[DB], clock=request.app[CLOCK], filters=filters, within=await personal_data.reach(request)
        )
        await personal_data.seen_in_list(request, [item.case_id for item in found.items])
        counts = found.counts
        return FollowUpOut(
            now=found.now,
            counts=FollowUpCountsOut(
                items=counts.items,
                overdue=counts.overdue,
                team_action=counts.team_action,
                paused=counts.paused,
                unreferred=counts.unreferred,
            ),
            items=[_item(item) for item in found.items],
        )

    return await _answer(request, work)


@routes.get("/api/v1/referrals/{referral_id:\\d+}")
@requires(*READERS)
async def show_referral(request: web.Request) -> web.Response:
    async def work() -> ReferralOut:
        referral = await _referral(request, _referral_id(request))
        # Outside the reader's need to know, the referral is answered as one that does not exist.
        if not await personal_data.may_see(request, referral.case_id):
            raise referrals.ReferralNotFound()
        await personal_data.record(request, referral.case_id)
        return await referral_out(request, referral)

    return await _answer(request, work)


# The body each action takes; its fields go to the action as text, as a form's would.
BODIES: Mapping[str, type[BaseModel]] = {
    "remind": RemindIn,
    "call": CallIn,
    "escalate": EscalateIn,
    "extend": ExtendIn,
    "close": CloseIn,
}


def _fields(body: BaseModel) -> dict[str, str]:
    def text(value: Any) -> str:
        return ("1" if value else "") if isinstance(value, bool) else str(value)

    return {key: text(value) for key, value in body.model_dump().items()}


def _api_action(perform: Perform, model: type[BaseModel]) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(*TEAM)
    async def handler(request: web.Request) -> web.Response:
        async def work() -> ReferralOut:
            referral_id = _referral_id(request)
            body = await parsed(request, model)
            await perform(request, referral_id, _fields(body))
            return await referral_out(request, await _referral(request, referral_id))

        return await _answer(request, work)

    return handler


for _name, _perform in ACTIONS.items():
    routes.post(f"/api/v1/referrals/{{referral_id:\\d+}}/{_name}")(_api_action(_perform, BODIES[_name]))


@routes.post("/api/v1/cases/{tracking_number}/refer")
@requires(*TEAM)
async def refer_case(request: web.Request) -> web.Response:
    """Sends a referred request to departments by code, with the directive; answers with the new referrals."""

    async def work() -> list[ReferralOut]:
        body = await parsed(request, ReferIn)
        made = await refer(
            request,
            request.match_info["tracking_number"],
            [c.strip().lower() for c in body.departments],
            body.directive,
        )
        return [await referral_out(request, referral) for referral in made]

    return await _answer(request, work)


# --- the OpenAPI document ------------------------------------------------------------------------

ROLES_NOTE = "The staff session cookie, and X-CSRF-Token on changes (from GET /api/v1/session). Roles: {roles}."
# (operationId, path after /api/v1/referrals/{referral_id}/, body model, summary)
REFERRAL_ACTIONS = (
    ("followupRemind", "remind", "RemindIn", "Remind the department's liaison officers by e-mail (and SMS)"),
    ("followupCall", "call", "CallIn", "Note a phone call with the department"),
    ("followupEscalate", "escalate", "EscalateIn", "Escalate to the next rank now, with the reason"),
    ("followupExtend", "extend", "ExtendIn", "Give more working time, with the reason; every deadline moves on"),
    (
        "followupClose",
        "close",
        "CloseIn",
        "Close with the outcome; the last open referral completes the request and the applicant is told",
    ),
)


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The follow-up team's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    referral_id = {"name": "referral_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    guard = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role of this path")}
    refusals = {
        **guard,
        "404": json("ErrorOut", "No such referral (referral_not_found)"),
        "409": json("ErrorOut", "The referral's state refuses the step: closed, returned, answered, top_of_ladder…"),
        "422": json("ErrorOut", "Invalid fields, each listed"),
    }
    filters = [
        {"name": "department", "in": "query", "required": False, "schema": {"type": "string"}},
        {
            "name": "state",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": list(daily.STATE_CHOICES)},
        },
        {"name": "overdue", "in": "query", "required": False, "schema": {"type": "string", "enum": ["1"]}},
    ]
    readers = ROLES_NOTE.format(roles="follow-up, manager, administrators")
    team = ROLES_NOTE.format(roles="follow-up, administrators")
    paths: dict[str, Any] = {
        "/api/v1/followup": {
            "get": {
                "operationId": "followupList",
                "summary": "The daily follow-up list",
                "description": readers,
                "parameters": filters,
                "responses": {
                    "200": json("FollowUpOut", "The list"),
                    **guard,
                    "422": json("ErrorOut", "A state not on the list"),
                },
            }
        },
        "/api/v1/referrals/{referral_id}": {
            "get": {
                "operationId": "followupReferral",
                "summary": "A referral with its deadlines and history",
                "description": readers,
                "parameters": [referral_id],
                "responses": {"200": json("ReferralOut", "The referral"), **refusals},
            }
        },
        "/api/v1/cases/{tracking_number}/refer": {
            "post": {
                "operationId": "followupRefer",
                "summary": "Send a referred request to departments (after a return, or when it has none)",
                "description": team,
                "parameters": [number, csrf],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref("ReferIn")}}},
                "responses": {
                    "200": {
                        "description": "The new referrals",
                        "content": {"application/json": {"schema": {"type": "array", "items": ref("ReferralOut")}}},
                    },
                    **guard,
                    "404": json("ErrorOut", "No request has this tracking number (case_not_found)"),
                    "409": json("ErrorOut", "The request is not referred (not_referred) or closed (case_closed)"),
                    "422": json("ErrorOut", "Invalid fields, each listed (unknown departments, already referred)"),
                },
            }
        },
    }
    for operation_id, action, body, summary in REFERRAL_ACTIONS:
        paths[f"/api/v1/referrals/{{referral_id}}/{action}"] = {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": team,
                "parameters": [referral_id, csrf],
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref(body)}}},
                "responses": {"200": json("ReferralOut", "The referral after the step"), **refusals},
            }
        }
    return paths
