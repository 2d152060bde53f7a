"""One page of a query's rows, counted and cut in the database (OFFSET/LIMIT and a COUNT), never a list sliced.

Domain modules build the query (its filters and an ORDER BY ending in a unique key, so a row is never on two pages
nor on none); `page_of` counts what it finds and fetches the asked page. A page past the last gives the last one:
a list shrinks while someone pages through it (a referral closed, a request handled), and the link they follow
should still show rows rather than an empty page. Whether a typed page number is a number at all is the web's
question (web/pagination.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

PER_PAGE: Final = 50


@dataclass(frozen=True)
class Paged(Generic[T]):
    """The rows of one page, which page it is, and how many rows the query finds in all."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def last_page(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


async def count(session: AsyncSession, statement: Select[*tuple[Any, ...]]) -> int:
    """How many rows the statement finds (its ORDER BY dropped; the count does not need it)."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return int(await session.scalar(counted) or 0)


async def page_of(session: AsyncSession, statement: Select[T], *, page: int, per_page: int = PER_PAGE) -> Paged[T]:
    """The asked page (clamped to 1..last) of the statement's single-entity rows, and the total."""
    total = await count(session, statement)
    page = min(max(1, page), last_page(total, per_page))
    rows = await session.scalars(statement.offset((page - 1) * per_page).limit(per_page))
    return Paged(items=list(rows), total=total, page=page, per_page=per_page)


async def rows_page_of(
    session: AsyncSession, statement: Select[*tuple[Any, ...]], *, page: int, per_page: int = PER_PAGE
) -> Paged[Any]:
    """As `page_of`, for a statement selecting several columns: each item a row (a named tuple)."""
    total = await count(session, statement)
    page = min(max(1, page), last_page(total, per_page))
    rows = await session.execute(statement.offset((page - 1) * per_page).limit(per_page))
    return Paged(items=list(rows.all()), total=total, page=page, per_page=per_page)


def page_of_list(items: list[T], *, page: int, per_page: int = PER_PAGE) -> Paged[T]:
    """The asked page (clamped as `page_of` does) of a list whose order only Python knows: the priority queue,
    whose scores grow with each day of waiting, is ordered as the allocator orders it, all of it, before any place
    in it means anything; only what is shown is cut."""
    total = len(items)
    page = min(max(1, page), last_page(total, per_page))
    start = (page - 1) * per_page
    return Paged(items=items[start : start + per_page], total=total, page=page, per_page=per_page)
