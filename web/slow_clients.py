"""Slow and broken clients: headers and bodies must arrive in time, and a client that leaves is no error.

Headers: aiohttp closes a connection whose handler still waits for a request when
its keep-alive timer fires; armed when the connection opens and again after each
answer, that timer is a deadline for the next request's headers, so the server's
keepalive_timeout is the header read time-out (server_options, used by `majlis
serve` and the tests alike). Bodies: every wait for more of a body is bounded by
body_read_timeout_seconds, and the whole body by a deadline from its start:
body_read_timeout_seconds plus its size (Content-Length, or the largest body Majlis
takes when it is chunked) at MIN_BODY_RATE. Without the second bound a byte every
29 s kept a connection for the body's size times 29 s. Past either: 408, connection
closed, however patient the handler.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Any

from aiohttp import web
from aiohttp.helpers import BaseTimerContext

from majlis.errors import N_
from majlis.settings import Settings
from web.keys import SETTINGS
from web.middleware import Handler, error_response

log = logging.getLogger(__name__)


def server_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiohttp's server (web.run_app, AppRunner, TestServer)."""
    return {"keepalive_timeout": settings.header_read_timeout_seconds}


# The slowest average a body may arrive at, in bytes a second: 64 kbit/s, below any working mobile link, so a
# real upload is never cut, while a 1 MiB body trickled is cut within about two minutes.
MIN_BODY_RATE = 8 * 1024


def body_deadline_seconds(settings: Settings, content_length: int | None) -> float:
    """How long a whole body may take from its start: the wait for a part, plus its size at MIN_BODY_RATE."""
    size = settings.upload_body_bytes if content_length is None else min(content_length, settings.upload_body_bytes)
    return settings.body_read_timeout_seconds + size / MIN_BODY_RATE


class BodyReadTimeout(TimeoutError):
    """No part of the body arrived within body_read_timeout_seconds, or the whole body not by its deadline.

    A TimeoutError, so that aiohttp's own reading of what is left of a body after
    the answer (its lingering close) stops at once and closes the connection.
    """


class ReadDeadline(BaseTimerContext):
    """Bounds each wait of a body's stream for data, and all of them together by an end (the loop's time).

    aiohttp's StreamReader enters its timer around every wait; a wait is cut at `seconds` or at the end,
    whichever comes first, and none starts after the end.
    """

    __slots__ = ("_cancelling", "_end", "_handle", "_loop", "_seconds", "_task", "expired")

    def __init__(self, loop: asyncio.AbstractEventLoop, seconds: float, total_seconds: float) -> None:
        self._loop = loop
        self._seconds = seconds
        self._end = loop.time() + total_seconds
        self._task: asyncio.Task[Any] | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._cancelling = 0
        self.expired = False

    def __enter__(self) -> BaseTimerContext:
        left = self._end - self._loop.time()
        if self.expired or left <= 0:
            self.expired = True
            raise BodyReadTimeout
        task = asyncio.current_task(loop=self._loop)
        if task is None:
            raise RuntimeError("a body is read inside a task")
        self._task, self._cancelling = task, task.cancelling()
        self._handle = self._loop.call_later(min(self._seconds, left), self._expire)
        return self

    def _expire(self) -> None:
        self.expired = True
        if self._task is not None:
            self._task.cancel()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if self._handle is not None:
            self._handle.cancel()
        task, self._task = self._task, None
        if exc_type is asyncio.CancelledError and self.expired and task is not None:
            # Our own cancellation becomes the time-out; a cancellation from elsewhere goes on.
            if task.uncancel() > self._cancelling:
                return None
            raise BodyReadTimeout from exc
        return None

    def assert_timeout(self) -> None:
        if self.expired or self._loop.time() >= self._end:
            self.expired = True
            raise BodyReadTimeout


@web.middleware
async def slow_and_broken_clients(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A body too slow gets 408 and the connection closed; a client gone mid-body is logged at INFO, no traceback."""
    settings = request.app[SETTINGS]
    seconds = settings.body_read_timeout_seconds
    if request.body_exists:
        total = body_deadline_seconds(settings, request.content_length)
        # StreamReader has no public setting for this; its timer is the hook aiohttp itself uses for time-outs.
        request.content._timer = ReadDeadline(asyncio.get_running_loop(), seconds, total)
    try:
        return await handler(request)
    except BodyReadTimeout:
        log.info(
            "%s %s: the body arrived too slowly (over %s s for a part, or past its deadline); closed",
            request.method,
            request.path,
            seconds,
        )
        response = error_response(request, 408, N_("What you sent arrived too slowly. Please try again."))
        response.force_close()
        return response
    except ConnectionResetError:
        if request.transport is not None and not request.transport.is_closing():
            raise
        log.info("%s %s: the client left before its request had arrived", request.method, request.path)
        # Nobody is left to read it; aiohttp drops it quietly.
        return web.Response(status=400)
