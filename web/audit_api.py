"""The auditor's API over JSON: the placements explained (/api/v1/audit/placements, filtered as the page is),
one request's placements (/api/v1/audit/placements/{tracking_number}) and the chain's verification
(/api/v1/audit/chain, against anchors given as ?anchor=SEQ:HASH).

Read-only, with the staff session cookie, for the auditor and managers. Requests are named by tracking number
alone: no applicant's name, national ID or phone is in any answer.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from majlis.errors import InvalidInput
from web.audit_models import AUDIT_OUTPUTS, AnchorOut, ChainOut, PlacementOut
from web.audit_pages import READERS, check_chain
from web.audit_reading import history, parse_filter, placements
from web.auth import requires
from web.errors import invalid_input
from web.keys import DB
from web.middleware import error_response

routes = web.RouteTableDef()
__all__ = ["AUDIT_OUTPUTS", "openapi_paths", "routes"]


def _many(found: list[PlacementOut], *, cut: bool) -> web.Response:
    # The header says the listing stopped at the limit, so a client knows to narrow the period.
    headers = {"X-Listing-Cut": "true"} if cut else {}
    return web.json_response([p.model_dump(mode="json") for p in found], headers=headers)


@routes.get("/api/v1/audit/placements")
@requires(*READERS)
async def placements_api(request: web.Request) -> web.Response:
    try:
        asked = parse_filter(request.query)
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    found, cut = await placements(session=request[DB], asked=asked)
    return _many(found, cut=cut)


@routes.get("/api/v1/audit/placements/{tracking_number}")
@requires(*READERS)
async def request_placements_api(request: web.Request) -> web.Response:
    found = await history(session=request[DB], tracking_number=request.match_info["tracking_number"])
    if found is None:
        return error_response(request, 404)
    return _many(found, cut=False)


@routes.get("/api/v1/audit/chain")
@requires(*READERS)
async def chain_api(request: web.Request) -> web.Response:
    try:
        check = await check_chain(request, request.query.getall("anchor", []))
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    result, fault = check.result, check.result.fault
    body = ChainOut(
        intact=result.intact,
        entries=result.entries,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        first_bad_seq=None if fault is None else fault.seq,
        problem=None if fault is None else fault.problem.value,
        description=None if fault is None else fault.describe(),
        anchors_checked=result.anchors_checked,
        anchors_in_file=check.filed,
        anchor_file_problem=check.file_problem,
        anchors=[AnchorOut(day=a.day.isoformat(), seq=a.seq, hash=a.hash) for a in check.recorded],
    )
    return web.json_response(body.model_dump(mode="json"))


def openapi_paths(ref: Any, json: Any) -> dict[str, Any]:
    """The auditor's paths in the OpenAPI document (ref and json: the document's own helpers)."""
    who = "The staff session cookie. Roles: auditor, manager, administrators. Read-only."
    refusals = {"401": json("ErrorOut", "Not signed in"), "403": json("ErrorOut", "Not a role of this path")}
    listing = {"type": "array", "items": ref("PlacementOut")}
    day = {"type": "string", "format": "date"}
    filters = [
        {"name": "since", "in": "query", "required": False, "description": "First Riyadh day", "schema": day},
        {"name": "until", "in": "query", "required": False, "description": "Last Riyadh day", "schema": day},
        {"name": "rule", "in": "query", "required": False, "schema": {"type": "string"}},
        {
            "name": "passed",
            "in": "query",
            "required": False,
            "description": "1: only those that passed someone",
            "schema": {"type": "string", "enum": ["1", "0"]},
        },
        {
            "name": "unjustified",
            "in": "query",
            "required": False,
            "description": "1: only unjustified passes",
            "schema": {"type": "string", "enum": ["1", "0"]},
        },
    ]
    return {
        "/api/v1/audit/placements": {
            "get": {
                "operationId": "auditPlacements",
                "summary": "Every placement explained, newest first (header X-Listing-Cut when stopped at the limit)",
                "description": who,
                "parameters": filters,
                "responses": {
                    "200": {"description": "The placements", "content": {"application/json": {"schema": listing}}},
                    **refusals,
                    "422": json("ErrorOut", "A malformed day, a period ending before it starts, or an unknown rule"),
                },
            }
        },
        "/api/v1/audit/placements/{tracking_number}": {
            "get": {
                "operationId": "auditRequestPlacements",
                "summary": "One request's placements and moves, oldest first",
                "description": who,
                "parameters": [
                    {"name": "tracking_number", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "Its placements", "content": {"application/json": {"schema": listing}}},
                    **refusals,
                    "404": json("ErrorOut", "No request has this tracking number"),
                },
            }
        },
        "/api/v1/audit/chain": {
            "get": {
                "operationId": "auditChain",
                "summary": "The fairness chain verified, against the anchors given and those of the anchor file",
                "description": who,
                "parameters": [
                    {
                        "name": "anchor",
                        "in": "query",
                        "required": False,
                        "description": "SEQ:HASH, an anchor kept outside the database; repeatable",
                        "schema": {"type": "array", "items": {"type": "string"}},
                        "style": "form",
                        "explode": True,
                    }
                ],
                "responses": {
                    "200": json("ChainOut", "The verification"),
                    **refusals,
                    "422": json("ErrorOut", "An anchor that is not SEQ:HASH"),
                },
            }
        },
    }
