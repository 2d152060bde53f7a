"""The date picker's months: GET /api/v1/calendar/month, a month of the Umm al-Qura or the Gregorian calendar with
each day in both, for any member of staff (the picker sits on holiday, unavailable-day and report-period forms).

The conversions are hijridate's Umm al-Qura table, the one the server reads typed Hijri dates with, so the picker
and the server never disagree by a day (a browser's own Islamic calendar may). Outside the table: a bilingual 422.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from babel.dates import format_date, get_day_names
from hijridate import Hijri

from accounts.roles import Role
from majlis import hijri
from majlis.clock import riyadh
from majlis.dates import dual_date, hijri_month_names
from majlis.errors import N_, FieldError, InvalidInput
from web.auth import requires
from web.errors import invalid_input
from web.keys import CLOCK, LANGUAGE
from web.pages import gettext_for

routes = web.RouteTableDef()

# The same words as a report's Hijri month (followup.periods.HIJRI_MONTH): "Jumada al-Akhirah 1448 AH".
HIJRI_MONTH = N_("{month} {year} AH")
# The Saudi week begins on Sunday; babel numbers Monday 0.
_SUNDAY_FIRST = (6, 0, 1, 2, 3, 4, 5)


def _number(query: Any, name: str) -> int:
    text = str(query.get(name, "")).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4):
        raise InvalidInput([FieldError(name, "invalid_number", N_("The year and the month must be whole numbers."))])
    return int(text)


def _asked(request: web.Request) -> hijri.Month:
    """The month in the query: ?calendar=hijri|gregorian and either ?year=&month= or ?day= (the month holding that
    day, typed in either calendar; else today's)."""
    query = request.query
    asked = query.get("calendar", "hijri")
    calendar: hijri.Calendar = "gregorian" if asked == "gregorian" else "hijri"
    if asked != calendar:
        raise InvalidInput([FieldError("calendar", "invalid_choice", N_("The calendar must be hijri or gregorian."))])
    if "year" in query or "month" in query:
        return hijri.month(calendar, _number(query, "year"), _number(query, "month"))
    around = hijri.read_optional_day(query.get("day"), field="day")
    return hijri.month_around(calendar, around or riyadh(request.app[CLOCK].now()).date())


def _title(shown: hijri.Month, language: str, say: Any) -> str:
    if shown.calendar == "hijri":
        name = Hijri(shown.year, shown.month, 1).month_name(hijri_month_names(language))
        return str(say(HIJRI_MONTH, month=name, year=shown.year))
    return format_date(shown.days[0], format="MMMM y", locale=language)


def _other_title(shown: hijri.Month, language: str, say: Any) -> str:
    """The other calendar's months the shown one spans, e.g. "November – December 2026"."""
    first, last = shown.days[0], shown.days[-1]
    if shown.calendar == "hijri":
        names = [format_date(day, format="MMMM y", locale=language) for day in (first, last)]
    else:
        names = []
        for day in (first, last):
            year, number, _ = hijri.hijri_of(day)
            name = Hijri(year, number, 1).month_name(hijri_month_names(language))
            names.append(str(say(HIJRI_MONTH, month=name, year=year)))
    return names[0] if names[0] == names[1] else f"{names[0]} – {names[1]}"


def _day(day: date, language: str) -> dict[str, Any]:
    year, month, number = hijri.hijri_of(day)
    return {
        "iso": day.isoformat(),
        "hijri": f"{year:04d}-{month:02d}-{number:02d}",
        "gregorian_day": day.day,
        "hijri_day": number,
        # Sunday 0 … Saturday 6, the column the day stands in.
        "column": (day.weekday() + 1) % 7,
        "label": dual_date(day, language),
    }


@routes.get("/api/v1/calendar/month")
@requires(*Role)
async def calendar_month(request: web.Request) -> web.Response:
    """A month of either calendar, each day with its Gregorian ISO date, its Hijri date and both in words."""
    language = request[LANGUAGE]
    say = gettext_for(request)
    try:
        shown = _asked(request)
        asked = hijri.read_optional_day(request.query.get("day"), field="day")
    except InvalidInput as exc:
        return invalid_input(request, exc.errors)
    names = get_day_names("abbreviated", locale=language)
    full = get_day_names("wide", locale=language)
    body = {
        "calendar": shown.calendar,
        "year": shown.year,
        "month": shown.month,
        "title": _title(shown, language, say),
        "other_title": _other_title(shown, language, say),
        "weekdays": [{"short": names[n], "name": full[n]} for n in _SUNDAY_FIRST],
        # The day asked for by ?day=, as a Gregorian ISO date (the picker shows it beside a typed field).
        "asked": asked.isoformat() if asked else None,
        "today": riyadh(request.app[CLOCK].now()).date().isoformat(),
        "days": [_day(day, language) for day in shown.days],
        "previous": {"year": shown.previous[0], "month": shown.previous[1]} if shown.previous else None,
        "next": {"year": shown.next[0], "month": shown.next[1]} if shown.next else None,
    }
    return web.json_response(body)
