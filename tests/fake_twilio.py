"""A local fake of Twilio's REST API (Messages and Calls) for tests and benchmarks.

It answers the real `twilio` library the way Twilio does: form-encoded creates
answered 201 with the resource, list pages in Twilio's shape, errors in Twilio's
legacy error shape ({code, message, more_info, status}). It can refuse on demand
(`fail_next`, `invalid_numbers`, a rate limit) and can accept a message while
holding back the answer (`hold_after`), which is what a dispatcher that dies
mid-request leaves behind. Depends on aiohttp only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web

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
LIST_KEY = {"Messages": "messages", "Calls": "calls"}


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


class FakeTwilio:
    """Twilio's Messages and Calls resources on 127.0.0.1, with failures to order."""

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
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        path = f"/{API_VERSION}/Accounts/{{account_sid}}/{{resource:Messages|Calls}}.json"
        self.app.router.add_post(path, self._create)
        self.app.router.add_get(path, self._list)

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
    else:
        if not params.get("From"):
            return _error(400, 21213, "No 'From' number is specified.")
        if not params.get("Url") and not params.get("Twiml") and not params.get("ApplicationSid"):
            return _error(400, 21205, "Url, Twiml or ApplicationSid is required.")
    return None


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )
