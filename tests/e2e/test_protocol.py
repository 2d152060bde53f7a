"""Protocol in a real browser: a room, a weekly template, the official's busy calendar, the allocation, the week."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from tests.priority.test_triage import new_case, ready
from tests.web.test_protocol import BUSY

pytestmark = pytest.mark.browser


async def test_template_busy_calendar_allocation_and_the_week(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser, tmp_path: Path
) -> None:
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock)
    await ready(sessions, clock, auditor, number, category="qisas", urgency="critical")
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    base = str(client.make_url("/")).rstrip("/")
    page = await browser.new_page(viewport={"width": 1180, "height": 820})
    await sign_in(page, base, "protocol", clock)

    await page.goto(base + "/protocol/rooms")
    await page.select_option("#branch", "riyadh")
    await page.fill("#name", "قاعة المجلس")
    await page.select_option("#room_kind", "audience_hall")
    await page.fill("#capacity", "40")
    await page.click("button.primary")
    assert "قاعة المجلس" in (await page.text_content("h1") or "")

    await page.goto(base + "/protocol/templates")
    await page.fill("#name", "المجلس الأسبوعي")
    await page.select_option("#weekday", "6")
    await page.fill("#starts", "10:00")
    await page.fill("#ends", "12:00")
    await page.fill("#slot_minutes", "8")
    await page.fill("#capacity", "1")
    await page.check("input[name=rooms]")
    await page.click("#add-template")
    assert "المجلس الأسبوعي" in (await page.text_content("#templates") or "")

    calendar_file = tmp_path / "official.ics"
    calendar_file.write_bytes(BUSY)
    await page.goto(base + "/protocol")
    await page.click("details.tools summary")  # the official's commitments, folded under the week grid
    await page.set_input_files("#busy-file", str(calendar_file))
    await page.click("#import-busy")
    # The busy times and the first session are on Sunday 29 November: the next week in the grid.
    await page.click("#next-week")
    assert await page.locator("td.slot.blocked").count() == 5

    await page.click("#allocate")
    await page.click("#next-week")
    week = await page.text_content("#week") or ""
    assert number in week
    await page.close()
