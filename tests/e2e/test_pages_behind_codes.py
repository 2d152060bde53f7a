"""The page check (tests/e2e/page_check.py: no overflow, no stray English on an Arabic page, axe clean) on the pages
the every-page sweep cannot reach, since they sit behind an enrolled device or a one-time code: the kiosk's check-in
form and its result, the rating tablet waiting and with an invitation, the applicant's status, code, answer and
answered pages, and "my requests" (its code page, the list, a request's tracker). Each page in Arabic and English at
390, 820 and 1366 px, in one Chromium.

A page that a GET shows again (the answer received too, after its POST's redirect) is reloaded in the other
language; the status page, which answers its POST, and the kiosk's result (a check-in each) are reached once per
language. The hall sits on Sunday 29 November 2026 (tests/audience_day/arrange.py); the clock is that morning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day import kiosks
from cases import service as cases
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from priority import service as triage
from quality import tablets
from tests.audience_day.arrange import at, booked_day, phone
from tests.conftest import RecordingChannel, make_settings
from tests.e2e.page_check import check_page, install_axe
from tests.factories import Client, api_payload, details, make_staff
from web.keys import LINKS
from web.security import LANGUAGE_COOKIE

pytestmark = pytest.mark.browser

Sessions = async_sessionmaker[AsyncSession]
WIDTHS = (390, 820, 1366)
LANGUAGES = ("ar", "en")
STATUS_URL = "https://majlis.example.sa/status"
PAGE_WAIT_MS = 15_000


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel, tmp_path: Path) -> web.Application:
    """The applicant's answer keeps its files in the test's own folder."""
    settings = make_settings(database_url, attachments_dir=str(tmp_path / "attachments"))
    return create_app(settings, clock=clock, channels=recorder.channels())


class Checker:
    """Checks the loaded page at each width and gathers what it finds, so one run names every page that fails."""

    def __init__(self) -> None:
        self.findings: list[str] = []
        self.checked = 0

    async def __call__(self, page: Page, language: str, what: str) -> None:
        for width in WIDTHS:
            await page.set_viewport_size({"width": width, "height": 900})
            found = await check_page(page, language=language, axe=True)
            self.checked += 1
            if found:
                self.findings.append(f"{what}: {found}")


async def speaking(context: BrowserContext, base: str, language: str) -> None:
    """The reader's choice of language (the switch's cookie), which wins over the applicant's own."""
    await context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": base}])


async def in_each_language(check: Checker, page: Page, base: str, path: str, ready: str, what: str) -> None:
    """The page at `path` loaded in each language (once `ready` shows) and checked at each width."""
    for language in LANGUAGES:
        await speaking(page.context, base, language)
        await page.goto(base + path)
        await page.wait_for_selector(ready)
        await check(page, language, what)


async def last_code(sessions: Sessions, purpose: str) -> str:
    async with sessions() as session:
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.purpose.like(f"{purpose}:%")).order_by(OutboxMessage.id.desc())
        )
    assert message is not None
    found = re.search(r"\d{6}", message.body.replace("\u2066", "").replace("\u2069", ""))
    assert found is not None, message.body
    return found.group(0)


