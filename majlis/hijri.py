"""Days typed in either calendar, and the months the date picker shows.

Staff in Saudi Arabia write dates in the Umm al-Qura Hijri calendar as often as in the Gregorian one, and with
Arabic-Indic digits as often as Western ones. Every handler that reads a day a person typed (a holiday, an
unavailable day, a report's period) reads it here, so that all of them take the same forms and refuse the same way.
The year tells the calendars apart: the Umm al-Qura table ends in 1500 AH and begins in 1924 AD, so no year
belongs to both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from hijridate import Gregorian, Hijri, ummalqura

from majlis.errors import N_, FieldError, InvalidInput

Calendar = Literal["gregorian", "hijri"]

# The days hijridate's Umm al-Qura table covers: outside them no day can be shown in both calendars.
FIRST_DAY: Final = date(*ummalqura.GREGORIAN_RANGE[0])
LAST_DAY: Final = date(*ummalqura.GREGORIAN_RANGE[1])
HIJRI_YEARS: Final = (ummalqura.HIJRI_RANGE[0][0], ummalqura.HIJRI_RANGE[1][0])

# Arabic-Indic (U+0660…) and Extended Arabic-Indic (U+06F0…, as Persian and Urdu keyboards type them) digits.
_DIGITS: Final = str.maketrans(
    {chr(0x0660 + n): str(n) for n in range(10)} | {chr(0x06F0 + n): str(n) for n in range(10)}
)
# Marks a pasted Arabic date may carry: LRM, RLM, ALM and the isolates U+2066…U+2069.
_MARKS: Final = re.compile("[\u200e\u200f\u061c\u2066-\u2069]")
# Year first, as ISO writes it (1448-06-27). Not day first: 07/12/2026 is the 7th of December to some and July to
# others, and a day typed wrongly would be a holiday declared on the wrong day.
_YEAR_FIRST: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

NOT_A_DATE: Final = N_("{field} must be a date: Gregorian such as 2026-12-16, or Hijri such as 1448-06-27.")
OUT_OF_RANGE: Final = N_("{field} must be between {first} and {last}.")
# For pages that name the field themselves (a report's period, the day asked for).
DAY_EXAMPLE: Final = N_("Give the day as YYYY-MM-DD, for example 2026-11-03, or in the Hijri calendar, 1448-05-12.")
MONTH_OUT_OF_RANGE: Final = N_(
    "The month must lie between {first} and {last}: the years the Umm al-Qura calendar covers."
)


def _numbers(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) written in `text` in either digits; None if it is not a date's shape."""
    plain = _MARKS.sub("", text).translate(_DIGITS).strip()
    if not plain.isascii():
        return None
    if matched := _YEAR_FIRST.fullmatch(plain):
        return int(matched[1]), int(matched[2]), int(matched[3])
    return None


def hijri_day(year: int, month: int, day: int) -> date:
    """The Gregorian day of an Umm al-Qura date; ValueError if that date does not exist (1448-02-30)."""
    if not 1 <= month <= 12 or day < 1:
        raise ValueError("not a Hijri date")
    first = Hijri(year, month, 1)
    if day > first.month_length():
        raise ValueError("not a Hijri date")
    return Hijri(year, month, day).to_gregorian()


def read_day(text: str, *, field: str, years: tuple[int, int] | None = None) -> date:
    """The Gregorian day typed in `text`, in either calendar and either digits.

    InvalidInput naming `field` when it is no date, or a day outside the Umm al-Qura table (which the pages, showing
    both calendars, could not show). A caller that never shows the day in both calendars may take Gregorian days of
    other `years` instead (a Hijri date is always read through the table)."""
    numbers = _numbers(text)
    if numbers is None:
        raise InvalidInput([FieldError(field, "invalid_date", NOT_A_DATE)])
    year, month, day = numbers
    first, last = (date(years[0], 1, 1), date(years[1], 12, 31)) if years else (FIRST_DAY, LAST_DAY)
    bounds = {"first": first.isoformat(), "last": last.isoformat()}
    out_of_range = InvalidInput([FieldError(field, "out_of_range", OUT_OF_RANGE, bounds)])
    try:
        if year <= HIJRI_YEARS[1]:
            if year < HIJRI_YEARS[0]:
                raise out_of_range
            return hijri_day(year, month, day)
        gregorian = date(year, month, day)
    except ValueError:
        raise InvalidInput([FieldError(field, "invalid_date", NOT_A_DATE)]) from None
    if not first <= gregorian <= last:
        raise out_of_range
    return gregorian


def read_optional_day(text: str | None, *, field: str) -> date | None:
    """As read_day, but nothing typed is None."""
    if text is None or not text.strip():
        return None
    return read_day(text, field=field)


def hijri_of(day: date) -> tuple[int, int, int]:
    """(year, month, day) of the Umm al-Qura date of a Gregorian day within the table."""
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    return hijri.year, hijri.month, hijri.day


@dataclass(frozen=True)
class Month:
    """One month of either calendar, as the picker draws it: its Gregorian days in order."""

    calendar: Calendar
    year: int
    month: int
    days: tuple[date, ...]
    previous: tuple[int, int] | None
    next: tuple[int, int] | None


def _step(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def _gregorian_days(year: int, month: int) -> tuple[date, ...]:
    first = date(year, month, 1)
    following = date(*_step(year, month, 1), 1)
    return tuple(first + timedelta(days=n) for n in range((following - first).days))


def _hijri_days(year: int, month: int) -> tuple[date, ...]:
    first = Hijri(year, month, 1)
    start = first.to_gregorian()
    return tuple(start + timedelta(days=n) for n in range(first.month_length()))


def _whole(calendar: Calendar, year: int, month: int) -> bool:
    """Whether every day of the month lies within the table (a picker shows no half month)."""
    try:
        days = _hijri_days(year, month) if calendar == "hijri" else _gregorian_days(year, month)
    except (ValueError, OverflowError):
        return False
    return days[0] >= FIRST_DAY and days[-1] <= LAST_DAY


def month(calendar: Calendar, year: int, month: int) -> Month:
    """The month asked for; InvalidInput naming `year` or `month` when it is not one within the table."""
    if not 1 <= month <= 12:
        raise InvalidInput([FieldError("month", "out_of_range", N_("The month must be from 1 to 12."))])
    if not _whole(calendar, year, month):
        bounds = {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        raise InvalidInput([FieldError("year", "out_of_range", MONTH_OUT_OF_RANGE, bounds)])
    days = _hijri_days(year, month) if calendar == "hijri" else _gregorian_days(year, month)
    before, after = _step(year, month, -1), _step(year, month, 1)
    return Month(
        calendar=calendar,
        year=year,
        month=month,
        days=days,
        previous=before if _whole(calendar, *before) else None,
        next=after if _whole(calendar, *after) else None,
    )


def month_around(calendar: Calendar, day: date) -> Month:
    """The month of `calendar` that holds `day` (a day within the table)."""
    if calendar == "hijri":
        year, number, _ = hijri_of(day)
        return month(calendar, year, number)
    return month(calendar, day.year, day.month)
