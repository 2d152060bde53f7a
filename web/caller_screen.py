"""The call centre's caller screen: every request of the phone that is calling, from the number alone.

/calls/caller?phone=… (the list of calls to make links each applicant here) finds the requests by the phone they
were given with (cases/search.py, the phone kind), within the reader's need to know, newest first; each with its
status, its audience ahead and where the confirmation stands, and what the call centre can do: open the request,
or record what the call gave when the confirmation still waits for an answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select

from cases import search
from cases.models import Case
from majlis.errors import N_, InvalidInput
from scheduler.models import Answer, Confirmation
from scheduler.views import UpcomingAppointment, upcoming_appointment_of
from web import labels, pagination
from web.auth import requires
from web.branch_names import branch_context
from web.call_centre import CALL_ROLES, OUTCOMES
from web.case_search import found_page
from web.errors import field_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.pages import render

routes = web.RouteTableDef()


class ConfirmationState(enum.StrEnum):
    NOT_ASKED = "not_asked"
    AWAITING = "awaiting"
    CONFIRMED = Answer.CONFIRMED.value
    RESCHEDULED = Answer.RESCHEDULED.value
    CANCELLED = Answer.CANCELLED.value


CONFIRMATION_LABELS = {
    ConfirmationState.NOT_ASKED: N_("Not asked yet"),
    ConfirmationState.AWAITING: N_("Asked; no answer yet"),
    ConfirmationState.CONFIRMED: N_("Confirmed"),
    ConfirmationState.RESCHEDULED: N_("Asked for another date"),
    ConfirmationState.CANCELLED: N_("Cancelled the audience"),
}


@dataclass(frozen=True)
class CallerRequest:
    """One request of the caller, with its audience ahead and that audience's confirmation, if any."""

    case: Case
    upcoming: UpcomingAppointment | None
    confirmation: Confirmation | None

    @property
    def confirmation_state(self) -> ConfirmationState | None:
        """None without an audience ahead."""
        if self.upcoming is None:
            return None
        if self.confirmation is None:
            return ConfirmationState.NOT_ASKED
        if self.confirmation.answer is None:
            return ConfirmationState.AWAITING
        return ConfirmationState(self.confirmation.answer.value)


@dataclass(frozen=True)
class CallerView:
    phone: str
    found: search.SearchPage
    requests: list[CallerRequest]
    pager: pagination.Pager


async def caller_view(request: web.Request, raw_phone: str) -> CallerView:
    """The caller's requests (one page of them), each listed one logged as seen; InvalidInput for a bad phone."""
    query = search.phone_query(raw_phone)
    found = await found_page(request, query)
    session, clock = request[DB], request.app[CLOCK]
    requests = []
    for case in found.cases:
        upcoming = await upcoming_appointment_of(session=session, clock=clock, case_id=case.id)
        confirmation = None
        if upcoming is not None:
            confirmation = await session.scalar(
                select(Confirmation).where(Confirmation.appointment_id == upcoming.appointment.id)
            )
        requests.append(CallerRequest(case, upcoming, confirmation))
    pager = pagination.pager(request, found, N_("Pages of the caller's requests"))
    return CallerView(phone=query.value, found=found, requests=requests, pager=pager)


@routes.get("/calls/caller")
@requires(*CALL_ROLES)
async def caller(request: web.Request) -> web.Response:
    raw = request.query.get("phone", "").strip()
    context: dict[str, Any] = {
        "phone": raw,
        "view": None,
        "error": None,
        "labels": labels,
        "states": CONFIRMATION_LABELS,
        "outcomes": OUTCOMES,
        **await branch_context(request),
    }
    if raw:
        try:
            context["view"] = await caller_view(request, raw)
        except InvalidInput as exc:
            context["error"] = field_message(request.app[CATALOGS], request[LANGUAGE], exc.errors[0])
    return render(request, "calls/caller.html", context)
