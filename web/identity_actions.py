"""The audit desk's identity actions by name, shared by its pages and its API: settle a name, decide a change.

They work on any request, closed or not: who a request was from, and what the
applicant's record says, matter after the request is done too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from cases import identity_review
from cases import service as cases
from cases.models import Case
from priority.errors import CaseNotFound
from web.auth import signed_in_user
from web.keys import CLOCK, DB

# (request, tracking number, the change's id or None, the fields as text)
IdentityAction = Callable[[web.Request, str, int | None, Mapping[str, str]], Awaitable[None]]


async def _case(request: web.Request, number: str) -> Case:
    case = await cases.find_by_tracking_number(session=request[DB], tracking_number=number)
    if case is None:
        raise CaseNotFound()
    return case


async def _review_flag(request: web.Request, number: str, change_id: int | None, fields: Mapping[str, str]) -> None:
    await identity_review.review_flag(
        session=request[DB],
        clock=request.app[CLOCK],
        case=await _case(request, number),
        actor_id=signed_in_user(request).id,
        note=fields.get("note", ""),
    )


async def _accept(request: web.Request, number: str, change_id: int | None, fields: Mapping[str, str]) -> None:
    if change_id is None:
        raise identity_review.ApplicantChangeNotFound()
    await identity_review.accept_change(
        session=request[DB],
        clock=request.app[CLOCK],
        case=await _case(request, number),
        change_id=change_id,
        actor_id=signed_in_user(request).id,
    )


async def _decline(request: web.Request, number: str, change_id: int | None, fields: Mapping[str, str]) -> None:
    if change_id is None:
        raise identity_review.ApplicantChangeNotFound()
    await identity_review.decline_change(
        session=request[DB],
        clock=request.app[CLOCK],
        case=await _case(request, number),
        change_id=change_id,
        actor_id=signed_in_user(request).id,
    )


# The last part of each action's path after the request's (the pages' /audit/cases/{number}/…, the API's
# /api/v1/requests/{number}/…); the two on a change follow applicant-changes/{change_id}/.
FLAG_REVIEW = "identity-flag/review"
CHANGE_ACTIONS: Mapping[str, IdentityAction] = {"accept": _accept, "decline": _decline}
REVIEW: IdentityAction = _review_flag


def change_id_of(request: web.Request) -> int | None:
    """The change's id in the path; None when it is not a number a change can have."""
    raw = request.match_info.get("change_id", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None
