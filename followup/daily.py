"""The follow-up team's daily list: every referral still open and every referred request left without a
department, the team's own work first, then the departments to chase in order of urgency.

What needs the team itself comes first: an answer to review and close, a referral the department
returned (send it elsewhere, or close it), a request in "referred" with no open referral (an applicant
who gave up an audience is followed in writing; the team must send it to a department). Everything else
is with a department: overdue first, the most overdue first, then the least working time left to its
nearest clock (timers.standing); referrals waiting for the applicant have their clocks stopped and come
last.

The list is built from a fixed number of queries whatever its length: one for the referrals, the rules
of all of them at once (timers.rules_for), one for the requests without a department, and two for how
long the team's items have waited. The working-time arithmetic is done in memory on calendars loaded
once, so ten thousand open referrals are listed without a query per row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case, CaseStatus, StatusChange
from followup import timers
from followup.models import OPEN_REFERRAL_STATES, Department, EventKind, Referral, ReferralEvent, ReferralState
from majlis.clock import Clock
from majlis.errors import InvalidInput, invalid_choice
from worktime.clock import working_between

# Referrals on the list: still with a department, or back with the team.
LISTED = OPEN_REFERRAL_STATES | {ReferralState.RETURNED}
# The state filter's value for a referred request with no open referral.
UNREFERRED = "unreferred"
STATE_CHOICES = (*(state.value for state in ReferralState if state in LISTED), UNREFERRED)


class Action(enum.StrEnum):
    """What the team itself must do about an item."""

    # The department answered: review the answer and close with the outcome the applicant is told.
    REVIEW_AND_CLOSE = "review_and_close"
    # The department said it is not theirs: send the request elsewhere, or close the referral.
    REFER_OR_CLOSE = "refer_or_close"
    # Returned, and the request is already with another department: close this referral.
    CLOSE_RETURNED = "close_returned"
    # Referred, but with no department at all: send it to one.
    REFER = "refer"


@dataclass(frozen=True)
class Item:
    """One line of the list: a referral, or a referred request that has none open."""

    case_id: int
    tracking_number: str
    referral_id: int | None
    department: Department | None
    # None for a request with no open referral.
    state: ReferralState | None
    # The nearest clock still owed: "first_response", "update" or "solution"; "" when none runs.
    clock: str
    due_at: datetime | None
    # Working time to that clock (negative once past it); frozen at the pause while the applicant is awaited.
    left: timedelta | None
    overdue: bool
    escalation_level: int
    paused_since: datetime | None
    action: Action | None
    # Since when the team's action has been awaited (answered, returned, referred without a department).
    waiting_since: datetime | None
    # The department calendar's working day, to read `left` in its working days.
    working_day: timedelta | None

    @property
    def paused(self) -> bool:
        """Waiting for the applicant: the department's clocks are stopped."""
        return self.paused_since is not None

    @property
    def overdue_by(self) -> timedelta | None:
        return -self.left if self.overdue and self.left is not None else None


@dataclass(frozen=True)
class Counts:
    """The list's figures, over every item whatever the filters."""

    items: int
    overdue: int
    team_action: int
    paused: int
    unreferred: int


@dataclass(frozen=True)
class Filters:
    department_code: str = ""
    state: str = ""
    overdue_only: bool = False


@dataclass(frozen=True)
class DailyList:
    now: datetime
    # The team's own work, longest waiting first.
    team: list[Item]
    # With departments: overdue first (most overdue first), then least working time left, paused last.
    chasing: list[Item]
    counts: Counts

    @property
    def items(self) -> list[Item]:
        return [*self.team, *self.chasing]


def checked_filters(*, department: str = "", state: str = "", overdue: str = "") -> Filters:
    """The filters as typed (a form's or a query string's text); a state not on the list is refused."""
    state = state.strip()
    if state and state not in STATE_CHOICES:
        raise InvalidInput([invalid_choice("state", STATE_CHOICES)])
    return Filters(
        department_code=department.strip().lower(),
        state=state,
        overdue_only=overdue.strip().lower() in ("1", "true", "yes", "on"),
    )


def _paused_standing(rules: timers.Rules, referral: Referral) -> tuple[str, datetime, timedelta]:
    """The nearest clock and the working time it had left when the clocks stopped for the applicant."""
    assert referral.paused_since is not None
    due, clock = referral.solution_due_at, "solution"
    if referral.acknowledged_at is None and referral.first_response_due_at < due:
        due, clock = referral.first_response_due_at, "first_response"
    since = referral.paused_since
    left = working_between(rules.calendar, since, due) if due > since else -working_between(rules.calendar, due, since)
    return clock, due, left


def _action(referral: Referral, others_open: bool) -> Action | None:
    if referral.state is ReferralState.ANSWERED:
        return Action.REVIEW_AND_CLOSE
    if referral.state is ReferralState.RETURNED:
        return Action.CLOSE_RETURNED if others_open else Action.REFER_OR_CLOSE
    return None


