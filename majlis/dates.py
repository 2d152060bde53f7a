"""Dates as people in Saudi Arabia read them: Gregorian and Umm al-Qura Hijri together."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from babel.dates import format_date, format_time
from hijridate import Gregorian

from majlis.clock import riyadh
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT, shipped_catalogs

# How each language writes a Hijri date and a day in both calendars: their Arabic in the catalogs ("AH" is the
# letter ha, the Gregorian day ends with mim and joins the Hijri one with "corresponding to").
HIJRI_DATE = N_("{day} {month} {year} AH")
DUAL_DATE = N_("{gregorian} ({hijri})")


def hijri_month_names(language: str) -> Literal["ar", "en"]:
    """Which of hijridate's month names a reader gets: the Arabic for a right-to-left language, else the English."""
    return "ar" if language in RIGHT_TO_LEFT else "en"


def hijri_date(day: date, language: str) -> str:
    """The Umm al-Qura date, e.g. "14 جمادى الآخرة 1448 هـ" or "14 Jumada al-Akhirah 1448 AH"."""
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    month = hijri.month_name(hijri_month_names(language))
    return shipped_catalogs().gettext(language, HIJRI_DATE, day=hijri.day, month=month, year=hijri.year)


def dual_date(value: date | datetime, language: str) -> str:
    """The day in both calendars; an aware datetime is first taken to Riyadh time."""
    day = riyadh(value).date() if isinstance(value, datetime) else value
    gregorian = format_date(day, format="full", locale=language)
    return shipped_catalogs().gettext(language, DUAL_DATE, gregorian=gregorian, hijri=hijri_date(day, language))


def dual_datetime(value: datetime, language: str) -> str:
    """The moment in Riyadh time, with its day in both calendars."""
    local = riyadh(value)
    return f"{dual_date(local, language)} — {format_time(local.time(), format='short', locale=language)}"


def short_dual_datetime(value: datetime, language: str) -> str:
    """The moment in Riyadh time, short enough for an SMS: weekday, day and month in both calendars, and the time,
    e.g. "Sun 20 Dec (11 Rajab) 9:30 AM", in Arabic with its own names and "AM"/"PM" as the letters sad/mim.

    The years are left out: an audience is always within the coming weeks, and the full form (`dual_datetime`)
    takes an Arabic SMS to three segments on its own."""
    local = riyadh(value)
    hijri = Gregorian(local.year, local.month, local.day).to_hijri()
    # The Arabic weekday and month are short already; the English ones are abbreviated to match.
    pattern = "EEEE d MMMM" if language in RIGHT_TO_LEFT else "EEE d MMM"
    gregorian = format_date(local.date(), format=pattern, locale=language)
    hijri_day = f"{hijri.day} {hijri.month_name(hijri_month_names(language))}"
    # A plain space before "AM": the narrow one CLDR gives is outside GSM-7 and would make an English SMS Unicode
    # (70 characters a segment instead of 160).
    time = format_time(local.time(), format="short", locale=language).replace("\u202f", " ")
    return f"{gregorian} ({hijri_day}) {time}"
