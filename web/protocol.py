"""Protocol staff: the official's calendar, templates, holidays, busy times, the allocation and the 30-day target."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, timedelta
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from accounts import audit
from accounts.roles import Role
from majlis.errors import N_, DomainError, InvalidInput
from majlis.hijri import read_day
from rooms import service as rooms
from scheduler import busy as busy_feed
from scheduler import by_hand as manual
from scheduler import calendar, changes, target
from scheduler import service as scheduling
from scheduler.models import AudienceSession
from web import labels, personal_data
from web.auth import requires, signed_in_user
from web.errors import domain_message
from web.intake_forms import errors_by_field
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE, SETTINGS
from web.notices import done, notice
from web.pages import render
from web.protocol_calendar import MOVE_FIELDS, by_hand_from_form, calendar_page
from web.public import status_url
from web.security import safe_local_path

routes = web.RouteTableDef()
PROTOCOL = (Role.PROTOCOL,)
TEMPLATE_FIELDS = ("name", "weekday", "starts", "ends", "slot_minutes", "capacity", "mode")
# Why a calendar file could not be read, for the protocol page.
UNREADABLE = {
    "too_large": N_("The calendar file is too large, or repeats too many events."),
    "not_utf8": N_("The calendar file is not UTF-8 text."),
    "not_icalendar": N_("The file is not an iCalendar (.ics) calendar."),
    "no_events": N_("The calendar has no events."),
    "bad_event": N_("An event in the calendar has a missing or malformed start, end or duration."),
    "bad_recurrence": N_("A repeating event in the calendar has a rule that cannot be read."),
    "unknown_timezone": N_("The calendar uses a time zone that is not known."),
    "unreachable": N_("The calendar address could not be read."),
}
WEEKDAYS = {6: N_("Sunday"), 0: N_("Monday"), 1: N_("Tuesday"), 2: N_("Wednesday"), 3: N_("Thursday")}
# What the calendar's own actions leave on the page they redirect to (web.notices).
RAN = notice(N_("Sessions made: {made}. Requests placed: {placed}; still waiting: {waiting}."))
CANCELLED = notice(N_("The session is cancelled; {placed} requests were placed again."))
TEMPLATE_ADDED = notice(N_("The template is saved; its sessions are in the calendar."))
TEMPLATE_STOPPED = notice(N_("The template is stopped; no new sessions will be made from it."))
TEMPLATE_RESUMED = notice(N_("The template is in use again."))
EXTRA_ADDED = notice(N_("The extra session is added to the calendar."))
BUSY_READ = notice(N_("{events} busy times read; {blocked} slots blocked."))
PLACED = notice(N_("The request is placed; the applicant is told."))
PLACED_ON_DIRECTIVE = notice(
    N_("The request is placed on the official's directive; the applicant is told by message and called.")
)
HOLIDAY_REMOVED = notice(N_("The holiday is removed; that day's sessions are back in the calendar."))
HOLIDAY_ADDED = notice(N_("The holiday is saved; that day's sessions are cancelled and their applicants told."))
SESSION_LOCKED = notice(N_("The session is locked: the automatic allocation leaves it as it is."))
SESSION_UNLOCKED = notice(N_("The session is unlocked."))
TEMPLATE_DEFAULTS = {"slot_minutes": "8", "capacity": "1", "mode": "in_person", "weekday": "6"}
EXTRA_DEFAULTS = {"slot_minutes": "8", "capacity": "1", "mode": "in_person"}
# The box protocol ticks to keep hours outside the working hours (scheduler.calendar.OUTSIDE_HOURS).
OUTSIDE_HOURS_FIELD = "outside_hours_confirmed"


def _message(request: web.Request, message: str, **params: str) -> str:
    return request.app[CATALOGS].gettext(request[LANGUAGE], message, **params)


@routes.post("/protocol/allocate")
@requires(*PROTOCOL)
async def allocate(request: web.Request) -> web.Response:
    session, clock = request[DB], request.app[CLOCK]
    made = await calendar.generate_sessions(session=session, clock=clock)
    report = await scheduling.run_allocation(
        session=session,
        clock=clock,
        actor_id=signed_in_user(request).id,
        status_url=status_url(request),
        horizon=request.app[SETTINGS].allocation_horizon,
    )
    return done(request, "/protocol", RAN, made=made, placed=report.placed, waiting=report.unplaced)


@routes.post("/protocol/sessions/{session_id:\\d+}/cancel")
@requires(*PROTOCOL)
async def cancel_session(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        report = await changes.cancel_session(
            session=request[DB],
            clock=request.app[CLOCK],
            session_id=int(request.match_info["session_id"]),
            actor_id=signed_in_user(request).id,
            reason=str(form.get("reason", "")),
            status_url=status_url(request),
            horizon=request.app[SETTINGS].allocation_horizon,
        )
    except (InvalidInput, DomainError) as exc:
        return await _refused(request, exc)
    return done(request, "/protocol", CANCELLED, placed=report.placed)


@routes.post("/protocol/sessions/{session_id:\\d+}/lock")
@requires(*PROTOCOL)
async def lock_session(request: web.Request) -> web.Response:
    form = await request.post()
    dated = await request[DB].get(AudienceSession, int(request.match_info["session_id"]))
    if dated is None:
        raise web.HTTPNotFound()
    dated.locked = form.get("locked") == "1"
    await audit.record(
        session=request[DB],
        clock=request.app[CLOCK],
        actor_id=signed_in_user(request).id,
        action="calendar.session.lock" if dated.locked else "calendar.session.unlock",
        target_type="audience_session",
        target_id=dated.id,
    )
    back = safe_local_path(str(form.get("back", ""))) or "/protocol"
    return done(request, back, SESSION_LOCKED if dated.locked else SESSION_UNLOCKED)


async def _change_by_hand(
    request: web.Request,
    change: Callable[[manual.ByHand], Awaitable[object]],
    told: str,
    told_on_directive: str,
) -> web.Response:
    """Makes a move or placement by hand as the form asks; the calendar again, saying what was done (and, on the
    official's directive, that the applicant is called), or why it was refused."""
    posted = await request.post()
    by_hand = by_hand_from_form(request, {name: str(posted.get(name, "")) for name in MOVE_FIELDS})
    try:
        await change(by_hand)
    except (InvalidInput, DomainError) as exc:
        return await _refused(request, exc)
    return done(request, "/protocol", told_on_directive if by_hand.directive else told)


@routes.post("/protocol/place")
@requires(*PROTOCOL)
async def place_request(request: web.Request) -> web.Response:
    """Places a waiting request in a seat chosen by hand, on the official's directive inside the three days."""
    tracking_number = str((await request.post()).get("tracking_number", ""))
    return await _change_by_hand(
        request,
        lambda by_hand: manual.place_by_hand(
            session=request[DB], clock=request.app[CLOCK], tracking_number=tracking_number, by_hand=by_hand
        ),
        PLACED,
        PLACED_ON_DIRECTIVE,
    )


async def _refused(request: web.Request, exc: Exception) -> web.Response:
    await request[DB].rollback()
    if isinstance(exc, InvalidInput):
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await calendar_page(request, errors=errors, form_error=" ".join(errors.values()), status=422)
    assert isinstance(exc, DomainError)
    return await calendar_page(
        request, form_error=domain_message(request.app[CATALOGS], request[LANGUAGE], exc), status=422
    )


async def _templates_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200, form: str = ""
) -> web.Response:
    """The templates page; after a refused form (`form`: "template" or "extra") its values and errors, each form
    showing its own, and the "yes, outside working hours" box where its hours were outside them."""
    session = request[DB]
    extra = form == "extra"
    context = {
        "templates": await calendar.templates(session=session),
        "rooms": await rooms.rooms(session=session, active_only=True),
        "values": TEMPLATE_DEFAULTS if extra else values,
        "errors": {} if extra else errors,
        "extra_values": values if extra else EXTRA_DEFAULTS,
        "extra_errors": errors if extra else {},
        "failed": form,
        "labels": labels,
        "weekdays": WEEKDAYS,
        "outside_hours_field": OUTSIDE_HOURS_FIELD,
    }
    return render(request, "protocol/templates.html", context, status=status)


