"""Audience day in real Chromium pages: protocol enrols a kiosk and an applicant checks in on it at tablet width;
the hall's screen follows the official's Call next from another page; the official records an in-person outcome.

The hall sits on Sunday 29 November 2026, 10:00–12:00, in 8-minute slots (tests/audience_day/arrange.py); the
server's clock is set to that morning."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day.models import Arrival
from cases import service as cases
from cases.models import CaseStatus
from majlis.clock import FrozenClock
from scheduler.models import AppointmentState
from tests.audience_day.arrange import Booked, appointment, at, booked_day, check_in, official, status
from tests.e2e.test_audit_desk import sign_in
from tests.factories import Client, make_staff
from web.keys import LINKS

pytestmark = pytest.mark.browser

TABLET: ViewportSize = {"width": 820, "height": 1180}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREEN: ViewportSize = {"width": 1366, "height": 768}
# The hall's screen asks for the numbers every 3 s: a change shows within two rounds and a margin.
SCREEN_WAIT_MS = 8_000
# A page after a form is sent, on a machine that may be busy (Playwright's own default is 5 s).
PAGE_WAIT_MS = 15_000


async def applicant_name(sessions: async_sessionmaker[AsyncSession], case_id: int) -> str:
    async with sessions() as session:
        case = await cases.get_case(session=session, case_id=case_id)
    assert case is not None
    return case.applicant_name


async def arrivals(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Arrival)) or 0)


async def fits_across(page: Page) -> bool:
    """Nothing on the page is wider than the window: no sideways scrolling."""
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_protocol_enrols_a_kiosk_and_an_applicant_checks_in_on_it_at_tablet_width(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    booked = await booked_day(sessions, clock, count=2)
    clock.set(at(29, 9, 50))
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    base = str(client.make_url("/")).rstrip("/")
    protocol_context = await browser.new_context(viewport=DESKTOP)
    tablet_context = await browser.new_context(viewport=TABLET)
    try:
        protocol = await protocol_context.new_page()
        await sign_in(protocol, base, "protocol", clock)
        await protocol.goto(base + "/protocol/kiosks")
        await protocol.select_option("#kiosk-branch", "riyadh")
        await protocol.fill("#kiosk-name", "المدخل الرئيسي")
        await protocol.click("form.narrow button.primary")
        link = await protocol.get_attribute("#enrol-link a", "href")
        assert link is not None and "/kiosk/enrol/" in link
        # The list names the centre in words and says the kiosk is in use.
        kiosk_row = protocol.locator("table.data tbody tr").first
        await expect(kiosk_row).to_contain_text("الرياض", timeout=PAGE_WAIT_MS)
        await expect(kiosk_row).to_contain_text("قيد الاستخدام", timeout=PAGE_WAIT_MS)
        # The link names the public address; the tablet here reaches the test server.
        tablet = await tablet_context.new_page()
        await tablet.goto(base + urlparse(link).path)
        assert tablet.url == base + "/kiosk"
        await expect(tablet.locator("#code")).to_be_visible(timeout=PAGE_WAIT_MS)
        assert await fits_across(tablet)

        # A code Majlis never made: the kiosk says so and checks nobody in.
        await tablet.fill("#code", "12-34567890")
        await tablet.click("button[type=submit]")
        await expect(tablet.locator("#kiosk-error")).to_contain_text("لم نجد", timeout=PAGE_WAIT_MS)
        assert await fits_across(tablet)

        code = client.app[LINKS].arrival_code(booked[0].appointment_id)
        await tablet.fill("#code", code)
        await tablet.click("button[type=submit]")
        await expect(tablet.locator("#queue-number")).to_have_text("1", timeout=PAGE_WAIT_MS)
        assert await tablet.locator("#kiosk-result").count() == 1
        # The kiosk shows where to wait, never a name.
        assert await applicant_name(sessions, booked[0].case_id) not in (await tablet.text_content("main") or "")
        assert await fits_across(tablet)
        # The result came by a redirect: a reload shows the number again and posts nothing (still one arrival).
        assert tablet.url == base + "/kiosk/checked-in"
        posts: list[str] = []
        tablet.on("request", lambda sent: posts.append(sent.url) if sent.method == "POST" else None)
        await tablet.reload()
        await expect(tablet.locator("#queue-number")).to_have_text("1", timeout=PAGE_WAIT_MS)
        assert posts == [] and await arrivals(sessions) == 1

        # The next applicant types the tracking number and the phone's last 4 digits instead.
        await tablet.click("#kiosk-result a.button")
        await tablet.fill("#tracking_number", booked[1].tracking_number)
        await tablet.fill("#phone_last4", "0101")
        await tablet.click("button[type=submit]")
        await expect(tablet.locator("#queue-number")).to_have_text("2", timeout=PAGE_WAIT_MS)
        assert await fits_across(tablet)
        # Left alone, the result gives the kiosk back to the next applicant after 30 s; a touch or a key starts the
        # wait again, so whoever is still reading keeps the screen (static/kiosk.js, on the page's own clock).
        await tablet.clock.install()
        await tablet.reload()
        await tablet.clock.run_for(20_000)
        await tablet.keyboard.press("Shift")
        await tablet.clock.run_for(20_000)
        # 40 s after it was shown, 20 s after the key: no way back to the form begins (a leave would be seen at once
        # on the local server; two seconds bound the look).
        with pytest.raises(PlaywrightTimeout):
            await tablet.wait_for_url(base + "/kiosk", timeout=2_000)
        await tablet.clock.run_for(11_000)
        await tablet.wait_for_url(base + "/kiosk", timeout=PAGE_WAIT_MS)
        await expect(tablet.locator("#code")).to_be_visible(timeout=PAGE_WAIT_MS)
    finally:
        await protocol_context.close()
        await tablet_context.close()
    assert (await appointment(sessions, booked[0].appointment_id)).state is AppointmentState.ARRIVED
    assert (await appointment(sessions, booked[1].appointment_id)).state is AppointmentState.ARRIVED


async def arrived(sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, count: int) -> list[Booked]:
    """`count` applicants booked in Sunday's hall session and checked in, in slot order; the official exists."""
    booked = await booked_day(sessions, clock, count=count)
    await official(sessions, clock)
    clock.set(at(29, 9, 50))
    for item in booked:
        await check_in(sessions, clock, item.appointment_id)
    return booked