def item_of(
    referral: Referral,
    tracking_number: str,
    department: Department,
    rules: timers.Rules,
    *,
    now: datetime,
    others_open: bool = False,
    returned_at: datetime | None = None,
) -> Item:
    """The referral as a line of the list: its nearest clock, working time left, and the team's action."""
    clock, due, left, overdue = "", None, None, False
    if referral.paused_since is not None:
        clock, due, left = _paused_standing(rules, referral)
    elif referral.state in timers.OWING:
        standing = timers.standing(rules, referral, now=now)
        clock, left, overdue = standing.clock, standing.left, standing.overdue
        due = {
            "first_response": referral.first_response_due_at,
            "update": referral.next_update_due_at,
            "solution": referral.solution_due_at,
        }[standing.clock]
    waiting_since = referral.answered_at if referral.state is ReferralState.ANSWERED else returned_at
    return Item(
        case_id=referral.case_id,
        tracking_number=tracking_number,
        referral_id=referral.id,
        department=department,
        state=referral.state,
        clock=clock,
        due_at=due,
        left=left,
        overdue=overdue,
        escalation_level=referral.escalation_level,
        paused_since=referral.paused_since,
        action=_action(referral, others_open),
        waiting_since=waiting_since,
        working_day=rules.calendar.working_day,
    )


async def _returned_at(session: AsyncSession) -> dict[int, datetime]:
    """When each referral still returned came back to the team (a referral sent again may return twice)."""
    rows = await session.execute(
        select(ReferralEvent.referral_id, func.max(ReferralEvent.at))
        .join(Referral, Referral.id == ReferralEvent.referral_id)
        .where(Referral.state == ReferralState.RETURNED, ReferralEvent.kind == EventKind.RETURNED)
        .group_by(ReferralEvent.referral_id)
    )
    return {referral_id: at for referral_id, at in rows.all()}


async def _unreferred(session: AsyncSession, within: ColumnElement[bool]) -> list[Item]:
    """Requests in "referred" with no referral open or returned: no department is working on them."""
    with_department = select(Referral.id).where(Referral.case_id == Case.id, Referral.state.in_(LISTED)).exists()
    since = (
        select(func.max(StatusChange.at))
        .where(StatusChange.case_id == Case.id, StatusChange.to_status == CaseStatus.REFERRED)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Case.id, Case.tracking_number, since).where(
                Case.status == CaseStatus.REFERRED, ~with_department, within
            )
        )
    ).all()
    return [
        Item(
            case_id=case_id,
            tracking_number=number,
            referral_id=None,
            department=None,
            state=None,
            clock="",
            due_at=None,
            left=None,
            overdue=False,
            escalation_level=0,
            paused_since=None,
            action=Action.REFER,
            waiting_since=referred_at,
            working_day=None,
        )
        for case_id, number, referred_at in rows
    ]


def _kept(item: Item, filters: Filters) -> bool:
    if filters.department_code and (item.department is None or item.department.code != filters.department_code):
        return False
    if filters.state and (item.state.value if item.state is not None else UNREFERRED) != filters.state:
        return False
    return item.overdue or not filters.overdue_only


def _chasing_order(item: Item) -> tuple[bool, timedelta, int]:
    # Overdue items have negative time left, so the most overdue sorts first; paused ones after all others.
    return (item.paused, item.left if item.left is not None else timedelta.max, item.referral_id or 0)


def _team_order(item: Item) -> tuple[bool, datetime, int, int]:
    waited = item.waiting_since
    return (waited is None, waited or datetime.min.replace(tzinfo=UTC), item.case_id, item.referral_id or 0)


async def daily_list(
    *, session: AsyncSession, clock: Clock, filters: Filters | None = None, within: ColumnElement[bool] | None = None
) -> DailyList:
    """The list as it stands now: the team's work first, then the departments to chase, each filtered.

    `within`, a condition on `cases` (the reader's need to know), keeps only the requests meeting it, counts
    included; all of a request's referrals go or stay together."""
    filters = filters or Filters()
    within = within if within is not None else true()
    now = clock.now()
    rows = (
        await session.execute(
            select(Referral, Case.tracking_number)
            .join(Case, Case.id == Referral.case_id)
            .where(Referral.state.in_(LISTED), within)
        )
    ).all()
    listed = [referral for referral, _ in rows]
    rules = await timers.rules_for(session=session, referrals=listed)
    departments = {
        d.id: d
        for d in await session.scalars(select(Department).where(Department.id.in_({r.department_id for r in listed})))
    }
    open_per_case: dict[int, int] = {}
    for referral in listed:
        if referral.state in OPEN_REFERRAL_STATES:
            open_per_case[referral.case_id] = open_per_case.get(referral.case_id, 0) + 1
    returned_at = await _returned_at(session)
    items = [
        item_of(
            referral,
            number,
            departments[referral.department_id],
            rules[referral.id],
            now=now,
            others_open=open_per_case.get(referral.case_id, 0) > 0,
            returned_at=returned_at.get(referral.id),
        )
        for referral, number in rows
    ]
    items.extend(await _unreferred(session, within))
    counts = Counts(
        items=len(items),
        overdue=sum(1 for i in items if i.overdue),
        team_action=sum(1 for i in items if i.action is not None),
        paused=sum(1 for i in items if i.paused),
        unreferred=sum(1 for i in items if i.state is None),
    )
    kept = [i for i in items if _kept(i, filters)]
    return DailyList(
        now=now,
        team=sorted((i for i in kept if i.action is not None), key=_team_order),
        chasing=sorted((i for i in kept if i.action is None), key=_chasing_order),
        counts=counts,
    )
