"""Channels: the one interface every way of reaching an applicant implements.

The dispatcher turns an outbox row into an `Outgoing` (a plain value: no
database session reaches a channel) and hands it to the channel named by the
row. A channel answers with a `Delivery`, or raises `TransientSendError`
(timeouts, 429, 5xx: tried again later with backoff) or `PermanentSendError`
(an invalid number, any other refusal: stopped and shown to staff).

`find_sent` resolves the one uncertain moment: a dispatcher that died after
calling the provider and before recording the answer leaves the message
"sending". The next dispatcher asks the provider whether the message was
accepted after the claim; only if the provider says no is it sent again.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TextIO

CHANNELS = ("sms", "whatsapp", "voice", "email")


@dataclass(frozen=True)
class InlineImage:
    """A picture shown inside an e-mail (a `cid:` reference from its HTML), such as the arrival code's QR code.

    `text` is what the picture says, shown beside it too, so nothing is lost where pictures are not shown.
    """

    # The file name offered when the picture is saved, e.g. "arrival-code.png".
    filename: str
    png: bytes
    # The HTML's alt text, in the applicant's language.
    alt: str
    text: str
    width: int
    height: int


@dataclass(frozen=True)
class Outgoing:
    """One message as a channel sees it."""

    message_id: int
    channel: str
    # E.164 for sms / whatsapp / voice, an address for e-mail.
    recipient: str
    language: str
    # What the applicant reads (sms, whatsapp session message, e-mail text) or hears (voice).
    body: str
    purpose: str
    # Channel extras written with the message: an e-mail's subject and invitation, a
    # WhatsApp template's name and variables, whether a call gathers a keypad answer.
    payload: Mapping[str, Any] = field(default_factory=dict)
    # Whether the applicant wrote to us on WhatsApp in the last 24 hours, so a free-form
    # session message may be sent; outside that window only an approved template may.
    whatsapp_session_open: bool = False
    # Where the provider reports delivery (Twilio's StatusCallback); empty for none.
    status_callback: str = ""
    # Where a voice call posts the digit pressed (<Gather action>); empty when nothing is asked.
    gather_action: str = ""
    # Pictures an e-mail shows inline (the confirmation's arrival code as a QR code); other channels ignore them.
    images: tuple[InlineImage, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """The provider's answer: its id for the message and the status it gave."""

    provider_id: str
    status: str = "accepted"


class TransientSendError(Exception):
    """Worth trying again later: a timeout, a refused connection, 429, a 5xx.

    `maybe_sent` says the provider may have taken the message before the
    failure (a timeout or a dropped connection after the request went out): the
    dispatcher then asks the provider before sending it again, as after a crash.
    """

    def __init__(self, message: str, *, maybe_sent: bool = False) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class PermanentSendError(Exception):
    """Trying again will not help: an invalid number, a refused address, any other 4xx."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class Unresolvable(Exception):
    """The provider cannot say whether a message was accepted (SMTP has no look-up)."""


class Channel(Protocol):
    async def send(self, outgoing: Outgoing) -> Delivery:
        """Hand the message to the provider; raises TransientSendError or PermanentSendError."""
        ...

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        """The provider's record of this message accepted at or after `since`, or None if it has none.

        Raises Unresolvable when the provider keeps no record it can be asked about.
        """
        ...

    async def close(self) -> None:
        """Release connections; called once when the application or worker stops."""
        ...


class ConsoleChannel:
    """Prints each message, for development: `make run` shows every notice in the terminal."""

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self._name = name
        self._stream = stream

    async def send(self, outgoing: Outgoing) -> Delivery:
        stream = self._stream or sys.stdout
        extra = f" [reply at {outgoing.gather_action}]" if outgoing.gather_action else ""
        print(
            f"[{self._name} → {outgoing.recipient}] ({outgoing.purpose}) {outgoing.body}{extra}",
            file=stream,
            flush=True,
        )
        return Delivery(provider_id=f"console-{outgoing.message_id}", status="printed")

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        # Printing cannot half-happen in a way worth hiding: print it again.
        return None

    async def close(self) -> None:
        return None


class NullChannel:
    """Accepts every message and sends nothing."""

    async def send(self, outgoing: Outgoing) -> Delivery:
        return Delivery(provider_id=f"null-{outgoing.message_id}", status="discarded")

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        return None

    async def close(self) -> None:
        return None


class Channels:
    """The channel for each channel name; a message for a channel not configured fails permanently."""

    def __init__(self, channels: Mapping[str, Channel]) -> None:
        self._channels = dict(channels)

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._channels)

    async def close(self) -> None:
        seen: set[int] = set()
        for channel in self._channels.values():
            if id(channel) not in seen:
                seen.add(id(channel))
                await channel.close()


def console_channels(stream: TextIO | None = None) -> Channels:
    return Channels({name: ConsoleChannel(name, stream) for name in CHANNELS})


def null_channels() -> Channels:
    return Channels(dict.fromkeys(CHANNELS, NullChannel()))


class MediaUnavailable(Exception):
    """The provider did not give the file: gone, refused, timed out, or unreachable."""


class MediaTooLarge(Exception):
    """The file is larger than the caller accepts; reading stopped at the limit."""


class MediaFetcher(Protocol):
    """Fetches a file a sender attached to an inbound message (Twilio's MediaUrlN), with the account's credentials."""

    async def fetch_media(self, url: str, *, max_bytes: int) -> bytes:
        """The file's bytes; MediaTooLarge past max_bytes, MediaUnavailable when it cannot be had."""
        ...

    async def close(self) -> None:
        """Release connections; called once when the application stops."""
        ...
