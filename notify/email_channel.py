"""E-mail over SMTP, with the audience invitation as an iCalendar part.

An invitation travels twice in one message, the way Outlook and Gmail expect
it: as a `text/calendar; method=…` alternative to the text body (which the
mail client turns into Accept / Decline buttons) and as an `invite.ics`
attachment for clients that only offer to import a file.

A message with pictures (the confirmation's arrival code as a QR code) gains an
HTML alternative: the same text, with each picture after the paragraph that
says what it shows, as `multipart/related` parts the HTML names by Content-ID.
The layout then is

    multipart/mixed
      multipart/alternative
        text/plain                     the text, for clients that show no HTML
        multipart/related
          text/html                    the text and <img src="cid:…">
          image/png                    inline, Content-ID <…>
        text/calendar; method=REQUEST  the invitation, as without pictures
      application/ics (invite.ics)

with the invitation's parts as they are without pictures. The plain text already
carries the code, so a client that shows no pictures loses nothing.

SMTP answers with a code: 5xx about this message (its sender, its recipient,
its content) will not change on a retry and is permanent; 4xx, a lost or
refused connection, a timeout, and refusals of the whole session (greeting,
HELO, login) are passing, the last because they are our configuration, not the
message, and the message should go once the configuration is fixed.
"""

from __future__ import annotations

import email.policy
import html
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from majlis.clock import Clock
from notify.channels import (
    Delivery,
    InlineImage,
    Outgoing,
    PermanentSendError,
    TransientSendError,
    Unresolvable,
)

ITIP_METHODS = ("REQUEST", "CANCEL")
# Written right to left in HTML.
RTL_LANGUAGES = frozenset({"ar"})
_URL = re.compile(r"https?://[^\s<>\"']+")


