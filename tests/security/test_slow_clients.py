"""Slow clients are cut off (headers and body each have a deadline); a client that leaves mid-body is no error."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import RecordingChannel, make_settings
from web.slow_clients import server_options

DEADLINE = 0.5


@pytest.fixture
async def server(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> AsyncIterator[int]:
    """The port of a server started as `majlis serve` starts it (web.run_app's runner and site)."""
    settings = make_settings(database_url, header_read_timeout_seconds=DEADLINE, body_read_timeout_seconds=DEADLINE)
    runner = web.AppRunner(create_app(settings, clock=clock, channels=recorder.channels()), **server_options(settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


POST_HEAD = (
    b"POST /api/v1/requests HTTP/1.1\r\nHost: majlis\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_headers_that_never_end_are_cut_off(server: int) -> None:
    reader, writer = await connect(server)
    writer.write(b"GET / HTTP/1.1\r\nHost: majlis\r\nX-Slow: ")
    started = time.monotonic()
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed without an answer
    assert time.monotonic() - started < 5
    writer.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_body_that_stops_arriving_gets_408_and_the_connection_closed(
    server: int, caplog: pytest.LogCaptureFixture
) -> None:
    reader, writer = await connect(server)
    writer.write(POST_HEAD + b'{"applicant": ')
    answer = await asyncio.wait_for(reader.read(), 10)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Connection: close" in answer
    writer.close()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_a_client_leaving_mid_body_is_logged_at_info_without_traceback(
    server: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="web.slow_clients")
    _, writer = await connect(server)
    writer.write(POST_HEAD + b'{"applicant": ')
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    for _ in range(100):
        if any(r.name == "web.slow_clients" for r in caplog.records):
            break
        await asyncio.sleep(0.05)
    left = [r for r in caplog.records if r.name == "web.slow_clients"]
    assert len(left) == 1 and left[0].levelno == logging.INFO and "left" in left[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_malformed_request_is_answered_without_the_server_software(server: int) -> None:
    reader, writer = await connect(server)
    writer.write(b"GET /\x00 HTTP/1.1\r\nHost: majlis\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.0 400 ") or answer.startswith(b"HTTP/1.1 400 ")
    assert b"\r\nServer: Majlis\r\n" in answer and b"aiohttp" not in answer
