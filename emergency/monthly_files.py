"""The emergency line's monthly report as tables and text in the reader's language: a CSV or XLSX download, the
command line and the e-mails to the missions.

One row per mission, country or the ministry, and severity ("All" first, then each severity), so a spreadsheet
filters by either. CSV is UTF-8 with a byte-order mark; the XLSX sheet reads right to left in Arabic. Names never
become formulas (followup.report_files's rule).
"""

from __future__ import annotations

import csv
import io

import xlsxwriter

from emergency.models import Severity
from emergency.monthly import SEVERITIES, EmergencyMonthly, Figures, Line
from followup.notices import LIST_SEPARATOR
from majlis.dates import dual_date
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT, shipped_catalogs

Cell = str | int | None

REPORT_TITLE = N_("Emergency line report: {period}")
ALL_MISSIONS = N_("All missions")
ALL_SEVERITIES = N_("All severities")
# A severity's figure in the text of an e-mail: "life-threatening 2".
SEVERITY_COUNT = N_("{severity} {count}")
SEVERITY_NAMES = {
    Severity.LIFE_THREATENING: N_("Life-threatening"),
    Severity.URGENT: N_("Urgent"),
    Severity.NORMAL: N_("Normal"),
}
# What a row is about: the table's first column.
MISSION = N_("Mission")
COUNTRY = N_("Country")
MINISTRY = N_("Ministry")
CODE = N_("Code")
NAME = N_("Name")
SEVERITY = N_("Severity")
FIGURE_HEADINGS = (
    N_("Reports received"),
    N_("Acknowledged within the service level"),
    N_("Acknowledged late"),
    N_("Solved or handed over within the service level"),
    N_("Solved or handed over late"),
    N_("Escalations"),
    N_("Open at the month's end"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def say(language: str, message: str, **params: object) -> str:
    return shipped_catalogs().gettext(language, message, **params)


def figure_cells(figures: Figures) -> list[int]:
    return [
        figures.received,
        figures.acknowledged_in_time,
        figures.acknowledged_late,
        figures.solved_in_time,
        figures.solved_late,
        figures.escalations,
        figures.open_at_end,
    ]


def table_headings(language: str) -> list[str]:
    """The download's columns: what the row is about, its code and name, the severity, the figures."""
    return [say(language, h) for h in (N_("Table"), CODE, NAME, SEVERITY, *FIGURE_HEADINGS)]


def _severity_rows(line: Line, language: str) -> list[tuple[str, Figures]]:
    rows = [(say(language, ALL_SEVERITIES), line.figures)]
    rows += [(say(language, SEVERITY_NAMES[s]), line.by_severity[s]) for s in SEVERITIES]
    return rows


def rows(report: EmergencyMonthly, language: str) -> list[list[Cell]]:
    """Each mission, each country, then the ministry, four rows each (all severities, then each)."""
    body: list[list[Cell]] = []
    parts: list[tuple[str, str, str, Line]] = [
        (say(language, MISSION), m.code, m.name(language), m) for m in report.ordered_missions(language)
    ]
    parts += [(say(language, COUNTRY), c.country, c.name(language), c) for c in report.ordered_countries(language)]
    parts.append((say(language, MINISTRY), "*", say(language, ALL_MISSIONS), report.overall))
    for table, code, name, line in parts:
        for severity, figures in _severity_rows(line, language):
            body.append([table, code, name, severity, *figure_cells(figures)])
    return body


def title(report: EmergencyMonthly, language: str) -> str:
    return say(language, REPORT_TITLE, period=report.period.name(language))


def span(report: EmergencyMonthly, language: str) -> str:
    """The month's first and last days, in both calendars."""
    period = report.period
    return f"{dual_date(period.first_day, language)} – {dual_date(period.last_day, language)}"


def _defused(cell: Cell) -> Cell:
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


def csv_bytes(report: EmergencyMonthly, language: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table_headings(language))
    for row in rows(report, language):
        writer.writerow(["" if cell is None else _defused(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(report: EmergencyMonthly, language: str) -> bytes:
    """The table as one XLSX sheet under a title and the month's days; right to left in Arabic."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({"title": title(report, language)})
    sheet = workbook.add_worksheet(report.period.key)
    if language in RIGHT_TO_LEFT:
        sheet.right_to_left()
    bold = workbook.add_format({"bold": True})
    heading = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    sheet.write_string(0, 0, title(report, language), bold)
    sheet.write_string(1, 0, span(report, language))
    top = 3
    columns = table_headings(language)
    for column, text in enumerate(columns):
        sheet.write_string(top, column, text, heading)
    for offset, row in enumerate(rows(report, language), start=1):
        for column, cell in enumerate(row):
            if isinstance(cell, str):
                sheet.write_string(top + offset, column, cell)
            elif cell is not None:
                sheet.write_number(top + offset, column, cell)
    sheet.set_column(0, 1, 12)
    sheet.set_column(2, 2, 36)
    sheet.set_column(3, len(columns) - 1, 16)
    sheet.freeze_panes(top + 1, 3)
    sheet.autofilter(top, 0, top + len(rows(report, language)), len(columns) - 1)
    workbook.close()
    return out.getvalue()


def figure_lines(line: Line, language: str) -> list[str]:
    """A line's figures as text: each figure in all, then by severity in brackets."""
    names = [say(language, h) for h in FIGURE_HEADINGS]
    totals = figure_cells(line.figures)
    by = {s: figure_cells(line.by_severity[s]) for s in SEVERITIES}
    out = []
    separator = say(language, LIST_SEPARATOR)
    for index, name in enumerate(names):
        parts = separator.join(
            say(language, SEVERITY_COUNT, severity=say(language, SEVERITY_NAMES[s]), count=by[s][index])
            for s in SEVERITIES
        )
        out.append(f"  {name}: {totals[index]} ({parts})")
    return out


def text_lines(report: EmergencyMonthly, language: str, *, mission_id: int | None = None) -> list[str]:
    """The report as plain text: one mission's block, or every mission's, each country's and the ministry's."""
    lines = [title(report, language), span(report, language), ""]
    chosen = [m for m in report.ordered_missions(language) if mission_id is None or m.mission_id == mission_id]
    for mission in chosen:
        lines += [mission.name(language), *figure_lines(mission, language), ""]
    if mission_id is None:
        lines += [say(language, N_("By country")), ""]
        for country in report.ordered_countries(language):
            lines += [country.name(language), *figure_lines(country, language), ""]
        lines += [say(language, ALL_MISSIONS), *figure_lines(report.overall, language)]
    return lines
