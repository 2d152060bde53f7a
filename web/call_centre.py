"""The call centre's list: applicants asked to confirm who have not answered; a call records their answer.

The list is the confirmation timeline's own (`calls_due`): asked, no answer
after the configured hours, the audience still ahead. A call that reaches the
applicant records the answer as if they had given it themselves; a call that
reaches nobody is counted with a note and the appointment stays on the list.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from cases import service as cases
from cases.phones import to_e164
from cases.tracking import parse_tracking_number
from majlis.errors import N_
from rooms import service as rooms
from scheduler import call_list, confirmations
from scheduler.confirmations import ConfirmationRefusal, Via
from scheduler.models import Answer, Confirmation
from web import pagination, personal_data
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.middleware import see_other
from web.notices import done, notice
from web.pages import render
from web.public import status_url

routes = web.RouteTableDef()
CALL_ROLES = (Role.CALL_CENTRE, Role.INTAKE_DESK)
NO_ANSWER = "no_answer"
OUTCOMES = {
    Answer.CONFIRMED.value: N_("Confirmed"),
    Answer.RESCHEDULED.value: N_("Asked for another date"),
    Answer.CANCELLED.value: N_("Cancelled the audience"),
    NO_ANSWER: N_("No answer"),
}
# Registered as notices too: a call recorded from the caller screen (web/caller_screen.py) goes back there with one.
DONE = {
    Answer.CONFIRMED.value: notice(N_("Request {number}: the audience is confirmed.")),
    Answer.RESCHEDULED.value: notice(N_("Request {number}: the date is freed and the request placed again.")),
    Answer.CANCELLED.value: notice(
        N_("Request {number}: the audience is cancelled; the request continues in writing.")
    ),
    NO_ANSWER: notice(N_("Request {number}: the call is counted; it stays on the list.")),
}


def _text(request: web.Request, message: str, **params: str) -> str:
    return request.app[CATALOGS].gettext(request[LANGUAGE], message, **params)


async def _list_page(
    request: web.Request, *, notice: str | None = None, form_error: str | None = None, status: int = 200
) -> web.Response:
    session = request[DB]
    # Names and phones: only requests within the reader's need to know (in the query), each one shown logged.
    # A form's answer shows the first page; a GET the page asked for (checked in `calls`).
    found = await call_list.calls_page(
        session=session,
        clock=request.app[CLOCK],
        policy=confirmations.policy_from(request.app[SETTINGS]),
        within=await personal_data.reach(request),
        page=pagination.asked_page(request) or 1,
        per_page=call_list.PER_PAGE,
    )
    tasks = found.items
    await personal_data.record_all(request, [t.case.id for t in tasks])
    room_of = await rooms.rooms_by_id(session=session, ids={t.slot.room_id for t in tasks})
    callers = await accounts.names_by_id(
        session=session, ids={t.confirmation.last_call_by_id for t in tasks if t.confirmation.last_call_by_id}
    )
    context = {
        "tasks": tasks,
        "pager": pagination.pager(request, found, N_("Pages of the calls to make")),
        "room_of": room_of,
        "callers": callers,
        "outcomes": OUTCOMES,
        "notice": notice,
        "form_error": form_error,
    }
    return render(request, "calls/list.html", context, status=status)


@routes.get("/calls")
@requires(*CALL_ROLES)
async def calls(request: web.Request) -> web.Response:
    if pagination.asked_page(request) is None:
        return pagination.refused(request)
    notice = None
    done, number = request.query.get("done", ""), parse_tracking_number(request.query.get("number", ""))
    if done in DONE and number is not None:
        notice = _text(request, DONE[done], number=number)
    return await _list_page(request, notice=notice)


@routes.post("/calls/{confirmation_id:\\d+}")
@requires(*CALL_ROLES)
async def record_call(request: web.Request) -> web.Response:
    form = await request.post()
    outcome = str(form.get("outcome", ""))
    note = str(form.get("note", ""))
    session, clock = request[DB], request.app[CLOCK]
    if outcome not in OUTCOMES:
        return await _list_page(request, form_error=_text(request, N_("Choose what the call gave.")), status=422)
    confirmation = await session.get(Confirmation, int(request.match_info["confirmation_id"]))
    if confirmation is None:
        message = _text(request, N_("There is no such confirmation."))
        return await _list_page(request, form_error=message, status=404)
    appointment_id, case_id = confirmation.appointment_id, confirmation.case_id
    user = signed_in_user(request)
    try:
        if outcome == NO_ANSWER:
            await confirmations.record_no_answer(
                session=session, clock=clock, confirmation_id=confirmation.id, actor_id=user.id, note=note
            )
        else:
            await confirmations.answer(
                session=session,
                clock=clock,
                appointment_id=appointment_id,
                answer=Answer(outcome),
                via=Via.CALL_CENTRE,
                actor_id=user.id,
                status_url=status_url(request),
                policy=confirmations.policy_from(request.app[SETTINGS]),
            )
    except ConfirmationRefusal as refused:
        await session.rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _list_page(request, form_error=message, status=409)
    case = await cases.get_case(session=session, case_id=case_id)
    number = case.tracking_number if case is not None else ""
    caller = to_e164(str(form.get("caller", "")))
    if caller is not None:
        # Recorded from the caller screen: back to that caller's requests.
        return done(request, "/calls/caller?" + urlencode({"phone": caller}), DONE[outcome], number=number)
    return see_other("/calls?" + urlencode({"done": outcome, "number": number}))
