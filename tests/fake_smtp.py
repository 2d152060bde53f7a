"""A real SMTP server on 127.0.0.1 for tests, keeping what it receives.

aiosmtpd's Controller runs the server on its own event loop in a thread, so a
test running on pytest-asyncio's loop can send to it with aiosmtplib. It can
refuse a recipient (550, or 450 for greylisting) and defer the next messages
at DATA (451), to drive a channel's error handling.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server took it: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage


class _Controller(Controller):
    """A Controller on a port the system picks.

    aiosmtpd 1.4.6 binds port 0 fine but then connects to port 0 to check that
    the server answers; read the bound port before that check.
    """

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class FakeSmtpServer:
    """Start with `with FakeSmtpServer() as smtp:` (or start() / stop()); send to smtp.host, smtp.port."""

    def __init__(self) -> None:
        self.host = HOST
        self._lock = threading.Lock()
        self._received: list[ReceivedMail] = []
        self._refused: dict[str, str] = {}
        self._deferrals: list[str] = []
        self._controller: _Controller | None = None

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the fake SMTP server is not running")
        return int(self._controller.port)

    @property
    def received(self) -> list[ReceivedMail]:
        """The messages accepted so far, oldest first."""
        with self._lock:
            return list(self._received)

    def refuse(self, address: str, *, code: int = 550, text: str = "5.1.1 No such user") -> None:
        """Answer RCPT TO:<address> with `code` from now on."""
        with self._lock:
            self._refused[address.lower()] = f"{code} {text}"

    def defer_next(self, count: int = 1, *, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        """Answer the next `count` messages' DATA with `code` instead of accepting them."""
        with self._lock:
            self._deferrals.extend([f"{code} {text}"] * count)

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("the fake SMTP server is already running")
        # Made here, not in __init__: a Controller opens its event loop when built.
        controller = _Controller(_Handler(self), hostname=HOST, port=0, ready_timeout=5.0)
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)
            # A server that failed to bind leaves its thread without closing its loop.
            if not controller.loop.is_closed():
                controller.loop.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            # Cancels the server's tasks, closes the listening socket and its loop, joins the thread.
            controller.stop()

    def __enter__(self) -> FakeSmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Called from the server's thread.

    def _rcpt_answer(self, address: str) -> str | None:
        with self._lock:
            return self._refused.get(address.lower())

    def _take(self, envelope: Envelope) -> str:
        with self._lock:
            if self._deferrals:
                return self._deferrals.pop(0)
            raw = envelope.original_content or b""
            assert isinstance(raw, bytes)
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self._received.append(
                ReceivedMail(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=raw,
                    message=message,
                )
            )
            return "250 2.0.0 OK"


class _Handler:
    """aiosmtpd's hooks, answering as the FakeSmtpServer is told to."""

    def __init__(self, server: FakeSmtpServer) -> None:
        self._server = server

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        refusal = self._server._rcpt_answer(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self._server._take(envelope)
