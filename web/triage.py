"""The audit desk's pages: the triage of one request, duplicates side by side, the priority queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from accounts.roles import Role
from cases import service as cases
from followup import information
from majlis import paging
from majlis.errors import N_, DomainError, InvalidInput
from priority import duplicates, queue
from priority import service as triage
from priority.models import ChangeReason, Route
from priority.requested_route import requested_route
from priority.score import Urgency
from scheduler import service as scheduling
from web import labels, pagination, personal_data
from web.attachments import case_files
from web.audit_display import placement_display
from web.auth import requires, signed_in_user
from web.branch_names import branch_context
from web.case_history import staff_history
from web.department_choices import chosen, department_choices, joined_codes
from web.errors import domain_message
from web.identity_view import identity_view
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.notices import done, notice
from web.pages import render
from web.triage_actions import PAGE_ACTIONS, Perform
from whatsapp_desk import repeats

routes = web.RouteTableDef()

# What each desk action says once it is done, on the request's page it returns to.
DONE: dict[str, str] = {
    "triage": notice(N_("The triage of request {number} is saved.")),
    "verify": notice(N_("Request {number} is marked as verified.")),
    "classify": notice(N_("The classification of request {number} is saved.")),
    "route": notice(N_("Request {number} is routed.")),
    "move-up": notice(N_("Request {number} is moved up the queue.")),
    "needs-information": notice(N_("The applicant of request {number} has been asked for what is missing.")),
    "reject": notice(N_("Request {number} is rejected; the applicant has been told why.")),
    "merge": notice(N_("Request {number} is closed as a duplicate.")),
    "unavailable-days": notice(N_("The days the applicant of request {number} cannot come are saved.")),
}


async def case_page(
    request: web.Request,
    number: str,
    *,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    session = request[DB]
    clock = request.app[CLOCK]
    language = request[LANGUAGE]
    case = await personal_data.visible_case(request, number)
    row = await triage.current_triage(session=session, clock=clock, case=case)
    window = timedelta(days=request.app[SETTINGS].duplicate_window_days)
    context = {
        "case": case,
        "triage": row,
        "categories": await triage.categories(session=session),
        "duplicates": await duplicates.likely_duplicates(session=session, clock=clock, case=case, window=window),
        "merged_into": await duplicates.merged_into(session=session, case_id=case.id),
        # A WhatsApp request cancelled by rule as a repeat, and its Undo (web/repeat_cancellation.py).
        "repeat_cancellation": await repeats.cancellation_of(session=session, case_id=case.id),
        "addenda": await cases.addenda(session=session, case_id=case.id),
        # The name given against the record for the ID, and proposed changes to the record (web/identity_view.py).
        "identity": await identity_view(
            session=session, case_id=case.id, catalogs=request.app[CATALOGS], language=language
        ),
        # Status changes and the referrals' exchanges in time order (web/case_history.py).
        "history": await staff_history(
            session=session, case_id=case.id, catalogs=request.app[CATALOGS], language=language, now=clock.now()
        ),
        "departments": await department_choices(session=session, language=language),
        # What was asked of the applicant, their answers and files (web/templates/information/_conversation.html).
        "conversation": await information.conversation(session=session, case_id=case.id),
        "files": {f.id: f for f in await case_files(request, case.id)},
        "changes": await triage.changes_for(session=session, case_id=case.id),
        "closed": case.status in cases.CLOSED,
        "unavailable": await scheduling.unavailable_days(session=session, case_id=case.id),
        "urgencies": list(Urgency),
        "routes": list(Route),
        # The form starts from the route the applicant asked for, until one is set.
        "asked_route": requested_route(case.kind),
        # Reasons a person gives; a repeated request is the WhatsApp desk's rule, never chosen by hand.
        "reasons": [r for r in ChangeReason if r is not ChangeReason.REPEATED_REQUEST],
        "labels": labels,
        "errors": errors or {},
        "form_error": form_error,
        # What the desk typed, shown again after a refusal so nothing needs choosing twice.
        "values": values or {},
        "chosen_departments": chosen((values or {}).get("departments", "")),
        **await branch_context(request),
    }
    return render(request, "audit/case.html", context, status=status)


async def _act(request: web.Request, name: str, perform: Perform) -> web.Response:
    """Runs one desk action; on a refusal shows the page again with the reason, nothing changed."""
    number = request.match_info["tracking_number"]
    form = await request.post()
    fields = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        # One box ticked per department of a written referral; the domain reads their codes as one string.
        fields["departments"] = joined_codes(form.getall("departments", []), "departments")
        await perform(request, number, fields)
    except InvalidInput as exc:
        await request[DB].rollback()
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await case_page(request, number, errors=errors, values=fields, status=422)
    except DomainError as exc:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await case_page(request, number, form_error=message, values=fields, status=422)
    return done(request, f"/audit/cases/{number}", DONE[name], number=number)


@routes.get("/audit/cases/{tracking_number}")
@requires(Role.AUDIT_DESK)
async def show(request: web.Request) -> web.Response:
    return await case_page(request, request.match_info["tracking_number"])


def _page_action(name: str, perform: Perform) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(Role.AUDIT_DESK)
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, name, perform)

    return handler


for _name, _perform in PAGE_ACTIONS.items():
    routes.post(f"/audit/cases/{{tracking_number}}/{_name}")(_page_action(_name, _perform))


QUEUE_PER_PAGE = paging.PER_PAGE


@routes.get("/audit/queue")
@requires(Role.AUDIT_DESK, Role.PROTOCOL, Role.MANAGER)
async def priority_queue(request: web.Request) -> web.Response:
    number = pagination.asked_page(request)
    if number is None:
        return pagination.refused(request)
    places = await queue.awaiting_audience(session=request[DB], clock=request.app[CLOCK])
    shown = paging.page_of_list(places, page=number, per_page=QUEUE_PER_PAGE)
    context = {
        "places": shown.items,
        # Each request's place in the whole queue, not on its page.
        "first_place": (shown.page - 1) * shown.per_page + 1,
        # The audit desk opens a request's triage page; protocol and the manager, who may not, its page in search.
        "opens_triage": signed_in_user(request).role is Role.AUDIT_DESK,
        "pager": pagination.pager(request, shown, N_("Pages of the priority queue")),
        # The category by its name in the reader's language, not its code ("housing").
        **await placement_display(request),
    }
    return render(request, "audit/priority_queue.html", context)
