"""A pre-call check's running state in the database (room_check_runs), so any process answers the page's poll.

The aiortc peer judging a check lives in the process that answered the room's
offer, but the page's polls land on whichever process the proxy picks. So the
check's state is written here: a row when the answer is given (running), and
when the check ends, in the same transaction as its stored verdict (done, with
the record's id) or alone (failed). A poll reads the row.

A process that dies mid-check leaves its row "running". Such a row counts as
failed once it is older than the longest a check can take (`longest`: the
connect timeout, the reading window and the judging, with a margin), so the
page is told to try again rather than wait forever, and the room is free.

One running check per room holds across processes as far as the row shows it:
a check started elsewhere and not yet stale refuses a second one. Two offers
for one room reaching two processes in the same instant could both pass; the
only cost is two checks of one room, both stored.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from video import room_check_records as records
from video.analysis import Verdict
from video.models import RoomCheckRun, RoomCheckRunState
from video.room_check import CheckRefused

# Beyond the connect timeout and the window: the judging in a thread and the verdict's transaction.
JUDGING_MARGIN = timedelta(seconds=30)
# Finished runs of a room are kept this long (operators reading a stuck check), then deleted at its next check.
KEPT_FOR = timedelta(days=1)


def this_runner() -> str:
    """This process as an operator finds it: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def longest_check(*, connect_timeout: float, seconds: float) -> timedelta:
    """The longest a live process takes over a check; a run still "running" after that lost its process."""
    return timedelta(seconds=connect_timeout + seconds) + JUDGING_MARGIN


@dataclass(frozen=True)
class RunView:
    """What a poll is told: running, done (with the stored record's id) or failed."""

    id: str
    room_id: int
    state: RoomCheckRunState
    record_id: int | None


def _stale(run: RoomCheckRun, *, now: datetime, longest: timedelta) -> bool:
    return run.state is RoomCheckRunState.RUNNING and now - run.started_at > longest


async def find_run(*, session: AsyncSession, clock: Clock, check_id: str, longest: timedelta) -> RunView | None:
    """The check's state as the database has it; a running row whose process is gone reads as failed."""
    run = await session.get(RoomCheckRun, check_id)
    if run is None:
        return None
    state = RoomCheckRunState.FAILED if _stale(run, now=clock.now(), longest=longest) else run.state
    return RunView(id=run.id, room_id=run.room_id, state=state, record_id=run.record_id)


class StoredCheckRuns:
    """video.room_check.CheckRuns on the database: each change in a transaction of its own."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        longest: timedelta,
        runner: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.longest = longest
        self._runner = runner or this_runner()

    async def started(self, *, check_id: str, room_id: int, by_id: int | None) -> None:
        """The run's row; refuses (room_busy) when another process is checking the room."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            running = await session.scalars(
                select(RoomCheckRun).where(
                    RoomCheckRun.room_id == room_id, RoomCheckRun.state == RoomCheckRunState.RUNNING
                )
            )
            if any(not _stale(run, now=now, longest=self.longest) for run in running):
                raise CheckRefused("room_busy")
            await session.execute(
                delete(RoomCheckRun).where(RoomCheckRun.room_id == room_id, RoomCheckRun.started_at < now - KEPT_FOR)
            )
            session.add(
                RoomCheckRun(
                    id=check_id,
                    room_id=room_id,
                    by_id=by_id,
                    state=RoomCheckRunState.RUNNING,
                    runner=self._runner,
                    started_at=now,
                )
            )

    async def done(self, *, check_id: str, room_id: int, by_id: int | None, verdict: Verdict) -> int | None:
        """Stores the verdict and marks the run done with it, together."""
        async with transaction(self._sessions) as session:
            record = await records.record_check(
                session=session, clock=self._clock, room_id=room_id, by_id=by_id, verdict=verdict
            )
            await session.execute(
                update(RoomCheckRun)
                .where(RoomCheckRun.id == check_id)
                .values(state=RoomCheckRunState.DONE, record_id=record.id, finished_at=self._clock.now())
            )
            return record.id

    async def failed(self, *, check_id: str) -> None:
        async with transaction(self._sessions) as session:
            await session.execute(
                update(RoomCheckRun)
                .where(RoomCheckRun.id == check_id, RoomCheckRun.state == RoomCheckRunState.RUNNING)
                .values(state=RoomCheckRunState.FAILED, finished_at=self._clock.now())
            )
