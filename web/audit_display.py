"""How pages show a placement from the fairness chain to a person: the category's and the branch's name in the
reader's language instead of the codes the chain records, and moments short enough for a table cell.

The chain keeps codes (they are what was hashed); names come from the categories and branches tables at reading
time, a code no table knows any more shown as itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from babel.dates import format_date, format_time

from majlis.clock import riyadh
from majlis.dates import hijri_date
from web import fairness_files, labels
from web.keys import DB, LANGUAGE


def seat_time(value: str) -> datetime | None:
    """The seat's start as recorded (ISO 8601), for showing in both calendars; None if it cannot be read."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def short_moment(value: datetime, language: str) -> str:
    """Day, month, year and time in Riyadh ("7 Dec 2026 12:28 PM"): a listing's cell, the Hijri day beside it.

    The day and the time each hold together (no-break spaces); a narrow cell may put the time on a line of its own.
    """
    local = riyadh(value)
    day = format_date(local, format="d MMM y", locale=language)
    moment = format_time(local, format="short", locale=language)
    return f"{_unbroken(day)} {_unbroken(moment)}"


def _unbroken(text: str) -> str:
    return text.replace(" ", "\u00a0")


def hijri_day(value: datetime, language: str) -> str:
    """The moment's day in the Umm al-Qura calendar, Riyadh time."""
    return hijri_date(riyadh(value).date(), language)


async def placement_display(request: web.Request) -> dict[str, Any]:
    """What the placement templates (audit/_placement.html, audit/placements.html) call to show codes and times."""
    language = request.get(LANGUAGE, "ar")
    found = await fairness_files.names(session=request[DB])
    return {
        "labels": labels,
        "seat_time": seat_time,
        "category_name": lambda code: found.category(code, language),
        "branch_name": lambda code: found.branch(code, language),
        "short_moment": lambda value: short_moment(value, language),
        "hijri_day": lambda value: hijri_day(value, language),
    }
