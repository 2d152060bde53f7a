"""Media a sender attached, fetched by the real aiohttp code from the fake Twilio on loopback: the account's
credentials to Twilio only, its redirect followed without them, the size cap, failures, forged URLs refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from majlis.app import create_app
from notify.channels import MediaTooLarge, MediaUnavailable
from notify.providers import media_fetcher_for
from notify.twilio_media import TwilioMediaFetcher
from tests.conftest import make_settings
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, STORAGE_PATH, FakeTwilio
from web.keys import MEDIA_FETCHER

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40
MAX = 100_000


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fetcher(fake: FakeTwilio) -> AsyncIterator[TwilioMediaFetcher]:
    fetcher = TwilioMediaFetcher(
        account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN, api_base=fake.base_url, timeout=2.0
    )
    yield fetcher
    await fetcher.close()


async def test_the_file_comes_through_twilios_redirect_with_credentials_only_for_twilio(
    fake: FakeTwilio, fetcher: TwilioMediaFetcher
) -> None:
    url = fake.add_media(JPEG, "image/jpeg")
    assert url.startswith(f"https://api.twilio.com/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages/MM")
    assert await fetcher.fetch_media(url, max_bytes=MAX) == JPEG
    first, second = fake.media_requests
    assert first.path == url.removeprefix("https://api.twilio.com") and first.authorized
    # The storage URL refuses a request carrying credentials (as S3 does): the file came without them.
    assert second.path.startswith(STORAGE_PATH) and not second.authorized


async def test_a_file_served_directly_and_in_chunks_is_read_whole(
    fake: FakeTwilio, fetcher: TwilioMediaFetcher
) -> None:
    fake.media_redirects = False
    fake.media_chunked = True
    url = fake.add_media(JPEG, "image/jpeg")
    assert await fetcher.fetch_media(url, max_bytes=len(JPEG)) == JPEG
    assert [request.authorized for request in fake.media_requests] == [True]


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_file_past_the_cap_is_refused_without_reading_it_all(
    fake: FakeTwilio, fetcher: TwilioMediaFetcher, chunked: bool
) -> None:
    fake.media_chunked = chunked
    url = fake.add_media(JPEG, "image/jpeg")
    with pytest.raises(MediaTooLarge):
        await fetcher.fetch_media(url, max_bytes=len(JPEG) - 1)
    big = fake.add_media(b"%PDF-1.7\n" + b"0" * 8_000_000, "application/pdf")
    started = time.monotonic()
    with pytest.raises(MediaTooLarge):
        await fetcher.fetch_media(big, max_bytes=1000)
    assert time.monotonic() - started < 1.5
    assert await fetcher.fetch_media(url, max_bytes=len(JPEG)) == JPEG


async def test_wrong_credentials_an_unknown_file_and_failures_make_it_unavailable(
    fake: FakeTwilio, fetcher: TwilioMediaFetcher
) -> None:
    url = fake.add_media(JPEG, "image/jpeg")
    stranger = TwilioMediaFetcher(account_sid=FAKE_ACCOUNT_SID, auth_token="another-token", api_base=fake.base_url)
    try:
        with pytest.raises(MediaUnavailable, match="401"):
            await stranger.fetch_media(url, max_bytes=MAX)
    finally:
        await stranger.close()
    with pytest.raises(MediaUnavailable, match="404"):
        await fetcher.fetch_media(url[:-4] + "0000", max_bytes=MAX)
    fake.fail_media("error", status=500)
    with pytest.raises(MediaUnavailable, match="500"):
        await fetcher.fetch_media(url, max_bytes=MAX)
    fake.fail_media("truncated")
    with pytest.raises(MediaUnavailable):
        await fetcher.fetch_media(url, max_bytes=MAX)
    fake.fail_media("timeout")
    started = time.monotonic()
    with pytest.raises(MediaUnavailable):
        await fetcher.fetch_media(url, max_bytes=MAX)
    assert 1.5 < time.monotonic() - started < 4.0
    # Each failure was one request; the next fetch works again.
    assert await fetcher.fetch_media(url, max_bytes=MAX) == JPEG


async def test_a_forged_media_url_is_refused_before_any_connection(
    fake: FakeTwilio, fetcher: TwilioMediaFetcher
) -> None:
    url = fake.add_media(JPEG, "image/jpeg")
    path = url.removeprefix("https://api.twilio.com")
    other_account = path.replace(FAKE_ACCOUNT_SID, "AC" + "1" * 32)
    forged = [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        f"{fake.base_url}{path}",  # the fake itself, named directly: not a Twilio URL
        f"http://api.twilio.com{path}",
        f"https://evil.example{path}",
        f"https://api.twilio.com.evil.example{path}",
        f"https://api.twilio.com:8443{path}",
        f"https://user:pass@api.twilio.com{path}",
        f"https://api.twilio.com{other_account}",
        f"https://api.twilio.com{path}?redirect=http://10.0.0.1/",
        f"https://api.twilio.com/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Messages.json",
        "https://api.twilio.com/../../etc/passwd",
        "not a url at all",
        "https://[::1",
    ]
    for candidate in forged:
        with pytest.raises(MediaUnavailable, match="not a media URL"):
            await fetcher.fetch_media(candidate, max_bytes=MAX)
    assert fake.media_requests == []


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/file",
        "https://user:secret@mms.twiliocdn.com/file",
        "ftp://s3-external-1.amazonaws.com/file",
        # https, but not Twilio's storage: a local or internal name, a metadata service, anyone's host.
        "https://localhost/file",
        "https://metadata.internal/computeMetadata/v1/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://storage.example/file",
    ],
)
async def test_a_redirect_away_from_twilios_storage_is_not_followed(
    fake: FakeTwilio, fetcher: TwilioMediaFetcher, location: str
) -> None:
    fake.media_redirect_location = location
    with pytest.raises(MediaUnavailable, match="redirected"):
        await fetcher.fetch_media(fake.add_media(JPEG, "image/jpeg"), max_bytes=MAX)
    assert len(fake.media_requests) == 1


def test_only_twilios_media_storage_is_followed(fetcher: TwilioMediaFetcher) -> None:
    key = f"{FAKE_ACCOUNT_SID}/{'0' * 32}"
    # Where Twilio sends a media fetch: its CDN (media behind HTTP authentication), Amazon S3 (older public
    # media), its own hosts.
    for storage in (
        f"https://mms.twiliocdn.com/{key}?Expires=1&Signature=x",
        f"https://s3-external-1.amazonaws.com/media.twiliocdn.com/{key}",
        f"https://s3.amazonaws.com/com.twilio.prod.twilio-api/{key}",
        f"https://media.s3.us-east-1.amazonaws.com/{key}",
        f"https://media.twiliocdn.com:443/{key}",
        f"https://api.twilio.com/2010-04-01/Accounts/{key}",
    ):
        assert fetcher.may_follow(storage), storage
    for elsewhere in (
        "https://localhost/file",
        "https://metadata.internal/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/file",
        "https://ec2-10-0-0-1.compute-1.amazonaws.com/file",  # an instance's name, not S3's
        "https://amazonaws.com/file",
        "https://s3.amazonaws.com.evil.example/file",
        "https://mms.twiliocdn.com.evil.example/file",
        "https://eviltwiliocdn.com/file",
        "https://mms.twiliocdn.com:8443/file",
        "http://mms.twiliocdn.com/file",
        "https://user:secret@mms.twiliocdn.com/file",
        "https://[::1",
    ):
        assert not fetcher.may_follow(elsewhere), elsewhere


def test_the_app_has_a_fetcher_only_with_a_twilio_account() -> None:
    database = "sqlite+aiosqlite:///unused.db"
    assert media_fetcher_for(make_settings(database)) is None
    assert media_fetcher_for(make_settings(database, twilio_auth_token="token-only")) is None
    settings = make_settings(
        database,
        twilio_account_sid=FAKE_ACCOUNT_SID,
        twilio_auth_token=FAKE_AUTH_TOKEN,
        twilio_api_base="http://127.0.0.1:9",
    )
    assert isinstance(create_app(settings)[MEDIA_FETCHER], TwilioMediaFetcher)
    assert create_app(make_settings(database))[MEDIA_FETCHER] is None
