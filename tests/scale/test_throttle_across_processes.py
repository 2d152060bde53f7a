"""The sign-in throttle across two real `majlis serve` processes: failures made on either count together.

With one failure free (MAJLIS_LOGIN_MAX_FAILURES=1), each further failure doubles the wait: 1 s after the
first, 2 s after the second, 4 s after the third, 8 s after the fourth. Four failures, two on each process,
spaced so that each is allowed, leave an 8-second wait that both processes enforce (the refusal's Retry-After says
how long); a process counting only its own two would wait 2 s from its second, which has passed by then. The
check reads Retry-After rather than the wall clock, and has 8 s to be made, so a slow machine cannot fail it.
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import LoginAttempt
from accounts.roles import Role
from majlis.clock import SystemClock
from tests.factories import PASSWORD, make_staff
from tests.scale.conftest import ServedProcess, Start

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
ENV = {"MAJLIS_JOBS_ENABLED": "false", "MAJLIS_LOGIN_MAX_FAILURES": "1"}

Sessions = async_sessionmaker[AsyncSession]


async def login(http: aiohttp.ClientSession, served: ServedProcess, password: str) -> tuple[int, float, int]:
    """The answer's status to a sign-in as the clerk, when it came (monotonic), and its Retry-After (0 if none)."""
    async with http.get(served.url + "/login") as page:
        match = _CSRF.search(await page.text())
    assert match, served.log_text()[-3000:]
    form = {"username": "clerk", "password": password, "csrf_token": match.group(1)}
    async with http.post(served.url + "/login", data=form, allow_redirects=False) as answer:
        return answer.status, time.monotonic(), int(answer.headers.get("Retry-After", "0"))


async def failures(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LoginAttempt)) or 0)


async def test_failures_on_two_processes_count_together(majlis_processes: Start, sessions: Sessions) -> None:
    await make_staff(sessions, SystemClock(), Role.INTAKE_DESK, "clerk")
    first, second = await majlis_processes(count=2, env=ENV)
    # A stranger without device cookies, from one address (loopback), trying both processes in turn.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, at, _ = await login(http, first, "guess-1")
        assert status == 401
        # Each next failure after the wait the failures so far (on both processes) impose: 1 s, 2 s, 4 s.
        for guess, served, wait in (("guess-2", second, 1), ("guess-3", first, 2), ("guess-4", second, 4)):
            await asyncio.sleep(max(0.0, at + wait + 0.2 - time.monotonic()))
            status, at, _ = await login(http, served, guess)
            assert status == 401, (guess, status)
        assert await failures(sessions) == 4
        # Four failures, two on each: an 8-second wait on both, the right password included. A process counting
        # its own two alone would ask for 2 s from its last, already over.
        for served in (first, second):
            status, _, retry_after = await login(http, served, PASSWORD)
            assert status == 429
            assert 4 < retry_after <= 8
        assert await failures(sessions) == 4  # refused before the password is checked: not counted again
