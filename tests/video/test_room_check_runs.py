"""A pre-call check's running state in the database, on both databases: written, finished, and a lost process's run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from tests.rooms.test_rooms import add_room
from tests.video.test_room_check_records import verdict
from video import room_check_records as records
from video.models import RoomCheckRun, RoomCheckRunState
from video.room_check import CheckRefused
from video.room_check_runs import KEPT_FOR, StoredCheckRuns, find_run, longest_check

Sessions = async_sessionmaker[AsyncSession]
LONGEST = longest_check(connect_timeout=10.0, seconds=4.0)


def runs_of(sessions: Sessions, clock: FrozenClock, runner: str) -> StoredCheckRuns:
    return StoredCheckRuns(sessions=sessions, clock=clock, longest=LONGEST, runner=runner)


async def state(sessions: Sessions, clock: FrozenClock, check_id: str) -> tuple[RoomCheckRunState, int | None] | None:
    async with sessions() as session:
        run = await find_run(session=session, clock=clock, check_id=check_id, longest=LONGEST)
    return None if run is None else (run.state, run.record_id)


async def test_a_run_is_read_by_another_process_until_its_verdict(sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock)
    here, there = runs_of(sessions, clock, "host-a:1"), runs_of(sessions, clock, "host-b:2")
    await here.started(check_id="c01", room_id=room.id, by_id=None)
    assert await state(sessions, clock, "c01") == (RoomCheckRunState.RUNNING, None)
    # Another process checking the same room is refused while this one runs; another room is not.
    with pytest.raises(CheckRefused) as refused:
        await there.started(check_id="c02", room_id=room.id, by_id=None)
    assert refused.value.code == "room_busy"
    other = await add_room(sessions, clock, name="غرفة أخرى")
    await there.started(check_id="c03", room_id=other.id, by_id=None)
    record_id = await here.done(check_id="c01", room_id=room.id, by_id=None, verdict=verdict("too_dark"))
    assert await state(sessions, clock, "c01") == (RoomCheckRunState.DONE, record_id)
    async with sessions() as session:
        stored = await records.get_check(session=session, check_id=record_id or 0)
        run = await session.get(RoomCheckRun, "c01")
    assert stored is not None and stored.reasons == ["too_dark"]
    assert run is not None and run.runner == "host-a:1" and run.finished_at == clock.now()
    await there.failed(check_id="c03")
    assert await state(sessions, clock, "c03") == (RoomCheckRunState.FAILED, None)
    # Failing a run that already finished changes nothing.
    await here.failed(check_id="c01")
    assert await state(sessions, clock, "c01") == (RoomCheckRunState.DONE, record_id)
    assert await state(sessions, clock, "c99") is None


async def test_a_run_whose_process_died_reads_failed_and_frees_the_room(sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock)
    lost, alive = runs_of(sessions, clock, "host-a:1"), runs_of(sessions, clock, "host-b:2")
    await lost.started(check_id="c01", room_id=room.id, by_id=None)
    clock.advance(LONGEST)
    assert await state(sessions, clock, "c01") == (RoomCheckRunState.RUNNING, None)
    clock.advance(timedelta(seconds=1))
    assert await state(sessions, clock, "c01") == (RoomCheckRunState.FAILED, None)
    await alive.started(check_id="c02", room_id=room.id, by_id=None)
    assert await state(sessions, clock, "c02") == (RoomCheckRunState.RUNNING, None)
    # A day later the room's next check clears its old runs.
    await alive.failed(check_id="c02")
    clock.advance(KEPT_FOR + timedelta(seconds=1))
    await alive.started(check_id="c03", room_id=room.id, by_id=None)
    assert await state(sessions, clock, "c01") is None and await state(sessions, clock, "c02") is None
