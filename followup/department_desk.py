"""What a department sees of its referrals: its list, and one referral with the request and the files it may open.

The list holds the department's open referrals, overdue first (the most overdue first), then by the
working time left to the nearest clock still owed (timers.standing); referrals whose clocks are stopped
(waiting for the applicant) or that owe nothing more (answered) come last. Below them, the referrals that
left the department in the last days: closed by the follow-up team, or returned as not theirs.

A department opens the request's own files (the applicant's evidence, the staff's) and its referral's
(its answer, the applicant's answer to its question), never another department's referral's files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.models import Case
from followup import attachments, referrals, timers
from followup.models import (
    OPEN_REFERRAL_STATES,
    Attachment,
    Department,
    EventKind,
    Referral,
    ReferralEvent,
    ReferralState,
)

# How long a referral that left the department stays on its list.
RECENT = timedelta(days=30)
LEFT_STATES = frozenset({ReferralState.CLOSED, ReferralState.RETURNED})


@dataclass(frozen=True)
class Line:
    """One referral on the department's list, with where it stands against its clocks."""

    referral: Referral
    case: Case
    standing: timers.Standing
    # The department calendar's working day, to read the time left in working days; None once it left.
    working_day: timedelta | None = None
    # When it left the department (closed or returned); None while open.
    left_at: datetime | None = None


@dataclass(frozen=True)
class DepartmentList:
    open: list[Line]
    recent: list[Line]


async def department_list(
    *, session: AsyncSession, department_id: int, now: datetime, recent: timedelta = RECENT
) -> DepartmentList:
    """The department's open referrals in order of urgency, and those that left it within `recent`."""
    open_rows = list(
        await session.scalars(
            select(Referral).where(Referral.department_id == department_id, Referral.state.in_(OPEN_REFERRAL_STATES))
        )
    )
    # When each referral that left the department did: its last closing or returning event.
    left_at = func.max(ReferralEvent.at).label("left_at")
    left_rows = (
        await session.execute(
            select(Referral, left_at)
            .join(ReferralEvent, ReferralEvent.referral_id == Referral.id)
            .where(
                Referral.department_id == department_id,
                Referral.state.in_(LEFT_STATES),
                ReferralEvent.kind.in_([EventKind.CLOSED, EventKind.RETURNED]),
            )
            .group_by(Referral.id)
            .having(left_at >= now - recent)
            .order_by(left_at.desc(), Referral.id.desc())
        )
    ).all()
    found = await cases.cases_by_id(
        session=session, case_ids={r.case_id for r in open_rows} | {row[0].case_id for row in left_rows}
    )
    rules = await timers.rules_for(session=session, referrals=open_rows)
    lines = [
        Line(
            referral=r,
            case=found[r.case_id],
            standing=timers.standing(rules[r.id], r, now=now),
            working_day=rules[r.id].calendar.working_day,
        )
        for r in open_rows
    ]
    lines.sort(key=lambda line: (not line.standing.overdue, line.standing.left, line.referral.id))
    idle = timers.Standing(overdue=False, left=timedelta.max, clock="")
    gone = [Line(referral=r, case=found[r.case_id], standing=idle, left_at=at) for r, at in left_rows]
    return DepartmentList(open=lines, recent=gone)


@dataclass(frozen=True)
class ReferralView:
    """One referral as its department reads it."""

    referral: Referral
    department: Department
    case: Case
    files: list[Attachment]
    events: list[ReferralEvent]


def may_open(referral: Referral, attachment: Attachment) -> bool:
    """Whether the referral's department may open the file: the request's own, or its referral's."""
    return attachment.case_id == referral.case_id and attachment.referral_id in (None, referral.id)


async def referral_view(*, session: AsyncSession, referral: Referral) -> ReferralView:
    department = await session.get_one(Department, referral.department_id)
    case = await cases.get_case(session=session, case_id=referral.case_id)
    assert case is not None  # a referral's request is never deleted while the referral lives
    files = [a for a in await attachments.of_case(session=session, case_id=case.id) if may_open(referral, a)]
    events = await referrals.events_of(session=session, referral_id=referral.id)
    return ReferralView(referral=referral, department=department, case=case, files=files, events=events)


async def get_referral(*, session: AsyncSession, referral_id: int) -> Referral | None:
    """The referral as stored now (read afresh: a step earlier in the transaction may have changed it)."""
    return await session.get(Referral, referral_id, populate_existing=True)
