"""`majlis backup` and `majlis restore`, run as an operator would (real processes): the demo's database, backed up
and restored into an empty database, comes back with the same rows in every table (and, on PostgreSQL, the same
sequence positions, so new rows do not collide with restored ones)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import inspect, literal_column, select, table, text

from majlis import demo
from majlis.clock import FrozenClock
from majlis.db import create_engine, session_factory, transaction
from tests.postgres_server import PostgresServer


async def majlis(database_url: str, *args: str) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    environment["MAJLIS_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "majlis.cli",
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, (out + err).decode()


async def fingerprint(database_url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and a checksum of its rows (in any order); on PostgreSQL every sequence's position."""
    engine = create_engine(database_url)
    shape: dict[str, tuple[int, str]] = {}
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            for name in names:
                rows: list[Any] = list(await connection.execute(select(literal_column("*")).select_from(table(name))))
                digest = hashlib.sha256("\n".join(sorted(repr(tuple(row)) for row in rows)).encode()).hexdigest()
                shape[name] = (len(rows), digest)
            if engine.dialect.name == "postgresql":
                positions = await connection.execute(text("SELECT sequencename, last_value FROM pg_sequences"))
                shape.update({f"sequence {name}": (value or 0, "") for name, value in positions})
    finally:
        await engine.dispose()
    return shape


async def empty_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored' / 'majlis.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    connection = await asyncpg.connect(server.url("postgres").replace("postgresql+asyncpg", "postgresql"))
    await connection.execute(f"CREATE DATABASE restored_{os.getpid()}_{id(request)}")
    await connection.close()
    return server.url(f"restored_{os.getpid()}_{id(request)}")


async def test_a_backup_restores_into_an_empty_database_with_every_row(
    database_url: str, backend: str, clock: FrozenClock, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    engine = create_engine(database_url)
    async with transaction(session_factory(engine)) as session:
        await demo.load(session=session, clock=clock, status_url="http://127.0.0.1:8080/status")
    await engine.dispose()
    before = await fingerprint(database_url)
    assert sum(count for count, _ in before.values()) > 500

    archive = tmp_path / "majlis.backup"
    assert await majlis(database_url, "backup", str(archive)) == (0, f"backed up to {archive}\n")
    refused, said = await majlis(database_url, "backup", str(archive))
    assert (refused, said) == (2, f"majlis: {archive} exists already: a backup never overwrites a file\n")

    target = await empty_database(backend, request, tmp_path)
    restored, said = await majlis(target, "restore", str(archive))
    assert restored == 0, said
    assert await fingerprint(target) == before

    # Into a database with tables (the one just restored), nothing is loaded.
    again, said = await majlis(target, "restore", str(archive))
    assert again == 2
    assert "not empty" in said
