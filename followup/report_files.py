"""The monthly report as a table in the reader's language: for a CSV or XLSX download, the command line and e-mail.

CSV is UTF-8 with a byte-order mark, so spreadsheet programs read the Arabic as UTF-8. The XLSX sheet reads right
to left in Arabic. Names typed by people (departments) never become formulas: a CSV cell starting like a formula
is quoted, and the workbook writes every string as a string.
"""

from __future__ import annotations

import csv
import io

import xlsxwriter

from followup.report import Figures, MonthlyReport
from majlis.dates import dual_date
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT, shipped_catalogs

Cell = str | int | float | None

REPORT_TITLE = N_("Follow-up report: {period}")
OVERALL = N_("All departments")
ESCALATIONS_AT = N_("Escalations, level {level}")
# The figures' columns after the department's code and name, in order.
FIGURE_HEADINGS = (
    N_("Referrals made"),
    N_("Answered on time"),
    N_("Answered late"),
    N_("Open and overdue at the period's end"),
    N_("Median working days to a solution"),
    N_("Escalations"),
)
RETURNED = N_("Returned as not theirs")
CODE = N_("Code")
DEPARTMENT = N_("Department")
# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def say(language: str, message: str, **params: object) -> str:
    return shipped_catalogs().gettext(language, message, **params)


def headings(report: MonthlyReport, language: str) -> list[str]:
    """The table's column headings: code, department, the figures, one column per escalation level, returned."""
    return [
        say(language, CODE),
        say(language, DEPARTMENT),
        *(say(language, heading) for heading in FIGURE_HEADINGS),
        *(say(language, ESCALATIONS_AT, level=level) for level in report.levels),
        say(language, RETURNED),
    ]


def median_days(figures: Figures) -> float | None:
    """The median rounded for people (a tenth of a working day), none when nothing was answered."""
    value = figures.median_working_days
    return None if value is None else round(value, 1)


def _figure_cells(figures: Figures, levels: list[int]) -> list[Cell]:
    return [
        figures.referred,
        figures.answered_on_time,
        figures.answered_late,
        figures.overdue,
        median_days(figures),
        figures.escalated,
        *(figures.escalations.get(level, 0) for level in levels),
        figures.returned,
    ]


def rows(report: MonthlyReport, language: str) -> list[list[Cell]]:
    """One row per department (by name in the language), then the overall row (code "*")."""
    levels = report.levels
    body: list[list[Cell]] = [
        [d.code, d.name(language), *_figure_cells(d.figures, levels)] for d in report.ordered(language)
    ]
    body.append(["*", say(language, OVERALL), *_figure_cells(report.overall, levels)])
    return body


def title(report: MonthlyReport, language: str) -> str:
    return say(language, REPORT_TITLE, period=report.period.name(language))


def span(report: MonthlyReport, language: str) -> str:
    """The period's first and last days, in both calendars."""
    first, last = dual_date(report.period.first_day, language), dual_date(report.period.last_day, language)
    return f"{first} – {last}"


def _defused(cell: Cell) -> Cell:
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


def csv_bytes(report: MonthlyReport, language: str) -> bytes:
    """The table as CSV: headings, departments, the overall row; a byte-order mark first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headings(report, language))
    for row in rows(report, language):
        writer.writerow(["" if cell is None else _defused(cell) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(report: MonthlyReport, language: str) -> bytes:
    """The table as one XLSX sheet under a title and the period's days; right to left in Arabic."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    workbook.set_properties({"title": title(report, language)})
    sheet = workbook.add_worksheet(report.period.key)
    if language in RIGHT_TO_LEFT:
        sheet.right_to_left()
    bold = workbook.add_format({"bold": True})
    heading = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    tenths = workbook.add_format({"num_format": "0.0"})
    total = workbook.add_format({"bold": True, "top": 1})
    total_tenths = workbook.add_format({"bold": True, "top": 1, "num_format": "0.0"})
    sheet.write_string(0, 0, title(report, language), bold)
    sheet.write_string(1, 0, span(report, language))
    top = 3
    columns = headings(report, language)
    for column, text in enumerate(columns):
        sheet.write_string(top, column, text, heading)
    median_column = 2 + FIGURE_HEADINGS.index(N_("Median working days to a solution"))
    body = rows(report, language)
    for offset, row in enumerate(body, start=1):
        last = offset == len(body)
        for column, cell in enumerate(row):
            style = (total_tenths if last else tenths) if column == median_column else (total if last else None)
            if cell is None:
                sheet.write_blank(top + offset, column, None, style)
            elif isinstance(cell, str):
                sheet.write_string(top + offset, column, cell, style)
            else:
                sheet.write_number(top + offset, column, cell, style)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 36)
    sheet.set_column(2, len(columns) - 1, 16)
    sheet.freeze_panes(top + 1, 2)
    workbook.close()
    return out.getvalue()


def text_lines(report: MonthlyReport, language: str, *, department_id: int | None = None) -> list[str]:
    """The report as plain text: a block per department (or only one), and the overall one unless one is asked."""
    lines = [title(report, language), span(report, language), ""]
    chosen = [d for d in report.ordered(language) if department_id is None or d.department_id == department_id]
    for department in chosen:
        lines += [department.name(language), *_figure_lines(department.figures, report, language), ""]
    if department_id is None:
        lines += [say(language, OVERALL), *_figure_lines(report.overall, report, language)]
    return lines


def _figure_lines(figures: Figures, report: MonthlyReport, language: str) -> list[str]:
    cells = _figure_cells(figures, report.levels)
    names = headings(report, language)[2:]
    return [f"  {name}: {'—' if cell is None else cell}" for name, cell in zip(names, cells, strict=True)]
