"""The question before an irreversible action, in Chromium (Arabic, 390 px): web/static/confirm.js.

A holiday's "Remove" opens a modal dialog named by its question, focus on "go back"; Escape and "go back" each
keep the holiday and return focus to the button pressed; the action's own button removes it (the form is sent
once, with its CSRF token, and the page says so)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler import calendar
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from web.i18n import Catalogs

pytestmark = pytest.mark.browser
REMOVE = 'form[action="/protocol/holidays/2026-12-17/remove"]'


async def test_the_dialog_asks_keeps_on_escape_and_go_back_and_submits_on_yes(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    async with transaction(sessions) as session:
        await calendar.add_holiday(session=session, clock=clock, actor_id=None, day=date(2026, 12, 17), name="عيد")
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="ar")
    page = await context.new_page()
    await sign_in(page, base, "protocol", clock)
    await page.goto(base + "/protocol/holidays")
    catalogs = Catalogs()
    question = catalogs.gettext("ar", "Remove this holiday? Audiences may then be held on that day.")
    button = page.locator(f"{REMOVE} button")
    dialog = page.get_by_role("alertdialog", name=question)

    await button.click()
    await dialog.wait_for()
    assert await dialog.evaluate("d => d.open && d.matches(':modal')")
    assert await page.evaluate("document.activeElement.className") == "confirm-no"
    assert (await page.text_content(".confirm-no") or "") == catalogs.gettext("ar", "No, go back")
    assert (await page.text_content(".confirm-yes") or "").strip() == catalogs.gettext("ar", "Remove")
    box = await dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits the phone
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    assert await button.evaluate("b => b === document.activeElement")  # focus back on the button pressed
    assert await page.locator(REMOVE).count() == 1 and page.url.endswith("/protocol/holidays")

    await button.click()
    await page.click(".confirm-no")
    await dialog.wait_for(state="hidden")
    assert await button.evaluate("b => b === document.activeElement")
    assert await page.locator(REMOVE).count() == 1

    await button.click()
    async with page.expect_navigation():
        await page.click(".confirm-yes")
    assert await page.locator(REMOVE).count() == 0
    assert await page.locator(".notice-done").count() == 1
    await context.close()
