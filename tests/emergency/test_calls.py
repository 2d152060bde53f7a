"""Calls to the emergency line on SQLite and PostgreSQL: recorded once per CallSid, answered or missed once and
only forward, the agents' lists oldest first, a callback taken by one agent, recorded called back with a note
and linked to the report it gave."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from emergency import calls
from emergency.models import (
    EmergencyReport,
    LineCall,
    LineCallState,
    Mission,
    MissionKind,
    ReportSource,
    ReportState,
    ReportType,
    Severity,
)
from emergency.numbers import format_report_number
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from tests.factories import make_staff
from worktime.models import WorkingCalendar

Sessions = async_sessionmaker[AsyncSession]
SYDNEY_CALLER = "+61412345678"


async def arrive(sessions: Sessions, clock: FrozenClock, sid: str, caller: str = SYDNEY_CALLER) -> int:
    async with transaction(sessions) as session:
        return (await calls.record_call(session=session, clock=clock, call_sid=sid, caller=caller, language="ar")).id


async def missed(sessions: Sessions, clock: FrozenClock, sid: str) -> None:
    async with transaction(sessions) as session:
        await calls.call_missed(session=session, clock=clock, call_sid=sid)


async def answered(sessions: Sessions, clock: FrozenClock, sid: str) -> None:
    async with transaction(sessions) as session:
        await calls.call_answered(session=session, clock=clock, call_sid=sid)


async def state_of(sessions: Sessions, sid: str) -> LineCall:
    async with sessions() as session:
        found = await session.scalar(select(LineCall).where(LineCall.call_sid == sid))
        assert found is not None
        return found


async def queue(sessions: Sessions) -> calls.AgentQueue:
    async with sessions() as session:
        return await calls.agent_queue(session=session)


async def a_report(sessions: Sessions, clock: FrozenClock, number: str = "E26-000001-7") -> int:
    """A report as the registration leaves it (its own module makes them; here only the row is needed)."""
    async with transaction(sessions) as session:
        calendar = WorkingCalendar(
            code="au-nsw", name_ar="نيو ساوث ويلز", name_en="NSW", time_zone="Australia/Sydney", always_open=False
        )
        session.add(calendar)
        await session.flush()
        mission = Mission(
            code="au-sydney",
            kind=MissionKind.CONSULATE,
            name_ar="القنصلية العامة في سيدني",
            name_en="Consulate General in Sydney",
            country="AU",
            time_zone="Australia/Sydney",
            calendar_id=calendar.id,
            email="sydney@example.gov.sa",
            head_name="Head",
            head_email="head.sydney@example.gov.sa",
            head_phone="+61298765432",
            live=True,
            active=True,
        )
        session.add(mission)
        await session.flush()
        now = clock.now()
        report = EmergencyReport(
            number=number,
            national_id="1000000008",
            caller_name="Caller",
            phone=SYDNEY_CALLER,
            language="ar",
            country="AU",
            city="Sydney",
            type=ReportType.LOST_PASSPORT,
            severity=Severity.NORMAL,
            account="Lost passport",
            source=ReportSource.CALLBACK,
            mission_id=mission.id,
            state=ReportState.OPEN,
            generation=1,
            created_at=now,
            acknowledge_due_at=now + timedelta(days=1),
            solve_due_at=now + timedelta(days=10),
            acknowledged_by="",
            outcome="",
            escalation_level=0,
        )
        session.add(report)
        await session.flush()
        return report.id


async def test_a_call_is_recorded_once_however_often_twilio_posts_it(sessions: Sessions, clock: FrozenClock) -> None:
    first = await arrive(sessions, clock, "CA1")
    clock.advance(timedelta(seconds=5))
    assert await arrive(sessions, clock, "CA1") == first
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LineCall)) == 1
    call = await state_of(sessions, "CA1")
    assert call.state is LineCallState.WAITING and call.caller == SYDNEY_CALLER and call.language == "ar"
    assert call.arrived_at == clock.now() - timedelta(seconds=5)


async def test_the_callers_number_is_kept_in_e164_or_empty_when_withheld(
    sessions: Sessions, clock: FrozenClock
) -> None:
    for sid, raw, kept in (
        ("CA1", "+971501234567", "+971501234567"),
        ("CA2", "anonymous", ""),
        ("CA3", "+266696687", ""),
        ("CA4", "client:agent", ""),
        ("CA5", "+4420 7946 0958", "+442079460958"),
    ):
        await arrive(sessions, clock, sid, raw)
        assert (await state_of(sessions, sid)).caller == kept, raw


async def test_a_missed_call_is_missed_once_and_owes_a_callback(sessions: Sessions, clock: FrozenClock) -> None:
    await arrive(sessions, clock, "CA1")
    clock.advance(timedelta(minutes=2))
    await missed(sessions, clock, "CA1")
    ended = clock.now()
    clock.advance(timedelta(minutes=1))
    await missed(sessions, clock, "CA1")
    call = await state_of(sessions, "CA1")
    assert call.state is LineCallState.MISSED and call.ended_at == ended
    assert [c.call_sid for c in (await queue(sessions)).callbacks] == ["CA1"]
    # A CallSid never recorded: nothing to miss, nothing made up.
    await missed(sessions, clock, "CA-unknown")
    assert len((await queue(sessions)).callbacks) == 1


async def test_an_answered_call_is_never_made_a_callback_by_a_late_status(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await arrive(sessions, clock, "CA1")
    await answered(sessions, clock, "CA1")
    await missed(sessions, clock, "CA1")
    assert (await state_of(sessions, "CA1")).state is LineCallState.ANSWERED
    # The call's end reported before the queue's "bridged": missed at first, answered once bridged is known.
    await arrive(sessions, clock, "CA2")
    await missed(sessions, clock, "CA2")
    await answered(sessions, clock, "CA2")
    assert (await state_of(sessions, "CA2")).state is LineCallState.ANSWERED
    lists = await queue(sessions)
    assert lists.waiting == [] and lists.callbacks == []


async def test_the_lists_are_oldest_first(sessions: Sessions, clock: FrozenClock) -> None:
    for sid in ("CA1", "CA2", "CA3", "CA4"):
        await arrive(sessions, clock, sid)
        clock.advance(timedelta(minutes=1))
    # Missed in the other order: still listed by when they called.
    await missed(sessions, clock, "CA3")
    await missed(sessions, clock, "CA1")
    lists = await queue(sessions)
    assert [c.call_sid for c in lists.waiting] == ["CA2", "CA4"]
    assert [c.call_sid for c in lists.callbacks] == ["CA1", "CA3"]


async def test_a_callback_is_taken_by_one_agent_and_recorded_with_a_note(
    sessions: Sessions, clock: FrozenClock
) -> None:
    first = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent1")
    second = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent2")
    call_id = await arrive(sessions, clock, "CA1")
    async with transaction(sessions) as session:
        with pytest.raises(calls.CallbackRefused) as waiting:
            await calls.take_callback(session=session, clock=clock, call_id=call_id, actor_id=first.id)
    assert waiting.value.code == "no_callback_owed"
    await missed(sessions, clock, "CA1")
    clock.advance(timedelta(minutes=3))
    for _ in range(2):  # taking it again changes nothing
        async with transaction(sessions) as session:
            await calls.take_callback(session=session, clock=clock, call_id=call_id, actor_id=first.id)
    taken_at = clock.now()
    clock.advance(timedelta(minutes=1))
    async with transaction(sessions) as session:
        with pytest.raises(calls.CallbackRefused) as taken:
            await calls.take_callback(session=session, clock=clock, call_id=call_id, actor_id=second.id)
    assert taken.value.code == "taken_by_another" and taken.value.params == {"name": "Staff emergency_agent"}
    call = await state_of(sessions, "CA1")
    assert call.handled_by_id == first.id and call.handled_at == taken_at
    assert (await queue(sessions)).names == {first.id: "Staff emergency_agent"}

    async with transaction(sessions) as session:
        with pytest.raises(InvalidInput) as bad:
            await calls.called_back(
                session=session, clock=clock, call_id=call_id, actor_id=first.id, note="  ", report_number="E00"
            )
    assert {(e.field, e.code) for e in bad.value.errors} == {("note", "missing"), ("report_number", "unknown_report")}
    assert (await state_of(sessions, "CA1")).state is LineCallState.MISSED

    # The second agent cannot close the callback the first took: the note would be theirs for a call not theirs.
    async with transaction(sessions) as session:
        with pytest.raises(calls.CallbackRefused) as closed_by_another:
            await calls.called_back(session=session, clock=clock, call_id=call_id, actor_id=second.id, note="Reached.")
    assert closed_by_another.value.code == "taken_by_another"
    assert (await state_of(sessions, "CA1")).state is LineCallState.MISSED

    async with transaction(sessions) as session:
        await calls.called_back(
            session=session, clock=clock, call_id=call_id, actor_id=first.id, note="Reached; passport lost, advised."
        )
    call = await state_of(sessions, "CA1")
    assert call.state is LineCallState.CALLED_BACK and call.note == "Reached; passport lost, advised."
    assert call.handled_at == clock.now() and call.report_id is None
    lists = await queue(sessions)
    assert lists.callbacks == [] and [c.id for c in lists.called_back] == [call_id]
    async with transaction(sessions) as session:
        with pytest.raises(calls.CallbackRefused) as again:
            await calls.called_back(session=session, clock=clock, call_id=call_id, actor_id=first.id, note="again")
    assert again.value.code == "already_called_back"
    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_type == calls.AUDITED).order_by(AuditEntry.id)
            )
        )
    assert actions == ["emergency_call.callback_taken", "emergency_call.called_back"]


async def test_a_callback_names_the_report_it_gave(sessions: Sessions, clock: FrozenClock) -> None:
    agent = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent1")
    number = format_report_number(2026, 1)
    report_id = await a_report(sessions, clock, number)
    call_id = await arrive(sessions, clock, "CA1")
    await missed(sessions, clock, "CA1")
    async with transaction(sessions) as session:
        await calls.called_back(
            session=session,
            clock=clock,
            call_id=call_id,
            actor_id=agent.id,
            note="Registered the report.",
            report_number=f" {number.lower()} ",
        )
    assert (await state_of(sessions, "CA1")).report_id == report_id
    assert (await queue(sessions)).report_numbers == {report_id: number}


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    "typing",
    [
        lambda n: n.replace("-", ""),  # no dashes
        lambda n: n.lower().replace("-", " ").translate(ARABIC_INDIC),  # Arabic-Indic digits
        lambda n: f"\u2066{n}\u2069",  # pasted from the SMS
    ],
)
async def test_a_callbacks_report_number_is_read_as_the_status_page_reads_it(
    sessions: Sessions, clock: FrozenClock, typing: Callable[[str], str]
) -> None:
    agent = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent1")
    number = format_report_number(2026, 1)
    report_id = await a_report(sessions, clock, number)
    typed = typing(number)
    call_id = await arrive(sessions, clock, "CA1")
    await missed(sessions, clock, "CA1")
    async with transaction(sessions) as session:
        await calls.called_back(
            session=session, clock=clock, call_id=call_id, actor_id=agent.id, note="Registered.", report_number=typed
        )
    assert (await state_of(sessions, "CA1")).report_id == report_id


async def test_linking_the_report_registered_from_a_call_does_its_callback(
    sessions: Sessions, clock: FrozenClock
) -> None:
    agent = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent1")
    report_id = await a_report(sessions, clock)
    call_id = await arrive(sessions, clock, "CA1")
    await missed(sessions, clock, "CA1")
    async with transaction(sessions) as session:
        with pytest.raises(InvalidInput):
            await calls.link_report(
                session=session, clock=clock, call_id=call_id, report_id=report_id + 99, actor_id=agent.id
            )
    async with transaction(sessions) as session:
        await calls.link_report(session=session, clock=clock, call_id=call_id, report_id=report_id, actor_id=agent.id)
    call = await state_of(sessions, "CA1")
    assert call.state is LineCallState.CALLED_BACK and call.report_id == report_id and call.handled_by_id == agent.id
    # An answered call keeps its state; only the report is linked.
    other = await arrive(sessions, clock, "CA2")
    await answered(sessions, clock, "CA2")
    async with transaction(sessions) as session:
        await calls.link_report(session=session, clock=clock, call_id=other, report_id=report_id, actor_id=agent.id)
    assert (await state_of(sessions, "CA2")).state is LineCallState.ANSWERED


async def test_a_call_recorded_by_another_agent_with_its_report_is_not_taken_by_a_second_registration(
    sessions: Sessions, clock: FrozenClock
) -> None:
    agent = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent1")
    first = await a_report(sessions, clock)
    async with transaction(sessions) as session:
        # A second report, as another agent's registration from the same call would leave it.
        row = await session.get_one(EmergencyReport, first)
        columns = {c.key: getattr(row, c.key) for c in EmergencyReport.__table__.columns if c.key != "id"}
        second_row = EmergencyReport(**{**columns, "number": "E26-000002-5"})
        session.add(second_row)
        await session.flush()
        second = second_row.id
    call_id = await arrive(sessions, clock, "CA1")
    await missed(sessions, clock, "CA1")
    async with transaction(sessions) as session:
        await calls.link_report(session=session, clock=clock, call_id=call_id, report_id=first, actor_id=agent.id)
    with pytest.raises(calls.CallbackRefused) as refused:
        async with transaction(sessions) as session:
            await calls.link_report(session=session, clock=clock, call_id=call_id, report_id=second, actor_id=agent.id)
    assert refused.value.code == "called_back_elsewhere"
    assert (await state_of(sessions, "CA1")).report_id == first


async def test_an_unknown_call_is_not_found(sessions: Sessions, clock: FrozenClock) -> None:
    agent = await make_staff(sessions, clock, Role.EMERGENCY_AGENT, "agent1")
    async with transaction(sessions) as session:
        with pytest.raises(calls.LineCallNotFound):
            await calls.take_callback(session=session, clock=clock, call_id=404, actor_id=agent.id)
