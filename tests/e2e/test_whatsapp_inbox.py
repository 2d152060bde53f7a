"""The WhatsApp desk's inbox in real Chromium at a tablet's width: a member of the desk lands on the inbox, opens the
conversation that waits longest, reads it right to left, replies, and sees the reply in the conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Browser, ViewportSize, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from notify.models import OutboxMessage
from tests.e2e.test_audience_day import PAGE_WAIT_MS, fits_across
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from tests.whatsapp_desk.inbox_arrange import handed_over

pytestmark = pytest.mark.browser

TABLET: ViewportSize = {"width": 820, "height": 1180}


async def test_a_desk_member_reads_a_handed_over_conversation_and_replies(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    newer = await handed_over(sessions, clock, phone="+966500000001", ago=timedelta(minutes=5))
    older = await handed_over(
        sessions, clock, phone="+966500000002", ago=timedelta(hours=1), said="أحتاج إلى تعديل موعد مقابلتي"
    )
    await make_staff(sessions, clock, Role.WHATSAPP_DESK, "wa")
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport=TABLET)
    try:
        page = await context.new_page()
        await sign_in(page, base, "wa")
        await page.wait_for_url(base + "/whatsapp", timeout=PAGE_WAIT_MS)
        await expect(page.locator("h1")).to_have_text("صندوق واتساب")
        assert await page.get_attribute("html", "dir") == "rtl"
        waiting = await page.locator("#waiting tbody tr").evaluate_all("rows => rows.map(r => r.id)")
        assert waiting == [f"conversation-{older.conversation_id}", f"conversation-{newer.conversation_id}"]
        assert await fits_across(page)

        await page.click(f"#conversation-{older.conversation_id} a")
        await expect(page.locator("#sender")).to_have_text("+966500000002", timeout=PAGE_WAIT_MS)
        await expect(page.locator("#messages")).to_contain_text("أحتاج إلى تعديل موعد مقابلتي")
        await expect(page.locator("#conversation-state")).to_contain_text("طلب التحدث إلى موظف")
        assert await fits_across(page)

        await page.fill("#reply-message", "أهلًا بكم، سننقل موعدكم إلى الأسبوع القادم.")
        await page.click("#reply-form button[type=submit]")
        await expect(page.locator("#result .notice")).to_have_text("ردّك في طريقه إلى المرسِل.", timeout=PAGE_WAIT_MS)
        last = page.locator("#messages li.message").last
        await expect(last).to_contain_text("أهلًا بكم، سننقل موعدكم إلى الأسبوع القادم.")
        await expect(last).to_contain_text("رد الموظف Staff whatsapp_desk")
        await expect(page.locator("#assignee")).to_have_text("Staff whatsapp_desk")
    finally:
        await context.close()
    async with sessions() as session:
        queued = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "whatsapp")))
    assert [(m.recipient, m.body) for m in queued] == [("+966500000002", "أهلًا بكم، سننقل موعدكم إلى الأسبوع القادم.")]
