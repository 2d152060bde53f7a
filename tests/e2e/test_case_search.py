"""Finding a request by a name typed another way, in a real browser, on a phone's width in Arabic."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, api_payload, make_staff

pytestmark = pytest.mark.browser


async def test_a_name_typed_with_other_alef_and_ta_marbuta_is_found_on_a_phone(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    stored = await (await client.post("/api/v1/requests", json=api_payload(applicant_name="آمنة إبراهيم"))).json()
    await (await client.post("/api/v1/requests", json=api_payload(applicant_name="سالم العتيبي"))).json()
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    base = str(client.make_url("/")).rstrip("/")
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await sign_in(page, base, "audit", clock)

    await page.goto(base + "/cases")
    assert await page.get_attribute("html", "dir") == "rtl"
    await page.fill("#q", "امنه ابراهيم")  # plain alef for آ and إ, ha for ta marbuta
    await page.press("#q", "Enter")
    await page.wait_for_selector("#found")
    rows = page.locator("#found tbody tr")
    assert await rows.count() == 1
    number = stored["tracking_number"]
    assert (await rows.first.locator("bdi.ltr").text_content()) == number
    assert "آمنة إبراهيم" in (await rows.first.text_content() or "")
    assert "عُثر على طلب واحد" in (await page.text_content("#found-count") or "")
    # On a phone the table is one card per request, and nothing overflows sideways.
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await rows.first.locator("a").click()
    assert number in (await page.text_content("h2.tracking-number") or "")
