"""Triage as one form in Chromium, in Arabic, on a tablet (820 px): a refused field is named beside it and nothing
is kept; the corrected form saves everything in one submit and the page says so; rejecting asks first."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, api_payload, make_staff

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


async def test_triage_in_one_form_in_arabic_at_820(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    number = (await (await client.post("/api/v1/requests", json=api_payload(kind="audience_in_person"))).json())[
        "tracking_number"
    ]
    await make_staff(sessions, clock, Role.AUDIT_DESK, "audit")
    base = str(client.make_url("/")).rstrip("/")
    page = await browser.new_page(viewport={"width": 820, "height": 1180})
    try:
        await sign_in(page, base, "audit", clock)
        # Her home page, the requests waiting for triage, fits a phone too.
        assert page.url == base + "/staff"
        await page.set_viewport_size({"width": 390, "height": 844})
        assert await page.evaluate(FITS)
        await page.set_viewport_size({"width": 820, "height": 1180})
        await page.click(f"#home-triage a[href='/audit/cases/{number}']")
        assert await page.get_attribute("html", "dir") == "rtl"
        assert await page.evaluate(FITS)
        for width in (390, 1366):
            await page.set_viewport_size({"width": width, "height": 900})
            assert await page.evaluate(FITS), width
        await page.set_viewport_size({"width": 820, "height": 1180})
        # The route the applicant asked for is the one chosen.
        assert await page.input_value("#route") == "audience_in_person"

        await page.check("#verified")
        await page.select_option("#category", "housing")
        await page.fill("#points", "5000")  # out of range, and a move up needs a reason
        await page.click("#save-triage")
        assert "لم يتم حفظ أي بيانات" in (await page.text_content(".error-summary h2") or "")
        assert await page.locator("#points-error").is_visible()
        assert await page.get_attribute("#points", "aria-invalid") == "true"
        assert await page.evaluate(FITS)
        # Nothing was kept: not the verification, not the category.
        assert (await page.text_content("#current-category") or "").strip() == "—"
        assert (await page.text_content("#current-verified") or "").strip() == "لم يتم بعد"

        await page.fill("#points", "")
        await page.click("#save-triage")
        notice = await page.text_content(".notice-done") or ""
        assert number in notice
        # The tracking number is isolated inside the Arabic sentence: it reads left to right, digits in order.
        assert f"\u2068{number}\u2069" in notice
        assert (await page.text_content("#case-status") or "").strip() == "بانتظار المقابلة"
        assert await page.locator("#verified-note").is_visible()

        # Rejecting is a separate act that asks before it is done; going back changes nothing.
        await page.fill("#reason", "ليس من اختصاص المجلس")
        await page.click("#reject")
        dialog = page.locator("dialog.confirm-dialog")
        assert await dialog.is_visible()
        assert "رفض" in (await dialog.text_content() or "")
        await page.click("dialog.confirm-dialog .confirm-no")
        assert (await page.text_content("#case-status") or "").strip() == "بانتظار المقابلة"
    finally:
        await page.close()
