"""Rows made up by a benchmark, written fast into a freshly migrated database (bench/reports.py, bench/search.py)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from majlis import migrate

BATCH: Final = 5_000


async def write_rows(engine: AsyncEngine, rows: Mapping[Table, list[dict[str, Any]]]) -> float:
    """Migrates the database, then writes each table's rows (in the mapping's order, so foreign keys find their rows)
    with bulk INSERTs of BATCH rows; the seconds the writing took, the migration not counted."""
    await migrate.upgrade(engine)
    started = time.perf_counter()
    async with engine.begin() as connection:
        for table, table_rows in rows.items():
            for first in range(0, len(table_rows), BATCH):
                await connection.execute(insert(table), table_rows[first : first + BATCH])
        if engine.dialect.name == "postgresql":
            # Explicit ids leave the sequences behind; and the planner needs statistics of the fresh tables, which
            # autovacuum would gather a little later on a live server.
            await connection.execute(text("ANALYZE"))
    return time.perf_counter() - started
