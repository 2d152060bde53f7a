"""The monthly service-quality report as tables in the reader's language: the printable page, the XLSX workbook, the
command line and the e-mail all read the same tables, so they carry the same numbers.

Numbers stay numbers (rates as percentages to a tenth, means and times to a tenth or a hundredth, rounded here
once); a figure suppressed because it rests on 1 to 4 items reads "fewer than 5", one held back so that a hidden
one cannot be worked out (secondary suppression, a share whose misses are 1 to 4: quality/figures.py) reads
"withheld", and a figure with nothing to stand on (a mean of no ratings) reads "—". The workbook reads right to
left in Arabic, opens on a cover naming the month in both calendars, and holds one sheet per group of figures.
Names typed by people (branches, departments) are written as text cells, never as formulas.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from followup.periods import Period, month_of
from majlis.dates import dual_date
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT, shipped_catalogs
from quality.figures import DIMENSIONS, WITHHELD, Hidden, RateRow
from quality.monthly import QualityMonthly

Cell = str | int | float
# (dimension, stored value) → the name a person reads: a request's kind, channel, branch, gender, applicant kind,
# an urgency ("urgency") or a confirmation's channel ("confirmation_channel"). Given by the caller, who knows the
# labels and the branches' names.
Names = Callable[[str, str], str]

FEWER_THAN_5 = N_("fewer than 5")
WITHHELD_TEXT = N_("withheld")
NOTHING = "—"
REPORT_TITLE = N_("Service quality report: {period}")
UNDER_WAY = N_("This month is under way: the figures so far.")
COVER = N_("Cover")
PERIOD = N_("Period")
GREGORIAN = N_("Gregorian")
HIJRI = N_("Hijri")
FIRST_DAY = N_("First day")
LAST_DAY = N_("Last day")
SCOPE = N_("Covers")
PRIVACY = N_("Counts of 1 to 4, and anything computed from them, are not shown: they could point at a person.")
PRIVACY_WITHHELD = N_(
    "A figure marked “withheld” is held back so that a hidden one cannot be worked out from the others."
)

SUMMARY = N_("Summary")
REQUESTS = N_("Requests")
WAITS = N_("Waits for an audience")
CONFIRMATIONS = N_("Confirmations")
OUTCOMES = N_("Audiences and referrals")
SATISFACTION = N_("Satisfaction")
SERVICE_TIME = N_("Time at the centre")

FIGURE = N_("Figure")
VALUE = N_("Value")
DIMENSION = N_("Counted by")
GROUP = N_("Group")
DIMENSION_NAMES = {
    "kind": N_("Kind of request"),
    "channel": N_("Channel of the request"),
    "branch": N_("Branch"),
    "gender": N_("Gender"),
    "applicant_kind": N_("Kind of applicant"),
}
URGENCY = N_("Urgency")
HEARD = N_("Requests heard")
MEDIAN_DAYS = N_("Median (days)")
P95_DAYS = N_("95th percentile (days)")
WITHIN_30 = N_("Seen within 30 days (%)")
CHANNEL = N_("Sent by")
TOTAL = N_("Total")
HITS = N_("Of them")
RATE = N_("Rate (%)")
SENT = N_("Confirmations sent")
ANSWERED = N_("Confirmations answered")
NO_SHOWS = N_("Audiences missed, of those due")
ON_TIME = N_("Referrals answered on time, of those due")
FROM = N_("From")
TO = N_("To")
RATINGS = N_("Ratings")
MEAN_FACE = N_("Mean (1 to 5)")
NEGATIVE = N_("Negative (%)")
VISITS = N_("Visits")
MEAN_MINUTES = N_("Mean (minutes)")
MEDIAN_MINUTES = N_("Median (minutes)")
P90_MINUTES = N_("90th percentile (minutes)")
WITHIN_AIM = N_("Within {minutes} minutes (%)")
TOTAL_REQUESTS = N_("Requests submitted")
MEAN_SATISFACTION = N_("Satisfaction, mean (1 to 5)")
NEGATIVE_SHARE = N_("Negative ratings (%)")
NO_SHOW_RATE = N_("Audiences missed (%)")
ON_TIME_RATE = N_("Referrals answered on time (%)")
MEDIAN_AT_CENTRE = N_("Median time at the centre (minutes)")


def say(language: str, message: str, **params: object) -> str:
    return shipped_catalogs().gettext(language, message, **params)


@dataclass(frozen=True)
class Table:
    """One group of figures: its key (the sheet's and the page table's id), title, column headings and rows."""

    key: str
    title: str
    headings: list[str]
    rows: list[list[Cell]]


def _hidden(language: str, why: Hidden | None) -> str:
    return say(language, WITHHELD_TEXT if why == WITHHELD else FEWER_THAN_5)


def _count(count: int | None, language: str, why: Hidden | None = None) -> Cell:
    """A count, or why it is hidden (`why`; none given: it is 1 to 4)."""
    return _hidden(language, why) if count is None else count


def _number(count: int | None, value: float | None, language: str, digits: int = 1, why: Hidden | None = None) -> Cell:
    """A figure over `count` items: why they are hidden when they are, "—" when there is nothing to say."""
    if count is None:
        return _hidden(language, why)
    return NOTHING if value is None else round(value, digits)


def _percent(count: int | None, share: float | None, language: str, why: Hidden | None = None) -> Cell:
    """A share of `count` items: hidden with them; "withheld" when they are shown (some) and it is not, since its
    hits or misses are 1 to 4 (quality.figures.share) or it was withheld beside other scopes."""
    if count and share is None:
        return say(language, WITHHELD_TEXT)
    return _number(count, None if share is None else share * 100, language, why=why)


def _rate_cells(row: RateRow, language: str) -> list[Cell]:
    return [
        _count(row.total, language),
        _count(row.hits, language, row.hidden),
        _percent(row.total, row.rate, language),
    ]


def title(report: QualityMonthly, language: str) -> str:
    return say(language, REPORT_TITLE, period=report.period.name(language))


def days(period: Period, language: str) -> str:
    """The month's first and last days, in both calendars."""
    return f"{dual_date(period.first_day, language)} – {dual_date(period.last_day, language)}"


