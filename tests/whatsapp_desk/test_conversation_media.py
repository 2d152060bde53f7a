"""Evidence sent in the conversation, through the fake Twilio's inbound traffic and media (the real fetcher,
the real RequestValidator): files kept become the request's attachments, files refused are named and the
conversation goes on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from cases import service as cases
from cases.models import Case
from followup import attachments
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import Client, details, make_staff
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio, Inbound
from tests.followup.files import GIF, pdf, picture
from tests.whatsapp_desk.test_conversation import CITIZEN_ID, PUBLIC, reply_of
from web.keys import SESSIONS
from whatsapp_desk import inbox
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


async def staff_step(sessions: Sessions, clock: FrozenClock, action: str, **kwargs: str) -> None:
    """A step of a member of the desk (made at the first step) on the only conversation."""
    async with transaction(sessions) as session:
        member = await session.scalar(select(StaffUser).where(StaffUser.username == "desk1"))
    if member is None:
        member = await make_staff(sessions, clock, Role.WHATSAPP_DESK, "desk1")
    async with transaction(sessions) as session:
        talk = await session.scalar(select(Conversation))
        assert talk is not None
        await getattr(inbox, action)(
            session=session, clock=clock, conversation_id=talk.id, actor_id=member.id, **kwargs
        )


async def test_files_sent_to_staff_stay_theirs_and_never_join_a_later_request(
    desk_client: Client, fake: FakeTwilio, clock: FrozenClock
) -> None:
    twilio = Inbound(desk_client, PUBLIC, FAKE_AUTH_TOKEN)
    sessions: Sessions = desk_client.app[SESSIONS]
    await twilio.whatsapp("Hello")
    await twilio.whatsapp("4")
    # Five files for staff: as many as one request keeps.
    scans = tuple((fake.add_media(picture(".png"), "image/png"), "image/png") for _ in range(5))
    assert reply_of(await twilio.whatsapp("my papers", media=scans)) == ""
    await staff_step(sessions, clock, "hand_back")

    for answer in ("Hello", "1", "Fatimah Alharbi", CITIZEN_ID, "2", "3", "2", "Building permit", "It is late."):
        await twilio.whatsapp(answer)
    kept = reply_of(await twilio.whatsapp(media=((fake.add_media(pdf(), "application/pdf"), "application/pdf"),)))
    assert "Files received so far: \u20661\u2069" in kept  # not refused as a sixth file
    assert "Files: \u20661\u2069" in reply_of(await twilio.whatsapp("done"))
    await twilio.whatsapp("1")
    async with sessions() as session:
        case = await session.scalar(select(Case))
        assert case is not None
        listed = await attachments.of_case(session=session, case_id=case.id)
        staff_files = list(await session.scalars(select(DeskMedia).where(DeskMedia.attachment_id.is_(None))))
    assert [a.content_type for a in listed] == ["application/pdf"]
    assert len(staff_files) == 5  # still on the conversation's page for staff


async def test_files_sent_to_staff_join_the_request_they_link(
    desk_client: Client, fake: FakeTwilio, clock: FrozenClock
) -> None:
    twilio = Inbound(desk_client, PUBLIC, FAKE_AUTH_TOKEN)
    sessions: Sessions = desk_client.app[SESSIONS]
    async with transaction(sessions) as session:
        case = (await cases.submit(session=session, clock=clock, details=details(), status_url=PUBLIC)).case
    await twilio.whatsapp("Hello")
    await twilio.whatsapp("4")
    await twilio.whatsapp(media=((fake.add_media(picture(".jpg"), "image/jpeg"), "image/jpeg"),))
    await staff_step(sessions, clock, "link_case", tracking_number=case.tracking_number)
    await twilio.whatsapp(media=((fake.add_media(pdf(), "application/pdf"), "application/pdf"),))
    async with sessions() as session:
        listed = await attachments.of_case(session=session, case_id=case.id)
    assert [a.content_type for a in listed] == ["image/jpeg", "application/pdf"]


async def test_blocking_a_sender_mid_way_drops_the_files_gathered(
    desk_client: Client, fake: FakeTwilio, clock: FrozenClock
) -> None:
    twilio = Inbound(desk_client, PUBLIC, FAKE_AUTH_TOKEN)
    sessions: Sessions = desk_client.app[SESSIONS]
    await twilio.whatsapp("Hello")
    await twilio.whatsapp("2")
    await twilio.whatsapp(media=((fake.add_media(picture(".png"), "image/png"), "image/png"),))
    await staff_step(sessions, clock, "block", reason="abuse")
    async with sessions() as session:
        assert list(await session.scalars(select(DeskMedia))) == []


async def test_a_file_sent_with_a_language_word_or_after_a_day_of_silence_is_kept_and_said(
    desk_client: Client, fake: FakeTwilio, clock: FrozenClock
) -> None:
    twilio = Inbound(desk_client, PUBLIC, FAKE_AUTH_TOKEN)
    await twilio.whatsapp("مرحبا")
    await twilio.whatsapp("2")
    switched = reply_of(
        await twilio.whatsapp("English", media=((fake.add_media(picture(".png"), "image/png"), "image/png"),))
    )
    assert "Your file has been kept" in switched and "full name" in switched
    clock.advance(timedelta(hours=25))
    resumed = reply_of(
        await twilio.whatsapp("", media=((fake.add_media(pdf(), "application/pdf"), "application/pdf"),))
    )
    assert "Your file has been kept" in resumed and "Welcome back" in resumed
    assert "full name" in reply_of(await twilio.whatsapp("1"))
    sessions: Sessions = desk_client.app[SESSIONS]
    async with sessions() as session:
        talk = await session.scalar(select(Conversation))
        assert talk is not None and talk.state["files"] == 2
        assert len(list(await session.scalars(select(DeskMedia)))) == 2