async def test_the_hall_screen_changes_when_the_official_presses_call_next(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    booked = await arrived(sessions, clock, 2)
    session_id = booked[0].session_id
    base = str(client.make_url("/")).rstrip("/")
    screen_context = await browser.new_context(viewport=SCREEN)
    official_context = await browser.new_context(viewport=DESKTOP)
    try:
        screen = await screen_context.new_page()
        await screen.goto(base + "/hall/riyadh/screen")
        serving, following = screen.locator(f"#serving-{session_id}"), screen.locator(f"#next-{session_id}")
        await expect(serving).to_have_text("—", timeout=PAGE_WAIT_MS)
        await expect(following).to_have_text("1 2", timeout=PAGE_WAIT_MS)

        console = await official_context.new_page()
        await sign_in(console, base, "official", clock)
        await console.goto(base + "/official/hall")
        await console.click(f"#session-{session_id} form.call-next button")
        # The screen is never reloaded: its poll brings the new number.
        await expect(serving).to_have_text("1", timeout=SCREEN_WAIT_MS)
        await expect(following).to_have_text("2", timeout=SCREEN_WAIT_MS)
        await console.click(f"#session-{session_id} form.call-next button")
        await expect(serving).to_have_text("2", timeout=SCREEN_WAIT_MS)
        await expect(following).to_have_text("", timeout=SCREEN_WAIT_MS)
    finally:
        await screen_context.close()
        await official_context.close()
    # The first audience ended when the second was called; the second is under way.
    states = [(await appointment(sessions, b.appointment_id)).state for b in booked]
    assert states == [AppointmentState.IN_AUDIENCE, AppointmentState.IN_AUDIENCE]


async def test_the_official_records_an_in_person_outcome(
    client: Client, sessions: async_sessionmaker[AsyncSession], clock: FrozenClock, browser: Browser
) -> None:
    [booked] = await arrived(sessions, clock, 1)
    base = str(client.make_url("/")).rstrip("/")
    context = await browser.new_context(viewport=DESKTOP)
    try:
        console = await context.new_page()
        await sign_in(console, base, "official", clock)
        await console.goto(base + "/official/hall")
        await console.click(f"#session-{booked.session_id} form.call-next button")
        row = console.locator(f"#session-{booked.session_id} article.hall-audience.current")
        audience_id = (await row.get_attribute("id") or "").removeprefix("hall-audience-")
        assert audience_id.isdigit()
        await console.select_option(f"#outcome-hall-{audience_id}", "answered")
        directive = "يُحال إلى وزارة الصحة لعلاج والده في مستشفى تخصصي"
        await console.fill(f"#directive-hall-{audience_id}", directive)
        await console.click(f"#hall-audience-{audience_id} form.outcome button[type=submit]")
        recorded = console.locator(f"#hall-audience-{audience_id} .outcome-recorded")
        await expect(recorded).to_contain_text(directive, timeout=PAGE_WAIT_MS)
        await expect(recorded).to_contain_text("أُجيب", timeout=PAGE_WAIT_MS)
    finally:
        await context.close()
    assert (await appointment(sessions, booked.appointment_id)).state is AppointmentState.HELD
    assert await status(sessions, booked.case_id) is CaseStatus.COMPLETED
