"""Tracking serials without a lock held across the intake: blocks of serials taken ahead.

Until issue 17 every intake incremented its year's row in tracking_counters
inside its own transaction, so the row stayed locked until that intake
committed and concurrent intakes queued behind each other on PostgreSQL. Now a
process takes a block of serials (BLOCK of them) in a short transaction of its
own, on its own pooled connection, which commits at once; the intake then
takes the next serial of its process's block without touching the database.
The counter row is locked only for that one statement, once per BLOCK
intakes; the block's connection is not one of the pool's (SerialBlocks), so
a process counts one more connection to PostgreSQL while it fetches.

The price is gaps and order, both accepted (docs/architecture.md, "Tracking
serials"):

- serials of a block that a process never hands out (it stops, or the year
  ends) are never used, so up to BLOCK numbers per process per restart are
  skipped;
- a serial handed to an intake that then rolls back is not used again;
- two processes hand out numbers from different blocks, so a later request can
  carry a smaller number than an earlier one. Nothing reads order from the
  number: the case's submitted_at is its time.

The numbers stay unique: a block is counted into tracking_counters and
committed before any of its serials is used.

SQLite has a single writer anyway (the whole write transaction is exclusive),
so a second connection could only wait for the intake's own transaction;
there the serial is still taken in the caller's transaction, one at a time,
which also leaves no gaps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL, Integer, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from cases.models import TrackingCounter

# Serials a process takes at a time: one short transaction per BLOCK intakes,
# and at most BLOCK numbers skipped when a process stops.
BLOCK = 100


def _take(insert: Any, size: int) -> Any:
    """UPSERT … RETURNING: adds `size` serials to the year's counter and gives back the last of them."""
    return (
        insert(TrackingCounter)
        .values(year=bindparam("year", type_=Integer), last_serial=size)
        .on_conflict_do_update(
            index_elements=[TrackingCounter.year],
            set_={"last_serial": TrackingCounter.last_serial + size},
        )
        .returning(TrackingCounter.last_serial)
    )


# Built once: each intake only binds the year.
_TAKE_BLOCK = _take(pg_insert, BLOCK)
_TAKE_ONE = {"postgresql": _take(pg_insert, 1), "sqlite": _take(sqlite_insert, 1)}


@dataclass
class _Block:
    next: int
    last: int


class SerialBlocks:
    """The blocks one process holds for one database, by year; an asyncio lock only while a block is fetched."""

    def __init__(self, url: URL) -> None:
        # A connection of its own, outside the intakes' pool: when every pooled
        # connection is held by an intake waiting for a serial, the block must
        # still be fetched. NullPool opens it for the fetch and closes it after,
        # once per BLOCK intakes, so no idle connection is left on the server.
        self._engine = create_async_engine(url, poolclass=NullPool)
        self._blocks: dict[int, _Block] = {}
        self._fetching = asyncio.Lock()

    def _hand_out(self, year: int) -> int | None:
        block = self._blocks.get(year)
        if block is None or block.next > block.last:
            return None
        block.next += 1
        return block.next - 1

    async def close(self) -> None:
        await self._engine.dispose()

    async def take(self, year: int) -> int:
        serial = self._hand_out(year)
        if serial is not None:
            return serial
        async with self._fetching:
            # Another intake of this process may have fetched one while this one waited.
            serial = self._hand_out(year)
            if serial is not None:
                return serial
            async with self._engine.begin() as connection:
                last: int = (await connection.execute(_TAKE_BLOCK, {"year": year})).scalar_one()
            self._blocks[year] = _Block(next=last - BLOCK + 2, last=last)
            return last - BLOCK + 1


# The key of a process's SerialBlocks in its sessions' `info`: the app factory makes one SerialBlocks for its
# engine and gives it to every session it opens (majlis.app.database_ctx), and closes it with the engine.
SERIAL_BLOCKS = "tracking_serial_blocks"


def serial_blocks_for(engine: AsyncEngine) -> SerialBlocks | None:
    """The blocks a process on this database takes its serials from: PostgreSQL only (see the module's note)."""
    return SerialBlocks(engine.url) if engine.dialect.name == "postgresql" else None


async def next_serial(*, session: AsyncSession, year: int) -> int:
    """The next tracking serial of the year for an intake in this session's transaction.

    From the process's blocks when its sessions carry them (a served app on PostgreSQL); otherwise (SQLite, a
    command, a test's own sessions) one serial counted in the caller's transaction, which is right but holds the
    year's counter row until that transaction ends.
    """
    blocks = session.info.get(SERIAL_BLOCKS)
    if isinstance(blocks, SerialBlocks):
        return await blocks.take(year)
    take_one = _TAKE_ONE[session.get_bind().dialect.name]
    serial: int = (await session.execute(take_one, {"year": year})).scalar_one()
    return serial
