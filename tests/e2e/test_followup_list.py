"""The follow-up team's daily list in real Chromium on a phone's width: the team's own work first, then the
departments overdue first and by working time left, every table a card that fits the window; then an answered
referral closed with its outcome through its page, completing the request.

The day is tests/followup/team_arrange.py's: Thursday 26 November 2026, 13:00 in Riyadh."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, ViewportSize, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup.models import ReferralState
from majlis.clock import FrozenClock
from tests.e2e.test_audience_day import PAGE_WAIT_MS, fits_across
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from tests.followup.team_arrange import followup_day, referral, tracking_number

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 390, "height": 844}


async def test_the_daily_list_on_a_phone_and_closing_a_referral_with_its_outcome(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    day = await followup_day(sessions, clock)
    await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await context.new_page()
        await sign_in(page, base, "followup")
        await page.goto(base + "/followup")
        await expect(page.locator("h1")).to_have_text("المتابعة اليومية", timeout=PAGE_WAIT_MS)
        await expect(page.locator("#today")).to_contain_text("جمادى الآخرة 1448 هـ")
        await expect(page.locator("#figures")).to_contain_text("متأخرة: 3")

        team = await page.locator("#team tbody tr").evaluate_all("rows => rows.map(r => r.id)")
        assert team == [
            f"case-{day.no_department}",
            f"referral-{day.returned_alone}",
            f"referral-{day.returned_beside_another}",
            f"referral-{day.answered}",
        ]
        chasing = await page.locator("#chasing tbody tr").evaluate_all("rows => rows.map(r => r.id)")
        assert chasing == [
            f"referral-{referral_id}"
            for referral_id in (
                day.silent_since_last_week,
                day.no_news,
                day.beside_a_return,
                day.due_after_the_weekend,
                day.sent_this_morning,
                day.waiting_for_applicant,
            )
        ]
        first = page.locator(f"#referral-{day.silent_since_last_week}")
        await expect(first.locator("td.left")).to_have_text("متأخرة بمقدار 2 يوم عمل و6 ساعة")
        # At 390 px each row is a card: the header row is hidden, each cell names itself, nothing overflows.
        assert not await page.locator("#chasing thead").is_visible()
        label = await first.locator("td.left").evaluate("td => getComputedStyle(td, '::before').content")
        assert "وقت العمل" in label
        assert await fits_across(page)

        # The answered referral, from the team's section: its answer, then closed with the outcome.
        await page.locator(f"#referral-{day.answered} a").click()
        await expect(page.locator("#answer")).to_contain_text("صرف المستحقات", timeout=PAGE_WAIT_MS)
        assert await fits_across(page)
        await page.fill("#close-outcome", "صُرفت المستحقات المتأخرة لصاحب الطلب.")
        await page.check("#close-confirm")
        await page.click("#close-form button[type=submit]")
        # Closing cannot be undone: the confirmation dialog asks first (web/static/confirm.js).
        await page.click(".confirm-yes")
        await expect(page.locator("#result .notice")).to_contain_text("اكتمل الطلب", timeout=PAGE_WAIT_MS)
        await expect(page.locator("#referral-state")).to_have_attribute("data-state", "closed")
        await expect(page.locator("#outcome")).to_have_text("صُرفت المستحقات المتأخرة لصاحب الطلب.")
        assert 'id="close-form"' not in await page.content()

        await page.goto(base + "/followup")
        await expect(page.locator(f"#referral-{day.answered}")).to_have_count(0)
    finally:
        await context.close()
    closed = await referral(sessions, day.answered)
    assert closed.state is ReferralState.CLOSED and closed.outcome == "صُرفت المستحقات المتأخرة لصاحب الطلب."
    async with sessions() as session:
        number = await tracking_number(sessions, day.answered)
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None and case.status is CaseStatus.COMPLETED
