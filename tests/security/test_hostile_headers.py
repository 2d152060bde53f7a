"""Cookies and headers holding bytes that are not UTF-8 (web/hostile_headers.py), sent on a raw socket since
aiohttp's client will not write them: a cookie that is not printable ASCII is treated as absent, a User-Agent
has its broken characters replaced, any other header is refused with a 400; never a 500 or a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from accounts.models import StaffSession
from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import PASSWORD, Client, csrf_token, make_staff
from tests.security.staff_sessions import Sessions, credentials_for
from web.device_cookie import DEVICE_COOKIE
from web.security import CSRF_COOKIE, CSRF_HEADER, LANGUAGE_COOKIE, SESSION_COOKIE

BROKEN = b"\xff"


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """The records at ERROR or above, or with a traceback, logged during the test."""
    caplog.set_level(logging.INFO)
    found: list[logging.LogRecord] = []
    yield found
    found.extend(r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info)


async def send(client: Client, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """The status and the whole answer of one request written byte for byte (the connection closes after)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    length = b"Content-Length: %d\r\n" % len(body) if body else b""
    host = b"" if b"\r\nHost: " in head else b"Host: majlis\r\n"
    writer.write(head + host + b"Connection: close\r\n" + length + b"\r\n" + body)
    answer = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    status = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    assert status, answer[:200]
    return int(status.group(1)), answer


async def visitor_csrf(client: Client) -> tuple[bytes, bytes]:
    """A visitor's CSRF cookie and the token of the sign-in form bound to it."""
    token = await csrf_token(client)
    secret = client.session.cookie_jar.filter_cookies(client.make_url("/"))[CSRF_COOKIE].value
    return secret.encode(), token.encode()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_broken_session_cookie_is_no_session(client: Client, errors_logged: list[logging.LogRecord]) -> None:
    status, answer = await send(client, b"GET /staff HTTP/1.1\r\nCookie: " + SESSION_COOKIE.encode() + b"=ab\xffcd\r\n")
    assert status == 303 and b"\r\nLocation: /login" in answer
    assert not errors_logged


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_broken_csrf_cookie_is_replaced_by_a_new_one(
    client: Client, errors_logged: list[logging.LogRecord]
) -> None:
    broken = CSRF_COOKIE.encode() + b"=" + b"a" * 40 + BROKEN
    status, answer = await send(client, b"GET /login HTTP/1.1\r\nCookie: " + broken + b"; majlis_lang=ar\r\n")
    assert status == 200
    # The page's token is bound to a new cookie, sent with it; the good cookie beside the broken one still counts.
    assert b"\r\nSet-Cookie: " + CSRF_COOKIE.encode() + b"=" in answer
    assert b'lang="ar"' in answer
    assert not errors_logged


@pytest.mark.parametrize("role", [Role.INTAKE_DESK, Role.MANAGER])
async def test_sign_in_with_a_broken_device_cookie_and_browser_name(
    client: Client, sessions: Sessions, clock: FrozenClock, role: Role, errors_logged: list[logging.LogRecord]
) -> None:
    """The device cookie is as good as none, the browser's name is kept with U+FFFD for the broken byte."""
    await make_staff(sessions, clock, role, "broken")
    secret, token = await visitor_csrf(client)
    cookies = CSRF_COOKIE.encode() + b"=" + secret + b"; " + DEVICE_COOKIE.encode() + b"=a\xff.b"
    body = b"username=broken&password=" + PASSWORD.encode() + b"&csrf_token=" + token
    status, answer = await send(
        client,
        b"POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"User-Agent: Browser\xff/1\r\nCookie: " + cookies + b"\r\n",
        body,
    )
    assert status == 303, answer
    async with sessions() as session:
        stored = (await session.scalars(select(StaffSession.user_agent))).all()
    assert stored == ["Browser\ufffd/1"]
    assert not errors_logged


def _document_headers(document: dict[str, object]) -> set[str]:
    """Every header the OpenAPI document declares: operations' parameters and security schemes."""
    found = set()
    components = document.get("components", {})
    assert isinstance(components, dict)
    for scheme in components.get("securitySchemes", {}).values():
        if scheme.get("in") == "header":
            found.add(scheme["name"])
    paths = document["paths"]
    assert isinstance(paths, dict)
    for item in paths.values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "header":
                    found.add(parameter["name"])
    return found


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_any_other_broken_header_is_refused_with_400(
    client: Client, sessions: Sessions, clock: FrozenClock, errors_logged: list[logging.LogRecord]
) -> None:
    """Every header the document declares, and those Majlis reads beside them, on the public and a staff API."""
    document = await (await client.get("/openapi.json")).json()
    declared = _document_headers(document)
    assert {CSRF_HEADER, "Idempotency-Key"} <= declared
    read = {"X-Forwarded-For", "Accept-Language", "Origin", "Content-Type", "X-Twilio-Signature", "Host"}
    staff = await credentials_for(client, sessions, clock, Role.INTAKE_DESK)
    cookie = "; ".join(f"{name}={value}" for name, value in staff.cookies.items()).encode()
    for name in sorted(declared | read):
        for path in (b"/api/v1/requests", b"/api/v1/session"):
            head = b"POST " + path + b" HTTP/1.1\r\nCookie: " + cookie + b"\r\n"
            head += b"" if name == "Content-Type" else b"Content-Type: application/json\r\n"
            head += CSRF_HEADER.encode() + b": " + staff.csrf.encode() + b"\r\n"
            head += name.encode() + b": x" + BROKEN + b"\r\n"
            status, answer = await send(client, head, b"{}")
            assert status == 400, (name, path, answer)
            assert b'"messages"' in answer
    assert not errors_logged


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_cookie_of_majlis_broken_is_as_good_as_none(
    client: Client, errors_logged: list[logging.LogRecord]
) -> None:
    names = [SESSION_COOKIE, CSRF_COOKIE, LANGUAGE_COOKIE, DEVICE_COOKIE, "majlis_kiosk", "majlis_answer"]
    for path in (b"/login", b"/staff", b"/api/v1/session", b"/kiosk", b"/"):
        for name in names:
            head = b"GET " + path + b" HTTP/1.1\r\nCookie: " + name.encode() + b"=\xff\r\n"
            status, answer = await send(client, head)
            assert status < 500, (path, name, answer)
    assert not errors_logged
