"""Tracking serials taken ahead in blocks (PostgreSQL) or one at a time in the intake's transaction (SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cases.models import TrackingCounter
from cases.tracking_serials import BLOCK, SERIAL_BLOCKS, SerialBlocks, next_serial, serial_blocks_for
from majlis.db import create_engine, session_factory
from web.keys import SESSIONS

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


def process_sessions(engine: AsyncEngine) -> Sessions:
    """Sessions as a served process opens them (majlis.app): carrying its blocks on PostgreSQL."""
    blocks = serial_blocks_for(engine)
    return session_factory(engine, info={SERIAL_BLOCKS: blocks} if blocks is not None else None)


async def _counter(sessions: Sessions, year: int) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(TrackingCounter.last_serial).where(TrackingCounter.year == year))


async def test_serials_follow_each_other_within_a_process(engine: AsyncEngine, backend: str) -> None:
    sessions = process_sessions(engine)
    taken = []
    for _ in range(3):
        async with sessions() as session, session.begin():
            taken.append(await next_serial(session=session, year=2026))
    assert taken == [1, 2, 3]
    # PostgreSQL counted a whole block for this process at once; SQLite counts each serial.
    assert await _counter(sessions, 2026) == (BLOCK if backend == "postgresql" else 3)
    async with sessions() as session, session.begin():
        assert await next_serial(session=session, year=2027) == 1  # each year counts from 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_an_open_intake_does_not_hold_the_counter(engine: AsyncEngine) -> None:
    sessions = process_sessions(engine)
    async with sessions() as intake:
        await intake.begin()
        assert await next_serial(session=intake, year=2026) == 1
        # Another process takes its block while this intake's transaction is still open: no wait for its commit.
        other_process = SerialBlocks(engine.url)
        assert await asyncio.wait_for(other_process.take(2026), timeout=10) == BLOCK + 1
        await intake.rollback()
    # The rolled-back intake's serial is not used again: a gap, as documented.
    async with sessions() as session, session.begin():
        assert await next_serial(session=session, year=2026) == 2
    assert await _counter(sessions, 2026) == 2 * BLOCK


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_processes_taking_serials_together_never_share_one(engine: AsyncEngine) -> None:
    processes = [SerialBlocks(engine.url) for _ in range(3)]
    per_process = BLOCK * 2 + 17  # each crosses blocks while the others take theirs
    taken = await asyncio.gather(*(p.take(2026) for p in processes for _ in range(per_process)))
    assert len(set(taken)) == len(taken) == 3 * per_process
    counted = await _counter(session_factory(engine), 2026)
    assert counted is not None and max(taken) <= counted


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_intakes_waiting_for_a_serial_with_the_pool_exhausted_still_get_one(engine: AsyncEngine) -> None:
    # Every pooled connection (10 + 20 overflow) held by an intake waiting for the next block: the block's
    # fetch uses a connection of its own, so none of them waits for the others.
    sessions = process_sessions(engine)

    async def intake() -> int:
        async with sessions() as session, session.begin():
            await session.connection()
            await asyncio.sleep(0.05)
            return await next_serial(session=session, year=2026)

    taken = await asyncio.wait_for(asyncio.gather(*(intake() for _ in range(30))), timeout=30)
    assert sorted(taken) == list(range(1, 31))


async def test_sessions_without_blocks_count_each_serial_in_their_transaction(engine: AsyncEngine) -> None:
    # A command or a test's own sessions: no blocks, so each serial is counted where it is taken, no gaps.
    sessions = session_factory(engine)
    for expected in (1, 2):
        async with sessions() as session, session.begin():
            assert await next_serial(session=session, year=2030) == expected
    assert await _counter(sessions, 2030) == 2


async def test_a_served_app_hands_its_blocks_to_every_session(
    client: TestClient[web.Request, web.Application], backend: str
) -> None:
    async with client.app[SESSIONS]() as first, client.app[SESSIONS]() as second:
        blocks = first.info.get(SERIAL_BLOCKS)
        assert isinstance(blocks, SerialBlocks) == (backend == "postgresql")
        assert second.info.get(SERIAL_BLOCKS) is blocks