# What is checked is the pages in the browser; the database behind them is SQLite's (the flows themselves are tested on
# both databases in tests/web/), as the every-page sweep's demo is.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_pages_behind_a_device_or_a_code_pass_the_page_check(
    client: Client, sessions: Sessions, clock: FrozenClock, browser: Browser
) -> None:
    booked = await booked_day(sessions, clock, count=2)
    clock.set(at(29, 9, 50))
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    auditor = await make_staff(sessions, clock, Role.AUDIT_DESK, "asker")
    async with transaction(sessions) as session:
        _, kiosk_token = await kiosks.enrol(
            session=session, clock=clock, branch_code="riyadh", name="المدخل الرئيسي", actor_id=protocol.id
        )
        tablet, tablet_token = await tablets.enrol(
            session=session, clock=clock, branch_code="riyadh", name="Desk 1", actor_id=None
        )
        await tablets.pair(session=session, clock=clock, tablet_id=tablet.id, staff_id=desk.id)
    base = str(client.make_url("/")).rstrip("/")
    check = Checker()
    context = await browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, locale="ar-SA")
    await install_axe(context)
    page = await context.new_page()
    page.set_default_timeout(PAGE_WAIT_MS)
    try:
        # The kiosk: its form, then an applicant's check-in (one appointment a language).
        await page.goto(f"{base}/kiosk/enrol/{kiosk_token}")
        assert page.url == base + "/kiosk"
        for language, one in zip(LANGUAGES, booked, strict=True):
            await speaking(context, base, language)
            await page.goto(base + "/kiosk")
            await page.wait_for_selector("#code")
            await check(page, language, "kiosk form")
            await page.fill("#code", client.app[LINKS].arrival_code(one.appointment_id))
            await page.click("button[type=submit]")
            await page.wait_for_selector("#kiosk-result")
            assert page.url == base + "/kiosk/checked-in"
            await check(page, language, "kiosk check-in")

        # The rating tablet: waiting, then with the desk's walk-in to rate.
        await page.goto(f"{base}/rate-tablet/enrol/{tablet_token}")
        assert page.url == base + "/rate-tablet"
        await in_each_language(check, page, base, "/rate-tablet", "#rate-idle", "rating tablet, waiting")
        async with transaction(sessions) as session:
            await cases.submit(
                session=session,
                clock=clock,
                details=details(channel="walk_in"),
                status_url=STATUS_URL,
                entered_by_id=desk.id,
            )
        await in_each_language(check, page, base, "/rate-tablet", "label.face", "rating tablet, an invitation")

        # The applicant answers what was asked; the receipt of the only question, then reloaded in the other language.
        number = (await (await client.post("/api/v1/requests", json=api_payload())).json())["tracking_number"]
        async with transaction(sessions) as session:
            await triage.request_information(
                session=session,
                clock=clock,
                tracking_number=number,
                actor_id=auditor.id,
                missing="صورة صك الحكم",
                status_url=STATUS_URL,
            )
        for language in LANGUAGES:
            await speaking(context, base, language)
            await page.goto(base + "/status")
            await page.fill("#tracking_number", number)
            await page.fill("#phone", "0501234567")
            await page.click("button.primary")
            await page.wait_for_selector("#needs-information")
            await check(page, language, "status after the enquiry")
        await page.click("#answer-start")
        await page.wait_for_selector("#code")
        await in_each_language(check, page, base, "/status/answer/code", "#code", "the answer's code page")
        await page.fill("#code", await last_code(sessions, "applicant_code"))
        await page.click("#check-code")
        await in_each_language(check, page, base, "/status/answer", "form.answer-form", "the answer form")
        question = await page.locator("form.answer-form input[name=information_request_id]").first.get_attribute(
            "value"
        )
        await page.fill(f"#answer-{question}", "أرفقت صورة الصك")
        await page.click(f"#send-answer-{question}")
        await page.wait_for_selector("#answer-received")
        assert page.url == base + "/status/answer/received"
        await in_each_language(check, page, base, "/status/answer/received", "#answer-received", "the answer received")

        # "My requests": the code page, the list, a request's tracker.
        await page.goto(base + "/status/mine")
        await page.fill("#phone", phone(0))
        await page.click("#send-code")
        await page.wait_for_selector("#code")
        await in_each_language(check, page, base, "/status/mine/code", "#code-sent", "my requests' code page")
        await page.fill("#code", await last_code(sessions, "my_requests_code"))
        await page.click("#check-code")
        await page.wait_for_selector("#my-requests")
        await in_each_language(check, page, base, "/status/mine", "#my-requests", "my requests")
        tracker = f"/status/mine/{booked[0].tracking_number}"
        await in_each_language(check, page, base, tracker, "#tracker", "a request's tracker from my requests")
    finally:
        await context.close()
    assert check.checked == 22 * len(WIDTHS)
    assert not check.findings, "\n".join(check.findings)
