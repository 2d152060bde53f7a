"""The requests a reception desk took from people who walked in, over a span of time (the desk's home page)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case, Channel


async def walk_ins_between(
    *, session: AsyncSession, start: datetime, end: datetime, limit: int
) -> tuple[int, list[Case]]:
    """How many walk-in requests were submitted in [start, end), and the latest `limit` of them, newest first."""
    within = (Case.channel == Channel.WALK_IN, Case.submitted_at >= start, Case.submitted_at < end)
    total = await session.scalar(select(func.count()).select_from(Case).where(*within))
    rows = await session.scalars(
        select(Case).where(*within).order_by(Case.submitted_at.desc(), Case.id.desc()).limit(limit)
    )
    return int(total or 0), list(rows)
