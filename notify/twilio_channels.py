"""Twilio channels: SMS, WhatsApp and voice calls through Twilio's REST API.

The three channels share one `twilio.rest.Client` and one aiohttp session, made by
`twilio_channels`. They use the library's async methods through `BoundedHttpClient`,
a small subclass of Twilio's aiohttp client that fixes three things the stock one
gets wrong for a long-running dispatcher:

- it puts no deadline on a request: the client's own `timeout` is never used, and
  the `timeout=None` it passes per request switches aiohttp's default one off;
- it sends credentials through aiohttp's `BasicAuth` / `auth=`, both deprecated
  in aiohttp 3.14 (a DeprecationWarning on every request);
- it opens its session in the constructor, which aiohttp refuses outside a running loop.

It also sends requests meant for `https://*.twilio.com` to `api_base` when one is set,
so tests and benchmarks can talk to a local fake (tests/fake_twilio.py), and downloads
files as bytes with a cap (`download`, for the media a sender attaches: notify/twilio_media.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp

# twilio ships no py.typed: its names are Any here, and the few attributes read from
# its records are described by the protocols below. (`unused-ignore` keeps the line
# clean if a mypy override for twilio.* is added to pyproject.toml later.)
from twilio.base.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    TwilioException,
    TwilioRestException,
    TwilioServiceException,
)
from twilio.http.async_http_client import AsyncTwilioHttpClient  # type: ignore[import-untyped, unused-ignore]
from twilio.http.response import Response  # type: ignore[import-untyped, unused-ignore]
from twilio.rest import Client  # type: ignore[import-untyped, unused-ignore]
from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped, unused-ignore]

from majlis.bidi import without_bidi_controls
from majlis.errors import N_
from notify.channels import Channel, Delivery, Outgoing, PermanentSendError, TransientSendError
from notify.texts import say

REQUEST_TIMEOUT_SECONDS = 10.0
# Twilio's clock and ours may disagree; a record this much older than the claim still counts.
CLOCK_SKEW = timedelta(minutes=2)
# Records read back when resolving an uncertain send: Twilio lists the newest first.
LOOKUP_LIMIT = 50
# Said after the question when no key is pressed before the <Gather> times out.
NO_ANSWER_GOODBYE = N_("We received no answer. We will call you again. Thank you.")

T = TypeVar("T")
DOWNLOAD_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Download:
    """One answer to a GET of a file: its status, where a redirect points, the bytes read (200 only)."""

    status: int
    location: str
    body: bytes
    # The file is larger than asked for: reading stopped (or never began, when Content-Length said so).
    too_large: bool = False


class BoundedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's aiohttp client with a deadline on every request, sent to `api_base` when one is set."""

    def __init__(self, *, timeout: float = REQUEST_TIMEOUT_SECONDS, api_base: str = "") -> None:
        if timeout <= 0:
            raise ValueError("the Twilio request timeout must be positive")
        if api_base and not api_base.startswith(("http://", "https://")):
            raise ValueError(f"the Twilio API base must be an http(s) URL, not {api_base!r}")
        # No session yet: aiohttp makes one only inside a running loop; the first request does.
        super().__init__(pool_connections=False, timeout=timeout)
        self._timeout = timeout
        self._api_base = api_base.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def target(self, url: str) -> str:
        """The URL a request for `url` goes to: `url` itself, or its path on `api_base`."""
        if not self._api_base:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com")):
            return self._api_base + urlunsplit(("", "", parts.path, parts.query, parts.fragment))
        return url

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the Twilio HTTP client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self.session = self._session
        return self._session

    async def download(self, url: str, *, auth: tuple[str, str] | None, max_bytes: int) -> Download:
        """One GET of `url` (sent to `api_base` when set) within the deadline, redirects not followed.

        Twilio's client reads every answer as text, which a file is not: this reads bytes, and at most
        max_bytes + 1 of them, so a file too large is known without taking it all in.
        Raises aiohttp.ClientError or TimeoutError when there is no whole answer.
        """
        headers = {} if auth is None else {"Authorization": aiohttp.encode_basic_auth(auth[0], auth[1])}
        async with self._open().get(
            self.target(url),
            headers=headers,
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        ) as response:
            if response.status != 200:
                return Download(response.status, response.headers.get("Location", ""), b"")
            if response.content_length is not None and response.content_length > max_bytes:
                return Download(200, "", b"", too_large=True)
            body = bytearray()
            while len(body) <= max_bytes:
                chunk = await response.content.read(min(DOWNLOAD_CHUNK, max_bytes + 1 - len(body)))
                if not chunk:
                    break
                body += chunk
            return Download(200, "", bytes(body), too_large=len(body) > max_bytes)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the signature of the method overridden)
        allow_redirects: bool = False,
    ) -> Response:
        """Twilio's response to one request; raises aiohttp.ClientError or TimeoutError when there is none."""
        self._open()
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(auth[0], auth[1])
        return await super().request(
            method,
            self.target(url),
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout or self._timeout,
            allow_redirects=allow_redirects,
        )

    async def close(self) -> None:
        """Closes the session once; later calls do nothing."""
        if self._closed:
            return
        self._closed = True
        if self._session is not None:
            await self._session.close()


