"""The date picker of both calendars in Chromium (Arabic, 390 px): web/static/hijri_picker.js on the holidays page.

The button beside the date opens the Hijri month of today (the server's clock) as a modal dialog, today focused;
the arrows move by a day right to left; the next month's button shows Rajab; choosing a day by its name in both
calendars writes its Gregorian ISO date in the field and the day in both calendars beside it; the holiday is then
declared on that Gregorian day. No overflow, no English and no serious axe finding with the month open; no overflow
once chosen."""

from __future__ import annotations

from datetime import date

import pytest
from hijridate import Hijri
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.dates import dual_date
from tests.e2e.page_check import check_page, install_axe
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from web.i18n import Catalogs

pytestmark = pytest.mark.browser
# The header names the signed-in member of staff as tests.factories made them, in English.
STAFF_NAME = frozenset({"Staff", "protocol"})


async def test_open_move_a_month_and_pick_a_hijri_day(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    await install_axe(context)
    page = await context.new_page()
    await sign_in(page, base, "protocol", clock)
    await page.goto(base + "/protocol/holidays")
    catalogs = Catalogs()
    today = clock.now().date()  # 2026-11-24, 14 Jumada al-Akhirah 1448
    chosen = Hijri(1448, 7, 10).to_gregorian()  # 10 Rajab 1448

    await page.click(".date-picker-open")
    dialog = page.get_by_role("dialog")
    await dialog.wait_for()
    assert (await page.text_content("#date-picker-title") or "").strip() == "جمادى الآخرة 1448 هـ"
    assert await page.evaluate("document.activeElement.dataset.iso") == today.isoformat()
    await page.keyboard.press("ArrowLeft")  # right to left: the next day is on the left
    assert await page.evaluate("document.activeElement.dataset.iso") == date(2026, 11, 25).isoformat()
    assert not (found := await check_page(page, language="ar", allowed=STAFF_NAME)), str(found)

    await page.get_by_role("button", name=catalogs.gettext("ar", "Next month")).click()
    await page.locator("#date-picker-title", has_text="رجب 1448").wait_for()
    await page.get_by_role("button", name=dual_date(chosen, "ar"), exact=True).click()
    await dialog.wait_for(state="hidden")
    assert await page.input_value("#day") == chosen.isoformat()
    assert (await page.text_content("#day-in-both") or "") == dual_date(chosen, "ar")
    assert await page.evaluate("document.activeElement.id") == "day"
    assert not (found := await check_page(page, language="ar", allowed=STAFF_NAME, axe=False)), str(found)

    await page.fill("#name", "يوم التأسيس")
    async with page.expect_navigation():
        await page.click("form.narrow button.primary")
    assert dual_date(chosen, "ar") in (await page.text_content("main") or "")
    await context.close()
