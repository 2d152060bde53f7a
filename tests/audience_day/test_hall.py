"""The hall's queue on SQLite and PostgreSQL: Call next ignores a stale press, the outcome is recorded once and
only with what it needs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from audience_day import hall
from audience_day.models import HallAudience, Outcome
from audience_day.outcome import OutcomeRefused
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from notify.models import OutboxMessage
from scheduler.models import AppointmentState
from tests.audience_day.arrange import at, booked_day, call, check_in, count, official, record, states, status, told
from tests.followup.arrange import add_department

Sessions = async_sessionmaker[AsyncSession]


async def audience(sessions: Sessions, audience_id: int) -> HallAudience:
    async with sessions() as session:
        return await session.get_one(HallAudience, audience_id)


async def test_a_stale_press_changes_nothing(sessions: Sessions, clock: FrozenClock) -> None:
    first, second, third = await booked_day(sessions, clock, 3)
    actor = await official(sessions, clock)
    clock.set(at(29, 9, 50))
    for booked in (first, second, third):
        await check_in(sessions, clock, booked.appointment_id)
    session_id = first.session_id
    clock.set(at(29, 10))
    called = await call(sessions, clock, session_id, None, actor)
    assert called.moved and called.current is not None
    assert (called.current.appointment_id, called.current.called_at) == (first.appointment_id, clock.now())
    # The same press again (the console still showed nobody), and a press naming some other audience.
    clock.advance(timedelta(minutes=2))
    for stale in (None, called.current.id + 100):
        again = await call(sessions, clock, session_id, stale, actor)
        assert not again.moved and again.current is not None and again.current.id == called.current.id
    assert await count(sessions, HallAudience) == 1
    assert (await audience(sessions, called.current.id)).ended_at is None
    assert await states(sessions, [second.appointment_id]) == [AppointmentState.ARRIVED]
    async with sessions() as session:
        screen = await hall.now_serving(session=session, session_id=session_id)
    assert (screen.serving, screen.waiting) == (1, [2, 3])

    # The right press ends the current audience (no outcome yet) and calls the next.
    clock.advance(timedelta(minutes=4))
    moved = await call(sessions, clock, session_id, called.current.id, actor)
    assert moved.moved and moved.current is not None and moved.current.appointment_id == second.appointment_id
    ended = await audience(sessions, called.current.id)
    assert ended.ended_at == clock.now() and ended.outcome is None
    # The outcome of the audience just ended can still be recorded; it does not move the queue.
    await record(sessions, clock, ended.id, actor)
    assert await states(sessions, [first.appointment_id]) == [AppointmentState.HELD]
    assert await status(sessions, first.case_id) is CaseStatus.COMPLETED
    async with sessions() as session:
        current = await hall.current_audience(session=session, session_id=session_id)
    assert current is not None and current.id == moved.current.id
    # The last press: the third is called; then nobody is left, and the current audience ends.
    last = await call(sessions, clock, session_id, moved.current.id, actor)
    assert last.current is not None and last.current.appointment_id == third.appointment_id
    empty = await call(sessions, clock, session_id, last.current.id, actor)
    assert (empty.current, empty.moved) == (None, True)
    assert (await audience(sessions, last.current.id)).ended_at == clock.now()
    assert await count(sessions, HallAudience) == 3


async def test_an_outcome_needs_its_directive_and_departments_and_is_recorded_once(
    sessions: Sessions, clock: FrozenClock
) -> None:
    referred, rejected = await booked_day(sessions, clock, 2)
    actor = await official(sessions, clock)
    await add_department(sessions, "health")
    await add_department(sessions, "hrsd")
    clock.set(at(29, 9, 50))
    await check_in(sessions, clock, referred.appointment_id)
    await check_in(sessions, clock, rejected.appointment_id)
    clock.set(at(29, 10))
    called = await call(sessions, clock, referred.session_id, None, actor)
    assert called.current is not None
    current = called.current.id
    before = await told(sessions, "stage:%")
    for outcome, directive, departments, code in (
        (Outcome.ANSWERED, "   ", "", "directive_missing"),
        (Outcome.REFERRED, "يحال للجهة المختصة", "  ", "departments_missing"),
        (Outcome.REFERRED, "", "health", "directive_missing"),
    ):
        with pytest.raises(OutcomeRefused) as refused:
            await record(sessions, clock, current, actor, outcome=outcome, directive=directive, referred_to=departments)
        assert refused.value.code == code
    # Refused: nothing changed.
    unchanged = await audience(sessions, current)
    assert (unchanged.outcome, unchanged.ended_at) == (None, None)
    assert await states(sessions, [referred.appointment_id]) == [AppointmentState.IN_AUDIENCE]
    assert await status(sessions, referred.case_id) is CaseStatus.SCHEDULED
    assert await told(sessions, "stage:%") == before

    clock.advance(timedelta(minutes=6))
    done = await record(
        sessions,
        clock,
        current,
        actor,
        outcome=Outcome.REFERRED,
        directive="  يحال للجهة المختصة  ",
        referred_to=" Health، hrsd ",
    )
    assert (done.outcome, done.directive, done.referred_to) == (Outcome.REFERRED, "يحال للجهة المختصة", "health, hrsd")
    assert (done.outcome_at, done.outcome_by_id, done.ended_at) == (clock.now(), actor, clock.now())
    assert await status(sessions, referred.case_id) is CaseStatus.REFERRED
    assert await states(sessions, [referred.appointment_id]) == [AppointmentState.HELD]
    # Twice: refused, and the first outcome stands.
    with pytest.raises(OutcomeRefused) as twice:
        await record(sessions, clock, current, actor, outcome=Outcome.ANSWERED)
    assert twice.value.code == "outcome_recorded"
    assert (await audience(sessions, current)).outcome is Outcome.REFERRED
    assert await status(sessions, referred.case_id) is CaseStatus.REFERRED
    # The applicant is told the stage; the directive is the official's words for staff, never sent.
    [notice] = [m for m in await told(sessions, "stage:referred:%") if m.case_id == referred.case_id]
    assert "يحال للجهة المختصة" not in notice.body
    # It names the departments in plain words.
    assert "إدارة health وإدارة hrsd" in notice.body

    following = await call(sessions, clock, referred.session_id, None, actor)
    assert following.current is not None
    await record(sessions, clock, following.current.id, actor, outcome=Outcome.REJECTED, directive="لا يختص")
    assert await status(sessions, rejected.case_id) is CaseStatus.REJECTED
    async with sessions() as session:
        sent = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == rejected.case_id)))
    assert any(m.purpose.startswith("stage:rejected:") for m in sent)
    assert all("لا يختص" not in m.body for m in sent)
    with pytest.raises(OutcomeRefused) as missing:
        await record(sessions, clock, following.current.id + 100, actor)
    assert missing.value.code == "no_audience"
