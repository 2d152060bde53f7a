"""The follow-up team's pages: the daily list, one referral with its history and the team's actions, and a
referred request to send (again) to departments.

The follow-up team acts; managers read the same pages without the forms (administrators, as everywhere,
pass every guard). Each action runs in the request's one transaction: a refusal rolls it back and shows
the page again with the reason, and a success returns to the referral with a line saying what was done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import select

from accounts import service as accounts
from accounts.roles import Role
from cases import service as cases
from cases.models import Case, CaseStatus
from followup import daily, referrals, timers
from followup.models import Department, Referral, ReferralEvent, ReferralState
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from web import labels, personal_data
from web.api_models import ID_LIMIT
from web.attachments import case_files
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.followup_actions import ACTIONS, Perform, refer
from web.followup_words import (
    CLOCKS,
    EVENTS,
    SOURCES,
    STATES,
    TEAM_ACTIONS,
    department_name,
    event_detail,
    say,
    standing_text,
    working_time,
)
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()
TEAM = (Role.FOLLOW_UP,)
READERS = (Role.FOLLOW_UP, Role.MANAGER)
# More than this many rows in a section asks for a filter rather than a page no one can read.
SHOWN = 300

DONE: Mapping[str, str] = {
    "remind": N_("The reminder is on its way to the department's liaison officers."),
    "call": N_("The phone call is noted in the referral's history."),
    "escalate": N_("Escalated: the next rank has been told."),
    "extend": N_("Extended: every deadline has moved on."),
    "close": N_("The referral is closed."),
    "completed": N_("The referral is closed. The request is complete and the applicant has been sent the outcome."),
    "refer": N_("Referred: each department has been sent the referral by e-mail, and the applicant told."),
}


async def _departments(request: web.Request) -> list[Department]:
    rows = await request[DB].scalars(select(Department).order_by(Department.code))
    return list(rows)


def _common(request: web.Request) -> dict[str, Any]:
    user = signed_in_user(request)
    return {
        "may_act": user.role in (Role.FOLLOW_UP, Role.ADMINISTRATOR),
        "states": STATES,
        "clocks": CLOCKS,
        "team_actions": TEAM_ACTIONS,
        "department_name": lambda d: department_name(request, d),
        "standing_text": lambda item: standing_text(request, item),
    }


# --- the daily list ----------------------------------------------------------------------------


@routes.get("/followup")
@requires(*READERS)
async def daily_list(request: web.Request) -> web.Response:
    """Today's follow-up: the team's own work first, then the departments to chase, overdue first."""
    query = request.query
    values = {
        "department": query.get("department", ""),
        "state": query.get("state", ""),
        "overdue": query.get("overdue", ""),
    }
    errors: dict[str, str] = {}
    try:
        filters = daily.checked_filters(**values)
    except InvalidInput as exc:
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        filters = daily.Filters()
    # Only requests within the reader's need to know; each one shown logged.
    found = await daily.daily_list(
        session=request[DB], clock=request.app[CLOCK], filters=filters, within=await personal_data.reach(request)
    )
    team, chasing = found.team[:SHOWN], found.chasing[:SHOWN]
    await personal_data.seen_in_list(request, [item.case_id for item in (*team, *chasing)])
    context = {
        **_common(request),
        "found": found,
        "team": team,
        "chasing": chasing,
        "shown": SHOWN,
        "departments": await _departments(request),
        "state_choices": daily.STATE_CHOICES,
        "values": values,
        "errors": errors,
    }
    return render(request, "followup/daily_list.html", context, status=422 if errors else 200)


# --- one referral --------------------------------------------------------------------------------


async def _history(
    request: web.Request, events: list[ReferralEvent], departments: list[Department]
) -> list[dict[str, Any]]:
    names = await accounts.names_by_id(session=request[DB], ids={e.actor_id for e in events if e.actor_id is not None})
    by_code = {d.code: d for d in departments}
    return [
        {
            "at": event.at,
            "what": say(request, EVENTS[event.kind]),
            # A member of staff, the department through its link, or the escalation sweep.
            "by": names.get(event.actor_id, "")
            if event.actor_id is not None
            else event.by or say(request, N_("Automatic")),
            "text": event.text,
            "detail": event_detail(request, event, by_code),
        }
        for event in events
    ]


def _referral_id(request: web.Request) -> int:
    value = int(request.match_info["referral_id"])
    if value > ID_LIMIT:
        raise web.HTTPNotFound()
    return value


async def referral_page(
    request: web.Request,
    referral_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    form_error: str | None = None,
    failed: str = "",
    status: int = 200,
) -> web.Response:
    session, clock = request[DB], request.app[CLOCK]
    referral = await session.get(Referral, referral_id, populate_existing=True)
    if referral is None:
        raise web.HTTPNotFound()
    case = await session.get_one(Case, referral.case_id)
    await personal_data.seen(request, case.id)
    departments = await _departments(request)
    department = next(d for d in departments if d.id == referral.department_id)
    rules = (await timers.rules_for(session=session, referrals=[referral]))[referral.id]
    item = daily.item_of(referral, case.tracking_number, department, rules, now=clock.now())
    siblings = [r for r in await referrals.of_case(session=session, case_id=case.id) if r.id != referral.id]
    done = request.query.get("done", "")
    context = {
        **_common(request),
        "referral": referral,
        "case": case,
        "item": item,
        "policy": rules.policy,
        "department": department,
        "departments": departments,
        "by_id": {d.id: d for d in departments},
        "siblings": siblings,
        "history": await _history(
            request, await referrals.events_of(session=session, referral_id=referral.id), departments
        ),
        "files": await case_files(request, case.id),
        "sources": SOURCES,
        "owing": referral.state in timers.OWING,
        "extendable": referral.state in timers.OWING | {ReferralState.AWAITING_APPLICANT},
        "closable": referral.state in daily.LISTED,
        "referable": referral.state in (ReferralState.ANSWERED, ReferralState.RETURNED)
        and case.status is CaseStatus.REFERRED,
        "units": {"hours": N_("Hours"), "working_days": N_("Working days")},
        "working_day": working_time(request, rules.calendar.working_day, None),
        "notice": say(request, DONE[done]) if done in DONE and not failed else None,
        "errors": errors or {},
        "values": values or {},
        "form_error": form_error,
        "failed": failed,
        "labels": labels,
    }
    return render(request, "followup/referral.html", context, status=status)


@routes.get("/followup/referrals/{referral_id:\\d+}")
@requires(*READERS)
async def show_referral(request: web.Request) -> web.Response:
    return await referral_page(request, _referral_id(request))


def _fields(form: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if key != "csrf_token"}


async def _act(request: web.Request, name: str, perform: Perform) -> web.Response:
    """Runs one action; a refusal shows the referral again with the reason in place, nothing changed."""
    referral_id = _referral_id(request)
    fields = _fields(await request.post())
    session, catalogs, language = request[DB], request.app[CATALOGS], request[LANGUAGE]
    try:
        if name == "close" and fields.get("confirm") != "yes":
            # Closing cannot be undone, and the last one tells the applicant: the form asks to confirm.
            raise InvalidInput(
                [FieldError("confirm", "unconfirmed", N_("Tick the box to confirm the outcome before closing."))]
            )
        await perform(request, referral_id, fields)
    except InvalidInput as exc:
        await session.rollback()
        errors = {
            f"{name}.{field}": message for field, message in errors_by_field(catalogs, language, exc.errors).items()
        }
        values = {f"{name}.{key}": value for key, value in fields.items()}
        return await referral_page(request, referral_id, errors=errors, values=values, failed=name, status=422)
    except referrals.ReferralNotFound as exc:
        await session.rollback()
        raise web.HTTPNotFound() from exc
    except DomainError as exc:
        await session.rollback()
        message = domain_message(catalogs, language, exc)
        return await referral_page(request, referral_id, form_error=message, failed=name, status=409)
    done = name
    if name == "close":
        referral = await session.get_one(Referral, referral_id)
        case = await session.get_one(Case, referral.case_id)
        done = "completed" if case.status is CaseStatus.COMPLETED else "close"
    return see_other(f"/followup/referrals/{referral_id}?done={done}#result")


def _page_action(name: str, perform: Perform) -> Callable[[web.Request], Awaitable[web.Response]]:
    @requires(*TEAM)
    async def handler(request: web.Request) -> web.Response:
        return await _act(request, name, perform)

    return handler


for _name, _perform in ACTIONS.items():
    routes.post(f"/followup/referrals/{{referral_id:\\d+}}/{_name}")(_page_action(_name, _perform))


# --- a referred request, sent (again) to departments ---------------------------------------------


async def case_page(
    request: web.Request,
    number: str,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> web.Response:
    session = request[DB]
    case = await personal_data.visible_case(request, number)
    departments = await _departments(request)
    context = {
        **_common(request),
        "case": case,
        "referrals": await referrals.of_case(session=session, case_id=case.id),
        "open_referrals": await referrals.open_referrals(session=session, case_id=case.id),
        "departments": departments,
        "by_id": {d.id: d for d in departments},
        "history": await cases.history(session=session, case_id=case.id),
        "referable": case.status is CaseStatus.REFERRED,
        "notice": say(request, DONE["refer"])
        if request.query.get("done") == "refer" and not form_error and not errors
        else None,
        "errors": errors or {},
        "values": values or {},
        "form_error": form_error,
        "labels": labels,
    }
    return render(request, "followup/case.html", context, status=status)


@routes.get("/followup/cases/{tracking_number}")
@requires(*READERS)
async def show_case(request: web.Request) -> web.Response:
    return await case_page(request, request.match_info["tracking_number"])


@routes.post("/followup/cases/{tracking_number}/refer")
@requires(*TEAM)
async def refer_case(request: web.Request) -> web.Response:
    """Sends the request to the departments ticked, with the directive; back to the page from which it came."""
    number = request.match_info["tracking_number"]
    form = await request.post()
    codes = [str(code) for code in form.getall("departments", [])]
    directive = str(form.get("directive", ""))
    back = str(form.get("referral", ""))
    back_id = int(back) if back.isascii() and back.isdigit() and int(back) <= ID_LIMIT else None
    session, catalogs, language = request[DB], request.app[CATALOGS], request[LANGUAGE]
    try:
        await refer(request, number, codes, directive)
    except InvalidInput as exc:
        await session.rollback()
        errors = {f"refer.{f}": m for f, m in errors_by_field(catalogs, language, exc.errors).items()}
        values: dict[str, Any] = {"refer.directive": directive, "refer.departments": codes}
        if back_id is not None:
            return await referral_page(request, back_id, errors=errors, values=values, failed="refer", status=422)
        return await case_page(request, number, errors=errors, values=values, status=422)
    except DomainError as exc:
        await session.rollback()
        if exc.code == "case_not_found":
            raise web.HTTPNotFound() from exc
        message = domain_message(catalogs, language, exc)
        if back_id is not None:
            return await referral_page(request, back_id, form_error=message, failed="refer", status=409)
        return await case_page(request, number, form_error=message, status=409)
    case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    return see_other(f"/followup/cases/{case.tracking_number}?done=refer#result")
