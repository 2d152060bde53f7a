"""The fairness report's equal-priority comparison in words people read, and the report as an XLSX workbook.

Codes (urgency, category, gender, applicant type, channel, branch) become their names in the reader's language;
the workbook reads right to left in Arabic and writes every string as a string (no formulas from typed text).
Nothing here names an applicant: the comparison is over groups, and a queue jump's tracking number and the words
written on it appear only for requests within the reader's reach (`shown`), as on the page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import xlsxwriter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fairness.equal_wait import GroupComparison
from majlis.errors import N_
from majlis.i18n import RIGHT_TO_LEFT, in_language
from priority.models import Category
from priority.queue import FairnessReport
from rooms.models import BranchSite
from web import labels

Translate = Callable[..., str]
Cell = str | int | float | None

# Who made a change that no member of staff made: Majlis, by a written rule (a run, a repeated request cancelled).
BY_RULE = N_("Majlis, by rule (no member of staff)")
# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defused(cell: object) -> object:
    """A cell of a CSV file made safe: text someone typed that a spreadsheet would run as a formula is quoted."""
    return f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


FLAGGED = N_("Gap over 10 % and more than chance")
WITHIN = N_("No gap beyond 10 % and chance")
TOO_FEW = N_("Not tested: too few requests")
NO_OTHER_GROUP = N_("Not tested: no other group")
EQUAL_WAIT_HEADINGS = (
    N_("Urgency"),
    N_("Category"),
    N_("Compared by"),
    N_("Group"),
    N_("Requests"),
    N_("Median (days)"),
    N_("90th percentile (days)"),
    N_("Rest of the band and category: requests"),
    N_("Rest: median (days)"),
    N_("Gap of the medians"),
    N_("p-value (permutation test)"),
    N_("q-value (every test counted, Benjamini–Hochberg)"),
    N_("95 % interval of the difference, from (days)"),
    N_("95 % interval of the difference, to (days)"),
    N_("Result"),
)
WAITING_HEADINGS = (N_("Grouped by"), N_("Value"), N_("Requests"), N_("Median"), N_("90th percentile"))
JUMP_HEADINGS = (N_("Request placed ahead"), N_("Older requests passed"), N_("The oldest"), N_("Justification"))
CHANGES_HEADINGS = (N_("Reason"), N_("Changes"))
NOT_SHOWN = N_("Not shown")
NO_JUSTIFICATION = N_("No justification recorded")
SHEETS = (N_("Equal priority"), N_("Waiting time (days)"), N_("Placed ahead"), N_("Manual changes"))


@dataclass(frozen=True)
class Names:
    """The names of the categories and branches the report mentions, in Arabic and English."""

    categories: Mapping[str, tuple[str, str]]
    branches: Mapping[str, tuple[str, str]]

    def category(self, code: str, language: str) -> str:
        return _in(self.categories.get(code), code, language)

    def branch(self, code: str, language: str) -> str:
        return _in(self.branches.get(code), code, language)


def _in(names: tuple[str, str] | None, code: str, language: str) -> str:
    if names is None:
        return code
    return in_language(language, *names)


async def names(*, session: AsyncSession) -> Names:
    categories = {c.code: (c.name_ar, c.name_en) for c in await session.scalars(select(Category))}
    branches = {b.code: (b.name_ar, b.name_en) for b in await session.scalars(select(BranchSite))}
    return Names(categories, branches)


# The waiting table's groups for requests without the value (priority/queue.py).
_NO_VALUE: Mapping[str, str] = {"unclassified": N_("Not classified yet"), "unknown": N_("Not given")}
_GROUP_VALUES: Mapping[str, Mapping[str, str]] = {
    "gender": labels.GENDERS,
    "applicant_kind": labels.APPLICANT_KINDS,
    "channel": labels.CHANNELS,
    "urgency": labels.URGENCIES,
}


def group_name(dimension: str, value: str, found: Names, language: str, _: Translate) -> str:
    """A group's value as people read it: a label, a category's or branch's name, else the code itself."""
    if value in _NO_VALUE:
        return _(_NO_VALUE[value])
    if dimension == "branch":
        return found.branch(value, language)
    if dimension == "category":
        return found.category(value, language)
    known = _GROUP_VALUES.get(dimension, {})
    return _(known[value]) if value in known else value


