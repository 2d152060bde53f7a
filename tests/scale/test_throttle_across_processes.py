"""The sign-in throttle across two real `majlis serve` processes: failures made on either count together.

With two failures free (MAJLIS_LOGIN_MAX_FAILURES=2), each further failure doubles the wait: 1 s after the
second, 2 s after the third, 4 s after the fourth. Four failures, two on each process, spaced so that each is
allowed, leave a 4-second wait that both processes enforce; a process counting only its own two would let the
next try through (its own wait of 1 s has passed by then).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import LoginAttempt
from accounts.roles import Role
from majlis.clock import SystemClock
from majlis.db import create_engine, session_factory
from tests.factories import PASSWORD, make_staff
from tests.scale.conftest import ServedProcess, Start

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
ENV = {"MAJLIS_JOBS_ENABLED": "false", "MAJLIS_LOGIN_MAX_FAILURES": "2"}

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(scale_database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(scale_database_url)
    yield session_factory(engine)
    await engine.dispose()


async def login(http: aiohttp.ClientSession, served: ServedProcess, password: str) -> tuple[int, float]:
    """The answer's status to a sign-in as the clerk, and when it came (monotonic)."""
    async with http.get(served.url + "/login") as page:
        match = _CSRF.search(await page.text())
    assert match, served.log_text()[-3000:]
    form = {"username": "clerk", "password": password, "csrf_token": match.group(1)}
    async with http.post(served.url + "/login", data=form, allow_redirects=False) as answer:
        return answer.status, time.monotonic()


async def failures(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


async def test_failures_on_two_processes_count_together(majlis_processes: Start, sessions: Sessions) -> None:
    await make_staff(sessions, SystemClock(), Role.INTAKE_DESK, "clerk")
    first, second = await majlis_processes(count=2, env=ENV)
    # A stranger without device cookies, from one address (loopback), trying both processes in turn.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        assert (await login(http, first, "guess-1"))[0] == 401
        status, at = await login(http, second, "guess-2")
        assert status == 401
        # Two failures: the next waits a second (counted together; each process alone would have waited nothing).
        await asyncio.sleep(max(0.0, at + 1.2 - time.monotonic()))
        status, at = await login(http, first, "guess-3")
        assert status == 401
        await asyncio.sleep(max(0.0, at + 2.2 - time.monotonic()))
        status, at = await login(http, second, "guess-4")
        assert status == 401
        assert await failures(sessions) == 4
        # Four failures, two on each: a 4-second wait on both, the right password included.
        status, sent = await login(http, first, PASSWORD)
        assert sent - at < 3.5, "the machine was too slow for this test's timing"
        assert status == 429
        assert (await login(http, second, PASSWORD))[0] == 429
        assert await failures(sessions) == 4  # refused before the password is checked: not counted again
