"""A local fake of Twilio's REST API (Messages, Calls, inbound media) and its inbound traffic, for tests and benches.

It answers the real `twilio` library the way Twilio does: form-encoded creates
answered 201 with the resource, list pages in Twilio's shape, errors in Twilio's
legacy error shape ({code, message, more_info, status}), refusing as Twilio does
an approved template's send with a malformed ContentSid or ContentVariables. It can refuse on demand
(`fail_next`, `invalid_numbers`, a rate limit) and can accept a message while
holding back the answer (`hold_after`), which is what a dispatcher that dies
mid-request leaves behind.

Media a sender attached (`add_media`) is served at its Twilio URL with the
account's credentials, answered like Twilio: a 307 to a storage URL that takes
no credentials (and refuses a request carrying them, as S3 does). `fail_media`
makes the next fetches fail (an error, no answer, a cut-off body).

`Inbound` plays Twilio calling Majlis: it builds the WhatsApp and voice webhook
forms, signs them with the real `RequestValidator` over the public address, and
posts them to a test client or a base URL.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped, unused-ignore]

API_VERSION = "2010-04-01"
FAKE_ACCOUNT_SID = "AC" + "0" * 32
FAKE_AUTH_TOKEN = "fake-auth-token"
# Twilio's error code for each status `fail_next` may be asked for without one.
DEFAULT_ERROR_CODES = {400: 21211, 401: 20003, 403: 20403, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
ERROR_MESSAGES = {
    401: "Authentication Error - invalid username",
    403: "Forbidden",
    404: "The requested resource was not found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
SID_PREFIX = {"Messages": "SM", "Calls": "CA"}
# A Content Template's SID, and what Twilio refuses in a template's variable (error 21656).
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
BAD_VARIABLE = re.compile(r"[\n\t]| {5,}")
LIST_KEY = {"Messages": "messages", "Calls": "calls"}
# Where the fake keeps media after the redirect, as Twilio keeps it on a storage service.
STORAGE_PATH = "/fake-media-storage"
MediaFailure = Literal["error", "timeout", "truncated"]


@dataclass(frozen=True)
class AcceptedCreate:
    """One create the fake accepted: what was sent, the sid given, and when it arrived (time.monotonic())."""

    resource: str
    sid: str
    params: dict[str, str]
    arrived_at: float

    @property
    def twiml(self) -> str:
        return self.params.get("Twiml", "")


@dataclass(frozen=True)
class StoredMedia:
    """A file a sender attached: its bytes and the type Twilio declares for it (which may not be what it is)."""

    message_sid: str
    media_sid: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class MediaRequest:
    """One GET of media the fake answered: the path asked for and whether it carried an Authorization header."""

    path: str
    authorized: bool


class FakeTwilio:
    """Twilio's Messages and Calls resources and inbound media on 127.0.0.1, with failures to order."""

    def __init__(
        self,
        *,
        account_sid: str = FAKE_ACCOUNT_SID,
        auth_token: str = FAKE_AUTH_TOKEN,
        rate_limit_per_second: float | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Creates above this many in any second are answered 429 (error 20429) and counted.
        self.rate_limit_per_second = rate_limit_per_second
        self.rate_limited = 0
        # Numbers (without a "whatsapp:" prefix) answered 400, error 21211.
        self.invalid_numbers: set[str] = set()
        self.accepted: list[AcceptedCreate] = []
        # Set when a create is recorded and its answer held back (see hold_after).
        self.holding = asyncio.Event()
        self.base_url = ""
        self._now = now or (lambda: datetime.now(UTC))
        self._failures: deque[tuple[int, int]] = deque()
        self._hold_at: int | None = None
        self._released = asyncio.Event()
        self._recent: deque[float] = deque()
        self._records: dict[str, list[dict[str, Any]]] = {"Messages": [], "Calls": []}
        # Media: answered with a 307 to its storage URL (as Twilio does) unless switched off.
        self.media_redirects = True
        # Where the 307 points instead of the fake's storage, e.g. a forged or plain-http address.
        self.media_redirect_location: str | None = None
        # Files sent in chunks without a Content-Length, so only reading tells their size.
        self.media_chunked = False
        self.media_requests: list[MediaRequest] = []
        self._media: dict[str, StoredMedia] = {}
        self._storage: dict[str, str] = {}
        self._media_failures: deque[tuple[MediaFailure, int]] = deque()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        path = f"/{API_VERSION}/Accounts/{{account_sid}}/{{resource:Messages|Calls}}.json"
        self.app.router.add_post(path, self._create)
        self.app.router.add_get(path, self._list)
        media = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages/{{message_sid}}/Media/{{media_sid}}"
        self.app.router.add_get(media, self._media_file)
        self.app.router.add_get(STORAGE_PATH + "/{key}", self._stored_file)

    async def start(self) -> str:
        """Serves on a free port of 127.0.0.1; gives back the base URL (http://127.0.0.1:PORT)."""
        assert self._runner is None, "FakeTwilio is already started"
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        """Releases any held answer and stops serving."""
        self.release()
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def fail_next(self, status: int, code: int | None = None, *, times: int = 1) -> None:
        """The next `times` creates are answered `status` with Twilio error `code` (a usual one if None)."""
        error_code = code if code is not None else DEFAULT_ERROR_CODES.get(status, status)
        self._failures.extend([(status, error_code)] * times)

    def hold_after(self, count: int) -> None:
        """After `count` accepted creates, the next is recorded as accepted but not answered until release()."""
        self._hold_at = count
        self._released.clear()
        self.holding.clear()

    def release(self) -> None:
        """Sends the held answer."""
        self._hold_at = None
        self._released.set()

    def add_media(self, content: bytes, content_type: str, *, message_sid: str | None = None) -> str:
        """Keeps a file a sender attached; gives back its Twilio URL (MediaUrlN), as the webhook would name it.

        The URL is on https://api.twilio.com, as Twilio's is: a client whose `api_base` is this fake
        sends its request here.
        """
        message_sid = message_sid or "MM" + uuid.uuid4().hex
        media_sid = "ME" + uuid.uuid4().hex
        self._media[media_sid] = StoredMedia(message_sid, media_sid, content, content_type)
        return (
            f"https://api.twilio.com/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        )

    def fail_media(self, how: MediaFailure, *, status: int = 500, times: int = 1) -> None:
        """The next `times` media fetches fail: "error" answers `status`, "timeout" never answers (until
        stop()), "truncated" promises the whole file and closes the connection halfway."""
        self._media_failures.extend([(how, status)] * times)

    def max_in_any_second(self) -> int:
        """The most creates accepted within any one second."""
        arrivals = sorted(record.arrived_at for record in self.accepted)
        most = start = 0
        for end, moment in enumerate(arrivals):
            while moment - arrivals[start] >= 1.0:
                start += 1
            most = max(most, end - start + 1)
        return most

    def records(self, resource: str = "Messages") -> list[dict[str, Any]]:
        """The resources created, newest first, as Twilio would list them."""
        return list(self._records[resource])

    async def _create(self, request: web.Request) -> web.Response:
        refused = self._check_access(request)
        if refused is not None:
            return refused
        resource = request.match_info["resource"]
        form = await request.post()
        params = {key: str(value) for key, value in form.items()}
        if self._failures:
            status, code = self._failures.popleft()
            return _error(status, code, ERROR_MESSAGES.get(status, "Injected failure"))
        arrived_at = time.monotonic()
        if self._over_rate(arrived_at):
            self.rate_limited += 1
            return _error(429, 20429, ERROR_MESSAGES[429])
        invalid = _invalid(resource, params, self.invalid_numbers)
        if invalid is not None:
            return invalid
        record = self._record(resource, params)
        hold = self._hold_at is not None and len(self.accepted) == self._hold_at
        self.accepted.append(AcceptedCreate(resource, record["sid"], params, arrived_at))
        self._recent.append(arrived_at)
        self._records[resource].insert(0, record)
        if hold:
            # Twilio has taken it; the client never hears so.
            self.holding.set()
            await self._released.wait()
        return web.json_response(record, status=201)

    async def _list(self, request: web.Request) -> web.Response:
        refused = self._check_access(request)
        if refused is not None:
            return refused
        resource = request.match_info["resource"]
        to = request.query.get("To")
        try:
            page_size = int(request.query.get("PageSize", "50"))
        except ValueError:
            return _error(400, 20001, "Invalid PageSize")
        records = [record for record in self._records[resource] if to is None or record["to"] == to]
        page = records[:page_size]
        return web.json_response(
            {
                LIST_KEY[resource]: page,
                "end": max(len(page) - 1, 0),
                "first_page_uri": request.path_qs,
                "next_page_uri": None,
                "page": 0,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": 0,
                "uri": request.path_qs,
            }
        )

    async def _media_file(self, request: web.Request) -> web.StreamResponse:
        self.media_requests.append(MediaRequest(request.path, "Authorization" in request.headers))
        refused = self._check_access(request)
        if refused is not None:
            return refused
        media = self._media.get(request.match_info["media_sid"])
        if media is None or media.message_sid != request.match_info["message_sid"]:
            return _error(404, 20404, ERROR_MESSAGES[404])
        if self._media_failures:
            how, status = self._media_failures.popleft()
            if how == "error":
                return _error(status, DEFAULT_ERROR_CODES.get(status, status), ERROR_MESSAGES.get(status, "Injected"))
            if how == "timeout":
                await self._stopping.wait()
                return _error(503, 20503, ERROR_MESSAGES[503])
            return await _truncated(request, media)
        if not self.media_redirects:
            return await self._file(request, media)
        location = self.media_redirect_location
        if location is None:
            key = uuid.uuid4().hex
            self._storage[key] = media.media_sid
            location = f"{request.scheme}://{request.host}{STORAGE_PATH}/{key}"
        return web.Response(status=307, headers={"Location": location})

    async def _stored_file(self, request: web.Request) -> web.StreamResponse:
        """The storage URL: it takes no credentials and, like S3's signed URLs, refuses a request with some."""
        self.media_requests.append(MediaRequest(request.path, "Authorization" in request.headers))
        if "Authorization" in request.headers:
            return web.Response(status=400, text="Only one auth mechanism allowed", content_type="application/xml")
        media_sid = self._storage.get(request.match_info["key"])
        if media_sid is None:
            return web.Response(status=403, text="Request has expired", content_type="application/xml")
        return await self._file(request, self._media[media_sid])

    async def _file(self, request: web.Request, media: StoredMedia) -> web.StreamResponse:
        if not self.media_chunked:
            return web.Response(body=media.content, headers={"Content-Type": media.content_type})
        response = web.StreamResponse(headers={"Content-Type": media.content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(media.content), 16 * 1024):
            await response.write(media.content[start : start + 16 * 1024])
        await response.write_eof()
        return response

    def _check_access(self, request: web.Request) -> web.Response | None:
        """A 401 for wrong credentials, a 404 for another account's path, None when allowed."""
        if _basic_credentials(request.headers.get("Authorization", "")) != (self.account_sid, self.auth_token):
            response = _error(401, 20003, ERROR_MESSAGES[401])
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if request.match_info["account_sid"] != self.account_sid:
            return _error(404, 20404, ERROR_MESSAGES[404])
        return None

    def _over_rate(self, moment: float) -> bool:
        if self.rate_limit_per_second is None:
            return False
        while self._recent and moment - self._recent[0] >= 1.0:
            self._recent.popleft()
        return len(self._recent) >= self.rate_limit_per_second

    def _record(self, resource: str, params: dict[str, str]) -> dict[str, Any]:
        """The resource Twilio answers a create with, as far as the twilio library reads it."""
        sid = SID_PREFIX[resource] + uuid.uuid4().hex
        created = format_datetime(self._now().astimezone(UTC).replace(microsecond=0))
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/{resource}/{sid}.json"
        common: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "date_created": created,
            "date_updated": created,
            "direction": "outbound-api",
            "from": params.get("From"),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "to": params["To"],
            "uri": uri,
        }
        if resource == "Messages":
            return common | {
                "body": params.get("Body", ""),
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "messaging_service_sid": params.get("MessagingServiceSid"),
                "num_media": "0",
                "num_segments": "1",
                "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            }
        return common | {
            "annotation": None,
            "answered_by": None,
            "caller_name": None,
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from_formatted": params.get("From"),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "queue_time": "0",
            "start_time": None,
            "to_formatted": params["To"],
            "trunk_sid": None,
            "subresource_uris": {"recordings": uri.replace(".json", "/Recordings.json")},
        }


async def _truncated(request: web.Request, media: StoredMedia) -> web.StreamResponse:
    """Promises the whole file, sends half of it, and drops the connection."""
    response = web.StreamResponse(headers={"Content-Type": media.content_type})
    response.content_length = max(len(media.content), 2)
    await response.prepare(request)
    await response.write(media.content[: len(media.content) // 2])
    if request.transport is not None:
        request.transport.close()
    return response


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return username, password


def _invalid(resource: str, params: dict[str, str], invalid_numbers: set[str]) -> web.Response | None:
    """Twilio's 400 for a create it would refuse, or None."""
    to = params.get("To", "")
    if not to:
        return _error(400, 21604, "A 'To' phone number is required.")
    if to.removeprefix("whatsapp:") in invalid_numbers:
        return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if resource == "Messages":
        if not params.get("From") and not params.get("MessagingServiceSid"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not params.get("Body") and not params.get("ContentSid") and not params.get("MediaUrl"):
            return _error(400, 21619, "A text message body or media urls must be specified.")
        template = _invalid_template(params)
        if template is not None:
            return template
    else:
        if not params.get("From"):
            return _error(400, 21213, "No 'From' number is specified.")
        if not params.get("Url") and not params.get("Twiml") and not params.get("ApplicationSid"):
            return _error(400, 21205, "Url, Twiml or ApplicationSid is required.")
    return None


def _invalid_template(params: dict[str, str]) -> web.Response | None:
    """Twilio's 400 for an approved template's send it would refuse (a WhatsApp message outside the 24-hour
    window, e.g. desk_reply or rate_visit), or None: the SID must be a Content Template's, the variables a JSON
    object of one-line, non-empty texts."""
    content_sid, variables = params.get("ContentSid"), params.get("ContentVariables")
    if content_sid is None:
        return None if variables is None else _error(400, 21654, "ContentSid Required")
    if not CONTENT_SID.fullmatch(content_sid):
        return _error(400, 21655, "The ContentSid is Invalid")
    if variables is None:
        return None
    try:
        parsed = json.loads(variables)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(
        isinstance(value, str) and value.strip() and not BAD_VARIABLE.search(value) for value in parsed.values()
    ):
        return _error(400, 21656, "The ContentVariables Parameter is invalid")
    return None


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )


# The sandbox's WhatsApp number and a toll-free line, as Twilio would post them in `To`.
DESK_WHATSAPP = "whatsapp:+14155238886"
ENQUIRY_LINE = "+18005550100"
WHATSAPP_WEBHOOK = "/webhooks/twilio/whatsapp"
SIGNATURE_HEADER = "X-Twilio-Signature"


class InboundRefused(Exception):
    """Majlis answered a webhook with something other than 200."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text}")
        self.status = status
        self.text = text


@dataclass(frozen=True)
class Answer:
    """What Majlis answered a webhook with."""

    status: int
    text: str
    content_type: str


class Inbound:
    """Twilio calling Majlis: signed WhatsApp messages and voice call events, posted to a test client or a URL.

    `public_url` is the address Twilio is configured with (Majlis's settings.public_url): the signature is
    computed over it and the path, as Twilio does, whatever address the post really goes to.
    """

    def __init__(
        self,
        target: TestClient[web.Request, web.Application] | str,
        public_url: str,
        auth_token: str,
        *,
        account_sid: str = FAKE_ACCOUNT_SID,
    ) -> None:
        self._target = target
        self._public_url = public_url.rstrip("/")
        self._validator = RequestValidator(auth_token)
        self.account_sid = account_sid
        self._session: aiohttp.ClientSession | None = None

    def signature(self, path: str, params: dict[str, str]) -> str:
        return str(self._validator.compute_signature(self._public_url + path, params))

    async def post(self, path: str, params: dict[str, str], *, signature: str | None = None) -> Answer:
        """Posts the form, signed (or with the `signature` given, "" for none); any status is given back."""
        signed = self.signature(path, params) if signature is None else signature
        headers = {SIGNATURE_HEADER: signed} if signed else {}
        if isinstance(self._target, str):
            if self._session is None:
                self._session = aiohttp.ClientSession()
            async with self._session.post(self._target.rstrip("/") + path, data=params, headers=headers) as response:
                return Answer(response.status, await response.text(), response.content_type)
        test_response = await self._target.post(path, data=params, headers=headers)
        return Answer(test_response.status, await test_response.text(), test_response.content_type)

    def whatsapp_form(
        self,
        body: str = "",
        *,
        sender: str = "+966501234567",
        media: Sequence[tuple[str, str]] = (),
        profile_name: str = "",
        message_sid: str | None = None,
        to: str = DESK_WHATSAPP,
    ) -> dict[str, str]:
        """The fields Twilio posts for a WhatsApp message; `media` is (MediaUrl, MediaContentType) pairs."""
        sid = message_sid or ("MM" if media else "SM") + uuid.uuid4().hex
        form = {
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": f"whatsapp:{sender}",
            "To": to,
            "Body": body,
            "NumMedia": str(len(media)),
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
            "ProfileName": profile_name,
            "WaId": sender.removeprefix("+"),
            "MessageType": _message_type(media),
        }
        for index, (url, content_type) in enumerate(media):
            form[f"MediaUrl{index}"] = url
            form[f"MediaContentType{index}"] = content_type
        return form

    async def whatsapp(
        self,
        body: str = "",
        *,
        sender: str = "+966501234567",
        media: Sequence[tuple[str, str]] = (),
        profile_name: str = "",
        message_sid: str | None = None,
        path: str = WHATSAPP_WEBHOOK,
    ) -> str:
        """Sends one WhatsApp message from `sender`; gives back Majlis's TwiML. InboundRefused unless 200."""
        form = self.whatsapp_form(body, sender=sender, media=media, profile_name=profile_name, message_sid=message_sid)
        return _accepted(await self.post(path, form))

    def call_form(
        self,
        *,
        caller: str,
        call_sid: str,
        digits: str | None = None,
        call_status: str = "in-progress",
        to: str = ENQUIRY_LINE,
    ) -> dict[str, str]:
        """The fields Twilio posts to a voice webhook: the call ringing, or a <Gather>'s digits."""
        form = {
            "CallSid": call_sid,
            "AccountSid": self.account_sid,
            "From": caller,
            "Caller": caller,
            "To": to,
            "Called": to,
            "CallStatus": call_status,
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
        }
        if digits is not None:
            form["Digits"] = digits
            form["FinishedOnKey"] = ""
            form["msg"] = "Gather End"
        return form

    async def call(
        self,
        path: str,
        *,
        caller: str = "+966501234567",
        call_sid: str | None = None,
        digits: str | None = None,
        call_status: str = "in-progress",
    ) -> str:
        """One voice webhook of a call (a new CallSid unless given); gives back the TwiML. InboundRefused unless 200."""
        form = self.call_form(
            caller=caller, call_sid=call_sid or new_call_sid(), digits=digits, call_status=call_status
        )
        return _accepted(await self.post(path, form))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def _message_type(media: Sequence[tuple[str, str]]) -> str:
    if not media:
        return "text"
    return "image" if media[0][1].startswith("image/") else "document"


def _accepted(answer: Answer) -> str:
    if answer.status != 200:
        raise InboundRefused(answer.status, answer.text)
    return answer.text
