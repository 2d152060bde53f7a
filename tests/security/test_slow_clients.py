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


async def trickle(writer: asyncio.StreamWriter, pieces: list[bytes], every: float) -> int:
    """Writes one piece every `every` seconds until they run out or the server closes; how many were written."""
    written = 0
    for piece in pieces:
        if writer.is_closing():
            break
        try:
            writer.write(piece)
            await writer.drain()
        except ConnectionError:
            break
        written += 1
        await asyncio.sleep(every)
    return written


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_headers_trickled_in_are_cut_off_at_the_deadline_from_the_connections_start(server: int) -> None:
    """A header line every fifth of the deadline keeps no connection open past the deadline itself."""
    reader, writer = await connect(server)
    lines = [b"GET / HTTP/1.1\r\n", b"Host: majlis\r\n"] + [b"X-Slow-%d: a\r\n" % i for i in range(100)]
    started = time.monotonic()
    sending = asyncio.create_task(trickle(writer, lines, DEADLINE / 5))
    assert await asyncio.wait_for(reader.read(), 10) == b""  # closed without an answer
    closed_after = time.monotonic() - started
    sending.cancel()
    writer.close()
    assert closed_after < DEADLINE + 1.5, closed_after


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_body_trickled_past_its_deadline_gets_408_and_the_connection_closed(
    server: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Each byte comes well within the wait for a part, yet the whole body has a deadline from its start: the
    wait plus its 200 bytes at MIN_BODY_RATE, well under a second here, against 20 s for the trickle to end."""
    reader, writer = await connect(server)
    writer.write(POST_HEAD)
    started = time.monotonic()
    sending = asyncio.create_task(trickle(writer, [b" "] * 200, DEADLINE / 5))
    answer = await asyncio.wait_for(reader.read(), 10)
    answered_after = time.monotonic() - started
    sending.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"Connection: close" in answer
    assert answered_after < DEADLINE + 1.5, answered_after
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


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
