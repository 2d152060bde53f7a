"""An applicant on a phone answers "needs information" with a photo, in a real browser: the status page, the
code by SMS, the answer with the photo, and the confirmation, each fitting a 390-pixel screen."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases import service as cases
from cases.models import CaseStatus
from followup.models import Attachment, AttachmentOwner
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from priority import service as triage
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client, api_payload, make_staff
from tests.followup.files import picture
from web.keys import ATTACHMENTS

pytestmark = pytest.mark.browser

Sessions = async_sessionmaker[AsyncSession]
PHONE = "0501234567"


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel, tmp_path: Path) -> web.Application:
    settings = make_settings(database_url, attachments_dir=str(tmp_path / "attachments"))
    return create_app(settings, clock=clock, channels=recorder.channels())


async def fits_the_screen(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


async def code_sent(sessions: Sessions) -> str:
    """The code as the applicant reads it in the SMS (the outbox holds what the provider is given)."""
    async with sessions() as session:
        message = await session.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.purpose.like("applicant_code:%"))
            .order_by(OutboxMessage.id.desc())
        )
    assert message is not None and message.recipient == "+966501234567"
    found = re.search(r"الرمز \u2066?(\d{6})", message.body)  # the code isolated left to right (majlis.bidi)
    assert found is not None, message.body
    return found.group(1)


async def test_answer_needs_information_with_a_photo_from_a_phone(
    client: Client, sessions: Sessions, clock: FrozenClock, browser: Browser
) -> None:
    number = (await (await client.post("/api/v1/requests", json=api_payload())).json())["tracking_number"]
    desk = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    async with transaction(sessions) as session:
        await triage.request_information(
            session=session,
            clock=clock,
            tracking_number=number,
            actor_id=desk.id,
            missing="صورة صك الحكم",
            status_url="https://majlis.example.sa/status",
        )

    page = await browser.new_page(
        viewport={"width": 390, "height": 844}, locale="ar-SA", has_touch=True, is_mobile=True
    )
    await page.goto(str(client.make_url("/status")))
    assert await page.get_attribute("html", "dir") == "rtl"
    await page.fill("#tracking_number", number)
    await page.fill("#phone", PHONE)
    await page.click("button.primary")
    await page.wait_for_selector("#needs-information")
    assert "صورة صك الحكم" in (await page.text_content("#needs-information") or "")
    assert await fits_the_screen(page)

    await page.click("#answer-start")
    await page.wait_for_selector("#code")
    assert await fits_the_screen(page)
    # The code page came by a redirect: reloading it shows it again and sends no second SMS.
    assert page.url.endswith("/status/answer/code")
    await page.reload()
    await page.wait_for_selector("#code")
    async with sessions() as session:
        sent = await session.scalars(select(OutboxMessage.id).where(OutboxMessage.purpose.like("applicant_code:%")))
        assert len(list(sent)) == 1
    await page.fill("#code", "000000" if (code := await code_sent(sessions)) != "000000" else "111111")
    await page.click("#check-code")
    await page.wait_for_selector("#code-error")
    assert "الرمز غير صحيح" in (await page.text_content("#code-error") or "")
    await page.fill("#code", code)
    await page.click("#check-code")

    form = page.locator("form.answer-form")
    await form.wait_for()
    assert await fits_the_screen(page)
    question_id = await form.locator("input[name=information_request_id]").get_attribute("value")
    assert question_id is not None
    camera = page.locator(f"#photo-{question_id}")
    assert await camera.get_attribute("capture") == "environment"
    photo = picture(".jpg", 640, 480)
    await page.fill(f"#answer-{question_id}", "أرفقت صورة الصك")
    await camera.set_input_files({"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo})
    button = page.locator(f"#send-answer-{question_id}")
    box = await button.bounding_box()
    assert box is not None and box["height"] >= 40 and box["width"] > 300  # a thumb's target, the screen's width
    await button.click()

    await page.wait_for_selector("#answer-received")
    assert "IMG_0042.jpg" in (await page.text_content("#files-received") or "")
    assert await fits_the_screen(page)
    # The receipt came by a redirect: a reload shows it again and posts nothing (one file kept, below).
    assert page.url.endswith("/status/answer/received")
    posts: list[str] = []
    page.on("request", lambda sent: posts.append(sent.url) if sent.method == "POST" else None)
    await page.reload()
    await page.wait_for_selector("#answer-received")
    assert posts == [] and "IMG_0042.jpg" in (await page.text_content("#files-received") or "")
    await page.close()

    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        (kept,) = await session.scalars(select(Attachment))
    assert case is not None and case.status is CaseStatus.RECEIVED
    assert (kept.added_by, kept.content_type, kept.filename) == (
        AttachmentOwner.APPLICANT,
        "image/jpeg",
        "IMG_0042.jpg",
    )
    assert await client.app[ATTACHMENTS].read(kept.storage_key) == photo
