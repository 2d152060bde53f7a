""" "My requests" on a 390-pixel phone in Arabic, in a real browser: the phone, the code from the SMS (typed in
Arabic-Indic digits), the list, then a request's tracker with its current stage; every page fits the screen, has
no English left and no serious accessibility violation (tests/e2e/page_check.py)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from notify.models import OutboxMessage
from tests.e2e.page_check import check_page, install_axe
from tests.factories import Client
from tests.web.asking import PHONES, placed

pytestmark = pytest.mark.browser

Sessions = async_sessionmaker[AsyncSession]
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


async def code_sent(sessions: Sessions) -> str:
    async with sessions() as session:
        message = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.purpose.like("my_requests_code:%"))
            .order_by(OutboxMessage.id.desc())
        )
    assert message is not None and message.recipient == PHONES[0]
    found = re.search(r"\d{6}", message.body.replace("\u2066", "").replace("\u2069", ""))
    assert found is not None, message.body
    return found.group(0)


async def codes_sent(sessions: Sessions) -> int:
    async with sessions() as session:
        found = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose.like("my_requests_code:%"))
        )
    return int(found or 0)


async def test_my_requests_and_the_tracker_on_a_phone_in_arabic(
    client: Client, sessions: Sessions, clock: FrozenClock, browser: Browser
) -> None:
    (number,) = await placed(sessions, clock)
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, locale="ar-SA", has_touch=True, is_mobile=True
    )
    await install_axe(context)
    page = await context.new_page()
    await page.goto(str(client.make_url("/status")))
    await page.click("#my-requests-link a")
    assert await page.get_attribute("html", "dir") == "rtl"
    assert not (found := await check_page(page, language="ar")), str(found)

    await page.fill("#phone", "٠٥٠١٢٣٤٥٦٧")
    await page.click("#send-code")
    await page.wait_for_selector("#code")
    assert not (found := await check_page(page, language="ar")), str(found)
    # The code page came by a redirect: reloading it shows it again and sends no second SMS.
    assert urlsplit(page.url).path == "/status/mine/code"
    await page.reload()
    await page.wait_for_selector("#code")
    assert await codes_sent(sessions) == 1
    await page.fill("#code", (await code_sent(sessions)).translate(ARABIC_INDIC))
    await page.click("#check-code")
    await page.wait_for_selector("#my-requests")
    assert not (found := await check_page(page, language="ar")), str(found)

    await page.click(f'a[href="/status/mine/{number}"]')
    current = page.locator('#tracker li[aria-current="step"]')
    await current.wait_for()
    assert await current.is_visible() and await current.get_attribute("id") == "stage-scheduled"
    assert await page.locator("#tracker li.step-done").count() == 2
    assert await page.locator("#tracker-line").is_visible()
    # The tracking number reads left to right on one line inside the Arabic heading.
    heading_number = page.locator("h1 bdi.ltr")
    assert await heading_number.inner_text() == number
    assert await heading_number.evaluate("el => el.getClientRects().length") == 1
    assert not (found := await check_page(page, language="ar")), str(found)
    await context.close()
