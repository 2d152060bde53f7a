"""The audit desk's queue of new requests, oldest first."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Role
from cases import identity_review
from cases import service as cases
from cases.models import CaseStatus, Channel, RequestKind
from priority import duplicates
from web import labels, personal_data
from web.auth import requires
from web.branch_names import branch_context
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
        # Any code filters: one naming no centre simply finds nothing.
        branch=filters["branch"][:16] or None,
        kind=RequestKind(filters["kind"]) if filters["kind"] in set(RequestKind) else None,
        channel=Channel(filters["channel"]) if filters["channel"] in set(Channel) else None,
    )
    reviews = await identity_review.open_reviews(session=request[DB])
    # The names listed are personal data: only requests within the reader's need to know, each view logged.
    visible = await personal_data.seen_in_list(request, [c.id for c in new_cases] + [r.case.id for r in reviews])
    new_cases = [c for c in new_cases if c.id in visible]
    flags = await duplicates.flagged(session=request[DB], case_ids={c.id for c in new_cases})
    context = {
        "cases": new_cases,
        "filters": filters,
        "labels": labels,
        "flags": flags,
        # Names that differ from the record and changes to the record, waiting for the desk (any status).
        "identity_reviews": [r for r in reviews if r.case.id in visible],
        **await branch_context(request),
    }
    return render(request, "audit/queue.html", context)
