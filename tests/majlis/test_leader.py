"""The job leader: one holder of the advisory lock among many; another takes over when the holder's session ends."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from majlis.leader import JOBS_LOCK, AdvisoryLockLeader, SoleLeader, leader_for

INTERVAL = 0.5
# The machine running the tests is shared and busy: time allowed beyond the leader's own interval.
SLACK = 1.5


class Watched:
    """A leader's elections and depositions, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def elected(self) -> None:
        self.events.append("elected")

    async def deposed(self) -> None:
        self.events.append("deposed")


def advisory(database_url: str, watched: Watched) -> AdvisoryLockLeader:
    return AdvisoryLockLeader(database_url, on_elected=watched.elected, on_deposed=watched.deposed, interval=INTERVAL)


async def wait_for(condition: object, seconds: float) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > seconds:
            raise AssertionError("not within the time allowed")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_one_leads_and_another_takes_over_when_its_session_dies(database_url: str) -> None:
    first, second, third = Watched(), Watched(), Watched()
    leaders = [advisory(database_url, w) for w in (first, second, third)]
    try:
        for leader in leaders:
            await leader.start()
        # The first to try leads from its start; the others wait.
        assert first.events == ["elected"] and second.events == third.events == []
        await asyncio.sleep(INTERVAL * 3)
        assert second.events == third.events == []

        # The holder's session is killed from outside, as PostgreSQL ends a session whose process died.
        admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
        try:
            holder = await admin.fetchval(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = $1",
                JOBS_LOCK,
            )
            assert holder is not None
            await admin.execute("SELECT pg_terminate_backend($1)", holder)
        finally:
            await admin.close()

        took = await wait_for(lambda: "elected" in second.events or "elected" in third.events, INTERVAL + SLACK)
        assert took <= INTERVAL + SLACK
        # The old holder notices within its next round and stops running the jobs.
        await wait_for(lambda: first.events == ["elected", "deposed"], INTERVAL + SLACK)
        # Exactly one of the others leads; the old holder competes again but no longer wins.
        await asyncio.sleep(INTERVAL * 3)
        assert sorted([second.events, third.events]) == [[], ["elected"]]
        assert first.events == ["elected", "deposed"]
        assert [leader.leading for leader in leaders].count(True) == 1
    finally:
        for leader in leaders:
            await leader.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_leader_that_stops_frees_the_lock_at_once(database_url: str) -> None:
    first, second = Watched(), Watched()
    one, other = advisory(database_url, first), advisory(database_url, second)
    await one.start()
    await other.start()
    try:
        await one.close()
        assert first.events == ["elected", "deposed"]
        await wait_for(lambda: second.events == ["elected"], INTERVAL + SLACK)
    finally:
        await other.close()


class FailingToStart(Watched):
    """Jobs that fail to start: always, or only the first `times` times."""

    def __init__(self, times: int | None = None) -> None:
        super().__init__()
        self.times = times

    async def elected(self) -> None:
        await super().elected()
        if self.times is None or self.events.count("elected") <= self.times:
            raise RuntimeError("the job runner failed to start")


async def lock_holders(database_url: str) -> int:
    admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(
            await admin.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND ((classid::bigint << 32) | objid::bigint) = $1",
                JOBS_LOCK,
            )
        )
    finally:
        await admin.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_holder_whose_jobs_fail_to_start_lets_another_lead(database_url: str) -> None:
    failing, second = FailingToStart(), Watched()
    broken, other = advisory(database_url, failing), advisory(database_url, second)
    try:
        await broken.start()
        # It does not stay the holder of a lock under which nothing runs: it stopped what started, and let go.
        assert failing.events == ["elected", "deposed"] and not broken.leading
        started = time.monotonic()
        while await lock_holders(database_url):
            assert time.monotonic() - started < SLACK, "the lock is still held"
            await asyncio.sleep(0.02)
        await other.start()
        await wait_for(lambda: second.events == ["elected"], INTERVAL + SLACK)
        assert other.leading and not broken.leading
    finally:
        await broken.close()
        await other.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_jobs_that_failed_to_start_are_started_again_at_the_next_try(database_url: str) -> None:
    once = FailingToStart(times=1)
    leader = advisory(database_url, once)
    try:
        await leader.start()
        assert not leader.leading
        await wait_for(lambda: leader.leading, INTERVAL + SLACK)
        assert once.events == ["elected", "deposed", "elected"]
    finally:
        await leader.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlites_one_process_always_leads(database_url: str) -> None:
    watched = Watched()
    leader = leader_for(database_url, on_elected=watched.elected, on_deposed=watched.deposed)
    assert isinstance(leader, SoleLeader)
    await leader.start()
    assert leader.leading and watched.events == ["elected"]
    await leader.close()
    assert watched.events == ["elected", "deposed"]
