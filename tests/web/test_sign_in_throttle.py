"""The sign-in throttle over HTTP: the device cookie a sign-in leaves keeps the right user in while strangers
guess, and the address counted is the forwarded one only behind a trusted proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from accounts.models import LoginAttempt
from accounts.roles import Role
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import PASSWORD, Client, csrf_token, make_staff
from web.device_cookie import DEVICE_COOKIE
from web.keys import SESSIONS


async def started(database_url: str, clock: FrozenClock, recorder: RecordingChannel, **settings: object) -> Client:
    # Two failures free per address, four per account's untrusted clients: the throttle shows quickly.
    app = create_app(
        make_settings(database_url, login_max_failures=2, **settings), clock=clock, channels=recorder.channels()
    )
    client = await start_client(app)
    await make_staff(client.app[SESSIONS], clock, Role.INTAKE_DESK, "clerk")
    return client


@pytest.fixture
async def behind_trusted_proxy(
    database_url: str, clock: FrozenClock, recorder: RecordingChannel
) -> AsyncIterator[Client]:
    client = await started(database_url, clock, recorder, trusted_proxies=("127.0.0.0/8",))
    yield client
    await client.close()


@pytest.fixture
async def behind_untrusted_proxy(
    database_url: str, clock: FrozenClock, recorder: RecordingChannel
) -> AsyncIterator[Client]:
    client = await started(database_url, clock, recorder, trusted_proxies=("192.0.2.1",))
    yield client
    await client.close()


async def login(client: Client, password: str, forwarded_for: str | None = None) -> int:
    token = await csrf_token(client)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = await client.post(
        "/login",
        data={"username": "clerk", "password": password, "csrf_token": token},
        headers=headers,
        allow_redirects=False,
    )
    return response.status


async def addresses_counted(client: Client) -> set[str]:
    async with client.app[SESSIONS]() as session:
        return set(await session.scalars(select(LoginAttempt.address)))


async def test_strangers_cannot_stop_the_right_password_on_a_trusted_device(behind_trusted_proxy: Client) -> None:
    client = behind_trusted_proxy
    assert await login(client, PASSWORD, "198.51.100.7") == 303
    device_cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[DEVICE_COOKIE].value
    # Strangers (no device cookie) from many addresses, and from the user's own.
    client.session.cookie_jar.clear()
    statuses = [await login(client, f"guess-{n}", f"203.0.113.{n}") for n in range(8)]
    assert statuses == [401] * 4 + [429] * 4
    assert await login(client, PASSWORD, "198.51.100.7") == 429
    # The user's browser, with the device cookie it was given, signs in with the right password at once.
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({DEVICE_COOKIE: device_cookie}, client.make_url("/"))
    assert await login(client, PASSWORD, "198.51.100.7") == 303


async def test_behind_a_trusted_proxy_the_forwarded_client_is_counted(behind_trusted_proxy: Client) -> None:
    client = behind_trusted_proxy
    assert [await login(client, "wrong", "203.0.113.5") for _ in range(2)] == [401, 401]
    # An address the client wrote itself, left of what the proxy appended, changes nothing.
    assert await login(client, PASSWORD, "10.9.9.9, 203.0.113.5") == 429
    # Another visitor behind the same proxy is counted apart.
    assert await login(client, PASSWORD, "198.51.100.7") == 303
    assert await addresses_counted(client) == {"203.0.113.5", "198.51.100.7"}


async def test_behind_an_untrusted_proxy_forwarded_for_is_ignored(behind_untrusted_proxy: Client) -> None:
    client = behind_untrusted_proxy
    assert [await login(client, "wrong", "203.0.113.5") for _ in range(2)] == [401, 401]
    # The peer is not a trusted proxy: whatever X-Forwarded-For claims, this is the same client.
    assert await login(client, PASSWORD, "198.51.100.7") == 429
    assert await addresses_counted(client) == {"127.0.0.1"}
