"""Senders: where a message goes. The console prints; the null sender keeps quiet.

Real providers (Twilio, SMTP) join this interface with the notifications issue.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from notify.models import OutboxMessage


class Sender(Protocol):
    async def send(self, message: OutboxMessage) -> str:
        """Deliver the message; gives back the provider's id for it."""
        ...


class ConsoleSender:
    """Prints each message, for development: the receipt shows in the terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(self, message: OutboxMessage) -> str:
        stream = self._stream or sys.stdout
        print(
            f"[{message.channel} → {message.recipient}] ({message.purpose}) {message.body}",
            file=stream,
            flush=True,
        )
        return f"console-{message.id}"


class NullSender:
    """Accepts every message and sends nothing."""

    async def send(self, message: OutboxMessage) -> str:
        return f"null-{message.id}"


def sender_for(backend: str) -> Sender:
    if backend == "console":
        return ConsoleSender()
    if backend == "null":
        return NullSender()
    raise ValueError(f"unknown notification backend {backend!r}")