def summary_rows(report: QualityMonthly, language: str) -> list[list[Cell]]:
    """The headline figures: what the e-mail gives and the page opens with."""
    f = report.figures
    overall, time = f.satisfaction_overall, f.service_time
    return [
        [say(language, TOTAL_REQUESTS), _count(f.total_requests, language, f.total_hidden)],
        [say(language, RATINGS), _count(overall.count, language, overall.hidden)],
        [say(language, MEAN_SATISFACTION), _number(overall.count, overall.mean, language, 2, overall.hidden)],
        [say(language, NEGATIVE_SHARE), _percent(overall.count, overall.negative, language, overall.hidden)],
        [say(language, NO_SHOW_RATE), _percent(f.no_shows.total, f.no_shows.rate, language)],
        [say(language, ON_TIME_RATE), _percent(f.referrals_on_time.total, f.referrals_on_time.rate, language)],
        [say(language, MEDIAN_AT_CENTRE), _number(time.count, time.median_minutes, language)],
    ]


def tables(report: QualityMonthly, language: str, names: Names) -> list[Table]:
    """Every group of figures of the report, in the page's and the workbook's order."""
    f = report.figures
    _ = lambda message, **params: say(language, message, **params)  # noqa: E731
    requests: list[list[Cell]] = []
    for dimension in DIMENSIONS:
        for tally in f.requests.get(dimension, []):
            requests.append(
                [
                    _(DIMENSION_NAMES[dimension]),
                    names(dimension, tally.key),
                    _count(tally.count, language, tally.hidden),
                ]
            )
    waits: list[list[Cell]] = [
        [
            names("urgency", w.urgency),
            _count(w.count, language),
            _number(w.count, w.median_days, language),
            _number(w.count, w.p95_days, language),
            # The share seen in time rests on its own group (the period's requests old enough to tell).
            (_hidden(language, w.within_hidden) if w.within_hidden else NOTHING)
            if w.within is None
            else round(w.within * 100, 1),
        ]
        for w in f.waits
    ]
    confirmations = [[names("confirmation_channel", r.key), *_rate_cells(r, language)] for r in f.confirmations]
    outcomes = [
        [_(NO_SHOWS), *_rate_cells(f.no_shows, language)],
        [_(ON_TIME), *_rate_cells(f.referrals_on_time, language)],
    ]
    points = [*f.satisfaction, f.satisfaction_overall]
    satisfaction = [
        [
            p.first_day.isoformat(),
            p.last_day.isoformat(),
            _count(p.count, language, p.hidden),
            _number(p.count, p.mean, language, 2, p.hidden),
            _percent(p.count, p.negative, language, p.hidden),
        ]
        for p in points
    ]
    t = f.service_time
    service = [
        [
            _count(t.count, language),
            _number(t.count, t.mean_minutes, language),
            _number(t.count, t.median_minutes, language),
            _number(t.count, t.p90_minutes, language),
            _percent(t.count, t.within_aim, language),
        ]
    ]
    within_aim = _(WITHIN_AIM, minutes=f"{t.aim_minutes:g}")
    return [
        Table("summary", _(SUMMARY), [_(FIGURE), _(VALUE)], summary_rows(report, language)),
        Table("requests", _(REQUESTS), [_(DIMENSION), _(GROUP), _(REQUESTS)], requests),
        Table("waits", _(WAITS), [_(URGENCY), _(HEARD), _(MEDIAN_DAYS), _(P95_DAYS), _(WITHIN_30)], waits),
        Table("confirmations", _(CONFIRMATIONS), [_(CHANNEL), _(SENT), _(ANSWERED), _(RATE)], confirmations),
        Table("outcomes", _(OUTCOMES), [_(FIGURE), _(TOTAL), _(HITS), _(RATE)], outcomes),
        Table("satisfaction", _(SATISFACTION), [_(FROM), _(TO), _(RATINGS), _(MEAN_FACE), _(NEGATIVE)], satisfaction),
        Table(
            "service_time",
            _(SERVICE_TIME),
            [_(VISITS), _(MEAN_MINUTES), _(MEDIAN_MINUTES), _(P90_MINUTES), within_aim],
            service,
        ),
    ]


