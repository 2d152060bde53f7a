"""Two-factor sign-in in Chromium: an administrator sets up the authenticator by its QR code's key, keeps the
recovery codes, and signs in again later with the password and the app's next code."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.factories import PASSWORD, Client, make_staff

pytestmark = pytest.mark.browser


async def test_an_administrator_enrols_then_signs_in_with_the_next_code(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    base = str(client.make_url("/")).rstrip("/")
    first = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await first.new_page()
    await page.goto(base + "/login")
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    assert "/login/enrol" in page.url
    assert await page.locator("svg.totp-qr").is_visible()
    totp = pyotp.TOTP((await page.text_content("#totp-secret") or "").replace(" ", ""))

    # Without the code nothing else opens: the admin page sends the browser back to the step it owes, and on to
    # the admin page once that is done.
    await page.goto(base + "/admin/users")
    assert "/login/enrol?next=" in page.url and page.url.endswith("/admin/users")
    await page.fill("#code", "000000" if totp.at(clock.now()) != "000000" else "111111")
    await page.click("#enrol button.primary")
    assert "الرمز غير صحيح" in (await page.text_content("#code-error") or "")
    await page.fill("#code", totp.at(clock.now()))
    await page.click("#enrol button.primary")
    assert await page.locator("#recovery-codes li").count() == 10
    await page.click("#continue")
    assert page.url.endswith("/admin/users")
    await first.close()

    clock.advance(timedelta(minutes=1))
    second = await browser.new_context()
    page = await second.new_page()
    await page.goto(base + "/login")
    await page.fill("#username", "admin")
    await page.fill("#password", PASSWORD)
    await page.click("button.primary")
    assert "/login/code" in page.url
    await page.fill("#code", totp.at(clock.now()))
    await page.click("#second-step button.primary")
    assert page.url.endswith("/staff")  # the administrator's home
    await second.close()
