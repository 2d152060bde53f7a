"""Rating a visit over JSON, by the token of its signed link (GET/POST /api/v1/ratings/{token}), no account.

The same rules as the page (web/rating_pages.py): a token not ours is 404, one past its time 410, one used 409;
a wrong face or a comment too long is 422 with each field named in Arabic and English. What is rated names the
staff member by first name (or role) only, and nothing about the applicant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from majlis.errors import InvalidInput
from quality import ratings
from quality.ratings import RatingRefused
from web.api import invalid_input
from web.errors import refusal
from web.keys import CLOCK, DB
from web.rating_pages import STATUS, invite_of_link
from web.triage_api import parsed

routes = web.RouteTableDef()
__all__ = ["INPUTS", "OUTPUTS", "openapi_paths", "routes"]


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(ge=1, le=5, description="The face: 1 very dissatisfied … 5 very satisfied")
    comment: str = Field(default="", max_length=ratings.MAX_COMMENT, description="Optional, at most 500 characters")


class RatedOut(BaseModel):
    visit: str = Field(description="What is rated: intake, check_in, audience or completion")
    staff: str = Field(description="The first name of the staff member who served, or empty if not known")
    staff_role: str | None = Field(description="Their role (intake_desk, official …), when the name is not enough")
    expires_at: datetime


class RatingSaved(BaseModel):
    visit: str
    score: int
    rated_at: datetime


INPUTS: tuple[type[BaseModel], ...] = (RatingIn,)
OUTPUTS: tuple[type[BaseModel], ...] = (RatedOut, RatingSaved)


def _refused(request: web.Request, exc: RatingRefused) -> web.Response:
    response = refusal(request, exc)
    response.set_status(STATUS.get(exc.code, 409))
    return response


@routes.get("/api/v1/ratings/{token}")
async def rated(request: web.Request) -> web.Response:
    try:
        invite_id = invite_of_link(request)
        found = await ratings.open_invite(session=request[DB], clock=request.app[CLOCK], invite_id=invite_id)
    except RatingRefused as exc:
        return _refused(request, exc)
    body = RatedOut(
        visit=found.visit.value,
        staff=found.staff_first_name,
        staff_role=found.staff_role.value if found.staff_role is not None else None,
        expires_at=found.expires_at,
    )
    return web.json_response(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@routes.post("/api/v1/ratings/{token}")
async def rate(request: web.Request) -> web.Response:
    session = request[DB]
    try:
        invite_id = invite_of_link(request)
        body = await parsed(request, RatingIn)
        saved = await ratings.rate(
            session=session, clock=request.app[CLOCK], invite_id=invite_id, score=body.score, comment=body.comment
        )
    except InvalidInput as exc:
        await session.rollback()
        return invalid_input(request, exc.errors)
    except RatingRefused as exc:
        await session.rollback()
        return _refused(request, exc)
    out = RatingSaved(visit=saved.visit.value, score=saved.score, rated_at=saved.rated_at)
    return web.json_response(out.model_dump(mode="json"), status=201)


def openapi_paths(schema_ref: Any, json_answer: Any) -> dict[str, Any]:
    """The two operations, for the OpenAPI document (web/openapi.py)."""
    token = {
        "name": "token",
        "in": "path",
        "required": True,
        "description": "The token of the signed link in the SMS or WhatsApp message (/rate/{token})",
        "schema": {"type": "string", "maxLength": 120},
    }
    refused = {
        "404": json_answer("ErrorOut", "Not a link Majlis signed (rating_link_not_found)"),
        "409": json_answer("ErrorOut", "The visit is rated already (rating_used)"),
        "410": json_answer("ErrorOut", "The link has expired (rating_expired) or was withdrawn (rating_withdrawn)"),
    }
    return {
        "/api/v1/ratings/{token}": {
            "get": {
                "operationId": "getRatingInvitation",
                "summary": "What a rating link asks to rate: the visit, who served (first name or role), until when",
                "parameters": [token],
                "responses": {"200": json_answer("RatedOut", "The visit waits for its rating"), **refused},
            },
            "post": {
                "operationId": "rateVisit",
                "summary": "Rate the visit once: a face from 1 to 5 and an optional comment",
                "parameters": [token],
                "requestBody": {"required": True, "content": {"application/json": {"schema": schema_ref("RatingIn")}}},
                "responses": {
                    "201": json_answer("RatingSaved", "Saved; the link is used"),
                    "422": json_answer("ErrorOut", "Fields are invalid (each is listed), or the body is not JSON"),
                    **refused,
                },
            },
        }
    }
