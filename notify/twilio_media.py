"""Media a sender attached to a WhatsApp message, fetched from Twilio with the account's credentials.

Twilio names each file in the webhook (MediaUrlN) by a URL on api.twilio.com under the account, and answers
a GET with the account's credentials by a 307 to a short-lived storage URL that takes none. The URL comes
in a form anyone could post if the signature were ever missing or leaked, so it is trusted only as far as
it is Twilio's: https, a Twilio host, a media path of this very account. Anything else is refused before a
connection is made, so a forged MediaUrl cannot make Majlis reach an internal address or send the
credentials elsewhere. The one redirect is followed only to Twilio's media storage — https on the default port
to Twilio's content delivery hosts (mms.twiliocdn.com for media behind HTTP authentication) or Amazon S3
(s3-external-1.amazonaws.com for older public media), as Twilio's help on media authentication names them — or,
in tests, to the local fake that `api_base` names, and never with the credentials. Any other host (localhost, a
cloud's metadata service, an internal name) is refused.
"""

from __future__ import annotations

import asyncio
import logging
import re
from urllib.parse import urljoin, urlsplit

import aiohttp

from notify.channels import MediaTooLarge, MediaUnavailable
from notify.twilio_channels import REQUEST_TIMEOUT_SECONDS, BoundedHttpClient, Download

log = logging.getLogger(__name__)

# /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}, as Twilio names inbound media.
_MEDIA_PATH = re.compile(
    r"/2010-04-01/Accounts/(?P<account>AC[0-9a-fA-F]{32})/Messages/(?:MM|SM)[0-9a-fA-F]{32}/Media/ME[0-9a-fA-F]{32}"
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


# Amazon S3 endpoints: s3.amazonaws.com, s3-external-1.amazonaws.com, s3.<region>.amazonaws.com and the same
# with a bucket in front. Other amazonaws.com names (an EC2 instance's) may resolve to a private address.
_S3_HOST = re.compile(r"(?:[a-z0-9][a-z0-9.-]*\.)?s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com")


def _twilio_host(host: str) -> bool:
    return host == "twilio.com" or host.endswith(".twilio.com")


def _media_storage_host(host: str) -> bool:
    """Where Twilio keeps media and redirects a fetch to: its own hosts, its CDN, or Amazon S3."""
    host = host.lower()
    return (
        _twilio_host(host)
        or host == "twiliocdn.com"
        or host.endswith(".twiliocdn.com")
        or _S3_HOST.fullmatch(host) is not None
    )


class TwilioMediaFetcher:
    """Fetches inbound media of one Twilio account, over its own `BoundedHttpClient` (a deadline, `api_base`)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_base: str = "",
        timeout: float = REQUEST_TIMEOUT_SECONDS,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("fetching Twilio media needs an account sid and an auth token")
        self._account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self._timeout = timeout
        self._http = BoundedHttpClient(timeout=timeout, api_base=api_base)
        base = urlsplit(api_base) if api_base else None
        # The local fake standing in for Twilio (api_base) may also stand in for its storage, over plain http.
        self._fake_origin = None if base is None else (base.scheme, base.hostname, base.port)

    def is_twilio_media(self, url: str) -> bool:
        """Whether `url` names a file of this account on Twilio: https, a Twilio host, the media path."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        match = _MEDIA_PATH.fullmatch(parts.path)
        return (
            parts.scheme == "https"
            and _twilio_host(parts.hostname or "")
            and port is None
            and parts.username is None
            and not parts.query
            and match is not None
            and match["account"] == self._account_sid
        )

    def may_follow(self, location: str) -> bool:
        """Whether a redirect to `location` goes to Twilio's media storage (https, its hosts or S3's, the default
        port, no credentials in the URL), or to the local fake named by `api_base`."""
        try:
            parts = urlsplit(location)
            origin = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            return False
        if parts.username is not None or not parts.hostname:
            return False
        if self._fake_origin is not None and origin == self._fake_origin:
            return True
        return parts.scheme == "https" and parts.port in (None, 443) and _media_storage_host(parts.hostname)

    async def fetch_media(self, url: str, *, max_bytes: int) -> bytes:
        """The file's bytes; MediaTooLarge past max_bytes (reading stops there), MediaUnavailable otherwise."""
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if not self.is_twilio_media(url):
            log.warning("media URL refused, not this Twilio account's: %.200r", url)
            raise MediaUnavailable("not a media URL of this Twilio account")
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._http.download(url, auth=self._auth, max_bytes=max_bytes)
                if answer.status in _REDIRECTS:
                    location = urljoin(url, answer.location)
                    if not answer.location or not self.may_follow(location):
                        log.warning("media redirect refused: %.200r", answer.location)
                        raise MediaUnavailable("Twilio redirected the file somewhere it may not be fetched from")
                    # The storage URL carries its own signature; the account's credentials stay with Twilio.
                    answer = await self._http.download(location, auth=None, max_bytes=max_bytes)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise MediaUnavailable(f"the file could not be fetched: {exc!r}") from exc
        return _body(answer, max_bytes)

    async def close(self) -> None:
        await self._http.close()


def _body(answer: Download, max_bytes: int) -> bytes:
    if answer.status != 200:
        raise MediaUnavailable(f"the file was not given: HTTP {answer.status}")
    if answer.too_large:
        raise MediaTooLarge(f"the file is larger than {max_bytes} bytes")
    return answer.body
