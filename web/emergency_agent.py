"""The contact centre agent's screen: registering a citizen's emergency report from a call
(/emergency/reports/new), and what the agent registered beside the open queue (/emergency/agent).

The form keeps what was typed when anything is wrong and names every problem at once, in the reader's language
and the other; nothing is saved until all is right. A registered report is shown on its own page, with its
number and the mission it went to, so reloading that page registers nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from emergency import calls, reports, timers
from emergency.checks import country_choices
from emergency.intake import ReportDetails, check_report
from emergency.models import EmergencyReport, LineCall, LineCallState, ReportSource
from majlis.errors import N_, DomainError, FieldError, InvalidInput
from majlis.numbers import whole_number
from web import labels, pagination
from web.auth import requires, signed_in_user
from web.emergency_access import AGENTS
from web.emergency_view import Words, lines
from web.errors import domain_message, field_message
from web.i18n import LANGUAGES
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, LINKS, SETTINGS
from web.pages import render
from web.public import status_url

routes = web.RouteTableDef()
# What an agent registered, a page at a time (newest first).
MINE_PER_PAGE = 50

FIELDS = ("national_id", "caller_name", "phone", "country", "city", "type", "severity", "account", "language")


def words(request: web.Request) -> Words:
    return Words(request.app[CATALOGS], request[LANGUAGE], request.app[CLOCK].now())


def bilingual_errors(request: web.Request, errors: list[FieldError]) -> dict[str, dict[str, str]]:
    """Each field's first problem in every language: {field: {"ar": …, "en": …}}."""
    catalogs = request.app[CATALOGS]
    found: dict[str, dict[str, str]] = {}
    for error in errors:
        if error.field not in found:
            found[error.field] = {language: field_message(catalogs, language, error) for language in LANGUAGES}
    return found


def _form(
    request: web.Request,
    values: Mapping[str, str],
    errors: Mapping[str, Mapping[str, str]] | None = None,
    *,
    form_error: str | None = None,
    status: int = 200,
) -> web.Response:
    language = request[LANGUAGE]
    found = errors or {}
    context: dict[str, Any] = {
        "values": values,
        # The field's message in the reader's language beside it; both languages in the summary.
        "errors": {field: messages[language] for field, messages in found.items()},
        "both_errors": found,
        "form_error": form_error,
        "labels": labels,
        "countries": country_choices(language),
    }
    return render(request, "emergency/new_report.html", context, status=status)


@routes.get("/emergency/reports/new")
@requires(*AGENTS)
async def new_report(request: web.Request) -> web.Response:
    """The empty form; ?phone= fills the phone in and ?call= names the call (a missed call on the line's queue
    links here to call the caller back)."""
    call = whole_number(request.query.get("call", ""))
    values = {"language": "ar", "phone": request.query.get("phone", "").strip()[:40], "call": str(call or "")}
    return _form(request, values)


async def register_report(request: web.Request, details: ReportDetails, source: ReportSource) -> EmergencyReport:
    """Registers a checked report in the request's transaction (InvalidInput: the place is covered by none)."""
    return await reports.register(
        session=request[DB],
        clock=request.app[CLOCK],
        details=details,
        actor_id=signed_in_user(request).id,
        source=source,
        levels=timers.levels_from(request.app[SETTINGS]),
        links=request.app[LINKS],
        status_url=status_url(request),
    )


async def owed_callback(request: web.Request, raw: str) -> LineCall | None:
    """The missed call the form names (?call= from the call queue's callback link), if a callback is owed on it:
    only then is the report a callback's. Any other number (no such call, one answered or called back already)
    is passed over, and the report is registered as the agent's own."""
    call_id = whole_number(raw)
    if call_id is None:
        return None
    try:
        call = await calls.get_call(session=request[DB], call_id=call_id)
    except calls.LineCallNotFound:
        return None
    return call if call.state is LineCallState.MISSED else None


@routes.post("/emergency/reports")
@requires(*AGENTS)
async def save_report(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in (*FIELDS, "call")}
    try:
        details = check_report(values)
        call = await owed_callback(request, values["call"])
        # Registered while calling back a missed call to the line, or from a call an agent answered.
        report = await register_report(request, details, ReportSource.CALLBACK if call else ReportSource.AGENT)
        if call is not None:
            # The same transaction closes the callback with the report it gave.
            await calls.link_report(
                session=request[DB],
                clock=request.app[CLOCK],
                call_id=call.id,
                report_id=report.id,
                actor_id=signed_in_user(request).id,
            )
    except InvalidInput as exc:
        await request[DB].rollback()
        return _form(request, values, bilingual_errors(request, exc.errors), status=422)
    except DomainError as exc:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return _form(request, values, form_error=message, status=409)
    raise web.HTTPSeeOther(f"/emergency/reports/{report.number}?done=registered")


@routes.get("/emergency/agent")
@requires(*AGENTS)
async def agent_home(request: web.Request) -> web.Response:
    """What the agent registered (newest first) and the open queue (life-threatening first, then the oldest)."""
    number = pagination.asked_page(request)
    if number is None:
        return pagination.refused(request)
    session, said = request[DB], words(request)
    # The open queue whole (it is the line's work, most urgent first); what the agent registered a page at a time.
    mine = await reports.registered_by_page(
        session=session, agent_id=signed_in_user(request).id, page=number, per_page=MINE_PER_PAGE
    )
    queue = await reports.list_open(session=session)
    context = {
        "mine": await lines(session, said, mine.items),
        "queue": await lines(session, said, queue),
        "pager": pagination.pager(request, mine, N_("Pages of the reports I registered")),
    }
    return render(request, "emergency/agent.html", context)