@routes.get("/protocol/templates")
@requires(*PROTOCOL)
async def templates(request: web.Request) -> web.Response:
    return await _templates_page(request, TEMPLATE_DEFAULTS, {})


@routes.post("/protocol/templates")
@requires(*PROTOCOL)
async def add_template(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in TEMPLATE_FIELDS}
    room_ids = tuple(int(str(v)) for v in form.getall("rooms", []) if str(v).isascii() and str(v).isdigit())
    try:
        await calendar.add_template(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            data=calendar.TemplateInput(room_ids=room_ids, outside_hours_confirmed=_hours_confirmed(form), **values),
        )
    except InvalidInput as exc:
        values["rooms"] = ",".join(map(str, room_ids))  # ticked again on the page sent back
        return await _templates_page(
            request, values, errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors), 422, form="template"
        )
    await calendar.generate_sessions(session=request[DB], clock=request.app[CLOCK])
    return done(request, "/protocol/templates", TEMPLATE_ADDED)


def _hours_confirmed(form: Mapping[str, object]) -> bool:
    """Whether protocol ticked "yes, outside working hours" on the form."""
    return form.get(OUTSIDE_HOURS_FIELD) == "1"


@routes.post("/protocol/templates/{template_id:\\d+}/active")
@requires(*PROTOCOL)
async def set_template_active(request: web.Request) -> web.Response:
    form = await request.post()
    try:
        await calendar.set_template_active(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            template_id=int(request.match_info["template_id"]),
            active=form.get("active") == "1",
        )
    except InvalidInput as exc:
        await request[DB].rollback()
        errors = errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors)
        return await _templates_page(request, {}, errors, 422)
    if form.get("active") == "1":
        await calendar.generate_sessions(session=request[DB], clock=request.app[CLOCK])
        return done(request, "/protocol/templates", TEMPLATE_RESUMED)
    return done(request, "/protocol/templates", TEMPLATE_STOPPED)


