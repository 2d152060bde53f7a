"""The audit desk's actions over JSON: /api/v1/triage/…, for the audit desk and administrators only.

Signed in with the staff session cookie; every change carries the X-CSRF-Token
header, which GET /api/v1/session gives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from accounts.roles import Role
from cases import service as cases
from followup import directory
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from priority import duplicates, queue
from priority import service as triage
from priority.errors import CaseNotFound
from priority.models import Triage
from web import personal_data
from web.api import invalid_input, pydantic_errors
from web.auth import requires, signed_in_user
from web.errors import refusal
from web.keys import CLOCK, DB, SETTINGS
from web.security import csrf_token
from web.triage_actions import ACTIONS, Perform

routes = web.RouteTableDef()
DESK = (Role.AUDIT_DESK,)


class Justified(BaseModel):
    model_config = ConfigDict(extra="forbid")
    change_reason: str | None = Field(default=None, description="One of the listed reasons; needed for manual changes")
    change_text: str | None = Field(default=None, max_length=500)


class ClassifyIn(Justified):
    category: str = Field(description="A code from GET /api/v1/triage/categories")
    urgency: str = Field(json_schema_extra={"enum": ["critical", "urgent", "normal"]})


class RouteIn(Justified):
    route: str = Field(json_schema_extra={"enum": ["audience_in_person", "audience_video", "written_referral"]})
    departments: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list,
        max_length=50,
        description="For a written referral: the departments' codes (GET /api/v1/triage/departments); "
        "at least one, each in service",
    )
    referral_text: str = Field(
        default="",
        max_length=4000,
        description="For a written referral: the desk's text sent to the departments (staff only, never the applicant)",
    )


class MoveUpIn(Justified):
    points: int = Field(ge=1, le=300, description="10 points are one day of waiting")


class MissingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    missing: str = Field(max_length=500, description="Sent to the applicant")


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=500, description="Sent to the applicant")


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(description="The tracking number of the original request")


class UnavailableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: str = Field(max_length=1000, description="ISO dates the applicant cannot come, separated by commas")


class TriageOut(BaseModel):
    tracking_number: str
    status: str
    verified: bool
    category: str | None
    urgency: str | None
    route: str | None
    women_section: bool
    queue_adjustment: int


class QueuePlaceOut(BaseModel):
    position: int
    tracking_number: str
    urgency: str
    category: str
    score: float
    base_score: float


class DuplicateOut(BaseModel):
    tracking_number: str
    similarity: float
    same_id: bool
    same_phone: bool


class CategoryOut(BaseModel):
    code: str
    name_ar: str
    name_en: str
    implied_urgency: str
    weight: int


class DepartmentOut(BaseModel):
    code: str
    name_ar: str
    name_en: str
    parent: str | None = Field(description="The parent's code: the next rank up; null at the top of the tree")
    depth: int = Field(description="0 at the top of the tree; the list gives each department after its parent")


class SessionOut(BaseModel):
    username: str
    role: str
    csrf_token: str


M = TypeVar("M", bound=BaseModel)


async def parsed(request: web.Request, model: type[M]) -> M:
    """The JSON body as the model; InvalidInput names every bad field."""
    try:
        payload = await request.json()
    except ValueError:
        raise InvalidInput([FieldError("body", "invalid_json", N_("The request body is not valid JSON."))]) from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput(pydantic_errors(exc)) from None


Action = Callable[[web.Request, str], Awaitable[Any]]


async def _run(request: web.Request, action: Action) -> web.Response:
    """Runs an action on the case in the path and answers with its triage; refusals change nothing."""
    number = request.match_info["tracking_number"]
    try:
        await action(request, number)
        case = await cases.find_by_tracking_number(session=request[DB], tracking_number=number)
        if case is None:
            raise CaseNotFound()
        row = await triage.current_triage(session=request[DB], clock=request.app[CLOCK], case=case)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    except DomainError as exc:
        return refusal(request, exc)
    return web.json_response(_triage_out(number, case.status.value, row).model_dump())


def _triage_out(number: str, status: str, row: Triage) -> TriageOut:
    return TriageOut(
        tracking_number=number,
        status=status,
        verified=row.verified_at is not None,
        category=row.category_code,
        urgency=row.urgency.value if row.urgency else None,
        route=row.route.value if row.route else None,
        women_section=row.women_section,
        queue_adjustment=row.queue_adjustment,
    )


@routes.get("/api/v1/session")
@requires(*Role)
async def session_info(request: web.Request) -> web.Response:
    user = signed_in_user(request)
    out = SessionOut(username=user.username, role=user.role.value, csrf_token=csrf_token(request))
    return web.json_response(out.model_dump())


@routes.get("/api/v1/triage/categories")
@requires(*DESK)
async def categories(request: web.Request) -> web.Response:
    rows = await triage.categories(session=request[DB])
    out = [
        CategoryOut(
            code=c.code, name_ar=c.name_ar, name_en=c.name_en, implied_urgency=c.implied_urgency.value, weight=c.weight
        ).model_dump()
        for c in rows
    ]
    return web.json_response(out)


@routes.get("/api/v1/triage/departments")
@requires(*DESK)
async def departments(request: web.Request) -> web.Response:
    """The departments in service a written referral may name, each after its parent."""
    rows = await directory.tree(session=request[DB])
    out = [
        DepartmentOut(
            code=row.department.code,
            name_ar=row.department.name_ar,
            name_en=row.department.name_en,
            parent=row.parent_code,
            depth=row.depth,
        ).model_dump()
        for row in rows
        if row.department.active
    ]
    return web.json_response(out)


@routes.get("/api/v1/triage/queue")
@requires(*DESK)
async def priority_queue(request: web.Request) -> web.Response:
    places = await queue.awaiting_audience(session=request[DB], clock=request.app[CLOCK])
    # Only requests within the reader's need to know (each logged), each at its place in the whole queue.
    visible = await personal_data.seen_in_list(request, [p.case.id for p in places])
    out = [
        QueuePlaceOut(
            position=i,
            tracking_number=p.case.tracking_number,
            urgency=p.urgency.value,
            category=p.category,
            score=round(p.score, 3),
            base_score=round(p.base_score, 3),
        ).model_dump()
        for i, p in enumerate(places, start=1)
        if p.case.id in visible
    ]
    return web.json_response(out)


@routes.get("/api/v1/triage/{tracking_number}/duplicates")
@requires(*DESK)
async def likely_duplicates(request: web.Request) -> web.Response:
    case = await cases.find_by_tracking_number(
        session=request[DB], tracking_number=request.match_info["tracking_number"]
    )
    # Outside the reader's need to know, the request is answered as one that does not exist.
    if case is None or not await personal_data.may_see(request, case.id):
        return refusal(request, CaseNotFound())
    await personal_data.record(request, case.id)
    window = timedelta(days=request.app[SETTINGS].duplicate_window_days)
    found = await duplicates.likely_duplicates(session=request[DB], clock=request.app[CLOCK], case=case, window=window)
    visible = await personal_data.seen_in_list(request, [d.case.id for d in found])
    out = [
        DuplicateOut(
            tracking_number=d.case.tracking_number,
            similarity=round(d.similarity, 3),
            same_id=d.same_id,
            same_phone=d.same_phone,
        ).model_dump()
        for d in found
        if d.case.id in visible
    ]
    return web.json_response(out)


# The body each action takes (verify takes none); its fields go to the action as text.
BODIES: dict[str, type[BaseModel] | None] = {
    "verify": None,
    "classify": ClassifyIn,
    "route": RouteIn,
    "move-up": MoveUpIn,
    "needs-information": MissingIn,
    "reject": RejectIn,
    "merge": MergeIn,
    "unavailable-days": UnavailableIn,
}


def _api_action(perform: Perform, model: type[BaseModel] | None) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(*DESK)
    async def handler(request: web.Request) -> web.Response:
        async def action(r: web.Request, number: str) -> None:
            fields: dict[str, str] = {}
            if model is not None:
                body = await parsed(r, model)
                # A list (the departments' codes) goes to the action as the one comma-separated string it reads.
                fields = {
                    k: ", ".join(v) if isinstance(v, list) else str(v)
                    for k, v in body.model_dump().items()
                    if v is not None
                }
            await perform(r, number, fields)

        return await _run(request, action)

    return handler


for _name, _perform in ACTIONS.items():
    routes.post(f"/api/v1/triage/{{tracking_number}}/{_name}")(_api_action(_perform, BODIES[_name]))
