"""Managers' and auditors' reports: the fairness of the queue, as a page, CSV and XLSX.

The equal-priority comparison (fairness/equal_wait.py) is over groups and names nobody. An auditor's need to
know reaches no request (cases/need_to_know.py), so every tracking number and typed word reads "not shown" for
them, and nothing in the report carries a national ID or a phone number.

Need to know (cases/need_to_know.py): a queue jump names its requests (tracking numbers, and the words of the
change that placed it) only when they are within the manager's reach, each such view logged; any other is "not
shown". The jumps are counted all the same, and every other figure is over all requests.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web

from accounts import service as accounts
from accounts.roles import Role
from priority.queue import FairnessReport, QueuePlace, fairness_report
from web import fairness_files, labels, personal_data
from web.auth import requires
from web.fairness_files import BY_RULE, NOT_SHOWN, defused, group_name
from web.followup_report import spreadsheet
from web.keys import CLOCK, DB, LANGUAGE
from web.pages import gettext_for, render

routes = web.RouteTableDef()

READERS = (Role.MANAGER, Role.AUDITOR)


# The CSV's columns: a section, then the figures the sections share; the equal-priority rows fill the rest.
COLUMNS = ("section", "key", "value", "count", "median_days", "p90_days", "justification")
EQUAL_WAIT_COLUMNS = (
    "band",
    "category",
    "rest_count",
    "rest_median_days",
    "rest_p90_days",
    "gap",
    "p_value",
    "q_value",
    "ci_low_days",
    "ci_high_days",
    "outcome",
)


class SafeWriter:
    """A CSV writer that defuses formulas in text someone typed (reasons, names)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: list[object]) -> None:
        self._writer.writerow([defused(cell) for cell in row])


async def _report(request: web.Request) -> tuple[FairnessReport, dict[int, str], set[int]]:
    """The report, the staff it names, and the requests among its jumps the reader may see (those logged)."""
    session = request[DB]
    report = await fairness_report(session=session, clock=request.app[CLOCK])
    staff = {actor_id for actor_id in report.changes_by_staff if actor_id is not None}
    names = await accounts.names_by_id(session=session, ids=staff)
    named = [place.case.id for jump in report.jumps for place in (jump.ahead, jump.oldest_passed)]
    return report, names, await personal_data.seen_in_list(request, named)


@routes.get("/reports/fairness")
@requires(*READERS)
async def fairness(request: web.Request) -> web.Response:
    report, names, shown = await _report(request)
    found = await fairness_files.names(session=request[DB])
    _ = gettext_for(request)
    context = {
        "report": report,
        "names": names,
        "labels": labels,
        "by_rule": BY_RULE,
        "shown": shown,
        "group_name": lambda dimension, value: group_name(dimension, value, found, request[LANGUAGE], _),
        "category_name": lambda code: found.category(code, request[LANGUAGE]),
        "result": fairness_files.result,
    }
    return render(request, "reports/fairness.html", context)


@routes.get("/reports/fairness.csv")
@requires(*READERS)
async def fairness_csv(request: web.Request) -> web.Response:
    """The same report in one CSV with a section column, for spreadsheets."""
    report, names, shown = await _report(request)
    _ = gettext_for(request)

    def number(place: QueuePlace) -> str:
        return place.case.tracking_number if place.case.id in shown else _(NOT_SHOWN)

    out = io.StringIO()
    writer = SafeWriter(csv.writer(out))
    writer.writerow([*COLUMNS, *EQUAL_WAIT_COLUMNS])
    # Staff by id, then the decisions taken by rule, named as such.
    for actor_id, reasons in sorted(report.changes_by_staff.items(), key=lambda item: (item[0] is None, item[0] or 0)):
        who = _(BY_RULE) if actor_id is None else names.get(actor_id, str(actor_id))
        for reason, count in sorted(reasons.items()):
            writer.writerow(["changes_by_staff", who, reason, count, "", "", ""])
    for reason, count in sorted(report.changes_by_reason.items()):
        writer.writerow(["changes_by_reason", reason, _(labels.CHANGE_REASONS[reason]), count, "", "", ""])
    for stats in report.waiting:
        writer.writerow(
            ["waiting", stats.group, stats.value, stats.count, f"{stats.median_days:.1f}", f"{stats.p90_days:.1f}", ""]
        )
    for jump in report.jumps:
        justification = "UNJUSTIFIED"
        if jump.justification is not None:
            # The words staff wrote on the request go with its number.
            words = jump.justification.reason_text if jump.ahead.case.id in shown else _(NOT_SHOWN)
            justification = f"{jump.justification.reason.value}: {words}"
        writer.writerow(
            [
                "queue_jump",
                number(jump.ahead),
                number(jump.oldest_passed),
                jump.passed,
                "",
                "",
                justification,
            ]
        )
    for c in report.equal_wait:
        gap = "" if c.gap is None else f"{c.gap:.3f}"
        p_value = "" if c.p_value is None else f"{c.p_value:.4f}"
        q_value = "" if c.q_value is None else f"{c.q_value:.4f}"
        interval = ["" if d is None else f"{d:.1f}" for d in (c.ci_low_days, c.ci_high_days)]
        rest = ["" if d is None else f"{d:.1f}" for d in (c.rest_median_days, c.rest_p90_days)]
        outcome = c.untested or ("flagged" if c.flagged else "within")
        figures = [c.count, f"{c.median_days:.1f}", f"{c.p90_days:.1f}", ""]
        cell = [c.band, c.category, c.rest_count, *rest, gap, p_value, q_value, *interval, outcome]
        writer.writerow(["equal_wait", c.dimension, c.value, *figures, *cell])
    # A byte-order mark lets spreadsheet programs read the Arabic as UTF-8.
    body = "\ufeff" + out.getvalue()
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="fairness.csv"'},
    )


@routes.get("/reports/fairness.xlsx")
@requires(*READERS)
async def fairness_xlsx(request: web.Request) -> web.Response:
    """The same report as a workbook, a sheet per section, right to left in Arabic."""
    report, names, shown = await _report(request)
    _ = gettext_for(request)
    body = fairness_files.xlsx_bytes(
        report,
        found=await fairness_files.names(session=request[DB]),
        staff_names=names,
        by_rule=_(BY_RULE),
        shown=shown,
        language=request[LANGUAGE],
        _=_,
    )
    return spreadsheet(body, "xlsx", "fairness.xlsx")