class _MessageRecord(Protocol):
    """The attributes read from twilio's MessageInstance."""

    sid: str | None
    status: str | None
    body: str | None
    date_created: datetime | None


class _CallRecord(Protocol):
    """The attributes read from twilio's CallInstance."""

    sid: str | None
    status: str | None
    date_created: datetime | None


def _refusal(exc: Any) -> TransientSendError | PermanentSendError:
    """The send error for an HTTP error answer from Twilio (TwilioRestException or TwilioServiceException)."""
    status = int(exc.status)
    code = "" if exc.code is None else str(exc.code)
    # Not str(exc): it turns into coloured terminal text when stderr is a TTY.
    detail = getattr(exc, "msg", "") or " - ".join(
        part for part in (getattr(exc, "title", ""), getattr(exc, "detail", "")) if part
    )
    text = f"Twilio answered HTTP {status}" + (f" (error {code})" if code else "") + f": {detail}"
    if status == 429 or status >= 500:
        return TransientSendError(text)
    return PermanentSendError(text, code=code)


async def _create(request: Awaitable[T]) -> T:
    """The created record; raises TransientSendError or PermanentSendError."""
    try:
        return await request
    except (TwilioRestException, TwilioServiceException) as exc:
        raise _refusal(exc) from exc
    except aiohttp.ClientConnectorError as exc:
        # No connection was made: Twilio cannot have the message.
        raise TransientSendError(f"Twilio could not be reached: {exc!r}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        # The request may have gone out and been accepted before the answer was lost.
        raise TransientSendError(f"Twilio did not answer: {exc!r}", maybe_sent=True) from exc


async def _look_up(request: Awaitable[T]) -> T:
    """The records read; any failure is TransientSendError, since the question can be asked again."""
    try:
        return await request
    except TwilioException as exc:
        raise TransientSendError(f"Twilio could not be asked about earlier sends: {exc.args!r}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise TransientSendError(f"Twilio could not be reached: {exc!r}") from exc


def _earliest(since: datetime) -> datetime:
    if since.tzinfo is None:
        raise ValueError("find_sent needs an aware datetime")
    return since - CLOCK_SKEW


def _delivery(record: _MessageRecord | _CallRecord) -> Delivery:
    if not record.sid:
        raise TransientSendError("Twilio's answer carries no sid")
    return Delivery(provider_id=record.sid, status=record.status or "queued")


async def _find_message(client: Any, *, to: str, body: str | None, since: datetime) -> Delivery | None:
    """The newest message to `to` created since `since` (less the skew) whose body is `body` (any, if None)."""
    earliest = _earliest(since)
    records: list[_MessageRecord] = await _look_up(client.messages.list_async(to=to, limit=LOOKUP_LIMIT))
    for record in records:
        if record.date_created is None or record.date_created < earliest:
            continue
        if body is not None and record.body != body:
            continue
        if record.sid:
            return Delivery(provider_id=record.sid, status=record.status or "queued")
    return None


def _callback(outgoing: Outgoing) -> dict[str, str]:
    return {"status_callback": outgoing.status_callback} if outgoing.status_callback else {}


def whatsapp_address(number: str) -> str:
    """The WhatsApp channel address Twilio expects for an E.164 number."""
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def call_twiml(*, body: str, voice: str, language: str, goodbye: str, gather_action: str = "") -> str:
    """The TwiML a call plays: `body` spoken, inside a one-key <Gather> when `gather_action` is set."""
    # The bidi isolates that set numbers apart in an Arabic text (notify.texts.isolated) are for eyes only: they
    # change nothing a voice says, and a speech engine given characters it has no sound for may stumble or spell
    # them out, so a spoken text goes without them.
    body, goodbye = without_bidi_controls(body), without_bidi_controls(goodbye)
    response = VoiceResponse()
    if gather_action:
        gather = response.gather(num_digits=1, action=gather_action, method="POST", timeout=8)
        gather.say(body, voice=voice, language=language)
        # Reached only when the <Gather> ends without a key: the applicant hears why the call ends.
        response.say(goodbye, voice=voice, language=language)
    else:
        response.say(body, voice=voice, language=language)
    return str(response.to_xml())


class _TwilioChannel:
    def __init__(self, client: Any, http: BoundedHttpClient) -> None:
        self._client = client
        self._http = http

    async def close(self) -> None:
        # The session is shared by all three channels; closing it again is a no-op.
        await self._http.close()


class TwilioSmsChannel(_TwilioChannel):
    """SMS under the registered alphanumeric sender name."""

    def __init__(self, client: Any, http: BoundedHttpClient, *, sender: str) -> None:
        super().__init__(client, http)
        self._sender = sender

    async def send(self, outgoing: Outgoing) -> Delivery:
        record: _MessageRecord = await _create(
            self._client.messages.create_async(
                to=outgoing.recipient, from_=self._sender, body=outgoing.body, **_callback(outgoing)
            )
        )
        return _delivery(record)

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        return await _find_message(self._client, to=outgoing.recipient, body=outgoing.body, since=since)


class TwilioWhatsAppChannel(_TwilioChannel):
    """WhatsApp: a free-form message inside the 24-hour session window, an approved template outside it."""

    def __init__(self, client: Any, http: BoundedHttpClient, *, sender: str, templates: Mapping[str, str]) -> None:
        super().__init__(client, http)
        self._sender = whatsapp_address(sender)
        self._templates = dict(templates)

    async def send(self, outgoing: Outgoing) -> Delivery:
        content = {"body": outgoing.body} if outgoing.whatsapp_session_open else self._template(outgoing)
        record: _MessageRecord = await _create(
            self._client.messages.create_async(
                to=whatsapp_address(outgoing.recipient), from_=self._sender, **content, **_callback(outgoing)
            )
        )
        return _delivery(record)

    def _template(self, outgoing: Outgoing) -> dict[str, str]:
        """The content_sid and content_variables of the message's approved template."""
        name = outgoing.payload.get("template")
        if not isinstance(name, str) or not name:
            raise PermanentSendError(
                "The WhatsApp session window is closed and the message names no approved template; "
                "outside the 24-hour window WhatsApp delivers only templates"
            )
        content_sid = self._templates.get(name)
        if not content_sid:
            raise PermanentSendError(f"No ContentSid is configured for the WhatsApp template {name!r}")
        variables = outgoing.payload.get("variables", {})
        if not isinstance(variables, Mapping) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in variables.items()
        ):
            raise PermanentSendError(f"The variables of WhatsApp template {name!r} must map text to text")
        return {"content_sid": content_sid, "content_variables": json.dumps(dict(variables), ensure_ascii=False)}

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        # Twilio stores a template message with its rendered text, which Majlis never sees.
        body = outgoing.body if outgoing.whatsapp_session_open else None
        return await _find_message(self._client, to=whatsapp_address(outgoing.recipient), body=body, since=since)


class TwilioVoiceChannel(_TwilioChannel):
    """A call that reads the message in the applicant's language and, if asked, gathers one key."""

    def __init__(
        self, client: Any, http: BoundedHttpClient, *, caller: str, voices: Mapping[str, tuple[str, str]]
    ) -> None:
        super().__init__(client, http)
        self._caller = caller
        self._voices = dict(voices)

    def twiml(self, outgoing: Outgoing) -> str:
        """The TwiML of the call for `outgoing`; a language without a voice is spoken in Arabic."""
        language = outgoing.language if outgoing.language in self._voices else "ar"
        voice, voice_language = self._voices[language]
        return call_twiml(
            body=outgoing.body,
            voice=voice,
            language=voice_language,
            goodbye=say(language, NO_ANSWER_GOODBYE),
            gather_action=outgoing.gather_action,
        )

    async def send(self, outgoing: Outgoing) -> Delivery:
        record: _CallRecord = await _create(
            self._client.calls.create_async(
                to=outgoing.recipient, from_=self._caller, twiml=self.twiml(outgoing), **_callback(outgoing)
            )
        )
        return _delivery(record)

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        earliest = _earliest(since)
        records: list[_CallRecord] = await _look_up(
            self._client.calls.list_async(to=outgoing.recipient, limit=LOOKUP_LIMIT)
        )
        for record in records:
            if record.date_created is not None and record.date_created >= earliest and record.sid:
                return Delivery(provider_id=record.sid, status=record.status or "queued")
        return None


def twilio_channels(
    *,
    account_sid: str,
    auth_token: str,
    api_base: str,
    sms_sender: str,
    whatsapp_from: str,
    voice_from: str,
    voices: Mapping[str, tuple[str, str]],
    whatsapp_templates: Mapping[str, str],
    request_timeout: float = REQUEST_TIMEOUT_SECONDS,
) -> dict[str, Channel]:
    """The sms, whatsapp and voice channels, sharing one Twilio client and one HTTP session.

    An empty `api_base` means Twilio itself; `voices` maps "ar" and "en" to a
    (voice name, TwiML language) pair.
    """
    if not account_sid or not auth_token:
        raise ValueError("Twilio needs an account sid and an auth token")
    missing = [language for language in ("ar", "en") if language not in voices]
    if missing:
        raise ValueError(f"no Twilio voice is configured for {', '.join(missing)}")
    http = BoundedHttpClient(timeout=request_timeout, api_base=api_base)
    client = Client(account_sid, auth_token, http_client=http)
    return {
        "sms": TwilioSmsChannel(client, http, sender=sms_sender),
        "whatsapp": TwilioWhatsAppChannel(client, http, sender=whatsapp_from, templates=whatsapp_templates),
        "voice": TwilioVoiceChannel(client, http, caller=voice_from, voices=voices),
    }
