"""Which branch a request may name: an open reception centre of the branches table, not a fixed list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from majlis.errors import InvalidInput, invalid_choice
from rooms.models import BranchSite


async def open_codes(*, session: AsyncSession) -> list[str]:
    """The codes of the centres taking requests, in the order they are listed."""
    query = select(BranchSite.code).where(BranchSite.active.is_(True))
    return list(await session.scalars(query.order_by(BranchSite.is_official_seat.desc(), BranchSite.code)))


async def require_open(*, session: AsyncSession, code: str) -> None:
    """Refuses (InvalidInput on "branch", listing the open ones) a code that is no open centre, before any write."""
    if await session.scalar(select(BranchSite.active).where(BranchSite.code == code)):
        return
    raise InvalidInput([invalid_choice("branch", await open_codes(session=session))])