def _both_calendars(period: Period, language: str) -> tuple[str, str]:
    """The month's name in the Gregorian calendar and in the Hijri one (a month of one spans two of the other)."""
    first, last = period.first_day, period.last_day
    names = []
    for hijri in (False, True):
        start, end = month_of(first, hijri=hijri), month_of(last, hijri=hijri)
        names.append(start.name(language) if start == end else f"{start.name(language)} – {end.name(language)}")
    return names[0], names[1]


def _sheet_name(text: str) -> str:
    """A sheet's name as Excel allows it: 31 characters at most, none of []:*?/\\."""
    return "".join(" " if c in "[]:*?/\\" else c for c in text)[:31]


def _text(sheet: Worksheet, row: int, column: int, text: str) -> None:
    # Set as a string cell, so a name starting with "=" is never read as a formula.
    cell = sheet.cell(row=row, column=column)
    cell.value = text
    cell.data_type = "s"


def _write(sheet: Worksheet, row: int, column: int, value: Cell) -> None:
    if isinstance(value, str):
        _text(sheet, row, column, value)
    else:
        sheet.cell(row=row, column=column, value=value)


def xlsx_bytes(report: QualityMonthly, language: str, names: Names) -> bytes:
    """The report as a workbook: a cover with the month in both calendars, then a sheet per group of figures."""
    workbook = Workbook()
    workbook.properties.title = title(report, language)
    bold = Font(bold=True)
    right_to_left = language in RIGHT_TO_LEFT
    cover = workbook.active
    assert cover is not None
    cover.title = say(language, COVER)[:31]
    gregorian, hijri = _both_calendars(report.period, language)
    lines: list[tuple[str, str]] = [
        (say(language, SCOPE), report.scope.name(language)),
        (say(language, PERIOD), report.period.name(language)),
        (say(language, GREGORIAN), gregorian),
        (say(language, HIJRI), hijri),
        (say(language, FIRST_DAY), dual_date(report.period.first_day, language)),
        (say(language, LAST_DAY), dual_date(report.period.last_day, language)),
    ]
    _text(cover, 1, 1, title(report, language))
    cover.cell(row=1, column=1).font = bold
    for offset, (label, value) in enumerate(lines, start=3):
        _text(cover, offset, 1, label)
        _text(cover, offset, 2, value)
    next_row = 3 + len(lines) + 1
    if report.under_way:
        _text(cover, next_row, 1, say(language, UNDER_WAY))
        next_row += 1
    _text(cover, next_row, 1, say(language, PRIVACY))
    _text(cover, next_row + 1, 1, say(language, PRIVACY_WITHHELD))
    cover.column_dimensions["A"].width = 24
    cover.column_dimensions["B"].width = 60
    cover.sheet_view.rightToLeft = right_to_left
    for table in tables(report, language, names):
        sheet = workbook.create_sheet(_sheet_name(table.title))
        sheet.sheet_view.rightToLeft = right_to_left
        _text(sheet, 1, 1, table.title)
        sheet.cell(row=1, column=1).font = bold
        for column, heading in enumerate(table.headings, start=1):
            _text(sheet, 2, column, heading)
            sheet.cell(row=2, column=column).font = bold
            sheet.cell(row=2, column=column).alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[sheet.cell(row=2, column=column).column_letter].width = 22
        for offset, row in enumerate(table.rows, start=3):
            for column, cell in enumerate(row, start=1):
                _write(sheet, offset, column, cell)
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def text_lines(report: QualityMonthly, language: str, names: Names) -> list[str]:
    """The report as plain text for the command line: the title, the days, each table's rows."""
    lines = [title(report, language), report.scope.name(language), days(report.period, language), ""]
    for table in tables(report, language, names):
        lines.append(table.title)
        lines.append("  " + " | ".join(table.headings))
        lines += ["  " + " | ".join(str(cell) for cell in row) for row in table.rows]
        lines.append("")
    return lines
