"""Working calendars: administrators set each calendar's zone, weekly hours and holidays; follow-up reads them.

The official's days off (the "audiences" calendar) are shown here but declared
on protocol's holidays page, which also moves that day's audiences.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from majlis.errors import N_, DomainError, InvalidInput
from web import labels
from web.auth import requires
from web.errors import domain_message
from web.followup_directory import READERS, actor, can_edit, field_errors, form_values, not_found
from web.keys import CATALOGS, CLOCK, DB, LANGUAGE
from web.notices import done, notice
from web.pages import render
from worktime import editing
from worktime.editing import CalendarInput, HoursInput
from worktime.models import AUDIENCES

routes = web.RouteTableDef()
CALENDAR_FIELDS = ("code", "name_ar", "name_en", "time_zone")
HOURS_FIELDS = ("weekday", "opens", "closes")
HOLIDAY_FIELDS = ("day", "name")

CALENDAR_ADDED = notice(N_("The calendar {name} was added. Set its working hours below."))
CALENDAR_SAVED = notice(N_("The calendar was saved."))
HOURS_ADDED = notice(N_("The working hours were added."))
HOURS_REMOVED = notice(N_("The working hours were removed."))
HOLIDAY_ADDED = notice(N_("The holiday was added."))
HOLIDAY_REMOVED = notice(N_("The holiday was removed."))


def _calendar_input(form: Any, code: str | None = None) -> tuple[CalendarInput, dict[str, str]]:
    values = form_values(form, CALENDAR_FIELDS)
    if code is not None:
        values["code"] = code
    always_open = form.get("always_open") == "1"
    values["always_open"] = "1" if always_open else ""
    data = CalendarInput(values["code"], values["name_ar"], values["name_en"], values["time_zone"], always_open)
    return data, values


@routes.get("/followup/calendars")
@requires(*READERS)
async def calendars(request: web.Request) -> web.Response:
    return await _list_page(request, {"time_zone": "Asia/Riyadh"}, {})


async def _list_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    context = {
        "calendars": await editing.calendars(session=request[DB]),
        "values": values,
        "errors": errors,
        "editable": can_edit(request),
    }
    return render(request, "directory/calendars.html", context, status=status)


@routes.post("/followup/calendars")
@requires()
async def add_calendar(request: web.Request) -> web.Response:
    data, values = _calendar_input(await request.post())
    try:
        made = await editing.add_calendar(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), data=data
        )
    except InvalidInput as exc:
        return await _list_page(request, values, field_errors(request, exc), 422)
    return done(request, f"/followup/calendars/{made.code}#hours", CALENDAR_ADDED, name=made.name_in(request[LANGUAGE]))


async def _calendar_page(
    request: web.Request,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int = 200,
) -> web.Response:
    try:
        view = await editing.view(session=request[DB], code=request.match_info["code"])
    except DomainError as exc:
        raise not_found(exc) from None
    calendar = view.calendar
    shown = {
        "name_ar": calendar.name_ar,
        "name_en": calendar.name_en,
        "time_zone": calendar.time_zone,
        "always_open": "1" if calendar.always_open else "",
        "weekday": "6",
        **(values or {}),
    }
    context = {
        "view": view,
        "official": calendar.code == AUDIENCES,
        "values": shown,
        "errors": errors or {},
        "form_error": form_error,
        "editable": can_edit(request),
        "labels": labels,
        # The days by their names in the reader's language (the select shows what it is given).
        "weekdays": [
            (str(number), request.app[CATALOGS].gettext(request[LANGUAGE], name))
            for number, name in labels.WEEKDAYS.items()
        ],
    }
    return render(request, "directory/calendar.html", context, status=status)


@routes.get("/followup/calendars/{code}")
@requires(*READERS)
async def calendar_page(request: web.Request) -> web.Response:
    return await _calendar_page(request)


async def _changed(
    request: web.Request, change: Any, values: dict[str, str], anchor: str, message: str
) -> web.Response:
    """Runs a change of the calendar in the path; refusals show on its page, in place; what was done, on it once."""
    code = request.match_info["code"]
    try:
        await change(code)
    except InvalidInput as exc:
        return await _calendar_page(request, values=values, errors=field_errors(request, exc), status=422)
    except DomainError as exc:
        if exc.code.endswith("not_found"):
            raise web.HTTPNotFound() from None
        # The official's days off: refused here with the way to protocol's page (nothing changed).
        message = domain_message(request.app[CATALOGS], request[LANGUAGE], exc)
        return await _calendar_page(request, form_error=message, status=409)
    return done(request, f"/followup/calendars/{code}#{anchor}", message)


@routes.post("/followup/calendars/{code}")
@requires()
async def update_calendar(request: web.Request) -> web.Response:
    data, values = _calendar_input(await request.post(), request.match_info["code"])

    async def change(code: str) -> None:
        await editing.update_calendar(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), code=code, data=data
        )

    return await _changed(request, change, values, "top", CALENDAR_SAVED)


@routes.post("/followup/calendars/{code}/hours")
@requires()
async def add_hours(request: web.Request) -> web.Response:
    values = form_values(await request.post(), HOURS_FIELDS)

    async def change(code: str) -> None:
        await editing.add_hours(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), code=code, data=HoursInput(**values)
        )

    return await _changed(request, change, values, "hours", HOURS_ADDED)


@routes.post("/followup/calendars/{code}/hours/{hours_id:\\d{1,9}}/remove")
@requires()
async def remove_hours(request: web.Request) -> web.Response:
    hours_id = int(request.match_info["hours_id"])

    async def change(code: str) -> None:
        await editing.remove_hours(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), code=code, hours_id=hours_id
        )

    return await _changed(request, change, {}, "hours", HOURS_REMOVED)


@routes.post("/followup/calendars/{code}/holidays")
@requires()
async def add_holiday(request: web.Request) -> web.Response:
    values = form_values(await request.post(), HOLIDAY_FIELDS)

    async def change(code: str) -> None:
        await editing.add_holiday(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), code=code, **values
        )

    return await _changed(request, change, values, "holidays", HOLIDAY_ADDED)


@routes.post("/followup/calendars/{code}/holidays/{day}/remove")
@requires()
async def remove_holiday(request: web.Request) -> web.Response:
    day = request.match_info["day"]

    async def change(code: str) -> None:
        await editing.remove_holiday(
            session=request[DB], clock=request.app[CLOCK], actor_id=actor(request), code=code, day=day
        )

    return await _changed(request, change, {}, "holidays", HOLIDAY_REMOVED)
