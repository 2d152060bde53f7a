"""The protocol calendar in Chromium: a card dragged onto another slot opens the Move dialog on that slot; with a
reason it moves, and the notice says so (Arabic, 1366 px). At 390 px the week is one day at a time, no overflow."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from tests.e2e.page_check import check_page, install_axe
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client
from tests.scheduler.test_week_grid import placed_in_hall
from web.i18n import Catalogs

pytestmark = pytest.mark.browser
WEEK = "/protocol?week=2026-11-22&branch=riyadh"


async def test_drag_a_card_onto_a_slot_give_a_reason_and_it_moves(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    slots, number, appointment_id = await placed_in_hall(sessions, clock, gender="male", name="خالد")
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1366, "height": 1400})
    page = await context.new_page()
    await sign_in(page, base, "protocol", clock)
    await page.goto(base + WEEK)
    await page.drag_and_drop(f"#appointment-{appointment_id}", f'td[data-slot="{slots["later"]}"]')
    dialog = page.locator("#move-dialog")
    await dialog.locator("#move-slot").wait_for()
    assert await dialog.evaluate("d => d.open")
    assert await page.input_value("#move-slot") == str(slots["later"])
    await page.check("#move-directive")
    await page.fill("#move-text", "وجّه المسؤول بتقديم الموعد")
    await page.click("#move-submit")
    await page.wait_for_url("**/protocol?week=2026-11-22&day=2026-11-24*")
    told = Catalogs().gettext(
        "ar", "The appointment has moved on the official's directive; the applicant is told by message and called."
    )
    assert (await page.text_content(".notice-done") or "").strip() == told
    assert number in (await page.text_content(f'td[data-slot="{slots["later"]}"]') or "")
    assert number not in (await page.text_content(f'td[data-slot="{slots["hall"]}"]') or "")
    # Dropped where it cannot go (a video room): the dialog says why and chooses nothing.
    moved = page.locator(f'td[data-slot="{slots["later"]}"] article.appointment-card')
    await moved.drag_to(page.locator(f'td[data-slot="{slots["men"]}"]'))
    await page.locator("#to_slot-error").wait_for()
    assert await page.input_value("#move-slot") == ""

    # A phone: one day at a time, picked in the day picker; nothing wider than the screen.
    phone = await browser.new_context(
        viewport={"width": 390, "height": 844}, storage_state=await context.storage_state()
    )
    await install_axe(phone)
    small = await phone.new_page()
    await small.goto(base + WEEK)
    assert await small.locator(".grid-day:visible").count() == 1
    assert await small.locator(".day-picker").is_visible()
    findings = await check_page(small, language="ar")
    assert findings.overflow == 0 and not findings.violations, str(findings)
    # The month and the Move dialog's own page fit too.
    moved_id = (await moved.get_attribute("id") or "").removeprefix("appointment-")
    for path in ("/protocol/month?month=2026-11", f"/protocol/appointments/{moved_id}/move"):
        response = await small.goto(base + path)
        assert response is not None and response.ok
        findings = await check_page(small, language="ar")
        assert findings.overflow == 0 and not findings.violations, str(findings)
    await phone.close()
    await context.close()
