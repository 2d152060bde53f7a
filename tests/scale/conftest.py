"""Real `majlis serve` processes on one PostgreSQL database, for the tests of Majlis across processes.

`majlis_processes` is a factory: `await start(count=2, env={...})` starts that many processes on free loopback
ports, each answering HTTP before it returns, and every process is stopped after the test (SIGTERM, then SIGKILL).
Their output goes to a file per process, read with `.log_text()` when a test needs to say why it failed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.db import create_engine, session_factory
from tests.postgres_server import PostgresServer, free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30.0
STOP_SECONDS = 15.0
_counter = itertools.count()


@dataclass
class ServedProcess:
    port: int
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, its database connections with it (as a crashed machine's would)."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_SECONDS)

    def terminate(self) -> None:
        """SIGTERM, the way systemd stops a service; SIGKILL if it has not ended in STOP_SECONDS."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        """The process's log as lines people read: each JSON record (majlis/logs.py) as "timestamp level logger:
        message", anything else (a traceback, a child's stderr) as it came."""
        raw = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(_readable(line) for line in raw.splitlines())


def _readable(line: str) -> str:
    try:
        record = json.loads(line)
    except ValueError:
        return line
    if not isinstance(record, dict) or "message" not in record:
        return line
    return f"{record.get('timestamp', '')} {record.get('level', '')} {record.get('logger', '')}: {record['message']}"


Start = Callable[..., Awaitable[list[ServedProcess]]]


@pytest.fixture
async def scale_database_url(postgres: PostgresServer) -> AsyncIterator[str]:
    """A fresh, migrated PostgreSQL database that several processes share."""
    name = f"scale_{os.getpid()}_{next(_counter)}"
    admin_dsn = postgres.url("postgres").replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"CREATE DATABASE {name} TEMPLATE majlis_template")
    await conn.close()
    yield postgres.url(name)
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.close()


@pytest.fixture
async def sessions(scale_database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the processes' shared database, for the test to arrange and check rows."""
    engine = create_engine(scale_database_url)
    yield session_factory(engine)
    await engine.dispose()


def base_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a served process: this test's database and files, nothing of the caller's MAJLIS_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env["MAJLIS_DATABASE_URL"] = database_url
    env["MAJLIS_ATTACHMENTS_DIR"] = str(tmp_path / "attachments")
    env["PYTHONUNBUFFERED"] = "1"
    return env


async def _answering(served: ServedProcess, deadline: float) -> None:
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if not served.alive():
                raise AssertionError(f"majlis serve on port {served.port} exited:\n{served.log_text()[-4000:]}")
            try:
                async with http.get(served.url + "/", allow_redirects=False) as answer:
                    if answer.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"majlis serve on port {served.port} did not answer:\n{served.log_text()[-4000:]}")


@pytest.fixture
async def majlis_processes(scale_database_url: str, tmp_path: Path) -> AsyncIterator[Start]:
    started: list[ServedProcess] = []

    async def start(
        count: int = 2,
        env: Mapping[str, str] | None = None,
        per_process_env: Sequence[Mapping[str, str]] = (),
        args: Sequence[str] = (),
    ) -> list[ServedProcess]:
        fresh: list[ServedProcess] = []
        for index in range(count):
            port = free_port()
            process_env = base_env(scale_database_url, tmp_path)
            process_env.update(env or {})
            if index < len(per_process_env):
                process_env.update(per_process_env[index])
            log_path = tmp_path / f"serve-{len(started)}-{port}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(  # noqa: ASYNC220 (starting it is instant; waiting is async below)
                    [sys.executable, "-m", "majlis.cli", "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                    env=process_env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            served = ServedProcess(port=port, url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
            started.append(served)
            fresh.append(served)
        deadline = time.monotonic() + STARTUP_SECONDS
        await asyncio.gather(*(_answering(served, deadline) for served in fresh))
        return fresh

    yield start
    # In parallel: each may take a few seconds to let its jobs finish.
    await asyncio.gather(*(asyncio.to_thread(served.terminate) for served in started))
