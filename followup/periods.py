"""Report periods: a Gregorian month or an Umm al-Qura Hijri month, bounded by Riyadh midnights, as a reader asks
for one (2026-11, or 1448-05 for a Hijri month) and as the monthly e-mails name them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from babel.dates import format_date
from hijridate import Gregorian, Hijri

from majlis.clock import RIYADH, riyadh
from majlis.dates import hijri_month_names
from majlis.errors import N_, FieldError, InvalidInput
from notify.texts import say

# A Hijri month as a heading names it: "Jumada al-Ula 1448 AH".
HIJRI_MONTH = N_("{month} {year} AH")

PeriodKind = Literal["gregorian", "hijri"]
_MONTH = re.compile(r"(\d{4})-(\d{2})")
# The Umm al-Qura table hijridate carries.
HIJRI_YEARS = (1343, 1500)
GREGORIAN_YEARS = (1925, 2076)


@dataclass(frozen=True)
class Period:
    """One month of either calendar; `first_day` and `days` are Gregorian days in Riyadh."""

    kind: PeriodKind
    year: int
    month: int
    first_day: date
    days: int

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    @property
    def starts_at(self) -> datetime:
        """Riyadh's midnight opening the first day."""
        return datetime.combine(self.first_day, time(0), tzinfo=RIYADH)

    @property
    def ends_at(self) -> datetime:
        """Riyadh's midnight after the last day (not part of the period)."""
        return datetime.combine(self.first_day + timedelta(days=self.days), time(0), tzinfo=RIYADH)

    @property
    def value(self) -> str:
        """The month as asked for: 2026-11, or 1448-05 for a Hijri month."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def key(self) -> str:
        """The period's name in report_mailings: "2026-11", or "h1448-05" for a Hijri month."""
        return self.value if self.kind == "gregorian" else f"h{self.value}"

    @property
    def parameter(self) -> str:
        """The query parameter that asks for it: month, or hijri."""
        return "month" if self.kind == "gregorian" else "hijri"

    def name(self, language: str) -> str:
        """ "November 2026", "Jumada al-Ula 1448 AH", or the same in Arabic."""
        if self.kind == "gregorian":
            return format_date(self.first_day, "MMMM y", locale=language)
        month_name = Hijri(self.year, self.month, 1).month_name(hijri_month_names(language))
        return say(language, HIJRI_MONTH, month=month_name, year=str(self.year))

    def previous(self) -> Period:
        return month_of(self.first_day - timedelta(days=1), hijri=self.kind == "hijri")


def gregorian_month(year: int, month: int) -> Period:
    if not (GREGORIAN_YEARS[0] <= year <= GREGORIAN_YEARS[1] and 1 <= month <= 12):
        raise InvalidInput([_bad_month("month")])
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period("gregorian", year, month, first, (following - first).days)


def hijri_month(year: int, month: int) -> Period:
    """An Umm al-Qura month (its length from the published table, 29 or 30 days)."""
    if not (HIJRI_YEARS[0] <= year <= HIJRI_YEARS[1] and 1 <= month <= 12):
        raise InvalidInput([_bad_month("hijri")])
    first = Hijri(year, month, 1)
    return Period("hijri", year, month, first.to_gregorian(), first.month_length())


def month_of(day: date, *, hijri: bool) -> Period:
    """The month, of the calendar asked for, holding this Riyadh day."""
    if not hijri:
        return gregorian_month(day.year, day.month)
    found = Gregorian(day.year, day.month, day.day).to_hijri()
    return hijri_month(found.year, found.month)


def last_complete_month(now: datetime, *, hijri: bool) -> Period:
    """The month before the one under way in Riyadh: the one a monthly report is about."""
    return month_of(riyadh(now).date(), hijri=hijri).previous()


def _bad_month(parameter: str) -> FieldError:
    if parameter == "hijri":
        return FieldError(
            "hijri",
            "invalid_month",
            N_("Give the Hijri month as YYYY-MM, a year from 1343 to 1500, for example 1448-05."),
        )
    return FieldError(
        "month",
        "invalid_month",
        N_("Give the Gregorian month as YYYY-MM, a year from 1925 to 2076, for example 2026-11."),
    )


def asked_period(*, month: str | None, hijri: str | None, now: datetime, hijri_default: bool) -> Period:
    """The period a reader asked for (a Gregorian `month` or a `hijri` one, as YYYY-MM), else the last one complete.

    A month that has not begun is refused: it has no figures yet.
    """
    month, hijri = (month or "").strip() or None, (hijri or "").strip() or None
    if month is not None and hijri is not None:
        raise InvalidInput(
            [FieldError("hijri", "both_calendars", N_("Give either a Gregorian month or a Hijri month, not both."))]
        )
    if month is None and hijri is None:
        return last_complete_month(now, hijri=hijri_default)
    parameter, text = ("hijri", hijri) if hijri is not None else ("month", month)
    assert text is not None
    matched = _MONTH.fullmatch(text) if text.isascii() else None
    if matched is None:
        raise InvalidInput([_bad_month(parameter)])
    year, number = int(matched.group(1)), int(matched.group(2))
    period = hijri_month(year, number) if parameter == "hijri" else gregorian_month(year, number)
    if period.starts_at > now:
        raise InvalidInput([FieldError(parameter, "not_begun", N_("This month has not begun yet."))])
    return period
