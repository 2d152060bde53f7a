"""The daily review of ratings in real Chromium, in Arabic: the manager's queue at a phone's, a tablet's and a
desktop's width (right to left, nothing wider than the window), a negative rating reviewed through its form; then
the desk's own ratings on a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.async_api import Browser, ViewportSize, expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.e2e.test_audience_day import PAGE_WAIT_MS, fits_across
from tests.e2e.test_audit_desk import sign_in
from tests.e2e.test_rating_tablet import FACE_SIZES
from tests.factories import Client, make_staff
from tests.quality.test_review import rate, riyadh_at

pytestmark = pytest.mark.browser

WIDTHS: tuple[ViewportSize, ...] = (
    {"width": 390, "height": 844},
    {"width": 820, "height": 1180},
    {"width": 1366, "height": 900},
)
TODAY = date(2026, 11, 24)


async def test_the_queue_at_three_widths_a_review_and_ones_own_ratings(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    await make_staff(sessions, clock, Role.MANAGER, "manager")
    old = await rate(sessions, clock, 1, at=riyadh_at(TODAY - timedelta(days=6), 10), staff_id=desk.id)
    await rate(sessions, clock, 4, at=riyadh_at(TODAY, 8), staff_id=desk.id, comment="خدمة سريعة ولطيفة")
    angry = await rate(
        sessions, clock, 2, at=riyadh_at(TODAY, 9), staff_id=desk.id, comment="انتظرت طويلًا قبل أن يُنادى رقمي"
    )
    base = str(client.make_url("/")).rstrip("/")

    manager = await browser.new_context(viewport=WIDTHS[0])
    try:
        page = await manager.new_page()
        await sign_in(page, base, "manager", clock)
        for width in WIDTHS:
            await page.set_viewport_size(width)
            await page.goto(base + "/quality/reviews")
            await expect(page.locator("h1")).to_have_text("المراجعة اليومية للتقييمات", timeout=PAGE_WAIT_MS)
            assert await page.evaluate("document.documentElement.dir") == "rtl"
            assert await fits_across(page), width
        await expect(page.locator(f"#overdue-{old} .age")).to_have_text("أيام العمل: 4")
        cards = await page.locator("#day-ratings article").evaluate_all("cards => cards.map(c => c.id)")
        assert cards[0] == f"rating-{angry}"

        form = page.locator(f"#rating-{angry} form")
        await form.locator("button[type=submit]").click()
        await expect(page.locator(f"#rating-{angry} .error-summary")).to_be_visible(timeout=PAGE_WAIT_MS)
        await page.fill(f"#rating-{angry}-note", "تأخر النداء بسبب عطل في شاشة الانتظار.")
        await page.select_option(f"#rating-{angry}-cause", "system_fault")
        await page.check(f"#rating-{angry}-action input[value=process_change]")
        await page.click(f"#rating-{angry} form button[type=submit]")
        await expect(page.locator("#notice")).to_have_text("حُفظت المراجعة.", timeout=PAGE_WAIT_MS)
        await expect(page.locator(f"#rating-{angry} .review-state")).to_contain_text("عطل في النظام")
    finally:
        await manager.close()

    staff = await browser.new_context(viewport=WIDTHS[0])
    try:
        page = await staff.new_page()
        await sign_in(page, base, "desk", clock)
        await page.goto(base + "/me/ratings")
        await expect(page.locator("h1")).to_have_text("تقييماتك", timeout=PAGE_WAIT_MS)
        await expect(page.locator("#last-30-days .count")).to_have_text("3")
        await expect(page.locator("#reviewed-negatives")).to_contain_text("تعديل الإجراءات")
        # The reviewed ratings' faces, drawn as SVG, are visible in their cards on a phone.
        drawn = await page.locator("#reviewed-negatives svg.face-svg").evaluate_all(FACE_SIZES)
        assert [score for score, _, _ in drawn] == ["2"] and all(w >= 12 and h >= 12 for _, w, h in drawn), drawn
        # Three ratings this month: fewer than five share it, so the comments are withheld (quality.own_ratings).
        await expect(page.locator("#comments .comments-withheld").first).to_be_visible()
        await expect(page.locator("#comments")).not_to_contain_text("خدمة سريعة ولطيفة")
        assert await fits_across(page)
        # In English the reviewed ratings' long dates made their five-column table wider than a phone: cards now.
        await page.goto(base + "/me/ratings?lang=en")
        await expect(page.locator("#reviewed-negatives")).to_contain_text("Process change", timeout=PAGE_WAIT_MS)
        assert await fits_across(page)
    finally:
        await staff.close()
