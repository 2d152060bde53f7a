"""The placement explanations of a request's staff page, trimmed to the reader's need to know.

An explanation names other requests: those placed before it in the run, and the older ones it passed, with the
words staff wrote on a change that lowered a passed request. A member of staff who may see this request does not
therefore reach those (cases/need_to_know.py): each is named only when within the reader's reach (and then
logged as seen, as every list is), and is "Not shown" otherwise — as the fairness report does for its queue jumps.
The auditor's own pages show every tracking number: the chain holds no personal data (fairness/models.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from aiohttp import web

from cases import service as cases
from fairness.explain import Before, Passed, PlacementExplanation
from web import personal_data
from web.fairness_files import NOT_SHOWN
from web.keys import DB
from web.pages import gettext_for


async def within_reach(request: web.Request, found: Sequence[PlacementExplanation]) -> list[PlacementExplanation]:
    """`found` with every other request outside the reader's reach named "Not shown", its words with it."""
    _ = gettext_for(request)
    hidden = _(NOT_SHOWN)
    before_ids = await cases.ids_by_tracking_number(
        session=request[DB], numbers={b.tracking_number for p in found for b in p.before}
    )
    named = [p.case_id for e in found for p in e.passed] + list(before_ids.values())
    shown = await personal_data.seen_in_list(request, named)

    def passed(p: Passed) -> Passed:
        if p.case_id in shown:
            return p
        why = p.justification
        # A lowering's words were written on the passed request; a raise's or a seat chosen by hand's on this one.
        if why is not None and why.by == "lowered":
            why = dataclasses.replace(why, text=hidden)
        return dataclasses.replace(p, tracking_number=hidden, justification=why)

    def before(b: Before) -> Before:
        return b if before_ids.get(b.tracking_number) in shown else dataclasses.replace(b, tracking_number=hidden)

    return [
        dataclasses.replace(e, passed=tuple(passed(p) for p in e.passed), before=tuple(before(b) for b in e.before))
        for e in found
    ]
