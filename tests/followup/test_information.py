"""Information asked of the applicant as a conversation, on SQLite and PostgreSQL: the question by SMS, the
one-time code (expiry, throttle, wrong tries), the answer with files, and the request back where it was."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from cases.models import Case, CaseStatus, StatusChange
from followup import information, referrals
from followup.attachments import AttachmentStore, Upload
from followup.information import CodePolicy
from followup.models import (
    ApplicantCode,
    Attachment,
    AttachmentOwner,
    EventKind,
    InformationRequest,
    ReferralSource,
    ReferralState,
)
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from priority import service as triage
from tests.followup.arrange import add_department
from tests.followup.files import GIF, pdf, picture, upload
from tests.priority.test_triage import desk, new_case, ready

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.sa/status"
POLICY = CodePolicy(lifetime=timedelta(minutes=10), per_hour=3, max_tries=5)
TO_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments", max_bytes=1024 * 1024, max_files=3)


async def case_of(sessions: Sessions, number: str) -> Case:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
    assert case is not None
    return case


async def asked_by_desk(sessions: Sessions, clock: FrozenClock, missing: str = "صورة صك الحكم") -> tuple[str, int]:
    """A new request the audit desk asked about; its tracking number and the desk's account."""
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    await ask(sessions, clock, number, actor, missing)
    return number, actor


async def ask(sessions: Sessions, clock: FrozenClock, number: str, actor: int, missing: str) -> None:
    async with transaction(sessions) as session:
        await triage.request_information(
            session=session, clock=clock, tracking_number=number, actor_id=actor, missing=missing, status_url=URL
        )


async def send_code(sessions: Sessions, clock: FrozenClock, number: str) -> str:
    """Sends a code and reads it back from the SMS in the outbox, as the applicant reads it on the phone."""
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        row = await information.send_code(session=session, clock=clock, case=case, policy=POLICY)
        message = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == f"applicant_code:{row.id}"))
    assert message is not None and message.channel == "sms"
    # In Arabic the code stands between left-to-right isolates (notify.texts.isolated).
    found = re.search(r"(?:Code|الرمز) \u2066?(\d{6})", message.body)
    assert found is not None, message.body
    return found.group(1)


async def check(sessions: Sessions, clock: FrozenClock, number: str, code: str) -> None:
    """Checks a code in a transaction that commits even when the code is refused, as the web layer does."""
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        try:
            await information.check_code(session=session, clock=clock, case=case, code=code, policy=POLICY)
        finally:
            await session.commit()


async def open_questions(sessions: Sessions, number: str) -> list[InformationRequest]:
    async with sessions() as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        return await information.open_requests(session=session, case=case)


async def answer(
    sessions: Sessions,
    clock: FrozenClock,
    store: AttachmentStore,
    question: InformationRequest,
    text: str,
    uploads: list[Upload] | None = None,
) -> None:
    async with transaction(sessions) as session:
        await information.answer(
            session=session, clock=clock, request=question, text=text, uploads=uploads or [], store=store
        )


async def rows(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_desk_asks_the_applicant_answers_with_a_photo_and_the_request_is_back(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    number, _ = await asked_by_desk(sessions, clock)
    case = await case_of(sessions, number)
    assert case.status is CaseStatus.NEEDS_INFORMATION
    (question,) = await open_questions(sessions, number)
    assert (question.question, question.return_status, question.referral_id) == ("صورة صك الحكم", "received", None)

    code = await send_code(sessions, clock, number)
    async with sessions() as session:
        sms = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose.like("applicant_code:%")))
    assert sms is not None and sms.recipient == case.phone and sms.language == "ar"
    # Riyadh time, ten minutes on; the number and the time each set apart in the Arabic text.
    assert f"\u2066{number}\u2069" in sms.body and "صالح حتى \u206809:40\u2069" in sms.body
    async with sessions() as session:
        stored = await session.scalar(select(ApplicantCode))
    assert stored is not None and code not in stored.code_hash and len(stored.code_hash) == 64

    await check(sessions, clock, number, code.translate(TO_ARABIC))  # typed with Arabic-Indic digits
    photo = picture(".jpg", 64, 48)
    await answer(sessions, clock, store, question, "  أرفقت صورة الصك  ", [upload("صك.jpg", photo)])

    case = await case_of(sessions, number)
    assert case.status is CaseStatus.RECEIVED
    async with sessions() as session:
        done = await session.get_one(InformationRequest, question.id)
        (file,) = await session.scalars(select(Attachment))
        last = (await cases.history(session=session, case_id=case.id))[-1]
    assert done.answer == "أرفقت صورة الصك" and done.answered_at == clock.now()
    assert (file.added_by, file.information_request_id, file.filename) == (
        AttachmentOwner.APPLICANT,
        question.id,
        "صك.jpg",
    )
    assert await store.read(file.storage_key) == photo
    assert (last.from_status, last.to_status, last.actor_id) == (
        CaseStatus.NEEDS_INFORMATION,
        CaseStatus.RECEIVED,
        None,
    )
    assert last.note_key == information.ANSWERED
    assert await open_questions(sessions, number) == []


