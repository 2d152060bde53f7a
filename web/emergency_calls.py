"""The agents' call queue of the emergency line (/emergency/calls): callers waiting for an agent now, missed
calls owed a callback (oldest first), and the latest called back. Agents take a callback, so no two call the
same person, record it called back with what came of it (and the report it gave), or open the agent screen
to register a report with the caller's number filled in. Consular supervisors read the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import phonenumbers
from aiohttp import web
from babel import Locale
from babel.dates import format_time
from phonenumbers import timezone as phone_zones

from accounts.roles import Role
from emergency import calls
from emergency.models import LineCall
from majlis.errors import N_, DomainError, InvalidInput
from majlis.numbers import whole_number
from web import labels
from web.api_models import ID_LIMIT
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import see_other
from web.pages import render

routes = web.RouteTableDef()

AGENTS = (Role.EMERGENCY_AGENT,)
# Supervisors at the ministry read the queue (how the line is answered), agents act on it.
READERS = (Role.EMERGENCY_AGENT, Role.CONSULAR_SUPERVISOR)
PAGE = "/emergency/calls"
# The agent screen (web pages of the reports) reads `phone` to fill in the caller's number, and `call`.
NEW_REPORT = "/emergency/reports/new"
DONE: Mapping[str, str] = {
    "take": N_("The callback is yours: call the caller back, then record what came of it."),
    "called-back": N_("The callback is recorded."),
}


def call_id(request: web.Request) -> int:
    """The call in the path; a number past any id (thousands of digits too) names no call."""
    value = whole_number(request.match_info["call_id"])
    if value is None or value > ID_LIMIT:
        raise calls.LineCallNotFound()
    return value


def new_report_url(call: LineCall) -> str:
    """The agent screen, with the caller's number (when known) and the call filled in."""
    query = {"phone": call.caller} if call.caller else {}
    return f"{NEW_REPORT}?{urlencode({**query, 'call': str(call.id)})}"


@dataclass(frozen=True)
class CallerPlace:
    """Where the caller's number is from: the country, and their time now when it has one zone."""

    country: str
    local_time: str


def caller_place(phone: str, language: str, now: datetime) -> CallerPlace:
    """The country of the number in the reader's language, and the caller's local time now (for a callback at
    a decent hour) when the country keeps one time zone (Australia keeps several: none is guessed)."""
    if not phone:
        return CallerPlace("", "")
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return CallerPlace("", "")
    region = phonenumbers.region_code_for_number(number) or ""
    country = str(Locale.parse(language).territories.get(region, "")) if region else ""
    zones = [z for z in phone_zones.time_zones_for_number(number) if z != "Etc/Unknown"]
    local = ""
    if len(zones) == 1:
        local = format_time(now.astimezone(ZoneInfo(zones[0])), format="short", locale=language)
    return CallerPlace(country, local)


async def calls_page(
    request: web.Request,
    *,
    form_error: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    failed: int | None = None,
    status: int = 200,
) -> web.Response:
    queue = await calls.agent_queue(session=request[DB])
    user = signed_in_user(request)
    language, now = request[LANGUAGE], request.app[CLOCK].now()
    done = request.query.get("done", "")
    context: dict[str, Any] = {
        "queue": queue,
        "me": user.id,
        "can_act": user.role in (*AGENTS, Role.ADMINISTRATOR),
        "place": lambda phone: caller_place(phone, language, now),
        "new_report_url": new_report_url,
        "notice": DONE.get(done) if not failed and not form_error else None,
        "form_error": form_error,
        "errors": errors or {},
        "values": values or {},
        "failed": failed,
        "max_note": calls.MAX_NOTE,
        "languages": labels.LANGUAGES,
    }
    return render(request, "emergency/calls.html", context, status=status)


@routes.get(PAGE)
@requires(*READERS)
async def calls_list(request: web.Request) -> web.Response:
    return await calls_page(request)


async def _act(request: web.Request, name: str) -> web.Response:
    """Runs one step on a call; a refusal shows the queue again with the reason in place, nothing changed."""
    try:
        number = call_id(request)
    except calls.LineCallNotFound as exc:
        raise web.HTTPNotFound() from exc
    form = await request.post()
    fields = {key: str(value) for key, value in form.items() if key != "csrf_token"}
    session, catalogs, language = request[DB], request.app[CATALOGS], request[LANGUAGE]
    actor = signed_in_user(request).id
    try:
        if name == "take":
            await calls.take_callback(session=session, clock=request.app[CLOCK], call_id=number, actor_id=actor)
        else:
            await calls.called_back(
                session=session,
                clock=request.app[CLOCK],
                call_id=number,
                actor_id=actor,
                note=fields.get("note", ""),
                report_number=fields.get("report_number", ""),
            )
    except InvalidInput as exc:
        await session.rollback()
        errors = errors_by_field(catalogs, language, exc.errors)
        return await calls_page(request, errors=errors, values=fields, failed=number, status=422)
    except calls.LineCallNotFound as exc:
        await session.rollback()
        raise web.HTTPNotFound() from exc
    except DomainError as exc:
        await session.rollback()
        message = domain_message(catalogs, language, exc)
        return await calls_page(request, form_error=message, failed=number, status=409)
    return see_other(f"{PAGE}?done={name}#call-{number}")


@routes.post(PAGE + "/{call_id:\\d+}/take")
@requires(*AGENTS)
async def take(request: web.Request) -> web.Response:
    return await _act(request, "take")


@routes.post(PAGE + "/{call_id:\\d+}/called-back")
@requires(*AGENTS)
async def called_back(request: web.Request) -> web.Response:
    return await _act(request, "called-back")
