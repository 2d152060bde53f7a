"""The directives an official gave at audiences that the departments have not yet answered (his home page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from followup.models import OPEN_REFERRAL_STATES, Department, Referral, ReferralSource, ReferralState


@dataclass(frozen=True)
class OpenDirective:
    tracking_number: str
    department: Department
    state: ReferralState
    given_at: datetime
    solution_due_at: datetime


async def open_directives(*, session: AsyncSession, official_id: int, limit: int) -> tuple[int, list[OpenDirective]]:
    """How many of the official's directives are still open (with a department or back with the follow-up team),
    and the oldest `limit` of them."""
    within = (
        Referral.source == ReferralSource.AUDIENCE,
        Referral.created_by_id == official_id,
        Referral.state.in_(OPEN_REFERRAL_STATES | {ReferralState.RETURNED}),
    )
    total = await session.scalar(select(func.count()).select_from(Referral).where(*within))
    rows = await session.execute(
        select(Referral, Case.tracking_number, Department)
        .join(Case, Case.id == Referral.case_id)
        .join(Department, Department.id == Referral.department_id)
        .where(*within)
        .order_by(Referral.created_at, Referral.id)
        .limit(limit)
    )
    found = [
        OpenDirective(number, department, referral.state, referral.created_at, referral.solution_due_at)
        for referral, number, department in rows.all()
    ]
    return int(total or 0), found
