"""Dates as people in Saudi Arabia read them: Gregorian and Umm al-Qura Hijri together."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time
from hijridate import Gregorian

from majlis.clock import riyadh


def hijri_date(day: date, language: str) -> str:
    """The Umm al-Qura date, e.g. "14 جمادى الآخرة 1448 هـ" or "14 Jumada al-Akhirah 1448 AH"."""
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    if language == "ar":
        return f"{hijri.day} {hijri.month_name('ar')} {hijri.year} هـ"
    return f"{hijri.day} {hijri.month_name('en')} {hijri.year} AH"


def dual_date(value: date | datetime, language: str) -> str:
    """The day in both calendars; an aware datetime is first taken to Riyadh time."""
    day = riyadh(value).date() if isinstance(value, datetime) else value
    gregorian = format_date(day, format="full", locale=language)
    if language == "ar":
        return f"{gregorian} م، الموافق {hijri_date(day, 'ar')}"
    return f"{gregorian} ({hijri_date(day, 'en')})"


def dual_datetime(value: datetime, language: str) -> str:
    """The moment in Riyadh time, with its day in both calendars."""
    local = riyadh(value)
    return f"{dual_date(local, language)} — {format_time(local.time(), format='short', locale=language)}"
