"""The record of every staff view of a request's personal data, and the managers' report of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import PersonalDataAccess, StaffUser
from accounts.roles import Role
from cases.models import Case
from majlis import paging
from majlis.clock import Clock

# The CSV holds at most this many rows, newest first (a period narrows it); the page shows them all, a page at a time.
REPORT_LIMIT = 5000


# A reader who sees the same request through the same page again within this long is not written down again: a
# list refreshed every few seconds would otherwise write a row per request per refresh.
QUIET = timedelta(hours=1)


async def record_view(*, session: AsyncSession, clock: Clock, staff_id: int, case_id: int, via: str) -> None:
    """Writes down that this member of staff saw this request's personal data through `via` (flushed)."""
    await record_views(session=session, clock=clock, staff_id=staff_id, case_ids=[case_id], via=via)


async def record_views(*, session: AsyncSession, clock: Clock, staff_id: int, case_ids: list[int], via: str) -> None:
    """The same for every request a list showed: one row per (staff, request, route) an hour at most.

    Two requests at once may both find no row within the hour and both write one: a duplicate row, never an
    error (there is no unique constraint to break), which the report can bear."""
    if not case_ids:
        return
    now, via = clock.now(), via[:120]
    recent = set(
        await session.scalars(
            select(PersonalDataAccess.case_id).where(
                PersonalDataAccess.staff_id == staff_id,
                PersonalDataAccess.at > now - QUIET,
                PersonalDataAccess.via == via,
                PersonalDataAccess.case_id.in_(set(case_ids)),
            )
        )
    )
    session.add_all(
        PersonalDataAccess(at=now, staff_id=staff_id, case_id=case_id, via=via)
        for case_id in dict.fromkeys(case_ids)
        if case_id not in recent
    )
    await session.flush()


@dataclass(frozen=True)
class AccessRow:
    """One view as the report shows it."""

    at: datetime
    username: str
    full_name: str
    role: Role
    tracking_number: str
    via: str


def _views(since: datetime, until: datetime) -> Select[datetime, str, str, Role, str, str]:
    return (
        select(
            PersonalDataAccess.at,
            StaffUser.username,
            StaffUser.full_name,
            StaffUser.role,
            Case.tracking_number,
            PersonalDataAccess.via,
        )
        .join(StaffUser, StaffUser.id == PersonalDataAccess.staff_id)
        .join(Case, Case.id == PersonalDataAccess.case_id)
        .where(PersonalDataAccess.at >= since, PersonalDataAccess.at <= until)
        .order_by(PersonalDataAccess.at.desc(), PersonalDataAccess.id.desc())
    )


async def accesses(
    *, session: AsyncSession, since: datetime, until: datetime, limit: int = REPORT_LIMIT
) -> list[AccessRow]:
    """Views from `since` to `until` (both included), newest first: who, when, which request, and how."""
    rows = await session.execute(_views(since, until).limit(limit))
    return [AccessRow(*row) for row in rows]


async def accesses_page(
    *, session: AsyncSession, since: datetime, until: datetime, page: int, per_page: int = paging.PER_PAGE
) -> paging.Paged[AccessRow]:
    """The same views a page at a time, counted and cut in the database (majlis/paging.py)."""
    found = await paging.rows_page_of(session, _views(since, until), page=page, per_page=per_page)
    rows = [AccessRow(*row) for row in found.items]
    return paging.Paged(items=rows, total=found.total, page=found.page, per_page=found.per_page)
