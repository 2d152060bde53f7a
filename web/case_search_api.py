"""Finding requests over JSON: the search box's query (GET /api/v1/search/requests) and the caller screen's
phone (GET /api/v1/callers).

The same rules as the pages (web/case_search.py, web/caller_screen.py): the roles that read requests, only the
requests within the reader's need to know found or counted, each one listed logged as seen. A query that reads
as nothing, or a phone that is not a mobile number, is a 422 naming the field, in both languages.
Signed in with the staff session cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from cases import search
from cases.models import Case
from majlis.errors import InvalidInput
from rooms import service as rooms
from web import labels
from web.auth import requires
from web.call_centre import CALL_ROLES
from web.caller_screen import CONFIRMATION_LABELS, ConfirmationState, caller_view
from web.case_search import found_page
from web.errors import invalid_input
from web.keys import CATALOGS, DB, LANGUAGE
from web.staff import CASE_READERS

routes = web.RouteTableDef()


class FoundRequestOut(BaseModel):
    tracking_number: str
    applicant_name: str
    status: str
    status_label: str = Field(description="The status in the language of Accept-Language")
    submitted_at: datetime
    branch: str = Field(description="The reception centre's code")
    branch_name: str = Field(description="The reception centre's name in the language of Accept-Language")


class SearchOut(BaseModel):
    kind: str = Field(
        description="What the query was read as", json_schema_extra={"enum": [k.value for k in search.QueryKind]}
    )
    total: int = Field(description="Requests found within the reader's need to know, on every page")
    page: int
    pages: int
    per_page: int
    results: list[FoundRequestOut] = Field(description="This page's requests, newest first")


class AudienceAheadOut(BaseModel):
    starts_at: datetime
    room: str
    branch_name: str


class CallerRequestOut(FoundRequestOut):
    audience: AudienceAheadOut | None = Field(description="The audience ahead, if any")
    confirmation: str | None = Field(
        description="Where that audience's confirmation stands (none without an audience ahead)",
        json_schema_extra={"enum": [s.value for s in ConfirmationState]},
    )
    confirmation_label: str | None
    confirmation_id: int | None = Field(description="For POST /calls/{confirmation_id} when it waits for an answer")


class CallerOut(BaseModel):
    phone: str = Field(description="The number in E.164")
    total: int
    page: int
    pages: int
    requests: list[CallerRequestOut]


OUTPUTS: tuple[type[BaseModel], ...] = (SearchOut, CallerOut)


def _text(request: web.Request, message: str) -> str:
    return request.app[CATALOGS].gettext(request[LANGUAGE], message)


async def _branch_names(request: web.Request) -> dict[str, str]:
    return {site.code: site.name_in(request[LANGUAGE]) for site in await rooms.branches(session=request[DB])}


def _found(request: web.Request, case: Case, branch_names: dict[str, str]) -> dict[str, Any]:
    return {
        "tracking_number": case.tracking_number,
        "applicant_name": case.applicant_name,
        "status": case.status.value,
        "status_label": _text(request, labels.STATUSES[case.status]),
        "submitted_at": case.submitted_at,
        "branch": case.branch,
        "branch_name": branch_names.get(case.branch, case.branch),
    }


@routes.get("/api/v1/search/requests")
@requires(*CASE_READERS)
async def search_requests(request: web.Request) -> web.Response:
    """Requests by tracking number, ID number, mobile number or name (?q=…&page=…)."""
    try:
        query = search.recognise(request.query.get("q", ""))
        found = await found_page(request, query)  # InvalidInput too for a ?page= that is not a page number
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    names = await _branch_names(request)
    out = SearchOut(
        kind=query.kind.value,
        total=found.total,
        page=found.page,
        pages=found.pages,
        per_page=found.per_page,
        results=[FoundRequestOut(**_found(request, case, names)) for case in found.cases],
    )
    return web.json_response(out.model_dump(mode="json"))


@routes.get("/api/v1/callers")
@requires(*CALL_ROLES)
async def caller_requests(request: web.Request) -> web.Response:
    """Every request of a phone (?phone=…&page=…), with its audience ahead and its confirmation."""
    try:
        view = await caller_view(request, request.query.get("phone", ""))
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    names = await _branch_names(request)
    language = request[LANGUAGE]
    requests = []
    for item in view.requests:
        state = item.confirmation_state
        upcoming = item.upcoming
        requests.append(
            CallerRequestOut(
                **_found(request, item.case, names),
                audience=None
                if upcoming is None
                else AudienceAheadOut(
                    starts_at=upcoming.slot.starts_at,
                    room=upcoming.room.name_in(language),
                    branch_name=upcoming.branch.name_in(language),
                ),
                confirmation=state.value if state is not None else None,
                confirmation_label=_text(request, CONFIRMATION_LABELS[state]) if state is not None else None,
                confirmation_id=item.confirmation.id
                if item.confirmation is not None and state is ConfirmationState.AWAITING
                else None,
            )
        )
    found = view.found
    out = CallerOut(phone=view.phone, total=found.total, page=found.page, pages=found.pages, requests=requests)
    return web.json_response(out.model_dump(mode="json"))


def openapi_paths(
    ref: Callable[[str], dict[str, str]], json: Callable[[str, str], dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The search's operations for the OpenAPI document (web/openapi.py)."""
    page = {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}}
    denied = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role that reads requests")}
    return {
        "/api/v1/search/requests": {
            "get": {
                "operationId": "searchRequests",
                "summary": "Requests by tracking number, national ID or iqama, mobile number or name",
                "description": (
                    "The kind of query is recognised from its shape. Names match whatever the spelling of alef, "
                    "ya, ta marbuta, marks and tatweel. Only requests within the reader's need to know are found "
                    "and counted; each one returned is logged as seen. Twenty a page, newest first."
                ),
                "parameters": [
                    {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}},
                    page,
                ],
                "responses": {
                    "200": json("SearchOut", "One page of the requests found"),
                    **denied,
                    "422": json("ErrorOut", "The query is empty or reads as nothing (field q)"),
                },
            }
        },
        "/api/v1/callers": {
            "get": {
                "operationId": "callerRequests",
                "summary": "Every request given with a mobile number, with its audience ahead and confirmation",
                "description": "The call centre and the intake desk; within their need to know, each one logged.",
                "parameters": [
                    {"name": "phone", "in": "query", "required": True, "schema": {"type": "string"}},
                    page,
                ],
                "responses": {
                    "200": json("CallerOut", "The caller's requests, newest first"),
                    **denied,
                    "422": json("ErrorOut", "Not a mobile number (field phone)"),
                },
            }
        },
    }
