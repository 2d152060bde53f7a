"""The notice a staff action leaves for the page it redirects to: shown once, in the reader's language, only ours."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from majlis.i18n import Catalogs
from tests.conftest import start_client
from web.bidi_filters import isolate, ltr
from web.notices import NOTICE_COOKIE, done, notice

JOINED = notice("Joined to request {number}, which now holds its text.")


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async def act(request: web.Request) -> web.Response:
        return done(request, "/status", JOINED, number="6-000005-26")

    app.router.add_get("/test-notice", act)
    test_client = await start_client(app)
    yield test_client
    await test_client.close()


async def test_a_notice_is_shown_once_on_the_page_redirected_to(
    client: TestClient[web.Request, web.Application],
) -> None:
    response = await client.get("/test-notice?lang=ar", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/status"
    page = await (await client.get("/status?lang=ar")).text()
    assert 'role="status"' in page and "ضُمّ إلى الطلب رقم \u20686-000005-26\u2069 الذي يحفظ نصه الآن." in page
    again = await (await client.get("/status?lang=ar")).text()
    assert "ضُمّ إلى الطلب" not in again  # once


@pytest.mark.parametrize(
    "cookie",
    [
        {"m": "<script>alert(1)</script>", "p": {}},  # not one of ours
        {"m": JOINED, "p": []},
        "not json",
    ],
)
async def test_a_cookie_majlis_did_not_write_says_nothing(
    client: TestClient[web.Request, web.Application], cookie: object
) -> None:
    value = cookie if isinstance(cookie, str) else json.dumps(cookie)
    client.session.cookie_jar.update_cookies({NOTICE_COOKIE: value})
    response = await client.get("/status?lang=en")
    page = await response.text()
    assert response.status == 200 and 'class="notice notice-done"' not in page and "alert(1)" not in page


async def test_a_notice_s_parameters_are_text_never_markup(client: TestClient[web.Request, web.Application]) -> None:
    client.session.cookie_jar.update_cookies({NOTICE_COOKIE: json.dumps({"m": JOINED, "p": {"number": "<b>x</b>"}})})
    page = await (await client.get("/status?lang=en")).text()
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page


def test_an_unregistered_message_cannot_be_left_behind() -> None:
    with pytest.raises(ValueError, match="not a registered notice"):
        done(None, "/", "Something else")  # type: ignore[arg-type]


def test_the_filters_isolate_and_escape() -> None:
    assert str(ltr("6-000005-26")) == '<bdi dir="ltr" class="ltr">6-000005-26</bdi>'
    assert str(isolate("<i>")) == "<bdi>&lt;i&gt;</bdi>"


@pytest.mark.parametrize(
    ("count", "arabic"),
    [
        (0, "لا طلبات"),
        (1, "طلب واحد"),
        (2, "طلبان"),
        (3, "3 طلبات"),
        (10, "10 طلبات"),
        (11, "11 طلبًا"),
        (99, "99 طلبًا"),
        (100, "100 طلب"),
        (102, "102 طلب"),
        (103, "103 طلبات"),
    ],
)
def test_arabic_counts_take_their_six_plural_forms(count: int, arabic: str) -> None:
    catalogs = Catalogs()
    assert catalogs.ngettext("ar", "{count} request", "{count} requests", count) == arabic
    assert catalogs.ngettext("en", "{count} request", "{count} requests", count) == (
        f"{count} request" if count == 1 else f"{count} requests"
    )
