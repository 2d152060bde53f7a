"""An applicant in a real browser: the Arabic form, the tracking number, then the status page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser

from tests.factories import Client

pytestmark = pytest.mark.browser


async def test_submit_in_arabic_then_track(client: Client, browser: Browser) -> None:
    base = str(client.make_url("/")).rstrip("/")
    # A tablet held upright, as at the desk.
    page = await browser.new_page(viewport={"width": 820, "height": 1180}, locale="ar-SA")
    await page.goto(base + "/")
    assert await page.get_attribute("html", "dir") == "rtl"
    assert await page.get_attribute("html", "lang") == "ar"
    direction = await page.evaluate("getComputedStyle(document.body).direction")
    assert direction == "rtl"

    # First a mistake: the check digit of the national ID is wrong.
    await page.select_option("#applicant\\.kind", "citizen")
    await page.fill("#applicant\\.id_number", "1000000009")
    await page.fill("#applicant\\.name", "نورة عبدالله السبيعي")
    await page.select_option("#applicant\\.gender", "female")
    await page.fill("#applicant\\.phone", "0501234567")
    await page.select_option("#kind", "audience_video")
    await page.select_option("#branch", "riyadh")
    await page.fill("#subject", "طلب مقابلة بخصوص قضية حضانة")
    await page.fill("#text", "أرجو التكرم بمقابلتي لعرض قضية حضانة أبنائي.")
    await page.click("button.primary")
    error = await page.text_content("#applicant\\.id_number-error")
    assert error is not None and "رقم الهوية" in error
    # Everything else typed is still there.
    assert await page.input_value("#subject") == "طلب مقابلة بخصوص قضية حضانة"

    await page.fill("#applicant\\.id_number", "1000000008")
    await page.click("button.primary")
    tracking_number = (await page.text_content("#tracking-number") or "").strip()
    assert re.fullmatch(r"26-\d{6}-\d", tracking_number)

    await page.goto(base + "/status")
    await page.fill("#tracking_number", tracking_number)
    await page.fill("#phone", "+966501234567")
    await page.click("button.primary")
    assert (await page.text_content("#status") or "").strip() == "تم الاستلام"
    # No part of the page is wider than the tablet's screen.
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    await page.close()
