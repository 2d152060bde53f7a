"""A backup of the whole database into one file, and its restore into an empty database.

SQLite is copied page by page with its online backup API, so a running Majlis keeps serving while it is read and the
copy is a consistent snapshot. PostgreSQL is dumped by `pg_dump` in its custom format and restored by `pg_restore` in
one transaction; the binaries are those of the Debian postgresql package (the newest installed), which can read any
older server. A restore goes only into a database without tables: it never merges into, or overwrites, live data.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from majlis.db import create_engine


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why, for the operator."""


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    return Path(url.database)


def postgres_binary(name: str) -> Path:
    """The newest installed PostgreSQL client program `name` (pg_dump, pg_restore), as the tests find initdb."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1])
    found = shutil.which(name)
    if found:
        return Path(found)
    raise BackupError(f"{name} not found: install the Debian package postgresql-client (or postgresql)")


@dataclass(frozen=True)
class _Libpq:
    """A database URL as libpq's programs take it: arguments, and the password in the environment only."""

    arguments: list[str]
    environment: dict[str, str]


def _libpq(url: URL) -> _Libpq:
    arguments = [f"--dbname={url.database or 'postgres'}"]
    if url.host:
        arguments.append(f"--host={url.host}")
    if url.port:
        arguments.append(f"--port={url.port}")
    if url.username:
        arguments.append(f"--username={url.username}")
    environment = dict(os.environ)
    # Never on the command line, where `ps` shows it to every user of the machine.
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        environment["PGSSLMODE"] = ssl
    return _Libpq(arguments, environment)


def _run(command: list[str], environment: dict[str, str]) -> None:
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip() or done.returncode}")


def _refuse_existing(destination: Path) -> None:
    if destination.exists():
        raise BackupError(f"{destination} exists already: a backup never overwrites a file")


def backup(database_url: str, destination: Path) -> None:
    """Writes the whole database to `destination`, a new file; written aside, then renamed, so never half there."""
    url = make_url(database_url)
    _refuse_existing(destination)
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            source = _sqlite_path(url)
            if not source.is_file():
                raise BackupError(f"no SQLite database at {source}")
            with closing(_read_only(source)) as live, closing(sqlite3.connect(partial)) as copy:
                live.backup(copy)
        else:
            libpq = _libpq(url)
            dump = [str(postgres_binary("pg_dump")), "--format=custom", f"--file={partial}", *libpq.arguments]
            _run(dump, libpq.environment)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)


async def table_names(database_url: str) -> list[str]:
    """The tables of the database at `database_url` (none for a SQLite file not there yet)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_path(url).exists():
        return []
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()


def _check_sqlite_backup(source: Path) -> None:
    try:
        with closing(_read_only(source)) as copy:
            [verdict] = copy.execute("PRAGMA integrity_check").fetchone()
            revision = copy.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite backup: {exc}") from exc
    if verdict != "ok" or revision is None:
        raise BackupError(f"{source} is not a sound Majlis backup (integrity: {verdict})")


def restore(database_url: str, source: Path) -> None:
    """Loads the backup `source` into the empty database at `database_url`; refuses one that has any table.

    Runs its own event loop to look at the target, so it is called from synchronous code (the command line).
    """
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    present = asyncio.run(table_names(database_url))
    if present:
        raise BackupError(f"the database is not empty ({len(present)} tables): restore only into an empty database")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(source)
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            with closing(_read_only(source)) as copy, closing(sqlite3.connect(partial)) as live:
                copy.backup(live)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return
    libpq = _libpq(url)
    # One transaction: a restore that fails part way leaves the database as empty as it was.
    load = [
        str(postgres_binary("pg_restore")),
        "--exit-on-error",
        "--single-transaction",
        "--no-owner",
        "--no-privileges",
        *libpq.arguments,
        str(source),
    ]
    _run(load, libpq.environment)
