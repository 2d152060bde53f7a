"""A department opens its referral from the link in the e-mail it was sent, acknowledges it and answers with a
PDF, in a real browser at a phone's width."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import Browser, FilePayload
from sqlalchemy import select

from followup.models import Attachment, AttachmentOwner, EventKind, ReferralState
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client
from tests.followup.files import pdf
from tests.web.referring import ID_NUMBER, PHONE_DIGITS, Sessions, department, events, refer, referral
from web.keys import ATTACHMENTS, DISPATCHER

pytestmark = pytest.mark.browser


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel, tmp_path: Path) -> web.Application:
    settings = make_settings(database_url, attachments_dir=str(tmp_path / "attachments"))
    return create_app(settings, clock=clock, channels=recorder.channels())


async def test_a_department_answers_from_the_e_mail_s_link_with_a_pdf(
    client: Client, sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel, browser: Browser
) -> None:
    await department(sessions, "water", "المديرية العامة للمياه", "General Directorate of Water")
    [ref] = await refer(sessions, clock, "water")
    # The dispatcher sends the announcement, writing the signed link into the e-mail as it goes.
    await client.app[DISPATCHER].run_once()
    [mail] = [m for m in recorder.sent if m.channel == "email" and m.recipient == "liaison.water@example.org"]
    assert "{referral_link}" not in mail.body
    found = re.search(r"https?://\S+/r/[\w.-]+", mail.body)
    assert found is not None
    url = str(client.make_url(urlsplit(found.group(0)).path))

    page = await browser.new_page(viewport={"width": 390, "height": 844}, locale="ar-SA")
    await page.goto(url)
    assert await page.get_attribute("html", "dir") == "rtl"
    body = await page.text_content("body")
    assert body is not None and ref.tracking_number in body and ID_NUMBER in body and PHONE_DIGITS not in body
    assert await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    box = await page.locator("#acknowledge").bounding_box()
    assert box is not None and box["height"] >= 40  # big enough for a thumb
    await page.click("#acknowledge")
    await page.wait_for_selector("#confirmation")
    await page.click("#back")
    await page.fill("#answer-text", "أُصلح خط المياه المغذي للحي وأُعيدت الخدمة إلى المنزل.")
    document = pdf()
    attached = FilePayload(name="محضر الإصلاح.pdf", mimeType="application/pdf", buffer=document)
    await page.set_input_files("#answer-files", files=[attached])
    await page.click("#send-answer")
    confirmation = await page.wait_for_selector("#confirmation")
    assert confirmation is not None and await confirmation.get_attribute("data-action") == "answer"
    await page.close()

    answered = await referral(sessions, ref.referral_id)
    assert answered.state is ReferralState.ANSWERED and "خط المياه" in answered.answer
    assert [e.kind for e in await events(sessions, ref.referral_id)][-2:] == [
        EventKind.ACKNOWLEDGED,
        EventKind.ANSWERED,
    ]
    async with sessions() as session:
        stored = await session.scalar(select(Attachment).where(Attachment.referral_id == ref.referral_id))
    assert stored is not None and stored.added_by is AttachmentOwner.DEPARTMENT
    assert stored.filename == "محضر الإصلاح.pdf" and stored.content_type == "application/pdf"
    assert await client.app[ATTACHMENTS].read(stored.storage_key) == document
