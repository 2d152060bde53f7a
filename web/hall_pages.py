"""The hall on audience day: the official's in-person console (Call next, the outcome) and the hall's screen.

The screen (`/hall/{branch}/screen`) is public and shows queue numbers only, never
names; it asks `/hall/{branch}/now.json` every few seconds (web/static/hall_screen.js),
so a press of Call next reaches it within that time without a socket per screen.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from accounts.roles import Role
from audience_day import hall
from audience_day.models import HallAudience, Outcome
from cases import service as cases
from majlis.errors import N_, DomainError, InvalidInput
from rooms import service as rooms
from scheduler.models import AudienceSession
from web import labels, personal_data
from web.auth import requires, signed_in_user
from web.department_choices import department_choices, joined_codes, named, names_by_code
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.middleware import see_other
from web.notices import done, notice
from web.pages import render
from web.public import status_url

routes = web.RouteTableDef()
CALLED_IN = notice(N_("The next applicant was called in."))
NOBODY_LEFT = notice(N_("The audience was ended; nobody else is waiting."))
OUTCOME_RECORDED = notice(N_("The outcome of the audience was recorded."))
DIRECTIVE_LIMIT = 4000


async def _console(
    request: web.Request, *, errors: dict[int, str] | None = None, values: dict[str, str] | None = None,
    notice: str | None = None, status: int = 200,
) -> web.Response:  # fmt: skip
    session, clock = request[DB], request.app[CLOCK]
    blocks: list[dict[str, Any]] = []
    for audience_session in await hall.in_person_sessions(session=session, clock=clock):
        line = await hall.order_of_day(session=session, session_id=audience_session.id)
        # Names and texts: only requests within the reader's need to know, each view logged.
        visible = await personal_data.seen_in_list(request, [item.case.id for item in line])
        line = [item for item in line if item.case.id in visible]
        current = await hall.current_audience(session=session, session_id=audience_session.id)
        if current is not None and all(item.appointment.id != current.appointment_id for item in line):
            current = None
        history = {
            item.case.id: await cases.history(session=session, case_id=item.case.id)
            for item in line
            if item.audience is not None
        }
        blocks.append(
            {
                "session": audience_session,
                "line": line,
                "current": current,
                "waiting": [item for item in line if item.waiting],
                "heard": [item for item in line if item.audience is not None],
                "history": history,
            }
        )
    language = request[LANGUAGE]
    names = await names_by_code(session=session, language=language)
    context = {
        "blocks": blocks,
        "departments": await department_choices(session=session, language=language),
        # A recorded referral names its departments by code; the official reads their names.
        "department_names": lambda codes: named(codes, names, language),
        "outcomes": labels.OUTCOMES,
        "labels": labels,
        "errors": errors or {},
        "values": values or {},
        "notice": notice,
        "now": clock.now(),
    }
    return render(request, "hall/official.html", context, status=status)


@routes.get("/official/hall")
@requires(Role.OFFICIAL)
async def console(request: web.Request) -> web.Response:
    """The day's in-person queue: who is before the official, who waits, Call next, the outcome."""
    notice = None
    if request.query.get("stale"):
        notice = request.app[CATALOGS].gettext(
            request[LANGUAGE], N_("The queue had already moved; nobody else was called. This is who is before you now.")
        )
    return await _console(request, notice=notice)


def _int_or_none(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


@routes.post("/official/hall/sessions/{session_id:\\d+}/next")
@requires(Role.OFFICIAL)
async def call_next(request: web.Request) -> web.Response:
    form = await request.post()
    if await request[DB].get(AudienceSession, int(request.match_info["session_id"])) is None:
        raise web.HTTPNotFound()
    if signed_in_user(request).role is not Role.OFFICIAL:
        raise web.HTTPForbidden()  # the official calls his own audience
    try:
        result = await hall.call_next(
            session=request[DB],
            clock=request.app[CLOCK],
            session_id=int(request.match_info["session_id"]),
            current_id=_int_or_none(form.get("current")),
            actor_id=signed_in_user(request).id,
        )
    except hall.QueueRefused as refused:
        await request[DB].rollback()
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], refused)
        return await _console(request, notice=message, status=409)
    if not result.moved:
        return see_other("/official/hall?stale=1")  # the console says the queue had moved (in place of a notice)
    return done(request, "/official/hall", CALLED_IN if result.current is not None else NOBODY_LEFT)


@routes.post("/official/hall/audiences/{audience_id:\\d+}/outcome")
@requires(Role.OFFICIAL)
async def record_outcome(request: web.Request) -> web.Response:
    form = await request.post()
    audience_id = int(request.match_info["audience_id"])
    values = {key: str(form.get(key, "")) for key in ("outcome", "directive")}
    # One box per department; the domain reads their codes as one string.
    codes = [str(code) for code in form.getall("referred_to", [])]
    values["referred_to"] = ", ".join(codes)
    catalogs, language, session = request.app[CATALOGS], request[LANGUAGE], request[DB]
    if await session.get(HallAudience, audience_id) is None:
        raise web.HTTPNotFound()
    if signed_in_user(request).role is not Role.OFFICIAL:
        raise web.HTTPForbidden()  # the directive is the official's own
    message: str | None = None
    if values["outcome"] not in labels.OUTCOMES:
        message = catalogs.gettext(language, N_("Choose the outcome."))
    elif len(values["directive"]) > DIRECTIVE_LIMIT:
        message = catalogs.gettext(language, N_("The directive is too long."))
    else:
        try:
            await hall.record_outcome(
                session=session,
                clock=request.app[CLOCK],
                audience_id=audience_id,
                outcome=Outcome(values["outcome"]),
                directive=values["directive"],
                referred_to=joined_codes(codes),
                actor_id=signed_in_user(request).id,
                status_url=status_url(request),
            )
        except InvalidInput as exc:
            # An unknown or retired department, or too many: named in the reader's language.
            message = " ".join(errors_by_field(catalogs, language, exc.errors).values())
        except DomainError as refused:
            message = domain_message(catalogs, language, refused)
    if message is not None:
        await session.rollback()
        values["audience_id"] = str(audience_id)
        return await _console(request, errors={audience_id: message}, values=values, status=422)
    return done(request, f"/official/hall#hall-audience-{audience_id}", OUTCOME_RECORDED)


# --- the hall's screen -------------------------------------------------------------------------


async def _branch(request: web.Request) -> str:
    code = request.match_info["branch"]
    if code not in {b.code for b in await rooms.branches(session=request[DB])}:
        raise web.HTTPNotFound()
    return code


async def _serving(request: web.Request, branch: str) -> list[dict[str, Any]]:
    session, clock = request[DB], request.app[CLOCK]
    shown = []
    for audience_session in await hall.in_person_sessions(session=session, clock=clock, branch_code=branch):
        now = await hall.now_serving(session=session, session_id=audience_session.id)
        shown.append({"session": audience_session.id, "serving": now.serving, "waiting": now.waiting[:12]})
    return shown


@routes.get("/hall/{branch}/screen")
async def screen(request: web.Request) -> web.Response:
    """The hall's big screen: the number now serving and the next ones, in large Arabic text."""
    branch = await _branch(request)
    response = render(request, "hall/screen.html", {"branch": branch, "sessions": await _serving(request, branch)})
    response.headers["Cache-Control"] = "no-store"
    return response


@routes.get("/hall/{branch}/now.json")
async def now_json(request: web.Request) -> web.Response:
    branch = await _branch(request)
    return web.json_response({"sessions": await _serving(request, branch)}, headers={"Cache-Control": "no-store"})
