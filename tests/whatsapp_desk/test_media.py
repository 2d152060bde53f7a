"""The desk's media: fetched by the real fetcher from the fake Twilio, checked by content, stored once and
attached to the request; every file refused is named and nothing half-kept. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from followup import attachments
from followup.attachments import AttachmentStore
from followup.models import Attachment, AttachmentOwner
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.channels import MediaFetcher
from notify.twilio_media import TwilioMediaFetcher
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, STORAGE_PATH, FakeTwilio
from tests.followup.files import GIF, pdf, picture
from tests.priority.test_triage import new_case
from whatsapp_desk import media
from whatsapp_desk.media import MediaProblem, MediaRef, MediaResult
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage, Direction, Step

Sessions = async_sessionmaker[AsyncSession]
MB = 1024 * 1024
PHONE = "+966501234567"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def fetcher(fake: FakeTwilio) -> AsyncIterator[TwilioMediaFetcher]:
    fetcher = TwilioMediaFetcher(
        account_sid=FAKE_ACCOUNT_SID, auth_token=FAKE_AUTH_TOKEN, api_base=fake.base_url, timeout=2.0
    )
    yield fetcher
    await fetcher.close()


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments", max_bytes=MB, max_files=5)


async def a_conversation(sessions: Sessions, clock: FrozenClock) -> int:
    async with transaction(sessions) as session:
        conversation = Conversation(phone=PHONE, step=Step.EVIDENCE, state={}, started_at=clock.now())
        session.add(conversation)
        await session.flush()
        return conversation.id


async def receive(
    sessions: Sessions,
    clock: FrozenClock,
    conversation_id: int,
    fetcher: MediaFetcher | None,
    store: AttachmentStore,
    files: Sequence[MediaRef],
) -> MediaResult:
    """One inbound message carrying `files`, taken in its own transaction as the webhook would."""
    async with transaction(sessions) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        message = DeskMessage(
            conversation_id=conversation_id,
            direction=Direction.INBOUND,
            body="",
            at=clock.now(),
            media_count=len(files),
        )
        session.add(message)
        await session.flush()
        return await media.take_media(
            session=session,
            clock=clock,
            fetcher=fetcher,
            store=store,
            conversation=conversation,
            message=message,
            media=files,
        )


async def desk_media(sessions: Sessions, conversation_id: int) -> list[DeskMedia]:
    async with sessions() as session:
        found = await session.scalars(
            select(DeskMedia).where(DeskMedia.conversation_id == conversation_id).order_by(DeskMedia.id)
        )
        return list(found)


def ref(fake: FakeTwilio, content: bytes, declared: str) -> MediaRef:
    return MediaRef(fake.add_media(content, declared), declared)


async def test_a_photo_and_a_pdf_are_kept_then_attached_to_the_request_as_the_same_files(
    sessions: Sessions, clock: FrozenClock, fake: FakeTwilio, fetcher: TwilioMediaFetcher, store: AttachmentStore
) -> None:
    conversation_id = await a_conversation(sessions, clock)
    photo, letter, scan = picture(".jpg"), pdf(), picture(".png")
    first = await receive(
        sessions,
        clock,
        conversation_id,
        fetcher,
        store,
        [ref(fake, photo, "image/jpeg"), ref(fake, letter, "application/pdf")],
    )
    second = await receive(sessions, clock, conversation_id, fetcher, store, [ref(fake, scan, "image/png")])
    assert first.problems == [] and second.problems == []
    kept = await desk_media(sessions, conversation_id)
    assert [(m.filename, m.content_type, m.size) for m in kept] == [
        ("whatsapp-1.jpg", "image/jpeg", len(photo)),
        ("whatsapp-2.pdf", "application/pdf", len(letter)),
        ("whatsapp-3.png", "image/png", len(scan)),
    ]
    for row, content in zip(kept, (photo, letter, scan), strict=True):
        assert await store.read(row.storage_key) == content
        assert row.sha256 == hashlib.sha256(content).hexdigest() and row.attachment_id is None
    # Credentials went to Twilio only; each file came from storage without them (fetched together: any order).
    from_storage = [request.path.startswith(STORAGE_PATH) for request in fake.media_requests]
    assert sorted(from_storage) == [False, False, False, True, True, True]
    assert all(request.authorized != stored for request, stored in zip(fake.media_requests, from_storage, strict=True))

    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        conversation = await session.get_one(Conversation, conversation_id)
        made = await media.attach_to_case(session=session, clock=clock, conversation=conversation, case=case)
        assert len(made) == 3
        # Nothing is left to attach: a second call adds nothing.
        assert await media.attach_to_case(session=session, clock=clock, conversation=conversation, case=case) == []
    async with sessions() as session:
        listed = await attachments.of_case(session=session, case_id=case.id)
    assert [(a.filename, a.content_type, a.storage_key, a.added_by) for a in listed] == [
        (m.filename, m.content_type, m.storage_key, AttachmentOwner.APPLICANT) for m in kept
    ]
    assert [m.attachment_id for m in await desk_media(sessions, conversation_id)] == [a.id for a in listed]
    assert sorted(os.listdir(store.root)) == sorted(m.storage_key for m in kept)


async def test_a_file_too_large_or_not_what_it_says_is_named_and_not_kept(
    sessions: Sessions, clock: FrozenClock, fake: FakeTwilio, fetcher: TwilioMediaFetcher, store: AttachmentStore
) -> None:
    conversation_id = await a_conversation(sessions, clock)
    photo = picture(".jpg")
    result = await receive(
        sessions,
        clock,
        conversation_id,
        fetcher,
        store,
        [
            ref(fake, b"%PDF-1.4\n" + b"0" * MB, "application/pdf"),  # past the store's 1 MB
            ref(fake, GIF, "image/jpeg"),  # a GIF said to be a JPEG
            ref(fake, b"<html><script>alert(1)</script></html>", "application/pdf"),
            ref(fake, photo, "application/pdf"),  # a JPEG said to be a PDF: the content decides
        ],
    )
    assert result.problems == [
        MediaProblem(0, "too_large", {"max": "1"}),
        MediaProblem(1, "file_type"),
        MediaProblem(2, "file_type"),
    ]
    (kept,) = result.stored
    assert (kept.filename, kept.content_type) == ("whatsapp-1.jpg", "image/jpeg")
    assert [m.storage_key for m in await desk_media(sessions, conversation_id)] == [kept.storage_key]
    assert os.listdir(store.root) == [kept.storage_key]


async def test_files_past_what_a_request_may_keep_are_named_and_not_kept(
    sessions: Sessions, clock: FrozenClock, fake: FakeTwilio, fetcher: TwilioMediaFetcher, store: AttachmentStore
) -> None:
    conversation_id = await a_conversation(sessions, clock)
    first = await receive(
        sessions, clock, conversation_id, fetcher, store, [ref(fake, picture(".png"), "image/png") for _ in range(3)]
    )
    assert (len(first.stored), first.problems) == (3, [])
    # Five in all (the store's max_files): two more are kept, the third of this message is not.
    second = await receive(
        sessions, clock, conversation_id, fetcher, store, [ref(fake, picture(".png"), "image/png") for _ in range(3)]
    )
    assert len(second.stored) == 2
    assert second.problems == [MediaProblem(2, "too_many", {"max": "5"})]
    assert len(await desk_media(sessions, conversation_id)) == 5
    assert len(os.listdir(store.root)) == 5


async def test_a_fetch_that_fails_is_named_and_the_other_files_kept(
    sessions: Sessions, clock: FrozenClock, fake: FakeTwilio, fetcher: TwilioMediaFetcher, store: AttachmentStore
) -> None:
    conversation_id = await a_conversation(sessions, clock)
    files = [ref(fake, picture(".jpg"), "image/jpeg"), ref(fake, pdf(), "application/pdf")]
    fake.fail_media("error", status=500)
    failed = await receive(sessions, clock, conversation_id, fetcher, store, files)
    # The two are fetched together: whichever reached the fake first met the failure.
    (problem,) = failed.problems
    assert problem.code == "unreadable" and problem.index in (0, 1)
    assert [m.content_type for m in failed.stored] == [("application/pdf", "image/jpeg")[problem.index]]
    fake.fail_media("truncated", times=2)
    cut_off = await receive(sessions, clock, conversation_id, fetcher, store, files)
    assert [(p.index, p.code) for p in cut_off.problems] == [(0, "unreadable"), (1, "unreadable")]
    assert cut_off.stored == []
    # Without a provider configured nothing can be fetched: every file is named, nothing raises.
    without = await receive(sessions, clock, conversation_id, None, store, files)
    assert [(p.index, p.code) for p in without.problems] == [(0, "unreadable"), (1, "unreadable")]
    assert len(await desk_media(sessions, conversation_id)) == 1


async def test_a_forged_media_url_is_never_fetched(
    sessions: Sessions, clock: FrozenClock, fake: FakeTwilio, fetcher: TwilioMediaFetcher, store: AttachmentStore
) -> None:
    conversation_id = await a_conversation(sessions, clock)
    genuine = fake.add_media(picture(".jpg"), "image/jpeg")
    forged = [
        MediaRef("http://169.254.169.254/latest/meta-data/", "image/jpeg"),
        MediaRef(f"{fake.base_url}{genuine.removeprefix('https://api.twilio.com')}", "image/jpeg"),
        MediaRef(genuine.replace("api.twilio.com", "api.twilio.com.evil.example"), "image/jpeg"),
        MediaRef(genuine.replace(FAKE_ACCOUNT_SID, "AC" + "9" * 32), "image/jpeg"),
    ]
    result = await receive(sessions, clock, conversation_id, fetcher, store, forged)
    assert [(p.index, p.code) for p in result.problems] == [(i, "unreadable") for i in range(4)]
    assert fake.media_requests == [] and result.stored == []
    assert await desk_media(sessions, conversation_id) == []


async def test_media_of_a_cancelled_request_is_discarded_and_swept_while_the_rest_is_kept(
    sessions: Sessions, clock: FrozenClock, fake: FakeTwilio, fetcher: TwilioMediaFetcher, store: AttachmentStore
) -> None:
    conversation_id = await a_conversation(sessions, clock)
    attached = await receive(sessions, clock, conversation_id, fetcher, store, [ref(fake, pdf(), "application/pdf")])
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        conversation = await session.get_one(Conversation, conversation_id)
        await media.attach_to_case(session=session, clock=clock, conversation=conversation, case=case)
    dropped = await receive(
        sessions,
        clock,
        conversation_id,
        fetcher,
        store,
        [ref(fake, picture(".jpg"), "image/jpeg"), ref(fake, picture(".png"), "image/png")],
    )
    async with transaction(sessions) as session:
        conversation = await session.get_one(Conversation, conversation_id)
        assert await media.discard_pending(session=session, conversation=conversation) == 2
        assert await media.discard_pending(session=session, conversation=conversation) == 0
    # A later conversation's media waits, pending, for its request.
    waiting = await receive(sessions, clock, conversation_id, fetcher, store, [ref(fake, pdf(), "application/pdf")])
    assert [m.filename for m in waiting.stored] == ["whatsapp-1.pdf"]
    assert [m.storage_key for m in await desk_media(sessions, conversation_id)] == [
        attached.stored[0].storage_key,
        waiting.stored[0].storage_key,
    ]

    # Two days on, the sweep deletes only the discarded files: the attached and the pending ones are named.
    old = (clock.now() - timedelta(days=2)).timestamp()
    for name in os.listdir(store.root):
        os.utime(store.path_of(name), (old, old))
    async with sessions() as session:
        assert await attachments.remove_orphans(session=session, clock=clock, store=store) == 2
        assert await session.scalar(select(Attachment.storage_key)) == attached.stored[0].storage_key
    assert sorted(os.listdir(store.root)) == sorted([attached.stored[0].storage_key, waiting.stored[0].storage_key])
    assert all(not (store.root / m.storage_key).exists() for m in dropped.stored)