async def test_the_answer_returns_the_request_to_whatever_it_was(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    await ready(sessions, clock, actor, number)
    assert (await case_of(sessions, number)).status is CaseStatus.AWAITING_AUDIENCE
    await ask(sessions, clock, number, actor, "نسخة من الهوية")
    # A second question in the same conversation returns, like the first, to where the request was.
    await ask(sessions, clock, number, actor, "عنوان السكن")
    first, second = await open_questions(sessions, number)
    assert first.return_status == second.return_status == "awaiting_audience"

    await answer(sessions, clock, store, first, "", [upload("id.pdf", pdf())])
    assert (await case_of(sessions, number)).status is CaseStatus.NEEDS_INFORMATION
    assert [q.id for q in await open_questions(sessions, number)] == [second.id]
    await answer(sessions, clock, store, second, "الرياض، حي النرجس")
    assert (await case_of(sessions, number)).status is CaseStatus.AWAITING_AUDIENCE


async def test_answering_twice_or_after_the_request_moved_on_changes_nothing(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    number, actor = await asked_by_desk(sessions, clock)
    (question,) = await open_questions(sessions, number)
    await answer(sessions, clock, store, question, "تم")
    before = (await rows(sessions, StatusChange), await rows(sessions, Attachment))
    with pytest.raises(information.AlreadyAnswered):
        await answer(sessions, clock, store, question, "مرة أخرى", [upload("again.png", picture())])
    assert (await rows(sessions, StatusChange), await rows(sessions, Attachment)) == before
    assert not store.root.exists()  # no file was written

    # Asked again; the desk then verifies by other means: the question is no longer open.
    await ask(sessions, clock, number, actor, "صورة الصك كاملة")
    (again,) = await open_questions(sessions, number)
    async with transaction(sessions) as session:
        await triage.verify(session=session, clock=clock, tracking_number=number, actor_id=actor)
    with pytest.raises(information.NoLongerOpen):
        await answer(sessions, clock, store, again, "تفضلوا")
    with pytest.raises(information.NothingToAnswer):
        await send_code(sessions, clock, number)
    # A later conversation does not open the question left unanswered in the earlier one.
    await ask(sessions, clock, number, actor, "رقم الصك")
    assert [q.question for q in await open_questions(sessions, number)] == ["رقم الصك"]
    async with sessions() as session:
        stale = await session.get_one(InformationRequest, again.id)
    assert stale.answered_at is None and stale.answer == ""


async def test_a_refused_answer_saves_nothing(sessions: Sessions, clock: FrozenClock, store: AttachmentStore) -> None:
    number, _ = await asked_by_desk(sessions, clock)
    (question,) = await open_questions(sessions, number)
    with pytest.raises(InvalidInput) as caught:
        await answer(
            sessions, clock, store, question, "x" * 2001, [upload("good.png", picture()), upload("anim.gif", GIF)]
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [("answer", "too_long"), ("files.1", "file_type")]
    with pytest.raises(InvalidInput) as empty:
        await answer(sessions, clock, store, question, "   ")
    assert [(e.field, e.code) for e in empty.value.errors] == [("answer", "missing")]
    assert await rows(sessions, Attachment) == 0 and not store.root.exists()
    assert (await case_of(sessions, number)).status is CaseStatus.NEEDS_INFORMATION
    assert [q.id for q in await open_questions(sessions, number)] == [question.id]


async def test_codes_expire_and_only_the_latest_counts(sessions: Sessions, clock: FrozenClock) -> None:
    number, _ = await asked_by_desk(sessions, clock)
    first = await send_code(sessions, clock, number)
    clock.advance(timedelta(minutes=10))
    with pytest.raises(information.CodeExpired):
        await check(sessions, clock, number, first)
    second = await send_code(sessions, clock, number)
    if first != second:
        with pytest.raises(information.WrongCode):
            await check(sessions, clock, number, first)
    await check(sessions, clock, number, second)
    with pytest.raises(information.NoCode):  # used
        await check(sessions, clock, number, second)
    with pytest.raises(InvalidInput):
        await check(sessions, clock, number, "  ")


async def test_at_most_five_wrong_tries_per_code(sessions: Sessions, clock: FrozenClock) -> None:
    number, _ = await asked_by_desk(sessions, clock)
    code = await send_code(sessions, clock, number)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(information.WrongCode) as caught:
            await check(sessions, clock, number, wrong)
        assert caught.value.params == {"left": str(left)}
    with pytest.raises(information.TooManyTries):
        await check(sessions, clock, number, wrong)
    # The counted tries were kept: even the right code is refused now.
    with pytest.raises(information.TooManyTries):
        await check(sessions, clock, number, code)
    async with sessions() as session:
        row = await session.scalar(select(ApplicantCode))
    assert row is not None and row.attempts == 5 and row.used_at is None
    # A new code starts again.
    await check(sessions, clock, number, await send_code(sessions, clock, number))


async def test_at_most_three_codes_an_hour(sessions: Sessions, clock: FrozenClock) -> None:
    number, _ = await asked_by_desk(sessions, clock)
    for _ in range(3):
        await send_code(sessions, clock, number)
        clock.advance(timedelta(minutes=5))
    with pytest.raises(information.TooManyCodes):
        await send_code(sessions, clock, number)
    assert await rows(sessions, ApplicantCode) == 3
    clock.advance(timedelta(minutes=46))
    await send_code(sessions, clock, number)


async def ask_directly(sessions: Sessions, clock: FrozenClock, number: str, actor: int) -> None:
    async with transaction(sessions) as session:
        case = await cases.find_by_tracking_number(session=session, tracking_number=number)
        assert case is not None
        await information.ask_applicant(
            session=session, clock=clock, case=case, question="؟", actor_id=actor, status_url=URL
        )


async def test_a_closed_request_cannot_be_asked(sessions: Sessions, clock: FrozenClock) -> None:
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    async with transaction(sessions) as session:
        await triage.reject(
            session=session, clock=clock, tracking_number=number, actor_id=actor, reason="خارج الاختصاص", status_url=URL
        )
    with pytest.raises(information.RequestClosed):
        await ask_directly(sessions, clock, number, actor)
    assert await rows(sessions, InformationRequest) == 0


async def test_a_department_asks_its_clocks_stop_and_resume_with_the_answer(
    sessions: Sessions, clock: FrozenClock, store: AttachmentStore
) -> None:
    housing = await add_department(sessions, "housing")
    actor = await desk(sessions, clock)
    number = await new_case(sessions, clock)
    case_id = (await case_of(sessions, number)).id
    async with transaction(sessions) as session:
        case = (await cases.lock_cases(session=session, case_ids=[case_id]))[case_id]
        (referral,) = await referrals.refer(
            session=session,
            clock=clock,
            case=case,
            department_ids=[housing],
            directive="دراسة طلب السكن",
            source=ReferralSource.AUDIT_DESK,
            category_code=None,
            urgency=None,
            actor_id=actor,
            status_url=URL,
        )
    clock.advance(timedelta(hours=1))
    async with transaction(sessions) as session:
        locked = await referrals.lock(session=session, referral_id=referral.id)
        case = await session.get_one(Case, locked.case_id)
        asked = await information.ask_applicant(
            session=session,
            clock=clock,
            case=case,
            question="صورة عقد الإيجار",
            actor_id=None,
            status_url=URL,
            referral=locked,
            by="liaison of housing",
        )
    async with sessions() as session:
        paused = await referrals.lock(session=session, referral_id=referral.id)
        events = [e.kind for e in await referrals.events_of(session=session, referral_id=referral.id)]
    assert paused.state is ReferralState.AWAITING_APPLICANT and paused.paused_since == clock.now()
    assert EventKind.INFORMATION_ASKED in events
    assert asked.return_status == "referred" and asked.referral_id == referral.id
    assert (await case_of(sessions, number)).status is CaseStatus.NEEDS_INFORMATION

    clock.advance(timedelta(hours=2))
    await answer(sessions, clock, store, asked, "مرفق العقد", [upload("lease.pdf", pdf())])
    async with sessions() as session:
        resumed = await referrals.lock(session=session, referral_id=referral.id)
        events = [e.kind for e in await referrals.events_of(session=session, referral_id=referral.id)]
        (file,) = await session.scalars(select(Attachment))
    assert resumed.state is ReferralState.ACKNOWLEDGED and resumed.paused_since is None
    assert events[-1] is EventKind.INFORMATION_GIVEN
    # The department's own file now: its liaison may open it.
    assert file.referral_id == referral.id
    assert (await case_of(sessions, number)).status is CaseStatus.REFERRED


def test_the_code_sms_says_no_words_of_the_request() -> None:
    body = information.code_sms(language="en", code="123456", tracking_number="26-000001-7", until="09:40")
    assert body == "Code 123456 to answer request 26-000001-7; it works until 09:40. Do not share it."
