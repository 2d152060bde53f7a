"""Days typed in either calendar (majlis.hijri.read_day) and the picker's months (majlis.hijri.month)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from majlis import hijri
from majlis.errors import InvalidInput


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-12-07", date(2026, 12, 7)),
        (" 2026-12-07 ", date(2026, 12, 7)),
        ("1448-06-27", date(2026, 12, 7)),  # Umm al-Qura: 27 Jumada al-Akhirah 1448 is Monday 7 December 2026
        ("١٤٤٨-٠٦-٢٧", date(2026, 12, 7)),  # Arabic-Indic digits
        ("۱۴۴۸-۰۶-۲۷", date(2026, 12, 7)),  # Extended Arabic-Indic (Persian keyboards)
        ("\u2066١٤٤٨-٠٦-٢٧\u2069\u200f", date(2026, 12, 7)),  # pasted with its isolates and marks
        ("1448-07-01", date(2026, 12, 10)),  # Jumada al-Akhirah 1448 has 29 days
        ("1343-01-01", date(1924, 8, 1)),  # the table's first day, in both calendars
        ("1500-12-30", date(2077, 11, 16)),  # and its last
    ],
)
def test_either_calendar_either_digits(typed: str, day: date) -> None:
    assert hijri.read_day(typed, field="day") == day


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "tomorrow",
        "2026-13-01",
        "2026-02-30",
        "1448-06-30",
        "1448-13-01",
        "1448-00-10",
        "12026-01-01",
        "2026-12",
        "2026-12-07T10:00",
        "٢٠٢٦-١٢-٠٧x",
        "27/06/1448",  # day first is 7 December to some and 12 July to others: refused, not guessed
        "07-12-2026",
        "2026/12/07",
        "1448-6-27",
    ],
)
def test_what_is_no_date_is_named(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        hijri.read_day(typed, field="since")
    assert [(e.field, e.code) for e in refused.value.errors] == [("since", "invalid_date")]
    assert "{field}" in refused.value.errors[0].message and "1448-06-27" in refused.value.errors[0].message


@pytest.mark.parametrize("typed", ["1342-12-29", "1501-01-01", "1600-01-01", "1924-07-31", "2077-11-17", "9999-12-31"])
def test_days_outside_the_umm_al_qura_table_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        hijri.read_day(typed, field="day")
    (error,) = refused.value.errors
    assert (error.field, error.code) == ("day", "out_of_range")
    assert error.params == {"first": "1924-08-01", "last": "2077-11-16"}


def test_a_caller_may_take_other_gregorian_years_but_hijri_stays_in_the_table() -> None:
    assert hijri.read_day("2100-12-31", field="until", years=(2000, 2100)) == date(2100, 12, 31)
    for typed in ("1999-12-31", "2101-01-01", "1342-01-01"):
        with pytest.raises(InvalidInput) as refused:
            hijri.read_day(typed, field="until", years=(2000, 2100))
        assert refused.value.errors[0].code == "out_of_range"
    assert hijri.read_day("1448-06-27", field="until", years=(2000, 2100)) == date(2026, 12, 7)


def test_nothing_typed_is_none_only_where_optional() -> None:
    assert hijri.read_optional_day("  ", field="day") is None
    assert hijri.read_optional_day(None, field="day") is None
    assert hijri.read_optional_day("1448-06-27", field="day") == date(2026, 12, 7)


def test_a_hijri_month_in_gregorian_days() -> None:
    rajab = hijri.month("hijri", 1448, 7)
    assert rajab.days[0] == date(2026, 12, 10) and len(rajab.days) in (29, 30)
    assert all(b - a == timedelta(days=1) for a, b in zip(rajab.days, rajab.days[1:], strict=False))
    assert (rajab.previous, rajab.next) == ((1448, 6), (1448, 8))
    assert hijri.month("hijri", 1448, 12).next == (1449, 1)
    assert hijri.month("gregorian", 2026, 1).previous == (2025, 12)
    assert hijri.month_around("hijri", date(2026, 12, 7)).month == 6
    assert hijri.month_around("gregorian", date(2026, 12, 7)).days[-1] == date(2026, 12, 31)


def test_months_at_the_table_s_ends() -> None:
    assert hijri.month("hijri", 1343, 1).previous is None
    assert hijri.month("hijri", 1500, 12).next is None
    assert hijri.month("gregorian", 2077, 10).next is None  # November 2077 runs past the table
    for calendar, year, month in (("hijri", 1501, 1), ("gregorian", 2077, 11), ("gregorian", 1924, 7)):
        with pytest.raises(InvalidInput) as refused:
            hijri.month(calendar, year, month)  # type: ignore[arg-type]
        assert refused.value.errors[0].field == "year"
    with pytest.raises(InvalidInput) as refused:
        hijri.month("hijri", 1448, 13)
    assert refused.value.errors[0].field == "month"
