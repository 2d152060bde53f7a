"""The call centre's list a page at a time: the calls `confirmations.due_calls` finds, within the reader's reach.

Counted and cut in the database (majlis/paging.py), soonest audience first, so a member of staff works down the
first page; the reader's need to know (a condition on `cases`) is part of the query, so a request out of reach is
neither listed nor counted.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from majlis import paging
from majlis.clock import Clock
from scheduler.confirmations import CallTask, ConfirmationPolicy, due_calls

# A card with its call form each is long on a phone: twenty calls a page.
PER_PAGE = 20


async def calls_page(
    *,
    session: AsyncSession,
    clock: Clock,
    policy: ConfirmationPolicy,
    within: ColumnElement[bool] | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> paging.Paged[CallTask]:
    """One page of the calls due: asked, no answer after the configured hours, the audience still ahead."""
    statement = due_calls(clock.now(), policy)
    if within is not None:
        statement = statement.where(within)
    found = await paging.rows_page_of(session, statement, page=page, per_page=per_page)
    tasks = [CallTask(confirmation=c, appointment=a, slot=s, case=case) for c, a, s, case in found.items]
    return paging.Paged(items=tasks, total=found.total, page=found.page, per_page=found.per_page)
