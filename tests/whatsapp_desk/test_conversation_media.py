"""Evidence sent in the conversation, through the fake Twilio's inbound traffic and media (the real fetcher,
the real RequestValidator): files kept become the request's attachments, files refused are named and the
conversation goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import Case
from followup import attachments
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import Client
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio, Inbound
from tests.followup.files import GIF, pdf, picture
from tests.whatsapp_desk.test_conversation import CITIZEN_ID, PUBLIC, reply_of
from web.keys import SESSIONS
from whatsapp_desk.models import Conversation, DeskMedia, Step

Sessions = async_sessionmaker[AsyncSession]
MB = 1024 * 1024


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def desk_client(
    database_url: str, clock: FrozenClock, recorder: RecordingChannel, fake: FakeTwilio, tmp_path: Path
) -> AsyncIterator[Client]:
    settings = make_settings(
        database_url,
        public_url=PUBLIC,
        twilio_account_sid=FAKE_ACCOUNT_SID,
        twilio_auth_token=FAKE_AUTH_TOKEN,
        twilio_api_base=fake.base_url,
        attachments_dir=str(tmp_path / "attachments"),
        attachment_max_bytes=MB,
    )
    client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    yield client
    await client.close()


async def test_evidence_is_kept_refusals_are_named_and_the_files_become_the_request_s(
    desk_client: Client, fake: FakeTwilio
) -> None:
    twilio = Inbound(desk_client, PUBLIC, FAKE_AUTH_TOKEN)

    async def say(body: str = "", media: tuple[tuple[str, str], ...] = ()) -> str:
        return reply_of(await twilio.whatsapp(body, media=media))

    for answer in ("Hello", "1", "Fatimah Alharbi", CITIZEN_ID, "2", "3", "2", "Building permit"):
        await say(answer)
    assert "up to \u20665\u2069 files, \u20661\u2069 MB each" in await say("My building permit is late.")
    photo, letter = picture(".jpg"), pdf()
    kept = await say(
        media=(
            (fake.add_media(photo, "image/jpeg"), "image/jpeg"),
            (fake.add_media(letter, "application/pdf"), "application/pdf"),
        )
    )
    assert "Files received so far: \u20662\u2069" in kept
    refused = await say(
        media=(
            (fake.add_media(GIF, "image/gif"), "image/gif"),
            (fake.add_media(b"%PDF-" + b"0" * (2 * MB), "application/pdf"), "application/pdf"),
        )
    )
    assert "File \u20661\u2069 is not a PDF, JPEG or PNG file" in refused
    assert "File \u20662\u2069 is larger than \u20661\u2069 MB" in refused
    assert "Files received so far: \u20662\u2069" in refused
    summary = await say("done")
    assert "Files: \u20662\u2069" in summary
    done = await say("1")
    sessions: Sessions = desk_client.app[SESSIONS]
    async with sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None and case.tracking_number in done
        listed = await attachments.of_case(session=session, case_id=case.id)
        rows = list(await session.scalars(select(DeskMedia).order_by(DeskMedia.id)))
        conversation = await session.scalar(select(Conversation))
    assert [a.content_type for a in listed] == ["image/jpeg", "application/pdf"]
    assert [m.attachment_id for m in rows] == [a.id for a in listed]
    assert conversation is not None and conversation.step is Step.IDLE


async def test_a_file_sent_mid_way_is_kept_for_the_request_and_the_question_asked_again(
    desk_client: Client, fake: FakeTwilio
) -> None:
    twilio = Inbound(desk_client, PUBLIC, FAKE_AUTH_TOKEN)
    await twilio.whatsapp("مرحبا")
    await twilio.whatsapp("2")
    scan = picture(".png")
    answer = reply_of(await twilio.whatsapp("", media=((fake.add_media(scan, "image/png"), "image/png"),)))
    assert "حُفظ ملفكم" in answer and "اسمكم الكامل" in answer
    # Cancelling the complaint forgets its file.
    await twilio.whatsapp("إلغاء")
    sessions: Sessions = desk_client.app[SESSIONS]
    async with sessions() as session:
        assert list(await session.scalars(select(DeskMedia))) == []
