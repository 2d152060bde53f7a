"""The audit desk's queue of new requests, oldest first."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Role
from cases import identity_review
from cases import service as cases
from cases.models import Branch, CaseStatus, Channel, RequestKind
from priority import duplicates
from web import labels
from web.auth import requires
from web.keys import DB
from web.pages import render

routes = web.RouteTableDef()


@routes.get("/audit")
@requires(Role.AUDIT_DESK)
async def queue(request: web.Request) -> web.Response:
    filters = {
        "branch": request.query.get("branch", ""),
        "kind": request.query.get("kind", ""),
        "channel": request.query.get("channel", ""),
    }
    new_cases = await cases.list_by_status(
        session=request[DB],
        statuses={CaseStatus.RECEIVED, CaseStatus.NEEDS_INFORMATION},
        branch=Branch(filters["branch"]) if filters["branch"] in set(Branch) else None,
        kind=RequestKind(filters["kind"]) if filters["kind"] in set(RequestKind) else None,
        channel=Channel(filters["channel"]) if filters["channel"] in set(Channel) else None,
    )
    flags = await duplicates.flagged(session=request[DB], case_ids={c.id for c in new_cases})
    context = {
        "cases": new_cases,
        "filters": filters,
        "labels": labels,
        "flags": flags,
        # Names that differ from the record and changes to the record, waiting for the desk (any status).
        "identity_reviews": await identity_review.open_reviews(session=request[DB]),
    }
    return render(request, "audit/queue.html", context)
