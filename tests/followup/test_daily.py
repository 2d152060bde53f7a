"""The follow-up team's daily list, on SQLite and PostgreSQL: the team's own work first, then the departments
to chase, overdue first and then by working time left (a weekend does not count), paused referrals last; the
filters; and a list of ten thousand open referrals built from a fixed number of queries."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from followup import daily, team
from followup.models import Department, Referral, ReferralSource, ReferralState
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from tests.followup.arrange import add_department
from tests.followup.team_arrange import followup_day, riyadh, tracking_number
from tests.priority.test_triage import new_case

Sessions = async_sessionmaker[AsyncSession]
HOUR = timedelta(hours=1)


async def listed(sessions: Sessions, clock: FrozenClock, **filters: str) -> daily.DailyList:
    async with sessions() as session:
        return await daily.daily_list(session=session, clock=clock, filters=daily.checked_filters(**filters))


def ids(items: list[daily.Item]) -> list[int | None]:
    return [item.referral_id for item in items]


async def test_the_team_s_work_comes_first_then_overdue_then_least_time_left(
    sessions: Sessions, clock: FrozenClock
) -> None:
    day = await followup_day(sessions, clock)
    found = await listed(sessions, clock)

    assert found.now == day.now
    # The team's own work, longest waiting first: no department since Monday 08:30, returned Tuesday 11:00
    # and 12:00, answered Wednesday 12:00.
    assert ids(found.team) == [None, day.returned_alone, day.returned_beside_another, day.answered]
    unreferred, alone, beside, answer = found.team
    assert unreferred.tracking_number == day.no_department and unreferred.state is None
    assert unreferred.department is None and unreferred.waiting_since == riyadh(11, 23, 8, 30)
    assert [i.action for i in found.team] == [
        daily.Action.REFER,
        daily.Action.REFER_OR_CLOSE,
        daily.Action.CLOSE_RETURNED,
        daily.Action.REVIEW_AND_CLOSE,
    ]
    assert (alone.waiting_since, beside.waiting_since, answer.waiting_since) == (
        riyadh(11, 24, 11),
        riyadh(11, 24, 12),
        riyadh(11, 25, 12),
    )
    assert all(not i.overdue and i.left is None and i.clock == "" for i in found.team)

    # With the departments: the most overdue first, then the least working time left, the paused one last.
    assert ids(found.chasing) == [
        day.silent_since_last_week,
        day.no_news,
        day.beside_a_return,
        day.due_after_the_weekend,
        day.sent_this_morning,
        day.waiting_for_applicant,
    ]
    silent, no_news, beside_return, after_weekend, this_morning, waiting = found.chasing
    # Silent since Thursday 14:00: its first response was due Monday 14:00; overdue Monday 1 h, Tuesday and
    # Wednesday 7 h each, Thursday 5 h.
    assert (silent.clock, silent.due_at, silent.overdue) == ("first_response", riyadh(11, 23, 14), True)
    assert silent.left == -20 * HOUR and silent.overdue_by == 20 * HOUR
    assert silent.department is not None and silent.department.code == "housing"
    # Acknowledged on Tuesday the 17th at 09:00: its news was due five working days later.
    assert (no_news.clock, no_news.due_at, no_news.left) == ("update", riyadh(11, 24, 9), -18 * HOUR)
    assert (beside_return.clock, beside_return.left) == ("first_response", -11 * HOUR)
    # Due Sunday 10:00: Thursday 13:00–15:00 and Sunday 08:00–10:00; the weekend does not count.
    assert after_weekend.due_at == riyadh(11, 29, 10)
    assert (after_weekend.left, after_weekend.overdue) == (4 * HOUR, False)
    assert this_morning.left == 10 * HOUR and this_morning.working_day == 7 * HOUR
    # Paused on Wednesday 10:00 with 62 of the solution's 70 working hours left: shown, frozen, never overdue.
    assert waiting.paused and waiting.paused_since == riyadh(11, 25, 10) and waiting.action is None
    assert (waiting.state, waiting.clock, waiting.left, waiting.overdue) == (
        ReferralState.AWAITING_APPLICANT,
        "solution",
        62 * HOUR,
        False,
    )
    assert [i.escalation_level for i in found.chasing] == [0] * 6

    assert found.counts == daily.Counts(items=10, overdue=3, team_action=4, paused=1, unreferred=1)
    assert [i.referral_id for i in found.items] == ids(found.team) + ids(found.chasing)
    assert await tracking_number(sessions, day.answered) == answer.tracking_number

    # A week later with nothing done, the paused referral stays as it was while the others run on.
    clock.set(riyadh(12, 3, 13))
    later = await listed(sessions, clock)
    assert later.chasing[-1].referral_id == day.waiting_for_applicant and later.chasing[-1].left == 62 * HOUR
    assert later.counts.overdue == 5


async def test_filters_narrow_the_list_but_not_its_counts(sessions: Sessions, clock: FrozenClock) -> None:
    day = await followup_day(sessions, clock)
    health = await listed(sessions, clock, department="Health")
    assert sorted(ids(health.items), key=str) == sorted(
        [day.no_news, day.waiting_for_applicant, day.returned_alone, day.returned_beside_another], key=str
    )
    assert health.counts.items == 10
    assert ids((await listed(sessions, clock, state="answered")).items) == [day.answered]
    unreferred = await listed(sessions, clock, state="unreferred")
    assert [i.tracking_number for i in unreferred.items] == [day.no_department]
    overdue = await listed(sessions, clock, overdue="1")
    assert overdue.team == [] and ids(overdue.chasing) == [day.silent_since_last_week, day.no_news, day.beside_a_return]
    both = await listed(sessions, clock, department="water", overdue="on")
    assert ids(both.items) == [day.beside_a_return]
    assert (await listed(sessions, clock, department="nowhere")).items == []
    with pytest.raises(InvalidInput) as refused:
        daily.checked_filters(state="closed")
    assert [(e.field, e.code) for e in refused.value.errors] == [("state", "invalid_choice")]


async def test_an_extension_in_working_days_uses_the_department_s_working_day(
    sessions: Sessions, clock: FrozenClock
) -> None:
    day = await followup_day(sessions, clock)
    async with sessions() as session:
        minutes = await team.extension_minutes(
            session=session, referral_id=day.no_news, amount="2", unit="working_days"
        )
        assert minutes == 2 * 7 * 60
        assert await team.extension_minutes(session=session, referral_id=day.no_news, amount="5", unit="hours") == 300
        for amount, unit, problems in (
            ("0", "hours", [("amount", "not_positive")]),
            ("١", "weeks", [("amount", "not_positive"), ("unit", "invalid_choice")]),
            ("21", "working_days", [("amount", "too_much")]),
        ):
            with pytest.raises(InvalidInput) as refused:
                await team.extension_minutes(session=session, referral_id=day.no_news, amount=amount, unit=unit)
            assert [(e.field, e.code) for e in refused.value.errors] == problems


async def test_ten_thousand_open_referrals_take_a_fixed_number_of_queries(
    sessions: Sessions, clock: FrozenClock
) -> None:
    codes = [f"dept{i}" for i in range(5)]
    for code in codes:
        await add_department(sessions, code)
    number = await new_case(sessions, clock)
    now = clock.now()
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        departments = list(await session.scalars(select(Department.id).where(Department.code.in_(codes))))
        rows: list[dict[str, Any]] = []
        for i in range(10_000):
            created = now - timedelta(hours=i % 400)
            rows.append(
                {
                    "case_id": case.id,
                    "department_id": departments[i % len(departments)],
                    "policy_id": 1,
                    "source": ReferralSource.AUDIT_DESK,
                    "directive": "يحال",
                    "state": ReferralState.ACKNOWLEDGED if i % 3 else ReferralState.SENT,
                    "generation": 1,
                    "created_at": created,
                    "first_response_due_at": created + timedelta(days=2),
                    "next_update_due_at": created + timedelta(days=5) if i % 3 else None,
                    "acknowledged_at": created if i % 3 else None,
                    "solution_due_at": created + timedelta(days=10 + i % 7),
                    "extended_minutes": 0,
                    "escalation_level": i % 3,
                    "answer": "",
                    "outcome": "",
                }
            )
        await session.execute(insert(Referral), rows)

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        found = await listed(sessions, clock)
        took = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert found.counts.items == 10_000 and len(found.chasing) == 10_000
    lefts = [i.left for i in found.chasing]
    assert lefts == sorted(lefts, key=lambda left: left if left is not None else timedelta.max)
    # The referrals, their policies, ladders, departments' calendars (three), the departments, the returns,
    # the requests without a department: whatever the number of referrals.
    assert len(statements) <= 10, statements
    # Generous: two shared cores; measured well under this.
    assert took < 20, took