def result(comparison: GroupComparison) -> str:
    """The message for the comparison's outcome (untranslated)."""
    if comparison.untested == "too_few":
        return TOO_FEW
    if comparison.untested == "no_other_group":
        return NO_OTHER_GROUP
    return FLAGGED if comparison.flagged else WITHIN


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def equal_wait_rows(report: FairnessReport, found: Names, language: str, _: Translate) -> list[list[Cell]]:
    """One row per group and cell, in the order of EQUAL_WAIT_HEADINGS; the gap as a fraction (0.12 = 12 %)."""
    return [
        [
            _(labels.URGENCIES[c.band]) if c.band in labels.URGENCIES else c.band,
            found.category(c.category, language),
            _(labels.WAITING_GROUPS[c.dimension]) if c.dimension in labels.WAITING_GROUPS else c.dimension,
            group_name(c.dimension, c.value, found, language, _),
            c.count,
            _rounded(c.median_days),
            _rounded(c.p90_days),
            c.rest_count,
            _rounded(c.rest_median_days),
            _rounded(c.gap, 3),
            _rounded(c.p_value, 4),
            _rounded(c.q_value, 4),
            _rounded(c.ci_low_days),
            _rounded(c.ci_high_days),
            _(result(c)),
        ]
        for c in report.equal_wait
    ]


def _sheet(
    workbook: xlsxwriter.Workbook,
    title: str,
    headings: Sequence[str],
    rows: list[list[Cell]],
    *,
    right_to_left: bool,
    percent_column: int | None = None,
) -> None:
    sheet = workbook.add_worksheet(title[:31])
    if right_to_left:
        sheet.right_to_left()
    heading = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    percent = workbook.add_format({"num_format": "0.0%"})
    for column, text in enumerate(headings):
        sheet.write_string(0, column, text, heading)
    for line, row in enumerate(rows, start=1):
        for column, cell in enumerate(row):
            style = percent if column == percent_column else None
            if cell is None:
                sheet.write_blank(line, column, None, style)
            elif isinstance(cell, str):
                sheet.write_string(line, column, cell, style)
            else:
                sheet.write_number(line, column, cell, style)
    sheet.set_column(0, max(len(headings) - 1, 0), 18)
    sheet.freeze_panes(1, 0)


def xlsx_bytes(
    report: FairnessReport,
    *,
    found: Names,
    staff_names: Mapping[int, str],
    by_rule: str,
    shown: set[int],
    language: str,
    _: Translate,
) -> bytes:
    """The report as a workbook: equal priority, waiting times, queue jumps, manual changes (one sheet each)."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    right_to_left = language in RIGHT_TO_LEFT
    equal, waiting, jumps, changes = (_(title) for title in SHEETS)
    _sheet(
        workbook,
        equal,
        [_(h) for h in EQUAL_WAIT_HEADINGS],
        equal_wait_rows(report, found, language, _),
        right_to_left=right_to_left,
        percent_column=EQUAL_WAIT_HEADINGS.index(N_("Gap of the medians")),
    )
    waiting_rows: list[list[Cell]] = [
        [
            _(labels.WAITING_GROUPS[s.group]),
            group_name(s.group, s.value, found, language, _),
            s.count,
            round(s.median_days, 1),
            round(s.p90_days, 1),
        ]
        for s in report.waiting
    ]
    _sheet(workbook, waiting, [_(h) for h in WAITING_HEADINGS], waiting_rows, right_to_left=right_to_left)

    def number(case_id: int, tracking_number: str) -> str:
        return tracking_number if case_id in shown else _(NOT_SHOWN)

    jump_rows: list[list[Cell]] = []
    for jump in report.jumps:
        justification = _(NO_JUSTIFICATION)
        if jump.justification is not None:
            words = jump.justification.reason_text if jump.ahead.case.id in shown else _(NOT_SHOWN)
            justification = f"{_(labels.CHANGE_REASONS[jump.justification.reason])}: {words}"
        ahead, oldest = jump.ahead.case, jump.oldest_passed.case
        passed = number(oldest.id, oldest.tracking_number)
        jump_rows.append([number(ahead.id, ahead.tracking_number), jump.passed, passed, justification])
    _sheet(workbook, jumps, [_(h) for h in JUMP_HEADINGS], jump_rows, right_to_left=right_to_left)
    change_rows: list[list[Cell]] = []
    for actor_id, reasons in sorted(report.changes_by_staff.items(), key=lambda item: (item[0] is None, item[0] or 0)):
        who = by_rule if actor_id is None else staff_names.get(actor_id, str(actor_id))
        change_rows += [[who, _(labels.CHANGE_REASONS[reason]), count] for reason, count in sorted(reasons.items())]
    _sheet(
        workbook,
        changes,
        [_(N_("Staff")), *(_(h) for h in CHANGES_HEADINGS)],
        change_rows,
        right_to_left=right_to_left,
    )
    workbook.close()
    return out.getvalue()
