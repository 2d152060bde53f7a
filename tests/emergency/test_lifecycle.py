"""A report's steps after registration: acknowledged through the duty officer's link (an old generation's link
refused as moved on, a second press told who acknowledged), news posted, solved or handed over with the citizen
told by SMS, sent to another mission (new generation, deadlines afresh in its time, its officer alerted); two
acknowledgements at once take once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import lifecycle
from emergency.models import ReportEvent, ReportEventKind, ReportState, Severity
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from tests.emergency.levels_arrange import (
    LEVELS,
    LINKS,
    STATUS_URL,
    add_mission,
    add_report,
    add_shift,
    report,
)

Sessions = async_sessionmaker[AsyncSession]
SYDNEY = ZoneInfo("Australia/Sydney")
DUBAI = ZoneInfo("Asia/Dubai")
NIGHT = datetime(2026, 12, 9, 3, 0, tzinfo=SYDNEY)


async def step(sessions: Sessions, work: Any) -> Any:
    async with transaction(sessions) as session:
        return await work(session)


async def kinds(sessions: Sessions, report_id: int) -> list[ReportEventKind]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ReportEvent.kind).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)
        )
        return list(rows)


async def test_acknowledged_through_the_link_once(sessions: Sessions, clock: FrozenClock) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING)
    token = LINKS.emergency_token(report_id, 1)
    found_id, generation = LINKS.check_emergency_token(token)
    clock.advance(timedelta(minutes=6))

    def acknowledging(by: str) -> Any:
        return lambda session: lifecycle.acknowledge(
            session=session, clock=clock, report_id=found_id, generation=generation, by=by, actor_id=None
        )

    done = await step(sessions, acknowledging("Layla Haddad"))
    assert (done.state, done.acknowledged_by, done.acknowledged_at) == (
        ReportState.ACKNOWLEDGED,
        "Layla Haddad",
        clock.now(),
    )
    assert done.next_escalation_at == done.solve_due_at
    with pytest.raises(lifecycle.ReportRefused) as again:
        await step(sessions, acknowledging("Someone else"))
    assert again.value.code == "acknowledged" and again.value.params == {"by": "Layla Haddad"}
    assert not isinstance(again.value, lifecycle.LinkMovedOn)
    async with sessions() as session:
        event = await session.scalar(
            select(ReportEvent).where(
                ReportEvent.kind == ReportEventKind.ACKNOWLEDGED, ReportEvent.report_id == report_id
            )
        )
    assert event is not None and event.params == {"within_service_level": True} and event.by == "Layla Haddad"


async def test_two_acknowledgements_at_once_take_once(sessions: Sessions, clock: FrozenClock) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.URGENT)

    async def attempt(by: str) -> object:
        try:
            return await step(
                sessions,
                lambda session: lifecycle.acknowledge(
                    session=session, clock=clock, report_id=report_id, generation=1, by=by, actor_id=None
                ),
            )
        except lifecycle.ReportRefused as refused:
            return refused

    results = await asyncio.gather(attempt("A"), attempt("B"))
    refused = [r for r in results if isinstance(r, lifecycle.ReportRefused)]
    assert len(refused) == 1 and refused[0].code == "acknowledged"
    assert (await kinds(sessions, report_id)).count(ReportEventKind.ACKNOWLEDGED) == 1


async def test_sent_to_another_mission_the_old_link_is_refused_and_the_new_officer_alerted(
    sessions: Sessions, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    abudhabi = await add_mission(sessions, "abudhabi", head_phone="+971200000001")
    await add_shift(sessions, clock, abudhabi, NIGHT - timedelta(hours=2), name="Omar Saleh", phone="+971500000001")
    report_id = await add_report(sessions, clock, sydney, Severity.NORMAL)
    clock.advance(timedelta(hours=1))
    moved = await step(
        sessions,
        lambda session: lifecycle.reassign(
            session=session,
            clock=clock,
            report_id=report_id,
            mission_id=abudhabi,
            reason="The citizen is in Abu Dhabi, not Sydney.",
            actor_id=None,
            levels=LEVELS,
            links=LINKS,
        ),
    )
    assert (moved.mission_id, moved.generation, moved.state, moved.escalation_level) == (
        abudhabi,
        2,
        ReportState.OPEN,
        0,
    )
    # Normal: the end of the next working day in Abu Dhabi (now Tuesday 21:00 there, so Wednesday 17:00).
    assert moved.acknowledge_due_at.astimezone(DUBAI) == datetime(2026, 12, 9, 17, 0, tzinfo=DUBAI)
    with pytest.raises(lifecycle.LinkMovedOn) as old:
        await step(
            sessions,
            lambda session: lifecycle.acknowledge(
                session=session, clock=clock, report_id=report_id, generation=1, by="Sydney officer", actor_id=None
            ),
        )
    assert old.value.code == "moved_on"
    assert await kinds(sessions, report_id) == [
        ReportEventKind.ALERTED,
        ReportEventKind.REASSIGNED,
        ReportEventKind.ALERTED,
    ]
    async with sessions() as session:
        mails = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")))
    assert [m.recipient for m in mails] == ["head.sydney@mission.example", "omar.saleh@mission.example"]
    assert mails[1].payload["emergency_link"] == {"report_id": report_id, "generation": 2}
    with pytest.raises(InvalidInput) as same:
        await step(
            sessions,
            lambda session: lifecycle.reassign(
                session=session,
                clock=clock,
                report_id=report_id,
                mission_id=abudhabi,
                reason="again",
                actor_id=None,
                levels=LEVELS,
                links=LINKS,
            ),
        )
    assert [(e.field, e.code) for e in same.value.errors] == [("mission_id", "same_mission")]


@pytest.mark.parametrize("handed_over", [False, True])
async def test_solved_or_handed_over_the_citizen_is_told_and_the_ladder_stops(
    sessions: Sessions, clock: FrozenClock, handed_over: bool
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING)
    await step(
        sessions,
        lambda session: lifecycle.post_update(
            session=session, clock=clock, report_id=report_id, note="Called the hospital.", by="Layla", actor_id=None
        ),
    )
    clock.advance(timedelta(hours=3))
    outcome = "The citizen is safe and back at his hotel"
    done = await step(
        sessions,
        lambda session: lifecycle.solve(
            session=session,
            clock=clock,
            report_id=report_id,
            outcome=outcome,
            handed_over=handed_over,
            by="Layla",
            actor_id=None,
            status_url=STATUS_URL,
        ),
    )
    expected = ReportState.HANDED_OVER if handed_over else ReportState.SOLVED
    assert (done.state, done.next_escalation_at, done.outcome) == (expected, None, outcome)
    # Solved before anyone acknowledged it: taken on now.
    assert done.acknowledged_at == clock.now()
    kind = ReportEventKind.HANDED_OVER if handed_over else ReportEventKind.SOLVED
    assert (await kinds(sessions, report_id))[-2:] == [ReportEventKind.UPDATE, kind]
    async with sessions() as session:
        sms = await session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "+61412345678"))
    assert sms is not None and outcome in sms.body and STATUS_URL in sms.body and sms.channel == "sms"
    with pytest.raises(lifecycle.ReportRefused) as closed:
        await step(
            sessions,
            lambda session: lifecycle.post_update(
                session=session, clock=clock, report_id=report_id, note="More", by="Layla", actor_id=None
            ),
        )
    assert closed.value.code == expected.value
    with pytest.raises(InvalidInput):
        await step(
            sessions,
            lambda session: lifecycle.solve(
                session=session,
                clock=clock,
                report_id=report_id,
                outcome="   ",
                handed_over=False,
                by="Layla",
                actor_id=None,
                status_url=STATUS_URL,
            ),
        )
    assert (await report(sessions, report_id)).outcome == outcome


async def test_an_unknown_report_is_named(sessions: Sessions, clock: FrozenClock) -> None:
    with pytest.raises(lifecycle.ReportNotFound):
        await step(
            sessions,
            lambda session: lifecycle.acknowledge(
                session=session, clock=clock, report_id=999, generation=None, by="x", actor_id=None
            ),
        )
