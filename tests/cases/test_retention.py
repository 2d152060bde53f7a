"""Retention: requests closed more than retention_years ago lose their personal data, after a dry run that
changes nothing; the counts the reports read stay. On SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import retention
from cases import service as cases
from cases.models import Applicant, Case, CaseStatus
from followup.models import Attachment, AttachmentOwner
from majlis import cli_retention
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.conftest import make_settings
from tests.priority.test_triage import new_case
from tests.scheduler.test_runs import IDS, URL
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage, Direction, Step

Sessions = async_sessionmaker[AsyncSession]
YEARS = 5


async def closed(sessions: Sessions, clock: FrozenClock, number: str) -> None:
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        await cases.complete(session=session, clock=clock, case=case, actor_id=None, note="زار المتقدم", status_url=URL)
        session.add(
            Attachment(
                case_id=case.id,
                added_by=AttachmentOwner.APPLICANT,
                filename="هوية.pdf",
                content_type="application/pdf",
                size=10,
                sha256="0" * 64,
                storage_key=f"key-{case.id}",
                added_at=clock.now(),
            )
        )


async def by_number(sessions: Sessions, number: str) -> tuple[Case, Applicant]:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        return case, await session.get_one(Applicant, case.applicant_id)


async def test_closed_requests_past_the_period_are_anonymised_after_a_dry_run(
    sessions: Sessions, clock: FrozenClock
) -> None:
    # One applicant with a single request closed long ago; another whose old closed request goes but whose
    # recent request keeps their record; and a request still open.
    gone = await new_case(sessions, clock, applicant_national_id=IDS[0], applicant_phone="+966501234567")
    old_of_kept = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone="+966501234568")
    still_open = await new_case(sessions, clock, applicant_national_id=IDS[2], applicant_phone="+966501234569")
    await closed(sessions, clock, gone)
    await closed(sessions, clock, old_of_kept)
    clock.advance(timedelta(days=365 * YEARS))
    recent = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone="+966501234568")
    async with sessions() as session:
        counts = await cases.count_by_status(session=session)
    # Five years to the day are not yet past: nothing is due.
    async with transaction(sessions) as session:
        assert (await retention.plan(session=session, clock=clock, years=YEARS)).empty
    clock.advance(timedelta(days=2))

    async with transaction(sessions) as session:
        preview = await retention.plan(session=session, clock=clock, years=YEARS)
    assert sorted(preview.tracking_numbers) == sorted([gone, old_of_kept]) and preview.attachments == 2
    case, applicant = await by_number(sessions, gone)
    assert case.anonymised_at is None and case.applicant_name and applicant.name  # the dry run changed nothing

    async with transaction(sessions) as session:
        done = await retention.anonymise(session=session, clock=clock, years=YEARS)
    assert done.case_ids == preview.case_ids and done.applicant_ids == preview.applicant_ids
    for number in (gone, old_of_kept):
        case, _ = await by_number(sessions, number)
        assert case.anonymised_at == clock.now()
        assert (case.applicant_name, case.phone, case.email, case.subject, case.text) == ("", "", None, "", "")
        assert case.status is CaseStatus.COMPLETED and case.kind and case.submitted_at
        async with sessions() as session:
            notes = [change.note for change in await cases.history(session=session, case_id=case.id)]
            assert notes and set(notes) == {""}
            assert await session.scalar(select(func.count()).where(Attachment.case_id == case.id)) == 0
            bodies = set(await session.scalars(select(OutboxMessage.body).where(OutboxMessage.case_id == case.id)))
            assert bodies <= {""}
    _, applicant = await by_number(sessions, gone)
    assert (applicant.name, applicant.phone, applicant.anonymised_at) == ("", "", clock.now())
    assert applicant.id_number != IDS[0]
    # The applicant of a request still inside the period, and the open and recent requests, keep their data.
    for number in (still_open, recent):
        case, applicant = await by_number(sessions, number)
        assert case.anonymised_at is None and case.applicant_name and case.phone
        assert applicant.anonymised_at is None and applicant.name and applicant.id_number in IDS
    async with sessions() as session:
        assert await cases.count_by_status(session=session) == counts
    # Done once: the next run finds nothing.
    async with transaction(sessions) as session:
        assert (await retention.plan(session=session, clock=clock, years=YEARS)).empty


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_command_prints_the_dry_run_and_changes_nothing(
    sessions: Sessions, clock: FrozenClock, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    number = await new_case(sessions, clock)
    await closed(sessions, clock, number)
    clock.advance(timedelta(days=365 * YEARS + 2))
    settings = make_settings(database_url, retention_years=YEARS)
    args = argparse.Namespace(dry_run=True)
    assert await asyncio.to_thread(cli_retention.run, settings, args, clock) == 0
    out = capsys.readouterr().out
    assert "1 would be anonymised, 1 applicant record(s), 1 attachment(s)" in out and number in out
    case, _ = await by_number(sessions, number)
    assert case.anonymised_at is None and case.applicant_name
    args = argparse.Namespace(dry_run=False)
    assert await asyncio.to_thread(cli_retention.run, settings, args, clock) == 0
    assert "1 anonymised" in capsys.readouterr().out
    case, _ = await by_number(sessions, number)
    assert case.anonymised_at == clock.now()


async def conversation(sessions: Sessions, clock: FrozenClock, phone: str, case_number: str | None = None) -> int:
    """A WhatsApp conversation of this phone with a message in, one out, and a file received, all now."""
    async with transaction(sessions) as session:
        case_id = None
        if case_number is not None:
            case_id = (await by_number(sessions, case_number))[0].id
        talk = Conversation(phone=phone, step=Step.IDLE, state={"answers": {"name": "سارة"}}, started_at=clock.now())
        session.add(talk)
        await session.flush()
        inbound = DeskMessage(
            conversation_id=talk.id, direction=Direction.INBOUND, body="اسمي سارة", at=clock.now(), case_id=case_id
        )
        session.add_all(
            [inbound, DeskMessage(conversation_id=talk.id, direction=Direction.OUTBOUND, body="شكرًا", at=clock.now())]
        )
        await session.flush()
        session.add(
            DeskMedia(
                conversation_id=talk.id,
                message_id=inbound.id,
                filename="هوية.jpg",
                content_type="image/jpeg",
                size=10,
                sha256="1" * 64,
                storage_key=f"desk-{talk.id}",
                received_at=clock.now(),
            )
        )
        return talk.id


async def test_whatsapp_conversations_go_once_their_phone_has_no_request_inside_the_period(
    sessions: Sessions, clock: FrozenClock
) -> None:
    phones = ["+96650123456" + str(i) for i in range(4)]
    gone = await new_case(sessions, clock, applicant_national_id=IDS[0], applicant_phone=phones[0])
    old_of_kept = await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=phones[1])
    await closed(sessions, clock, gone)
    await closed(sessions, clock, old_of_kept)
    # The phone of a request closed long ago; a phone with a recent request too; a phone that never filed one,
    # silent since; and one that never filed but wrote again lately.
    talks = [
        await conversation(sessions, clock, phones[0], gone),
        await conversation(sessions, clock, phones[1], old_of_kept),
        await conversation(sessions, clock, phones[2]),
        await conversation(sessions, clock, phones[3]),
    ]
    clock.advance(timedelta(days=365 * YEARS + 2))
    await new_case(sessions, clock, applicant_national_id=IDS[1], applicant_phone=phones[1])
    async with transaction(sessions) as session:
        session.add(DeskMessage(conversation_id=talks[3], direction=Direction.INBOUND, body="مرحبًا", at=clock.now()))

    async with transaction(sessions) as session:
        preview = await retention.plan(session=session, clock=clock, years=YEARS)
    assert (preview.conversation_ids, preview.desk_messages, preview.desk_media) == ([talks[0], talks[2]], 4, 2)
    assert "2 would be deleted, with 4 message(s) and 2 file(s)" in cli_retention.describe(preview, dry_run=True)[-1]
    async with sessions() as session:
        assert await session.scalar(select(func.count(Conversation.id))) == 4  # the dry run changed nothing

    async with transaction(sessions) as session:
        done = await retention.anonymise(session=session, clock=clock, years=YEARS)
    assert done.conversation_ids == [talks[0], talks[2]]
    async with sessions() as session:
        assert set(await session.scalars(select(Conversation.id))) == {talks[1], talks[3]}
        assert set(await session.scalars(select(DeskMedia.conversation_id))) == {talks[1], talks[3]}
        kept = await session.execute(select(DeskMessage.conversation_id, DeskMessage.case_id, DeskMessage.body))
        left = {(talk, body) for talk, _, body in kept}
    # The kept conversation's message about the anonymised request is blanked; the rest of it stays.
    assert left == {
        (talks[1], ""),
        (talks[1], "شكرًا"),
        (talks[3], "اسمي سارة"),
        (talks[3], "شكرًا"),
        (talks[3], "مرحبًا"),
    }
    async with transaction(sessions) as session:
        assert (await retention.plan(session=session, clock=clock, years=YEARS)).empty