@routes.post("/protocol/sessions/extra")
@requires(*PROTOCOL)
async def add_extra_session(request: web.Request) -> web.Response:
    form = await request.post()
    values = {name: str(form.get(name, "")) for name in TEMPLATE_FIELDS if name != "weekday"}
    room_ids = tuple(int(str(v)) for v in form.getall("rooms", []) if str(v).isascii() and str(v).isdigit())
    try:
        await calendar.add_extra_session(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            day=str(form.get("day", "")),
            data=calendar.TemplateInput(
                room_ids=room_ids, weekday="", outside_hours_confirmed=_hours_confirmed(form), **values
            ),
        )
    except InvalidInput as exc:
        values["day"] = str(form.get("day", ""))
        values["rooms"] = ",".join(map(str, room_ids))
        return await _templates_page(
            request, values, errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors), 422, form="extra"
        )
    return done(request, "/protocol", EXTRA_ADDED)


@routes.post("/protocol/holidays/{day}/remove")
@requires(*PROTOCOL)
async def remove_holiday(request: web.Request) -> web.Response:
    try:
        day = date.fromisoformat(request.match_info["day"])
        await calendar.remove_holiday(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, day=day
        )
    except (ValueError, InvalidInput):
        raise web.HTTPNotFound() from None
    await calendar.generate_sessions(session=request[DB], clock=request.app[CLOCK])
    # The page offers "Undo" for a short while (calendar.undoable_removal).
    return done(request, f"/protocol/holidays?removed={day.isoformat()}", HOLIDAY_REMOVED)


@routes.get("/protocol/holidays")
@requires(*PROTOCOL)
async def holidays(request: web.Request) -> web.Response:
    undo = None
    try:
        removed = date.fromisoformat(request.query.get("removed", ""))
    except ValueError:
        removed = None
    if removed is not None:
        name = await calendar.undoable_removal(
            session=request[DB], clock=request.app[CLOCK], actor_id=signed_in_user(request).id, day=removed
        )
        undo = {"day": removed.isoformat(), "name": name} if name else None
    return render(
        request,
        "protocol/holidays.html",
        {
            "holidays": await calendar.holidays(session=request[DB]),
            "values": {},
            "errors": {},
            "labels": labels,
            "undo": undo,
        },
    )


