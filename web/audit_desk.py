"""The audit desk's queue of new requests, oldest first."""

from __future__ import annotations

from aiohttp import web

from accounts.roles import Role
from cases import identity_review, status_lists
from cases.models import CaseStatus, Channel, RequestKind
from majlis.errors import N_
from priority import duplicates
from web import labels, pagination, personal_data
from web.auth import requires
from web.branch_names import branch_context
from web.keys import DB
from web.pages import render

routes = web.RouteTableDef()
PER_PAGE = 50


@routes.get("/audit")
@requires(Role.AUDIT_DESK)
async def queue(request: web.Request) -> web.Response:
    number = pagination.asked_page(request)
    if number is None:
        return pagination.refused(request)
    filters = {
        "branch": request.query.get("branch", ""),
        "kind": request.query.get("kind", ""),
        "channel": request.query.get("channel", ""),
    }
    # The names listed are personal data: only requests within the reader's need to know (in the query for the
    # new requests), each one shown logged.
    paged = await status_lists.page_by_status(
        session=request[DB],
        statuses={CaseStatus.RECEIVED, CaseStatus.NEEDS_INFORMATION},
        # Any code filters: one naming no centre simply finds nothing.
        branch=filters["branch"][:16] or None,
        kind=RequestKind(filters["kind"]) if filters["kind"] in set(RequestKind) else None,
        channel=Channel(filters["channel"]) if filters["channel"] in set(Channel) else None,
        within=await personal_data.reach(request),
        page=number,
        per_page=PER_PAGE,
    )
    new_cases = paged.items
    reviews = await identity_review.open_reviews(session=request[DB])
    visible = await personal_data.seen_in_list(request, [c.id for c in new_cases] + [r.case.id for r in reviews])
    flags = await duplicates.flagged(session=request[DB], case_ids={c.id for c in new_cases})
    context = {
        "cases": new_cases,
        "pager": pagination.pager(request, paged, N_("Pages of the new requests")),
        "filters": filters,
        "labels": labels,
        "flags": flags,
        # Names that differ from the record and changes to the record, waiting for the desk (any status).
        "identity_reviews": [r for r in reviews if r.case.id in visible],
        **await branch_context(request),
    }
    return render(request, "audit/queue.html", context)
