"""The emergency line end to end in real Chromium: an agent of the contact centre registers a life-threatening report
at a tablet's width, right to left; the real dispatcher sends the duty officer's SMS with the signed link; the duty
officer opens it on a phone, acknowledges with their name; the agent's page shows the report acknowledged."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, ViewportSize, expect

from emergency.models import EmergencyReport, ReportState
from majlis.clock import FrozenClock
from tests.conftest import RecordingChannel
from tests.e2e.test_audience_day import PAGE_WAIT_MS, fits_across
from tests.e2e.test_audit_desk import sign_in
from tests.emergency.arrange import Sessions, add_agent, add_missions, add_shift
from tests.factories import Client
from web.keys import DISPATCHER

pytestmark = pytest.mark.browser

TABLET: ViewportSize = {"width": 820, "height": 1180}
PHONE: ViewportSize = {"width": 390, "height": 844}
DUTY_PHONE = "+971509990000"


async def test_an_agent_registers_and_the_duty_officer_acknowledges_through_the_link(
    client: Client, sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel, browser: Browser
) -> None:
    world = await add_missions(sessions)
    await add_shift(sessions, world.dubai, clock.now() - timedelta(hours=2), officer="Fahd", phone=DUTY_PHONE)
    await add_agent(sessions, clock)
    base = str(client.make_url("/")).rstrip("/")

    desk = await browser.new_context(viewport=TABLET, locale="ar-SA")
    try:
        page = await desk.new_page()
        await sign_in(page, base, "agent")
        await page.wait_for_url(base + "/emergency/agent", timeout=PAGE_WAIT_MS)
        assert await page.get_attribute("html", "dir") == "rtl"
        await page.click("#new-report")
        await expect(page.locator("h1")).to_have_text("بلاغ طوارئ جديد", timeout=PAGE_WAIT_MS)
        await page.fill("#national_id", "1000000008")
        await page.fill("#caller_name", "سعد العتيبي")
        await page.fill("#phone", "+971 50 123 4567")
        await page.select_option("#country", "AE")
        await page.fill("#city", "دبي")
        await page.select_option("#type", "accident")
        await page.check("#severity-life_threatening")
        await page.fill("#account", "حادث سير على شارع الشيخ زايد، والمواطن في مستشفى راشد.")
        assert await fits_across(page)
        await page.click("#register")
        await expect(page.locator("#result .notice")).to_have_text(
            "سُجِّل البلاغ وهو في طريقه إلى البعثة.", timeout=PAGE_WAIT_MS
        )
        number = (await page.locator("#report-number").text_content() or "").strip()
        assert re.fullmatch(r"E26-\d{6}-\d", number)
        await expect(page.locator("#mission")).to_contain_text("القنصلية العامة في دبي")
        await expect(page.locator("#state")).to_have_text("بانتظار إقرار الاستلام")
        assert await fits_across(page)

        # The real dispatcher sends the alert, writing the signed link into the SMS as it goes.
        await client.app[DISPATCHER].run_once()
        [sms] = [m for m in recorder.sent if m.channel == "sms" and m.recipient == DUTY_PHONE]
        found = re.search(r"https?://\S+/e/[\w.-]+", sms.body)
        assert found is not None and "{emergency_link}" not in sms.body
        link = base + urlsplit(found.group(0)).path

        officer = await browser.new_context(viewport=PHONE, locale="ar-SA")
        try:
            phone = await officer.new_page()
            await phone.goto(link)
            await expect(phone.locator("#report-number")).to_have_text(number, timeout=PAGE_WAIT_MS)
            await expect(phone.locator("#phone")).to_have_text("+971501234567")
            assert await fits_across(phone)
            box = await phone.locator("#acknowledge").bounding_box()
            assert box is not None and box["height"] >= 40  # big enough for a thumb
            await phone.fill("#acknowledge-by", "فهد الحربي")
            await phone.click("#acknowledge")
            await expect(phone.locator("#notice")).to_contain_text("توقف التصعيد", timeout=PAGE_WAIT_MS)
            await expect(phone.locator("#acknowledged-by")).to_have_text("فهد الحربي")
        finally:
            await officer.close()

        await page.reload()
        await expect(page.locator("#state")).to_have_text("أقرّت البعثة باستلامه", timeout=PAGE_WAIT_MS)
        await expect(page.locator("#acknowledged-by")).to_have_text("فهد الحربي")
        await expect(page.locator("#events")).to_contain_text("فهد الحربي")
    finally:
        await desk.close()

    async with sessions() as session:
        report = await session.get(EmergencyReport, 1)
    assert report is not None and report.state is ReportState.ACKNOWLEDGED and report.acknowledged_by == "فهد الحربي"
