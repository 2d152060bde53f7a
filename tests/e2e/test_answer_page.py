"""An applicant on a phone opens the link from the SMS and confirms the audience, in a real browser."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from scheduler.models import AppointmentState
from tests.factories import Client
from tests.web.asking import answer_path, appointment_state, ask, placed
from web.keys import LINKS

pytestmark = pytest.mark.browser


async def test_confirm_from_a_phone(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    (number,) = await placed(sessions, clock)
    item = (await ask(sessions, clock))[number]
    url = str(client.make_url(answer_path(client.app[LINKS], item)))
    page = await browser.new_page(viewport={"width": 390, "height": 844}, locale="ar-SA")
    await page.goto(url)
    assert await page.get_attribute("html", "dir") == "rtl"
    body = await page.text_content("body")
    assert body is not None and number in body and "هـ" in body  # the date in both calendars
    # Made for a phone: nothing wider than the screen, buttons big enough for a thumb.
    assert await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    box = await page.locator("button.primary").bounding_box()
    assert box is not None and box["height"] >= 40
    await page.click("button.primary")
    await page.wait_for_load_state()
    after = await page.text_content("body")
    assert after is not None and "شكر" in after
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
    await page.close()