class SmtpEmail:
    """Sends each message in its own SMTP session (connect, optionally STARTTLS and login, send, quit)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        starttls: bool,
        timeout: float,
        sender: str,
        clock: Clock | None = None,
    ) -> None:
        envelope_from = parseaddr(sender)[1]
        local, at, domain = envelope_from.rpartition("@")
        if not (local and at and domain):
            raise ValueError(f"the sender needs an address with a domain: {sender!r}")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._sender = sender
        self._envelope_from = envelope_from
        self._domain = domain
        # Without a clock the Date header is left to the submission server (RFC 6409 §8.3).
        self._clock = clock

    def __repr__(self) -> str:
        return f"SmtpEmail(host={self._host!r}, port={self._port}, username={self._username!r}, password='***')"

    def message_id(self, outgoing: Outgoing) -> str:
        """The Message-ID of an outbox message: the same on every attempt, so a resend collapses."""
        return f"<outbox-{outgoing.message_id}@{self._domain}>"

    def content_id(self, outgoing: Outgoing, index: int) -> str:
        """The Content-ID of an outbox message's index-th picture: the same on every attempt, unique per message."""
        return f"<image{index}.outbox-{outgoing.message_id}@{self._domain}>"

    def compose(self, outgoing: Outgoing) -> EmailMessage:
        """The e-mail for an outbox message; raises PermanentSendError when the message cannot be written."""
        subject = outgoing.payload.get("subject")
        ics = outgoing.payload.get("ics")
        method = outgoing.payload.get("method")
        if not isinstance(subject, str) or not subject:
            raise PermanentSendError("an e-mail needs a subject", code="invalid-message")
        if (ics is None) != (method is None):
            raise PermanentSendError(
                "an invitation needs both its calendar text and its method", code="invalid-message"
            )
        if ics is not None and (not isinstance(ics, str) or method not in ITIP_METHODS):
            raise PermanentSendError(f"not an invitation this channel sends: method {method!r}", code="invalid-message")

        # SMTP line ends (CRLF) also inside base64 parts, which the calendar needs (RFC 5545 §3.1).
        message = EmailMessage(policy=email.policy.SMTP)
        try:
            message["From"] = self._sender
            message["To"] = outgoing.recipient
            message["Subject"] = subject
            message["Message-ID"] = self.message_id(outgoing)
            if self._clock is not None:
                message["Date"] = format_datetime(self._clock.now())
            # RFC 3834: out-of-office replies are not sent back to notifications.
            message["Auto-Submitted"] = "auto-generated"
        except (ValueError, IndexError) as error:
            # A CR or LF in a header (ValueError), or an address like "a@" that trips the
            # standard library's parser (IndexError): never sent, whatever the retry.
            raise PermanentSendError(f"cannot write the e-mail: {error!r}", code="invalid-message") from error
        if _single_address(message) is None:
            raise PermanentSendError(f"not one e-mail address: {outgoing.recipient!r}", code="invalid-address")

        message.set_content(outgoing.body)
        if outgoing.images:
            pictures = [(image, self.content_id(outgoing, index)) for index, image in enumerate(outgoing.images)]
            message.add_alternative(_html(outgoing, subject, pictures), subtype="html")
            *_, page = message.iter_parts()
            assert isinstance(page, EmailMessage)
            for image, cid in pictures:
                page.add_related(
                    image.png,
                    maintype="image",
                    subtype="png",
                    cid=cid,
                    disposition="inline",
                    filename=image.filename,
                )
            # RFC 2387 asks multipart/related to name its root's type; the standard library leaves it out.
            page.set_param("type", "text/html")
        if isinstance(ics, str):
            message.add_alternative(ics, subtype="calendar", charset="UTF-8", cte="base64", params={"method": method})
            message.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
        return message

    async def send(self, outgoing: Outgoing) -> Delivery:
        message = self.compose(outgoing)
        recipient = _single_address(message)
        assert recipient is not None  # compose checked it
        try:
            await aiosmtplib.send(
                message,
                sender=self._envelope_from,
                recipients=[recipient],
                hostname=self._host,
                port=self._port,
                username=self._username or None,
                password=self._password if self._username else None,
                start_tls=self._starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            text = "; ".join(f"{refusal.code} {refusal.message}" for refusal in error.recipients)
            if codes and all(500 <= code < 600 for code in codes):
                raise PermanentSendError(f"recipient refused: {text}", code=str(codes[0])) from error
            # 450 / 451 at RCPT is greylisting or a full mailbox: it goes on a later try.
            raise TransientSendError(f"recipient deferred: {text}") from error
        except (
            aiosmtplib.SMTPConnectResponseError,
            aiosmtplib.SMTPHeloError,
            aiosmtplib.SMTPAuthenticationError,
        ) as error:
            raise TransientSendError(f"SMTP session refused: {error.code} {error.message}") from error
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise PermanentSendError(f"SMTP refused: {error.code} {error.message}", code=str(error.code)) from error
            raise TransientSendError(f"SMTP deferred: {error.code} {error.message}") from error
        except aiosmtplib.SMTPNotSupported as error:
            # Only raised for an address needing SMTPUTF8 that the server cannot take.
            raise PermanentSendError(error.message, code="smtputf8") from error
        except aiosmtplib.SMTPConnectError as error:
            # No session was opened (a connect timeout included): nothing was sent.
            raise TransientSendError(f"SMTP failed: {error}") from error
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
            # Lost in the middle: the server may have taken the message before it went quiet.
            raise TransientSendError(f"SMTP failed: {error}", maybe_sent=True) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            # STARTTLS or AUTH missing on the server, and other failures before DATA.
            raise TransientSendError(f"SMTP failed: {error}") from error
        return Delivery(provider_id=self.message_id(outgoing), status="accepted")

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        raise Unresolvable("SMTP keeps no record that can be asked about")

    async def close(self) -> None:
        # Nothing held open: each send is its own SMTP session.
        return None


def _html(outgoing: Outgoing, subject: str, images: list[tuple[InlineImage, str]]) -> str:
    """The text as HTML, each picture (by its Content-ID) after the first paragraph that says its text, else last.

    Paragraphs are the text's blank-line-separated blocks; links are made links, written left to right.
    """
    direction = "rtl" if outgoing.language in RTL_LANGUAGES else "ltr"
    paragraphs = [block for block in outgoing.body.strip().split("\n\n") if block.strip()]
    placed: dict[int, list[tuple[InlineImage, str]]] = {}
    for image, cid in images:
        at = next((i for i, block in enumerate(paragraphs) if image.text in block), len(paragraphs) - 1)
        placed.setdefault(at, []).append((image, cid))
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(outgoing.language)}" dir="{direction}">',
        f'<head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>',
        "<body>",
    ]
    for index, block in enumerate(paragraphs):
        lines.append(f"<p>{'<br>'.join(_linked(line) for line in block.strip().splitlines())}</p>")
        for image, cid in placed.get(index, []):
            lines.append(
                f'<p><img src="cid:{html.escape(cid.strip("<>"))}" alt="{html.escape(image.alt)}" '
                f'width="{image.width}" height="{image.height}"></p>'
            )
            lines.append(
                f'<p dir="ltr" style="font-family:monospace;font-size:1.5em;letter-spacing:0.1em">'
                f"{html.escape(image.text)}</p>"
            )
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines)


def _linked(line: str) -> str:
    """One line of text as HTML, its web addresses as links."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(line):
        url = match.group().rstrip(".,;:!?)")
        out.append(html.escape(line[last : match.start()]))
        out.append(f'<a href="{html.escape(url)}" dir="ltr">{html.escape(url)}</a>')
        last = match.start() + len(url)
    out.append(html.escape(line[last:]))
    return "".join(out)


def _single_address(message: EmailMessage) -> str | None:
    """The one address (user@domain) in the To header, or None for no address, several, or a malformed one."""
    to = message["To"]
    addresses: tuple[Address, ...] = to.addresses
    if to.defects or len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        return None
    return addresses[0].addr_spec