@routes.post("/protocol/holidays")
@requires(*PROTOCOL)
async def add_holiday(request: web.Request) -> web.Response:
    form = await request.post()
    values = {"day": str(form.get("day", "")), "name": str(form.get("name", ""))}
    try:
        day = read_day(values["day"], field="day")
        await changes.declare_holiday(
            session=request[DB],
            clock=request.app[CLOCK],
            actor_id=signed_in_user(request).id,
            day=day,
            name=values["name"],
            status_url=status_url(request),
            horizon=request.app[SETTINGS].allocation_horizon,
        )
    except InvalidInput as exc:
        context = {
            "holidays": await calendar.holidays(session=request[DB]),
            "values": values,
            "labels": labels,
            "errors": errors_by_field(request.app[CATALOGS], request[LANGUAGE], exc.errors),
            # The page's template reads it (no undo offered beside a refusal).
            "undo": None,
        }
        return render(request, "protocol/holidays.html", context, status=422)
    return done(request, "/protocol/holidays", HOLIDAY_ADDED)


MAX_FEED_BYTES = busy_feed.MAX_BYTES


async def _fetch(url: str, *, allow_private: bool) -> bytes:
    """The calendar at a URL, refused beyond the size a feed may have.

    Staff type the address, but the server fetches it: addresses inside the
    network (loopback, private, link-local) are refused unless settings allow
    them, so the form cannot be used to reach internal services.
    """
    if not allow_private and not await _public_host(url):
        raise busy_feed.CalendarUnreadable("not_icalendar")
    timeout = aiohttp.ClientTimeout(total=15)
    # No redirects: a public address could otherwise bounce the fetch inside the network.
    async with aiohttp.ClientSession(timeout=timeout) as client, client.get(url, allow_redirects=False) as response:
        if response.status != 200:
            raise busy_feed.CalendarUnreadable("not_icalendar")
        data = await response.content.read(MAX_FEED_BYTES + 1)
    return data


async def _public_host(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
        if not host:
            return False
        found = await asyncio.get_running_loop().getaddrinfo(host, None)
    except (OSError, ValueError, UnicodeError):
        return False
    addresses = {ipaddress.ip_address(info[4][0]) for info in found}
    return bool(addresses) and all(a.is_global for a in addresses)


@routes.post("/protocol/busy")
@requires(*PROTOCOL)
async def import_busy(request: web.Request) -> web.Response:
    """Reads the official's calendar (a file or an address) and blocks every slot it makes busy."""
    form = await request.post()
    upload = form.get("file")
    url = str(form.get("url", "")).strip()
    clock = request.app[CLOCK]
    try:
        if isinstance(upload, web.FileField):
            data = upload.file.read(MAX_FEED_BYTES + 1)
        elif url.startswith(("https://", "http://")):
            try:
                data = await _fetch(url, allow_private=request.app[SETTINGS].calendar_fetch_private)
            except (aiohttp.ClientError, TimeoutError, ValueError, UnicodeError):
                return await calendar_page(request, form_error=_message(request, UNREADABLE["unreachable"]), status=422)
        else:
            return await calendar_page(
                request, form_error=_message(request, N_("Choose a calendar file or give its address.")), status=422
            )
        now = clock.now()
        # Parsing a large feed takes seconds of CPU: off the event loop, so other requests go on.
        intervals = await asyncio.to_thread(
            busy_feed.busy_intervals, data, window_start=now, window_end=now + timedelta(weeks=calendar.WEEKS_AHEAD + 1)
        )
    except busy_feed.CalendarUnreadable as exc:
        return await calendar_page(request, form_error=_message(request, UNREADABLE[exc.reason]), status=422)
    blocked, _moved = await changes.import_busy_times(
        session=request[DB],
        clock=clock,
        actor_id=signed_in_user(request).id,
        busy=intervals,
        status_url=status_url(request),
        horizon=request.app[SETTINGS].allocation_horizon,
    )
    return done(request, "/protocol", BUSY_READ, events=len(intervals), blocked=blocked)


@routes.get("/protocol/target")
@requires(*PROTOCOL)
async def thirty_day_target(request: web.Request) -> web.Response:
    report = await target.target_report(session=request[DB], clock=request.app[CLOCK])
    # Each row counts; its tracking number only for requests within the reader's need to know (each view logged).
    visible = await personal_data.seen_in_list(request, [r.case.id for r in report.at_risk])
    return render(request, "protocol/target.html", {"report": report, "visible": visible, "labels": labels})
