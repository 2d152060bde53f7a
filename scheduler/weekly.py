"""The weekly run: dated sessions 12 weeks ahead, then the allocation. Used by the job, the button and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from scheduler import calendar
from scheduler import service as scheduling


@dataclass(frozen=True)
class WeeklyReport:
    new_sessions: int
    run: scheduling.RunReport


async def weekly_run(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    actor_id: int | None,
    status_url: str,
    horizon: timedelta | None,
) -> WeeklyReport:
    """Generates the coming sessions and allocates, each in its own transaction (the boundary is here)."""
    async with transaction(sessions) as session:
        made = await calendar.generate_sessions(session=session, clock=clock)
    async with transaction(sessions) as session:
        report = await scheduling.run_allocation(
            session=session, clock=clock, actor_id=actor_id, status_url=status_url, horizon=horizon
        )
    return WeeklyReport(made, report)
