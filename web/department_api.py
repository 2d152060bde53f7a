"""The department's side over JSON: the referral a signed link names (/api/v1/r/{token}) and the steps on it, and
a liaison account's list of its department's referrals (/api/v1/liaison/referrals).

As for the link's page, the token in the path is the only authority: no cookie, no CSRF token. The steps and
their rules are the pages' (web.department_actions). Refusals use the API's error format: 404 for a token
Majlis did not sign or a referral that is not there, 409 with its code for a step the referral's state
refuses (acknowledged, answered, returned, closed, awaiting_applicant, moved_on for a link made before the
referral moved on, case_closed), 422 naming each field or file.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from accounts.roles import Role
from followup import department_desk
from followup.attachments import Upload
from followup.models import Department
from majlis.dates import dual_datetime
from majlis.errors import DomainError, InvalidInput
from web.api import invalid_input, pydantic_errors
from web.auth import requires
from web.department_actions import (
    ACKNOWLEDGE,
    ACTIONS,
    ANSWER,
    TEXT_FIELDS,
    Access,
    NotFound,
    account_department,
    by_link,
    current,
    moved_on,
    moved_on_refusal,
    perform,
)
from web.department_models import (
    BODIES,
    INPUTS,
    OUTPUTS,
    DepartmentNameOut,
    DepartmentReferralOut,
    LiaisonReferralOut,
    LiaisonReferralsOut,
    ReferralFileOut,
    ReferralStepOut,
    ReferredRequestOut,
)
from web.department_pages import LINK_NOT_VALID, standing_text
from web.department_view import STATES, Shown, shown
from web.errors import refusal
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import error_response
from web.triage_api import parsed
from web.uploads import FILES_FIELD, accepts_uploads, uploads_in

routes = web.RouteTableDef()
# The shapes web/openapi.py lists in the document's schemas.
__all__ = ["INPUTS", "OUTPUTS", "openapi_paths", "routes"]


def _department(department: Department) -> DepartmentNameOut:
    return DepartmentNameOut(code=department.code, name_ar=department.name_ar, name_en=department.name_en)


def referral_out(seen: Shown, language: str) -> DepartmentReferralOut:
    r, case = seen.referral, seen.case
    return DepartmentReferralOut(
        id=r.id,
        state=r.state.value,
        state_label=seen.state,
        department=_department(seen.department),
        directive=r.directive,
        referred_at=r.created_at,
        first_response_due_at=r.first_response_due_at,
        first_response_due=dual_datetime(r.first_response_due_at, language),
        solution_due_at=r.solution_due_at,
        solution_due=dual_datetime(r.solution_due_at, language),
        next_update_due_at=r.next_update_due_at,
        paused=r.paused_since is not None,
        acknowledged_at=r.acknowledged_at,
        answered_at=r.answered_at,
        answer=r.answer,
        request=ReferredRequestOut(
            tracking_number=case.tracking_number,
            kind=case.kind.value,
            subject=case.subject,
            text=case.text,
            submitted_at=case.submitted_at,
            applicant_name=case.applicant_name,
            applicant_id_number=seen.id_number,
        ),
        files=[
            ReferralFileOut(
                id=f.id,
                filename=f.filename,
                content_type=f.content_type,
                size=f.size,
                added_by=f.added_by.value,
                added_at=f.added_at,
                url=f.url,
            )
            for f in seen.files
        ],
        history=[
            ReferralStepOut(kind=s.kind.value, label=s.label, at=s.at, by=s.by, text=s.text) for s in seen.history
        ],
        actions=list(seen.actions),
        waiting=seen.waiting,
    )


async def _link_access(request: web.Request) -> Access | web.Response:
    try:
        return await by_link(request, request.match_info["token"])
    except NotFound:
        return error_response(request, 404, LINK_NOT_VALID)


async def _answer_of(request: web.Request, access: Access) -> web.Response:
    referral = await current(request, access)
    # The files' addresses are the link page's, which serves them.
    seen = await shown(request, access, referral)
    response = web.json_response(referral_out(seen, request[LANGUAGE]).model_dump(mode="json"))
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/api/v1/r/{token}")
async def referral(request: web.Request) -> web.Response:
    access = await _link_access(request)
    if isinstance(access, web.Response):
        return access
    try:
        found = await current(request, access)
    except NotFound:
        return error_response(request, 404, LINK_NOT_VALID)
    if moved_on(access, found):
        return refusal(request, moved_on_refusal())
    return await _answer_of(request, access)


async def _fields(request: web.Request, action: str) -> tuple[dict[str, str], list[Upload]]:
    """The step's words (and the answer's files) from a JSON body, or for the answer a multipart one."""
    if action == ACKNOWLEDGE:
        return {}, []
    model = BODIES[action]
    if action == ANSWER and request.content_type == "multipart/form-data":
        form = await request.post()
        try:
            model.model_validate({name: value for name, value in form.items() if name != FILES_FIELD})
        except ValidationError as exc:
            raise InvalidInput(pydantic_errors(exc)) from None
        return {TEXT_FIELDS[action]: str(form.get(TEXT_FIELDS[action], ""))}, uploads_in(form)
    body: Any = await parsed(request, model)
    return {TEXT_FIELDS[action]: str(getattr(body, TEXT_FIELDS[action]))}, []


def _step(action: str) -> Any:
    async def step(request: web.Request) -> web.Response:
        access = await _link_access(request)
        if isinstance(access, web.Response):
            return access
        try:
            fields, uploads = await _fields(request, action)
            await perform(request, access, action, fields, uploads)
        except InvalidInput as exc:
            return invalid_input(request, exc.errors)
        except DomainError as exc:
            return refusal(request, exc)
        return await _answer_of(request, access)

    step.__name__ = f"api_{action}"
    return accepts_uploads(step) if action == ANSWER else step


for _action in ACTIONS:
    routes.post(f"/api/v1/r/{{token}}/{_action}")(_step(_action))


@routes.get("/api/v1/liaison/referrals")
@requires(Role.DEPARTMENT_LIAISON)
async def liaison_referrals(request: web.Request) -> web.Response:
    """The liaison's department's open referrals (most urgent first) and those that left it in the last 30 days."""
    department = await account_department(request)
    if department is None:
        empty = LiaisonReferralsOut(department=None, open=[], recent=[])
        return web.json_response(empty.model_dump(mode="json"))
    listed = await department_desk.department_list(
        session=request[DB], department_id=department.id, now=request.app[CLOCK].now()
    )
    catalogs, language = request.app[CATALOGS], request[LANGUAGE]

    def line_out(line: department_desk.Line) -> LiaisonReferralOut:
        r, standing = line.referral, line.standing
        owed = bool(standing.clock)
        return LiaisonReferralOut(
            id=r.id,
            tracking_number=line.case.tracking_number,
            subject=line.case.subject,
            state=r.state.value,
            state_label=catalogs.gettext(language, STATES[r.state]),
            solution_due_at=r.solution_due_at,
            overdue=standing.overdue,
            working_minutes_left=int(standing.left.total_seconds() // 60) if owed else None,
            clock=standing.clock,
            standing=standing_text(request, line) if owed else "",
            left_at=line.left_at,
            page=f"/liaison/referrals/{r.id}",
        )

    out = LiaisonReferralsOut(
        department=_department(department),
        open=[line_out(line) for line in listed.open],
        recent=[line_out(line) for line in listed.recent],
    )
    return web.json_response(out.model_dump(mode="json"))


# --- the OpenAPI document ---------------------------------------------------------------------------

STEPS: tuple[tuple[str, str | None, str, str], ...] = (
    ("acknowledge", None, "departmentAcknowledge", "Acknowledge the referral: the first-response clock is met"),
    (
        "update",
        "DepartmentUpdateIn",
        "departmentUpdate",
        "Give news of the work (acknowledges the referral if it was not)",
    ),
    (
        "ask",
        "DepartmentQuestionIn",
        "departmentAsk",
        "Ask the applicant for information by SMS; the deadlines pause until the answer",
    ),
    ("answer", "DepartmentAnswerIn", "departmentAnswer", "Answer the referral, with files as multipart/form-data"),
    (
        "return",
        "DepartmentReturnIn",
        "departmentReturn",
        "Return the referral as not the department's; the link stops working",
    ),
)
BY_LINK = "The signed token of the referral's e-mail is the only authority: no account, no cookie, no CSRF token."


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The department's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    token = {
        "name": "token",
        "in": "path",
        "required": True,
        "description": "From the referral's link in the e-mail (/r/{token})",
        "schema": {"type": "string", "maxLength": 120},
    }
    not_found = json("ErrorOut", "The token is not one Majlis signed, or names no referral")
    conflict = json(
        "ErrorOut",
        "The referral's state refuses the step, nothing changed: acknowledged, answered, returned, closed, "
        "awaiting_applicant, case_closed, or moved_on (a link made before the referral moved on)",
    )
    paths: dict[str, Any] = {
        "/api/v1/r/{token}": {
            "get": {
                "operationId": "departmentReferral",
                "summary": "The referral, its request, deadlines, files and history, as the department reads it",
                "description": BY_LINK,
                "parameters": [token],
                "responses": {
                    "200": json("DepartmentReferralOut", "The referral"),
                    "404": not_found,
                    "409": json("ErrorOut", "moved_on: the link was made before the referral moved on"),
                },
            }
        },
        "/api/v1/liaison/referrals": {
            "get": {
                "operationId": "liaisonReferrals",
                "summary": "A liaison account's department's referrals: open ones most urgent first, recent ones",
                "description": "The staff session cookie. Roles: department liaison, administrators.",
                "responses": {
                    "200": json("LiaisonReferralsOut", "The department's referrals"),
                    "401": json("ErrorOut", "Not signed in"),
                    "403": json("ErrorOut", "Not a role of this path"),
                },
            }
        },
    }
    for action, body, operation_id, summary in STEPS:
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "description": BY_LINK,
            "parameters": [token],
            "responses": {
                "200": json("DepartmentReferralOut", "The referral after the step"),
                "404": not_found,
                "409": conflict,
                "422": json("ErrorOut", "Fields or files are refused, each one named; nothing was saved"),
            },
        }
        if body:
            content: dict[str, Any] = {"application/json": {"schema": ref(body)}}
            if action == ANSWER:
                content["multipart/form-data"] = {
                    "schema": ref("DepartmentAnswerForm"),
                    "encoding": {"files": {"contentType": "application/pdf, image/jpeg, image/png"}},
                }
                operation["responses"]["413"] = json("ErrorOut", "The body is larger than all the files allowed")
            operation["requestBody"] = {"required": True, "content": content}
        paths[f"/api/v1/r/{{token}}/{action}"] = {"post": operation}
    return paths
