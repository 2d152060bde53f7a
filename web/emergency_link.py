"""The duty officer's page behind the signed link of an alert (/e/{token}, no account): the report as the officer
needs it (the citizen's phone and account first), Acknowledge with the officer's name, and news afterwards.

The token names the report and its generation (notify/links.py): a link of a report since sent to another
mission is gone (410, saying so), a token not ours is not found (404). The token is the only proof, so the
pages are kept out of search engines, Referer headers and caches, and carry no staff navigation; whoever opens
a refusal may read either language, so it is given in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from emergency import lifecycle, reports
from emergency.models import EmergencyReport
from majlis.errors import N_, DomainError, InvalidInput
from notify.links import LinkRefused
from web import labels
from web.emergency_agent import bilingual_errors, words
from web.emergency_view import CLOSED
from web.errors import bilingual
from web.keys import CATALOGS, CLOCK, DB, LINKS
from web.pages import render

routes = web.RouteTableDef()

LINK_NOT_VALID = N_(
    "This link is not valid. Check that the whole link was copied from the message, or call the ministry's "
    "emergency line."
)
MOVED_ON = N_("This link is no longer valid: the report has been sent to another mission.")
DONE: Mapping[str, str] = {
    "acknowledge": N_("Thank you. The report is acknowledged: the escalation has stopped and the mission has it."),
    "update": N_("Your news is in the report's history."),
}


def _private(response: web.Response) -> web.Response:
    """The token is in the address: no Referer to other sites, no search engine, no cache."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(request: web.Request, template: str, context: Mapping[str, Any], status: int = 200) -> web.Response:
    # The language switch reloads the report's page (a post's answer cannot be reloaded).
    token = request.match_info["token"]
    context = {"switch_to": f"/e/{token}", "token": token, **context}
    return _private(render(request, template, context, status=status))


def _refused(request: web.Request, message: str, status: int, **params: str) -> web.Response:
    messages = bilingual(request.app[CATALOGS], message, **params)
    # A step refused by the report's state (acknowledged already …) leads back to the report; a dead link does not.
    back = f"/e/{request.match_info['token']}" if status == 409 else None
    context = {"messages": messages, "status": status, "back": back}
    return _page(request, "emergency/link_refused.html", context, status)


async def _report(request: web.Request) -> tuple[EmergencyReport, int] | web.Response:
    """The report and the link's generation, or the page saying why the link opens nothing."""
    try:
        report_id, generation = request.app[LINKS].check_emergency_token(request.match_info["token"])
    except LinkRefused:
        return _refused(request, LINK_NOT_VALID, 404)
    report = await reports.get(session=request[DB], report_id=report_id)
    if report is None:
        return _refused(request, LINK_NOT_VALID, 404)
    if report.generation != generation:
        return _refused(request, MOVED_ON, 410)
    return report, generation


async def _show(
    request: web.Request,
    report: EmergencyReport,
    *,
    failed: str = "",
    errors: Mapping[str, Mapping[str, str]] | None = None,
    values: Mapping[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> web.Response:
    said = words(request)
    found = await reports.missions_by_id(session=request[DB], ids=[report.mission_id])
    mission = found[report.mission_id]
    done = request.query.get("done", "") if request.method == "GET" else ""
    context = {
        "report": report,
        "line": said.line(report, mission),
        "mission": mission,
        "labels": labels,
        "closed": report.state in CLOSED,
        "notice": DONE.get(done),
        "failed": failed,
        "errors": {field: messages[said.language] for field, messages in (errors or {}).items()},
        "both_errors": errors or {},
        "values": values or {"by": report.acknowledged_by},
        "form_error": form_error,
    }
    return _page(request, "emergency/link.html", context, status)


@routes.get("/e/{token}")
async def link_page(request: web.Request) -> web.Response:
    found = await _report(request)
    if isinstance(found, web.Response):
        return found
    return await _show(request, found[0])


async def _step(request: web.Request, name: str) -> web.Response:
    found = await _report(request)
    if isinstance(found, web.Response):
        return found
    report, generation = found
    # Read before the step: a rollback expires the row, and it is read afresh for the page.
    report_id = report.id
    form = await request.post()
    fields = {key: str(form.get(key, "")) for key in ("by", "note")}
    session = request[DB]
    try:
        if name == "acknowledge":
            await lifecycle.acknowledge(
                session=session,
                clock=request.app[CLOCK],
                report_id=report_id,
                generation=generation,
                by=fields["by"],
                actor_id=None,
            )
        else:
            await lifecycle.post_update(
                session=session,
                clock=request.app[CLOCK],
                report_id=report_id,
                generation=generation,
                note=fields["note"],
                by=fields["by"],
                actor_id=None,
            )
    except InvalidInput as exc:
        await session.rollback()
        errors = bilingual_errors(request, exc.errors)
        again = await reports.get(session=session, report_id=report_id)
        assert again is not None
        return await _show(request, again, failed=name, errors=errors, values=fields, status=422)
    except lifecycle.LinkMovedOn:
        await session.rollback()
        return _refused(request, MOVED_ON, 410)
    except DomainError as exc:
        await session.rollback()
        return _refused(request, exc.message, 409, **exc.params)
    raise web.HTTPSeeOther(f"/e/{request.match_info['token']}?done={name}#result")


@routes.post("/e/{token}/acknowledge")
async def link_acknowledge(request: web.Request) -> web.Response:
    return await _step(request, "acknowledge")


@routes.post("/e/{token}/update")
async def link_update(request: web.Request) -> web.Response:
    return await _step(request, "update")
