"""The audit desk's identity review over JSON, for the audit desk and administrators only.

A request's own under /api/v1/requests/{tracking_number}/… (beside the undo of a repeat's cancellation);
the desk's list of what waits for it under /api/v1/triage/… (beside its queue).

Names, phones and care needs are personal data: nothing here is open to any
other role. Signed in with the staff session cookie; every change carries the
X-CSRF-Token header, which GET /api/v1/session gives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from accounts.roles import Role
from cases import identity_review
from cases import service as cases
from majlis.errors import DomainError, InvalidInput
from priority.errors import CaseNotFound
from web import personal_data
from web.api import invalid_input
from web.auth import requires
from web.errors import refusal
from web.identity_actions import CHANGE_ACTIONS, FLAG_REVIEW, REVIEW, IdentityAction, change_id_of
from web.identity_view import IdentityView, identity_view
from web.keys import CATALOGS, DB, LANGUAGE
from web.triage_api import parsed

routes = web.RouteTableDef()

RecordValue = str | bool | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(
        max_length=identity_review.MAX_NOTE,
        description="What the desk found: the same person with another spelling, or someone else's ID",
    )


class IdentityFlagOut(BaseModel):
    given_name: str = Field(description="The name given with this request")
    known_name: str = Field(description="The name on record for its ID number when the request came")
    similarity: float = Field(description="The share of name parts in common, 0 to 1")
    flagged_at: datetime
    reviewed: bool
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_note: str


class FieldChangeOut(BaseModel):
    field: str = Field(json_schema_extra={"enum": list(identity_review.RECORD_FIELDS)})
    label: str = Field(description="The detail's name in the language of Accept-Language")
    on_record: RecordValue
    as_given: RecordValue


class ApplicantChangeOut(BaseModel):
    id: int
    fields: list[FieldChangeOut]
    proposed_at: datetime
    proposed_by: str | None
    state: str = Field(json_schema_extra={"enum": ["open", "accepted", "declined"]})
    decided_at: datetime | None
    decided_by: str | None


class IdentityOut(BaseModel):
    tracking_number: str
    flag: IdentityFlagOut | None = Field(description="Set when the name given differs from the record for the ID")
    changes: list[ApplicantChangeOut] = Field(description="Changes to the applicant's record, oldest first")


class OpenReviewOut(BaseModel):
    tracking_number: str
    submitted_at: datetime
    flag_open: bool = Field(description="The name given differs from the record and nobody has settled it yet")
    given_name: str | None
    known_name: str | None
    open_changes: int = Field(description="Proposed changes to the applicant's record not yet decided")


INPUTS: tuple[type[BaseModel], ...] = (ReviewIn,)
OUTPUTS: tuple[type[BaseModel], ...] = (IdentityOut, OpenReviewOut)


def _out(number: str, view: IdentityView) -> IdentityOut:
    flag = view.flag
    return IdentityOut(
        tracking_number=number,
        flag=None
        if flag is None
        else IdentityFlagOut(
            given_name=flag.given_name,
            known_name=flag.known_name,
            similarity=flag.similarity,
            flagged_at=flag.flagged_at,
            reviewed=flag.reviewed_at is not None,
            reviewed_at=flag.reviewed_at,
            reviewed_by=view.reviewed_by or None,
            review_note=flag.review_note,
        ),
        changes=[
            ApplicantChangeOut(
                id=c.change.id,
                fields=[
                    FieldChangeOut(
                        field=row.field,
                        label=row.label,
                        on_record=_value(c.change.fields[row.field][0]),
                        as_given=_value(c.change.fields[row.field][1]),
                    )
                    for row in c.rows
                ],
                proposed_at=c.change.proposed_at,
                proposed_by=c.proposed_by or None,
                state="open" if c.change.decided_at is None else "accepted" if c.change.accepted else "declined",
                decided_at=c.change.decided_at,
                decided_by=c.decided_by or None,
            )
            for c in view.changes
        ],
    )


def _value(value: object) -> RecordValue:
    return value if value is None or isinstance(value, str | bool) else str(value)


async def _identity(request: web.Request, number: str) -> web.Response:
    case = await cases.find_by_tracking_number(session=request[DB], tracking_number=number)
    if case is None or not await personal_data.may_see(request, case.id):
        return refusal(request, CaseNotFound())
    await personal_data.record(request, case.id)
    view = await identity_view(
        session=request[DB], case_id=case.id, catalogs=request.app[CATALOGS], language=request[LANGUAGE]
    )
    return web.json_response(_out(case.tracking_number, view).model_dump(mode="json"))


@routes.get("/api/v1/triage/identity-reviews")
@requires(Role.AUDIT_DESK)
async def open_reviews(request: web.Request) -> web.Response:
    """Requests with a name to settle or a change to decide, oldest first."""
    rows = await identity_review.open_reviews(session=request[DB])
    # Names are personal data: only requests within the reader's need to know, each view logged.
    visible = await personal_data.seen_in_list(request, [r.case.id for r in rows])
    rows = [r for r in rows if r.case.id in visible]
    out = [
        OpenReviewOut(
            tracking_number=r.case.tracking_number,
            submitted_at=r.case.submitted_at,
            flag_open=r.flag is not None,
            given_name=r.flag.given_name if r.flag else None,
            known_name=r.flag.known_name if r.flag else None,
            open_changes=r.open_changes,
        ).model_dump(mode="json")
        for r in rows
    ]
    return web.json_response(out)


@routes.get("/api/v1/requests/{tracking_number}/identity")
@requires(Role.AUDIT_DESK)
async def identity(request: web.Request) -> web.Response:
    return await _identity(request, request.match_info["tracking_number"])


def _api_action(
    action: IdentityAction, model: type[BaseModel] | None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(Role.AUDIT_DESK)
    async def handler(request: web.Request) -> web.Response:
        number = request.match_info["tracking_number"]
        try:
            fields: Mapping[str, str] = {}
            if model is not None:
                body: dict[str, Any] = (await parsed(request, model)).model_dump()
                fields = {k: str(v) for k, v in body.items()}
            await action(request, number, change_id_of(request), fields)
        except InvalidInput as exc:
            return invalid_input(request, exc.errors)
        except DomainError as exc:
            return refusal(request, exc)
        return await _identity(request, number)

    return handler


routes.post(f"/api/v1/requests/{{tracking_number}}/{FLAG_REVIEW}")(_api_action(REVIEW, ReviewIn))
for _name, _action in CHANGE_ACTIONS.items():
    routes.post(f"/api/v1/requests/{{tracking_number}}/applicant-changes/{{change_id}}/{_name}")(
        _api_action(_action, None)
    )


def openapi_paths(
    ref: Callable[[str], dict[str, str]], json: Callable[[str, str], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The identity review's operations for the OpenAPI document (web/openapi.py)."""
    staff_only = (
        "Audit desk and administrators only (personal data): the staff session cookie, "
        "and X-CSRF-Token on changes (from GET /api/v1/session)."
    )
    number = {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
    change = {"name": "change_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    csrf = {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    denied = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not the audit desk, or no CSRF token")}
    identity_ok = json("IdentityOut", "The request's name flag and proposed changes, after the action")

    def action(operation_id: str, summary: str, parameters: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {
            "post": {
                "operationId": operation_id,
                "summary": summary,
                "description": staff_only,
                "parameters": parameters,
                "responses": {"200": identity_ok, **denied, **extra.pop("responses")},
                **extra,
            }
        }

    return {
        "/api/v1/triage/identity-reviews": {
            "get": {
                "operationId": "identityReviews",
                "summary": "Requests with a name that differs from the record, or a change to the record, to decide",
                "description": staff_only,
                "responses": {
                    "200": {
                        "description": "Oldest first",
                        "content": {"application/json": {"schema": {"type": "array", "items": ref("OpenReviewOut")}}},
                    },
                    **denied,
                },
            }
        },
        "/api/v1/requests/{tracking_number}/identity": {
            "get": {
                "operationId": "requestIdentity",
                "summary": "Whether the name given differs from the record for the ID, and the proposed changes",
                "description": staff_only,
                "parameters": [number],
                "responses": {
                    "200": json("IdentityOut", "The name flag and the proposed changes"),
                    **denied,
                    "404": json("ErrorOut", "No request has this tracking number"),
                },
            }
        },
        f"/api/v1/requests/{{tracking_number}}/{FLAG_REVIEW}": action(
            "reviewIdentityFlag",
            "Settle the name flag with a note",
            [number, csrf],
            requestBody={"required": True, "content": {"application/json": {"schema": ref("ReviewIn")}}},
            responses={
                "404": json("ErrorOut", "No such request, or it has no name flag"),
                "409": json("ErrorOut", "The flag was already settled"),
                "422": json("ErrorOut", "The note is missing or too long"),
            },
        ),
        "/api/v1/requests/{tracking_number}/applicant-changes/{change_id}/accept": action(
            "acceptApplicantChange",
            "Accept a proposed change: the applicant's record takes the details given with the request",
            [number, change, csrf],
            responses={
                "404": json("ErrorOut", "No such request, or no such change of this request"),
                "409": json("ErrorOut", "Already decided, or out of date: the record changed since it was proposed"),
            },
        ),
        "/api/v1/requests/{tracking_number}/applicant-changes/{change_id}/decline": action(
            "declineApplicantChange",
            "Decline a proposed change: the applicant's record stays as it is",
            [number, change, csrf],
            responses={
                "404": json("ErrorOut", "No such request, or no such change of this request"),
                "409": json("ErrorOut", "Already decided"),
            },
        ),
    }
