"""A report's deadlines by severity, in wall time or the mission's working time, and its escalation moments.

INTERFACE (owned by the SERVICE-LEVELS helper; bodies to be written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import Mission, Severity


@dataclass(frozen=True)
class Levels:
    """The service levels in force (from the settings)."""

    life_ack_minutes: int
    life_solve_hours: float
    urgent_ack_minutes: int
    urgent_solve_hours: float
    normal_solve_working_days: int


@dataclass(frozen=True)
class Deadlines:
    acknowledge_due_at: datetime
    solve_due_at: datetime
    # The first rung (head of mission): when the acknowledgement is overdue.
    next_escalation_at: datetime


async def deadlines(
    *, session: AsyncSession, mission: Mission, severity: Severity, registered_at: datetime, levels: Levels
) -> Deadlines:
    """The deadlines of a report registered at `registered_at` (aware, UTC) for `mission`."""
    raise NotImplementedError
