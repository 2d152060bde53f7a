"""The placements' explanations as CSV and XLSX, one row per placement, in the reader's language.

CSV is UTF-8 with a byte-order mark (spreadsheet programs then read the Arabic as UTF-8); the XLSX sheet reads
right to left in Arabic and writes every text as text, never a formula. Justifications are typed by staff: a CSV
cell starting like a formula is quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import xlsxwriter

from fairness.models import ChainAnchor
from fairness.verify import Verification
from majlis.errors import N_
from web import labels
from web.audit_models import PassedOut, PlacementOut
from web.fairness_files import BY_RULE, Names, defused

Translate = Callable[..., str]
Cell = str | int | float | None

HEADINGS = (
    N_("Entry"),
    N_("Recorded at"),
    N_("Tracking number"),
    N_("Rule"),
    N_("Score"),
    N_("Score by rule alone"),
    N_("Urgency"),
    N_("Category"),
    N_("Place in the run"),
    N_("Audience starts"),
    N_("Room"),
    N_("Branch"),
    N_("Placed before it"),
    N_("Older requests passed"),
    N_("Unjustified"),
    N_("Made by"),
    N_("Justification"),
    N_("Entry hash"),
)
NO_JUSTIFICATION = N_("No justification recorded")
YES = N_("Yes")
NO = N_("No")


@dataclass(frozen=True)
class Naming:
    """What the files name things with: the reader's translation, and the categories' and branches' names."""

    translate: Translate
    names: Names
    language: str


def label(_: Translate, names: Mapping[str, str], code: str) -> str:
    """A code's name in the reader's language; a code with no name (recorded by a later version) as itself."""
    name = names.get(code)
    return _(name) if name else code


def passed_text(_: Translate, passed: PassedOut) -> str:
    """One request passed and what allows it, as one line of text."""
    if passed.justification is None:
        return f"{passed.tracking_number}: {_(NO_JUSTIFICATION)}"
    why = label(_, labels.PASS_JUSTIFICATIONS, passed.justification.by)
    words = f" — {passed.justification.text}" if passed.justification.text else ""
    return f"{passed.tracking_number}: {why}{words}"


def row(named: Naming, p: PlacementOut) -> list[Cell]:
    _ = named.translate
    return [
        p.seq,
        p.at.isoformat(timespec="seconds"),
        p.tracking_number,
        label(_, labels.PLACEMENT_RULES, p.rule),
        round(p.score, 2),
        round(p.base_score, 2),
        label(_, labels.URGENCIES, p.urgency),
        named.names.category(p.category, named.language),
        "" if p.rank is None else f"{p.rank}/{p.total}",
        p.seat.starts_at,
        p.seat.room,
        named.names.branch(p.seat.branch, named.language),
        p.placed_before,
        "; ".join(passed_text(_, q) for q in p.passed),
        _(YES) if p.unjustified else _(NO),
        p.actor if p.actor is not None else _(BY_RULE),
        p.justification,
        p.hash,
    ]


def csv_bytes(named: Naming, found: list[PlacementOut]) -> bytes:
    _ = named.translate
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(heading) for heading in HEADINGS])
    for p in found:
        writer.writerow(["" if cell is None else defused(cell) for cell in row(named, p)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(named: Naming, found: list[PlacementOut], *, right_to_left: bool) -> bytes:
    _ = named.translate
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("placements")
    if right_to_left:
        sheet.right_to_left()
    heading = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bottom": 1})
    for column, text in enumerate(HEADINGS):
        sheet.write_string(0, column, _(text), heading)
    for line, p in enumerate(found, start=1):
        for column, cell in enumerate(row(named, p)):
            if cell is None:
                sheet.write_blank(line, column, None)
            elif isinstance(cell, str):
                sheet.write_string(line, column, cell)
            else:
                sheet.write_number(line, column, cell)
    sheet.set_column(0, len(HEADINGS) - 1, 18)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return out.getvalue()


# The verification's file: one row a finding, as the chain page shows it.
VERIFICATION_HEADINGS = (N_("What"), N_("Value"))


def verification_rows(
    _: Translate,
    result: Verification,
    fault: str | None,
    *,
    filed: int,
    file_problem: str | None,
    recorded: list[ChainAnchor],
) -> list[list[Cell]]:
    """The chain's verification as rows (what, value): the verdict, the head, the anchors checked and those sent."""
    head = "" if result.head_seq is None else f"{result.head_seq}:{result.head_hash}"
    found: list[list[Cell]] = [
        [_("Result"), _("The record was tampered with.") if fault else _("Intact")],
        [_("Entries checked"), result.entries],
        [_("Head of the chain (latest entry)"), head],
    ]
    if fault:
        found.append([_("The first bad entry"), fault])
    found.append([_("Anchors matched"), result.anchors_checked])
    found.append([_("Anchors in the anchor file"), filed])
    if file_problem:
        found.append([_("The anchor file cannot be read:"), file_problem])
    found.extend(
        [_("Anchor sent on {day}", day=anchor.day.isoformat()), f"{anchor.seq}:{anchor.hash}"] for anchor in recorded
    )
    return found


def verification_csv(_: Translate, rows: list[list[Cell]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_(text) for text in VERIFICATION_HEADINGS])
    for line in rows:
        writer.writerow(["" if cell is None else defused(cell) for cell in line])
    # A byte-order mark lets spreadsheet programs read the Arabic as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def verification_xlsx(_: Translate, rows: list[list[Cell]], *, right_to_left: bool) -> bytes:
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet("verification")
    if right_to_left:
        sheet.right_to_left()
    heading = workbook.add_format({"bold": True, "bottom": 1})
    for column, text in enumerate(VERIFICATION_HEADINGS):
        sheet.write_string(0, column, _(text), heading)
    for line, (what, value) in enumerate(rows, start=1):
        sheet.write_string(line, 0, str(what))
        if isinstance(value, (int, float)):
            sheet.write_number(line, 1, value)
        else:
            sheet.write_string(line, 1, str(value))
    sheet.set_column(0, 0, 36)
    sheet.set_column(1, 1, 80)
    workbook.close()
    return out.getvalue()
