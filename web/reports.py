"""Managers' reports: the fairness of the queue, as a page and as CSV.

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
from majlis.errors import N_
from priority.queue import FairnessReport, QueuePlace, fairness_report
from web import labels, personal_data
from web.auth import requires
from web.keys import CLOCK, DB
from web.pages import gettext_for, render

routes = web.RouteTableDef()

# Who made a change that no member of staff made: Majlis, by a written rule (a repeated WhatsApp request cancelled).
BY_RULE = N_("Majlis, by rule (no member of staff)")
# In place of a request outside the reader's reach (its number, the words written on it).
NOT_SHOWN = N_("Not shown")

# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class SafeWriter:
    """A CSV writer that defuses formulas in text someone typed (reasons, names)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: list[object]) -> None:
        self._writer.writerow(
            [f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell for cell in row]
        )


async def _report(request: web.Request) -> tuple[FairnessReport, dict[int, str], set[int]]:
    """The report, the staff it names, and the requests among its jumps the reader may see (those logged)."""
    session = request[DB]
    report = await fairness_report(session=session, clock=request.app[CLOCK])
    staff = {actor_id for actor_id in report.changes_by_staff if actor_id is not None}
    names = await accounts.names_by_id(session=session, ids=staff)
    named = [place.case.id for jump in report.jumps for place in (jump.ahead, jump.oldest_passed)]
    return report, names, await personal_data.seen_in_list(request, named)


@routes.get("/reports/fairness")
@requires(Role.MANAGER)
async def fairness(request: web.Request) -> web.Response:
    report, names, shown = await _report(request)
    context = {"report": report, "names": names, "labels": labels, "by_rule": BY_RULE, "shown": shown}
    return render(request, "reports/fairness.html", context)


@routes.get("/reports/fairness.csv")
@requires(Role.MANAGER)
async def fairness_csv(request: web.Request) -> web.Response:
    """The same report in one CSV with a section column, for spreadsheets."""
    report, names, shown = await _report(request)
    _ = gettext_for(request)

    def number(place: QueuePlace) -> str:
        return place.case.tracking_number if place.case.id in shown else _(NOT_SHOWN)

    out = io.StringIO()
    writer = SafeWriter(csv.writer(out))
    writer.writerow(["section", "key", "value", "count", "median_days", "p90_days", "justification"])
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
    # A byte-order mark lets spreadsheet programs read the Arabic as UTF-8.
    body = "\ufeff" + out.getvalue()
    return web.Response(
        text=body,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="fairness.csv"'},
    )
