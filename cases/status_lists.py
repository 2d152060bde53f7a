"""The requests waiting in some statuses a page at a time (the audit desk's queue of new requests).

`cases.service.list_by_status` stops at a fixed number, so the 201st new request was never seen; here the list is
counted and cut in the database (majlis/paging.py), oldest first, the reader's need to know (a condition on
`cases`) in the query so a request out of reach is neither listed nor counted.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from cases.models import Case, CaseStatus, Channel, RequestKind
from majlis import paging


def in_statuses(
    statuses: set[CaseStatus],
    *,
    branch: str | None = None,
    kind: RequestKind | None = None,
    channel: Channel | None = None,
) -> Select[Case]:
    """The requests in these statuses, oldest first (then by id, so each is on exactly one page), optionally of one
    branch, kind or channel; their applicants loaded with them."""
    query = select(Case).options(selectinload(Case.applicant)).where(Case.status.in_(statuses))
    if branch is not None:
        query = query.where(Case.branch == branch)
    if kind is not None:
        query = query.where(Case.kind == kind)
    if channel is not None:
        query = query.where(Case.channel == channel)
    return query.order_by(Case.submitted_at, Case.id)


async def page_by_status(
    *,
    session: AsyncSession,
    statuses: set[CaseStatus],
    branch: str | None = None,
    kind: RequestKind | None = None,
    channel: Channel | None = None,
    within: ColumnElement[bool] | None = None,
    page: int = 1,
    per_page: int = paging.PER_PAGE,
) -> paging.Paged[Case]:
    """One page of the requests in these statuses, oldest first, optionally of one branch, kind or channel."""
    query = in_statuses(statuses, branch=branch, kind=kind, channel=channel)
    if within is not None:
        query = query.where(within)
    return await paging.page_of(session, query, page=page, per_page=per_page)
