"""Fixtures: every database test runs on SQLite and on a real PostgreSQL server.

Each test gets a fresh database copied from a migrated template (a file copy on
SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so tests commit for real,
run concurrently against it, and never see each other's rows.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Coroutine, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import CookieJar, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import passwords
from majlis import migrate
from majlis.app import create_app
from majlis.clock import RIYADH, FrozenClock
from majlis.db import create_engine
from majlis.settings import Settings, load_settings
from notify.channels import CHANNELS, Channels, Delivery, Outgoing
from tests.fairness.lock_order import LockOrder
from tests.postgres_server import PostgresServer
from web.keys import SESSIONS

passwords.lower_cost_for_tests()

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
BACKENDS = ("sqlite", "postgresql")

# Tests that measure time, race processes or real-time media against each other: `make test` runs them alone, after
# the rest has run on two workers, so the other worker's load cannot make them miss a deadline they assert.
SERIAL = (
    "tests/scale/",
    "tests/majlis/test_leader.py",
    "tests/notify/test_crash.py",
    "tests/video/test_bridge",
    "tests/video/test_hub_bridge",
    "tests/video/test_aiortc_link.py",
    "tests/video/test_room_check",
    "tests/e2e/test_video_audience.py",
    "tests/e2e/test_bridged_audience.py",
    "tests/e2e/test_room_check.py",
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A test's captured output as text that can cross to xdist's controller: the hostile-input tests log the
    undecodable bytes they send (surrogate escapes), which UTF-8 cannot carry, and the worker would crash."""
    report: pytest.TestReport = yield
    report.sections = [(title, _sendable(text)) for title, text in report.sections]
    return report


def _sendable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
    _longest_first(items)


def _longest_first(items: list[pytest.Item]) -> None:
    """The files in the order `make test`'s two workers should take them (pytest-xdist's --dist loadfile hands them
    out in collection order, its own reordering turned off in the Makefile): the files marked `long_file` first,
    then the rest by their number of tests, most first, so that what is left at the end is short and neither worker
    idles while the other runs a file of minutes (the every-page sweep, run last, once kept one worker 5 min alone).
    A file's own tests keep their order."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)

    def order(tests: list[pytest.Item]) -> tuple[bool, int]:
        return (tests[0].get_closest_marker("long_file") is None, -len(tests))

    items[:] = [item for tests in sorted(files.values(), key=order) for item in tests]


_counter = itertools.count()


class RecordingChannel:
    """A channel that keeps what it is asked to send, for tests to read."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def send(self, outgoing: Outgoing) -> Delivery:
        self.sent.append(outgoing)
        return Delivery(provider_id=f"test-{outgoing.message_id}", status="accepted")

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        return None

    async def close(self) -> None:
        return None

    def channels(self) -> Channels:
        """This one recorder behind every channel name."""
        return Channels(dict.fromkeys(CHANNELS, self))


def run_outside_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs a coroutine to the end even when called from inside a running loop (lazy fixtures)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        run_outside_loop(_make_pg_template(server))
        yield server
    finally:
        server.stop()


async def _make_pg_template(server: PostgresServer) -> None:
    conn = await asyncpg.connect(server.url("postgres").replace("postgresql+asyncpg", "postgresql"))
    await conn.execute("CREATE DATABASE majlis_template")
    await conn.close()
    engine = create_engine(server.url("majlis_template"))
    await migrate.upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(engine)
        await engine.dispose()

    run_outside_loop(build())
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A fresh, migrated database of the test's backend."""
    if backend == "sqlite":
        path = tmp_path / "majlis.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"test_{next(_counter)}"
    admin_dsn = server.url("postgres").replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"CREATE DATABASE {name} TEMPLATE majlis_template")
    await conn.close()
    yield server.url(name)
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.close()


@pytest.fixture
def clock() -> FrozenClock:
    # A Tuesday morning in Riyadh, inside working hours.
    return FrozenClock(datetime(2026, 11, 24, 9, 30, tzinfo=RIYADH))


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "secret_key": TEST_SECRET,
        "database_url": database_url,
        "jobs_enabled": False,
        "notify_backend": "null",
        # Tests move the clock by hours within one sign-in, as a desk kept open all day; the session's idle end (30
        # minutes in service) has its own test (tests/web/test_account_sessions.py). The absolute end still holds.
        "session_idle_minutes": 24 * 60,
    }
    values.update(overrides)
    return load_settings({}, **values)


@pytest.fixture
def recorder() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> web.Application:
    return create_app(make_settings(database_url), clock=clock, channels=recorder.channels())


async def start_client(app: web.Application) -> TestClient[web.Request, web.Application]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    # Cookies are Secure outside development; the test server speaks plain HTTP on loopback.
    jar = CookieJar(unsafe=True, treat_as_secure_origin=[str(server.make_url("/"))])
    client = TestClient(server, cookie_jar=jar)
    await client.start_server()
    return client


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    test_client = await start_client(app)
    yield test_client
    await test_client.close()


@pytest.fixture
def sessions(client: TestClient[web.Request, web.Application]) -> async_sessionmaker[AsyncSession]:
    """Sessions on the running app's own engine, for arranging and checking rows."""
    return client.app[SESSIONS]


@pytest.fixture(autouse=True)
def fairness_lock_order() -> Iterator[None]:
    """Every test runs under the fairness chain's lock-order watch (tests/fairness/lock_order.py): on PostgreSQL a
    transaction that locks rows and only then asks for the chain's turn fails the test, as it could deadlock with
    one holding the turn. Cheap (a listener on each statement), and no path escapes it by not being listed."""
    watch = LockOrder()
    with watch.installed():
        yield
    watch.assert_kept()
