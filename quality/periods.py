"""The periods the statistics dashboard reads: a week, a Gregorian or Hijri month, a year, or custom days.

Each is a run of whole Riyadh days, asked for as `period` plus `value` (or `from` and `to` for custom days), and
bounded by Riyadh midnights as every report of Majlis is. A period that has not begun, or a custom one that ends
before it starts or runs over a year, is refused with the field named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from babel.dates import format_date

from followup.periods import GREGORIAN_YEARS, Period, gregorian_month, hijri_month, month_of
from majlis.clock import RIYADH, riyadh
from majlis.errors import N_, FieldError, InvalidInput
from majlis.hijri import DAY_EXAMPLE, read_day
from notify.texts import say

SpanKind = Literal["week", "month", "hijri", "year", "custom"]
KINDS: tuple[SpanKind, ...] = ("week", "month", "hijri", "year", "custom")
# A custom period is at most a year and a day (a leap year's 366 days).
LONGEST_CUSTOM = 366
# The Saudi working week starts on Sunday (Monday is 0).
WEEK_STARTS = 6

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"(\d{4})")

# "From 1 to 7 December 2026", as a heading names a week or custom days.
DAYS_FROM_TO = N_("{first} to {last}")


@dataclass(frozen=True)
class Span:
    """Whole Riyadh days from `first_day` to `last_day`, both included; `value` is how it was asked for."""

    kind: SpanKind
    first_day: date
    last_day: date
    value: str
    # The month it is, when it is one (for the month's name in either calendar).
    month: Period | None = None

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=RIYADH)

    @property
    def ends_at(self) -> datetime:
        """Riyadh's midnight after the last day (not part of the span)."""
        return datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=RIYADH)

    def name(self, language: str) -> str:
        if self.month is not None:
            return self.month.name(language)
        if self.kind == "year":
            return self.value
        first = format_date(self.first_day, "d MMMM y", locale=language)
        last = format_date(self.last_day, "d MMMM y", locale=language)
        return say(language, DAYS_FROM_TO, first=first, last=last)

    def query(self) -> dict[str, str]:
        """The query parameters that ask for this span again."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first_day.isoformat(), "to": self.last_day.isoformat()}
        return {"period": self.kind, "value": self.value}

    def buckets(self) -> list[tuple[date, date]]:
        """The span cut for a chart over time: days up to two months, weeks up to half a year, else months."""
        if self.days <= 62:
            step = 1
        elif self.days <= 190:
            step = 7
        else:
            return _months(self.first_day, self.last_day)
        out = []
        day = self.first_day
        while day <= self.last_day:
            out.append((day, min(day + timedelta(days=step - 1), self.last_day)))
            day += timedelta(days=step)
        return out


def _months(first: date, last: date) -> list[tuple[date, date]]:
    out = []
    day = first
    while day <= last:
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        out.append((day, min(following - timedelta(days=1), last)))
        day = following
    return out


def _refuse(field: str, code: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(field, code, message)])


def _day(text: str, field: str) -> date:
    try:
        day = read_day(text, field=field)
    except InvalidInput:
        raise _refuse(field, "invalid_day", DAY_EXAMPLE) from None
    if not GREGORIAN_YEARS[0] <= day.year <= GREGORIAN_YEARS[1]:
        raise _refuse(field, "invalid_day", DAY_EXAMPLE)
    return day


def week_of(day: date) -> Span:
    first = day - timedelta(days=(day.weekday() - WEEK_STARTS) % 7)
    return Span("week", first, first + timedelta(days=6), first.isoformat())


def _month_span(period: Period) -> Span:
    return Span("hijri" if period.kind == "hijri" else "month", period.first_day, period.last_day, period.value, period)


def this_month(now: datetime) -> Span:
    """The Gregorian month under way in Riyadh: the dashboard's first view."""
    return _month_span(month_of(riyadh(now).date(), hijri=False))


def asked_span(*, period: str | None, value: str | None, first: str | None, last: str | None, now: datetime) -> Span:
    """The span a reader asked for; with nothing asked, the month under way. A span not yet begun is refused."""
    kind = (period or "").strip() or None
    value = (value or "").strip()
    if kind is None:
        return this_month(now)
    if kind not in KINDS:
        raise _refuse("period", "invalid_period", N_("Choose a week, a month, a Hijri month, a year or custom days."))
    span: Span
    if kind == "week":
        span = week_of(_day(value, "value"))
    elif kind in ("month", "hijri"):
        matched = _MONTH.fullmatch(value) if value.isascii() else None
        try:
            if matched is None:
                raise InvalidInput([])
            year, month = int(matched.group(1)), int(matched.group(2))
            span = _month_span(hijri_month(year, month) if kind == "hijri" else gregorian_month(year, month))
        except InvalidInput:
            if kind == "hijri":
                message = N_("Give the Hijri month as YYYY-MM, a year from 1343 to 1500, for example 1448-05.")
            else:
                message = N_("Give the Gregorian month as YYYY-MM, a year from 1925 to 2076, for example 2026-11.")
            raise _refuse("value", "invalid_month", message) from None
    elif kind == "year":
        matched = _YEAR.fullmatch(value) if value.isascii() else None
        if matched is None or not GREGORIAN_YEARS[0] <= int(value) <= GREGORIAN_YEARS[1]:
            raise _refuse("value", "invalid_year", N_("Give the year as YYYY, for example 2026."))
        span = Span("year", date(int(value), 1, 1), date(int(value), 12, 31), value)
    else:
        start, end = _day(first or "", "from"), _day(last or "", "to")
        if end < start:
            raise _refuse("to", "ends_before_start", N_("The last day comes before the first."))
        if (end - start).days + 1 > LONGEST_CUSTOM:
            raise _refuse("to", "too_long", N_("Custom days can cover a year at most (366 days)."))
        span = Span("custom", start, end, f"{start.isoformat()}/{end.isoformat()}")
    if span.starts_at > now:
        raise _refuse("value" if kind != "custom" else "from", "not_begun", N_("This period has not begun yet."))
    return span
