"""Finding a request at /cases: one box for a tracking number, a national ID, a mobile number or a name.

What the box holds is recognised by cases/search.py. An exact tracking number that the reader may see opens the
request's page, as it always did; anything else lists what it found, newest first, twenty a page.

Need to know: only the requests within the reader's reach are found, listed or counted (the condition of
cases/need_to_know.py in the query itself), and one out of reach is answered as one that does not exist. The list
shows names, so each request on the page shown is written to the access log (through GET /cases, reported on
/reports/access), as the other lists with names do (web/personal_data.py); the requests on pages not opened are not.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from cases import search
from cases import service as cases
from cases.models import Case
from fairness import explain
from majlis.errors import N_, InvalidInput
from notify import outbox
from web import audit_reading, labels, pagination, personal_data
from web.audit_display import placement_display
from web.auth import requires
from web.branch_names import branch_context
from web.case_history import staff_history
from web.errors import field_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.pages import render
from web.placement_reach import within_reach
from web.staff import CASE_READERS

routes = web.RouteTableDef()


async def found_page(request: web.Request, query: search.SearchQuery) -> search.SearchPage:
    """The page of requests the query finds within the reader's reach; each one listed logged as seen.
    InvalidInput when ?page= is not a page number (web/pagination.py)."""
    found = await search.search(
        session=request[DB],
        query=query,
        within=await personal_data.reach(request),
        page=pagination.page_or_invalid(request),
    )
    await personal_data.record_all(request, [case.id for case in found.cases])
    return found


@routes.get("/cases")
@requires(*CASE_READERS)
async def case_lookup(request: web.Request) -> web.Response:
    """Requests by tracking number, ID, phone or name, for staff answering a caller or a visitor."""
    # tracking_number= is what the other pages' links still carry.
    raw = request.query.get("q", request.query.get("tracking_number", "")).strip()
    context: dict[str, Any] = {
        "query": raw,
        "labels": labels,
        "case": None,
        "not_found": False,
        "found": None,
        "error": None,
    }
    if not raw:
        return render(request, "staff/case_lookup.html", context)
    try:
        query = search.recognise(raw)
    except InvalidInput as exc:
        context["error"] = field_message(request.app[CATALOGS], request[LANGUAGE], exc.errors[0])
        return render(request, "staff/case_lookup.html", context)
    if query.kind is search.QueryKind.TRACKING_NUMBER:
        case = await cases.find_by_tracking_number(session=request[DB], tracking_number=query.value)
        # A request outside the reader's need to know is answered as one that does not exist (404, as before).
        if case is None or not await personal_data.may_see(request, case.id):
            context["not_found"] = True
            return render(request, "staff/case_lookup.html", context, status=404)
        await personal_data.record(request, case.id)
        return await _one_request(request, context, case)
    try:
        found = await found_page(request, query)
    except InvalidInput as exc:
        context["error"] = field_message(request.app[CATALOGS], request[LANGUAGE], exc.errors[0])
        return render(request, "staff/case_lookup.html", context, status=400)
    context.update(
        found=found,
        pager=pagination.pager(request, found, N_("Pages of the requests found")),
        kind=query.kind,
        **await branch_context(request),
    )
    return render(request, "staff/case_lookup.html", context)


async def _one_request(request: web.Request, context: dict[str, Any], case: Case) -> web.Response:
    session, case_id = request[DB], case.id
    context.update(
        case=case,
        # Status changes and the referrals' exchanges in time order (web/case_history.py).
        history=await staff_history(
            session=session,
            case_id=case_id,
            catalogs=request.app[CATALOGS],
            language=request[LANGUAGE],
            now=request.app[CLOCK].now(),
        ),
        messages=await outbox.messages_for_case(session=session, case_id=case_id),
        # How the fairness record explains each seat it was given (fairness/explain.py).
        placements=await audit_reading.shapes(
            session=session,
            found=await within_reach(request, await explain.placement_explanations(session=session, case_id=case_id)),
        ),
        **await placement_display(request),
        **await branch_context(request),
    )
    return render(request, "staff/case_lookup.html", context)
