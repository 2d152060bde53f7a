"""Special-care tasks and protocol's day board, on SQLite and PostgreSQL.

Four in-person requests in Sunday 29 November's hall session (slots 10:00, 10:08, 10:16, 10:24): the first needs
a wheelchair and an interpreter, the second nothing, the third is elderly, the fourth needs transport but her
seat is released before the day.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry, StaffUser
from accounts.roles import Role
from audience_day import board, care
from audience_day.care import CareRefused
from audience_day.models import CareKind, CareTask, TaskState
from cases.models import Case
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler.models import AppointmentState
from tests.audience_day.arrange import Booked, at, booked_day, call, cancel, check_in, official
from tests.factories import make_staff

Sessions = async_sessionmaker[AsyncSession]
SUNDAY = at(29, 10).date()
NEEDS = {0: ("care_wheelchair", "care_interpreter"), 2: ("care_elderly",), 3: ("care_transport",)}


async def cared_day(sessions: Sessions, clock: FrozenClock) -> list[Booked]:
    """The four requests above, with their needs recorded; the fourth cancelled on Thursday; clock: Sunday 09:30."""
    day = await booked_day(sessions, clock, 4)
    async with transaction(sessions) as session:
        for i, flags in NEEDS.items():
            await session.execute(update(Case).where(Case.id == day[i].case_id).values(dict.fromkeys(flags, True)))
    clock.set(at(26, 10))
    await cancel(sessions, clock, day[3].appointment_id)
    clock.set(at(29, 9, 30))
    return day


async def ensure(sessions: Sessions, clock: FrozenClock) -> int:
    async with transaction(sessions) as session:
        return await care.ensure_tasks_for_day(session=session, clock=clock, day=SUNDAY)


async def tasks(sessions: Sessions) -> list[CareTask]:
    async with sessions() as session:
        return list(await session.scalars(select(CareTask).order_by(CareTask.appointment_id, CareTask.kind)))


async def task_of(sessions: Sessions, appointment_id: int, kind: CareKind) -> CareTask:
    return next(t for t in await tasks(sessions) if (t.appointment_id, t.kind) == (appointment_id, kind))


async def assign(sessions: Sessions, clock: FrozenClock, task_id: int, staff_id: int, actor: int) -> CareTask:
    async with transaction(sessions) as session:
        return await care.assign(session=session, clock=clock, task_id=task_id, staff_id=staff_id, actor_id=actor)


async def done(sessions: Sessions, clock: FrozenClock, task_id: int, actor: int) -> CareTask:
    async with transaction(sessions) as session:
        return await care.mark_done(session=session, clock=clock, task_id=task_id, actor_id=actor)


async def test_one_task_per_need_of_each_live_appointment_made_once(sessions: Sessions, clock: FrozenClock) -> None:
    day = await cared_day(sessions, clock)
    assert await ensure(sessions, clock) == 3
    made = await tasks(sessions)
    assert sorted((t.appointment_id, t.kind) for t in made) == sorted(
        [
            (day[0].appointment_id, CareKind.WHEELCHAIR),
            (day[0].appointment_id, CareKind.INTERPRETER),
            (day[2].appointment_id, CareKind.ELDERLY),
        ]
    )
    assert all(
        (t.day, t.state, t.assigned_to_id, t.created_at) == (SUNDAY, TaskState.OPEN, None, clock.now()) for t in made
    )
    assert {t.case_id for t in made} == {day[0].case_id, day[2].case_id}
    # Looking again makes nothing new; nor does another day.
    clock.advance(timedelta(minutes=5))
    assert await ensure(sessions, clock) == 0
    async with transaction(sessions) as session:
        assert await care.ensure_tasks_for_day(session=session, clock=clock, day=at(6, 10, month=12).date()) == 0
    assert [(t.id, t.created_at) for t in await tasks(sessions)] == [(t.id, t.created_at) for t in made]


async def test_boards_looked_at_together_make_each_task_once(sessions: Sessions, clock: FrozenClock) -> None:
    await cared_day(sessions, clock)
    async with transaction(sessions) as first:
        assert await care.ensure_tasks_for_day(session=first, clock=clock, day=SUNDAY) == 3
        # A second board opens before the first commits: it waits (on the rows' unique index on PostgreSQL,
        # on the write lock on SQLite), then finds the tasks made and fails on nothing.
        second = asyncio.create_task(ensure(sessions, clock))
        await asyncio.sleep(0.3)
        assert not second.done()
    assert await second == 0
    made = await asyncio.gather(*(ensure(sessions, clock) for _ in range(3)))
    assert made == [0, 0, 0]
    assert len(await tasks(sessions)) == 3


async def test_tasks_go_to_protocol_staff_only_and_are_done_once(sessions: Sessions, clock: FrozenClock) -> None:
    day = await cared_day(sessions, clock)
    await ensure(sessions, clock)
    lead = (await make_staff(sessions, clock, Role.PROTOCOL, "protocol")).id
    escort = (await make_staff(sessions, clock, Role.PROTOCOL, "escort")).id
    desk = (await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")).id
    gone = (await make_staff(sessions, clock, Role.PROTOCOL, "gone")).id
    async with transaction(sessions) as session:
        await session.execute(update(StaffUser).where(StaffUser.id == gone).values(is_active=False))
    wheelchair = await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)

    for staff_id in (desk, gone, 999_999):
        with pytest.raises(CareRefused) as refused:
            await assign(sessions, clock, wheelchair.id, staff_id, lead)
        assert refused.value.code == "not_protocol"
    assert (await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)).assigned_to_id is None

    assert (await assign(sessions, clock, wheelchair.id, lead, lead)).assigned_to_id == lead
    # Handed over to a colleague while open.
    assert (await assign(sessions, clock, wheelchair.id, escort, lead)).assigned_to_id == escort

    clock.advance(timedelta(minutes=20))
    finished = await done(sessions, clock, wheelchair.id, escort)
    assert (finished.state, finished.done_at, finished.done_by_id) == (TaskState.DONE, clock.now(), escort)
    when = clock.now()

    # A second "done" says when it was done, and changes nothing; a done task is not reassigned.
    clock.advance(timedelta(minutes=3))
    with pytest.raises(CareRefused) as again:
        await done(sessions, clock, wheelchair.id, lead)
    assert (again.value.code, again.value.params) == ("already_done", {"time": "09:50"})
    with pytest.raises(CareRefused) as reassigned:
        await assign(sessions, clock, wheelchair.id, lead, lead)
    assert reassigned.value.code == "task_done"
    after = await task_of(sessions, day[0].appointment_id, CareKind.WHEELCHAIR)
    assert (after.state, after.done_at, after.done_by_id, after.assigned_to_id) == (
        TaskState.DONE,
        when,
        escort,
        escort,
    )
    # The interpreter's task is untouched.
    interpreter = await task_of(sessions, day[0].appointment_id, CareKind.INTERPRETER)
    assert (interpreter.state, interpreter.assigned_to_id) == (TaskState.OPEN, None)

    for action in (done(sessions, clock, 999_999, lead), assign(sessions, clock, 999_999, lead, lead)):
        with pytest.raises(CareRefused) as missing:
            await action
        assert missing.value.code == "no_task"
    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_type == "care_task").order_by(AuditEntry.id)
            )
        )
    assert actions == ["care_task.assign", "care_task.assign", "care_task.done"]


async def test_the_board_shows_arrivals_waits_and_care(sessions: Sessions, clock: FrozenClock) -> None:
    day = await cared_day(sessions, clock)
    actor = await official(sessions, clock)
    # The first comes at 09:40, the third at 09:50; the second late, at 10:25 (her slot 10:08, 15 minutes' grace).
    clock.set(at(29, 9, 40))
    await check_in(sessions, clock, day[0].appointment_id)
    clock.set(at(29, 9, 50))
    await check_in(sessions, clock, day[2].appointment_id)
    clock.set(at(29, 10, 2))
    first = await call(sessions, clock, day[0].session_id, None, actor)
    assert first.current is not None and first.current.appointment_id == day[0].appointment_id
    clock.set(at(29, 10, 25))
    await check_in(sessions, clock, day[1].appointment_id)
    clock.set(at(29, 10, 31))
    await ensure(sessions, clock)
    async with sessions() as session:
        rows = await board.day_board(session=session, clock=clock, day=SUNDAY)
        elsewhere = await board.day_board(session=session, clock=clock, day=SUNDAY, branch_code="jeddah")
    assert elsewhere == []
    # The released appointment (cancelled before the day) is not expected, so not shown.
    by_id = {r.item.appointment.id: r for r in rows}
    assert list(by_id) == [day[0].appointment_id, day[1].appointment_id, day[2].appointment_id]
    heard, late, waiting = by_id[day[0].appointment_id], by_id[day[1].appointment_id], by_id[day[2].appointment_id]
    # Called at 10:02 after arriving at 09:40: 22 minutes, no longer waiting.
    assert (heard.waiting, heard.waited_minutes, heard.late) == (False, 22, False)
    assert heard.item.appointment.state is AppointmentState.IN_AUDIENCE
    assert heard.item.arrival is not None and heard.item.arrival.queue_number == 1
    assert heard.needs == (CareKind.WHEELCHAIR, CareKind.INTERPRETER)
    assert [t.kind for t in heard.tasks] == [CareKind.WHEELCHAIR, CareKind.INTERPRETER]
    assert heard.open_tasks == 2
    # Still waiting: the wait runs to now.
    assert (waiting.waiting, waiting.waited_minutes, waiting.late) == (True, 41, False)
    assert waiting.needs == (CareKind.ELDERLY,) and [t.kind for t in waiting.tasks] == [CareKind.ELDERLY]
    assert (late.waiting, late.waited_minutes, late.late) == (True, 6, True)
    assert late.item.arrival is not None and late.item.arrival.queue_number == 3
    assert (late.needs, late.tasks) == ((), [])
    clock.advance(timedelta(minutes=10))
    async with sessions() as session:
        later = {r.item.appointment.id: r for r in await board.day_board(session=session, clock=clock, day=SUNDAY)}
    assert later[day[2].appointment_id].waited_minutes == 51
    assert later[day[0].appointment_id].waited_minutes == 22


async def test_no_needs_no_tasks(sessions: Sessions, clock: FrozenClock) -> None:
    await booked_day(sessions, clock, 2)
    clock.set(at(29, 9, 30))
    assert await ensure(sessions, clock) == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CareTask)) == 0
