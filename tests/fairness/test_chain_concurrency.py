"""Appends committed at once keep the chain one line: each transaction reads the head and appends while others do
the same, and every one commits (PostgreSQL: the advisory lock makes them take turns; SQLite: its write lock)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from fairness import chain
from fairness.models import ChainEntry, EntryKind
from fairness.verify import verify_chain
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.fairness.test_chain import Sessions, chain_sessions

__all__ = ["chain_sessions"]


async def place(sessions: Sessions, clock: FrozenClock, case_id: int, started: asyncio.Event) -> ChainEntry:
    """One placement's transaction: some work, the append, more work before the commit."""
    async with transaction(sessions) as session:
        await chain.head(session=session)  # the transaction has begun and read before the others commit
        started.set()
        await asyncio.sleep(0.02)
        entry = await chain.append(
            session=session,
            clock=clock,
            kind=EntryKind.PLACEMENT,
            actor_id=None,
            case_id=case_id,
            change={"tracking_number": f"MJ-2026-{case_id:05d}", "rule": "allocation_run"},
        )
        # Held until the commit: the next appender must not read the head before this one is in.
        await asyncio.sleep(0.02)
        return entry


async def test_appends_committed_at_once_stay_one_line(chain_sessions: Sessions, clock: FrozenClock) -> None:
    started = asyncio.Event()
    for round_start in (1, 11):
        entries = await asyncio.gather(
            *(place(chain_sessions, clock, case_id, started) for case_id in range(round_start, round_start + 10))
        )
        assert started.is_set()
        assert len({e.seq for e in entries}) == 10
    async with chain_sessions() as session:
        result = await verify_chain(session=session)
        stored = list(await session.scalars(select(ChainEntry).order_by(ChainEntry.seq)))
    assert result.intact and result.entries == 20
    assert [e.seq for e in stored] == list(range(1, 21))
    assert sorted(e.case_id or 0 for e in stored) == list(range(1, 21))
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
