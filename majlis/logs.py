"""Logging: one JSON object a line (or the readable text of development), each carrying its request id.

The request id lives in a context variable. asyncio copies the context into every task at its creation, so the
tasks a request handler starts keep its id without being told; the outbox keeps it in a message's payload, and the
dispatcher sets it again while it sends that message (notify.outbox), so the send's log lines name the request
that caused it. A periodic job runs under an id of its own, "job:<name>:<uuid>" (majlis.jobs).
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["json", "text"]

# The id of the request (or job) whose work is running: None outside both.
REQUEST_ID: ContextVar[str | None] = ContextVar("majlis_request_id", default=None)
# The key an outbox message's payload keeps its originating request id under.
PAYLOAD_KEY = "request_id"
# What an incoming X-Request-Id may be to be taken over (a proxy's or a client's id): short, and of characters
# that cannot break a log line or a header. Anything else is replaced by an id of our own.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def new_request_id() -> str:
    return uuid.uuid4().hex


def job_request_id(name: str) -> str:
    """The id a periodic job's run logs under: its name and a fresh uuid, told apart from requests' at a glance."""
    return f"job:{name}:{uuid.uuid4().hex}"


def taken_or_new(incoming: str | None) -> str:
    """The incoming X-Request-Id when it is well formed (so a proxy's id joins both logs), else a new one."""
    if incoming is not None and _WELL_FORMED.fullmatch(incoming):
        return incoming
    return new_request_id()


def current_request_id() -> str | None:
    return REQUEST_ID.get()


@contextmanager
def request_id_set(request_id: str | None) -> Iterator[None]:
    """Runs the block under `request_id` (None: under none), then restores the id that was in force."""
    token = REQUEST_ID.set(request_id)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record a handler emits (a record given one by `extra` keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object a line: timestamp (ISO, UTC), level, logger, message, request_id and any `extra` fields."""
    return JsonFormatter(
        "{levelname}{name}{message}{request_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp=True,
        json_ensure_ascii=False,
    )


def handler_for(log_format: LogFormat, stream: IO[str] | None = None) -> logging.Handler:
    """A stream handler (standard error by default) writing `log_format`, with the request id filled in."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RequestIdFilter())
    return handler


def configure(log_format: LogFormat, *, stream: IO[str] | None = None, level: int = logging.INFO) -> None:
    """Sets up the root logger once for a command: its handlers are replaced by one of `log_format`."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler_for(log_format, stream))
    root.setLevel(level)
    # The twilio library logs every request at INFO, look-ups with the applicant's number in the query: keep its
    # warnings and errors only.
    logging.getLogger("twilio").setLevel(logging.WARNING)
