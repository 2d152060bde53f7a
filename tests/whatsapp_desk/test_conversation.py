"""The desk's guided conversation, driven through Twilio's signed webhook (checked by the real RequestValidator):
a request in Arabic typed with Arabic-Indic digits, a complaint in English, a wrong ID re-asked, back and
cancel, the summary's edit, expiry, follow a request, talk to staff, unreadable answers and files."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped, unused-ignore]

from cases.identity import luhn_check_digit
from cases.models import Case, CaseStatus, Channel, Gender, RequestKind
from majlis.app import create_app
from majlis.clock import FrozenClock
from notify.models import InboundMessage
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client
from whatsapp_desk.models import Conversation, DeskMessage, Direction, HandoverReason, Purpose, Step

Sessions = async_sessionmaker[AsyncSession]
AUTH_TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://majlis.example"
WHATSAPP = "/webhooks/twilio/whatsapp"
SENDER = "+966501234567"
CITIZEN_ID = "1" + "23456789" + luhn_check_digit("123456789")
RESIDENT_ID = "2" + "34567891" + luhn_check_digit("234567891")
INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_sids = itertools.count(1)


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> web.Application:
    settings = make_settings(database_url, twilio_auth_token=AUTH_TOKEN, public_url=PUBLIC, whatsapp_rate_per_minute=30)
    return create_app(settings, clock=clock, channels=recorder.channels())


def signed_headers(params: dict[str, str]) -> dict[str, str]:
    return {"X-Twilio-Signature": str(RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + WHATSAPP, params))}


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


def message_params(body: str, sid: str, sender: str = SENDER, media: tuple[str, ...] = ()) -> dict[str, str]:
    params = {"From": f"whatsapp:{sender}", "To": "whatsapp:+14155238886", "Body": body, "MessageSid": sid}
    params["NumMedia"] = str(len(media))
    for index, url in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = "image/jpeg"
    return params


def reply_of(twiml: str) -> str:
    """The text of the TwiML <Message>, "" when the desk said nothing."""
    found = ET.fromstring(twiml).find("Message")  # noqa: S314 (our own server's answer, in a test)
    return found.text or "" if found is not None else ""


async def say(
    client: Client, body: str, *, sid: str | None = None, sender: str = SENDER, media: tuple[str, ...] = ()
) -> str:
    """Posts one signed WhatsApp message as Twilio does; the desk's answer."""
    params = message_params(body, sid or new_sid(), sender, media)
    response = await client.post(WHATSAPP, data=params, headers=signed_headers(params))
    assert response.status == 200, await response.text()
    assert response.content_type == "text/xml"
    return reply_of(await response.text())


async def conversation(sessions: Sessions, phone: str = SENDER) -> Conversation:
    async with sessions() as session:
        found = await session.scalar(select(Conversation).where(Conversation.phone == phone))
    assert found is not None
    return found


async def requests(sessions: Sessions) -> list[Case]:
    async with sessions() as session:
        return list(await session.scalars(select(Case).options(selectinload(Case.applicant)).order_by(Case.id)))


async def up_to_evidence(client: Client, *, arabic: bool = True) -> None:
    """A new request answered as far as the evidence question."""
    await say(client, "السلام عليكم" if arabic else "Hello")
    await say(client, "1")
    await say(client, "فاطمة محمد الحربي" if arabic else "Fatimah Alharbi")
    await say(client, CITIZEN_ID)
    await say(client, "2")
    await say(client, "1")
    await say(client, "1")
    await say(client, "تأخر معاملة" if arabic else "A delayed transaction")
    assert "PDF" in await say(client, "تأخرت معاملتي في البلدية منذ شهرين." if arabic else "My file is late.")


async def test_a_request_in_arabic_typed_with_arabic_indic_digits(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    greeting = await say(client, "السلام عليكم")
    assert "مكتب المقابلات المفتوحة" in greeting and "1. تقديم طلب جديد" in greeting
    assert "Send “English” to continue in English." in greeting  # the way to the other language, in it
    assert "اسمكم الكامل" in await say(client, "١")
    assert "رقم الهوية الوطنية" in await say(client, "فاطمة محمد الحربي")
    spaced = " ".join(CITIZEN_ID[i : i + 3] for i in range(0, 10, 3)).translate(INDIC)
    assert "1. ذكر\n2. أنثى" in await say(client, spaced)
    assert "ما نوع طلبكم" in await say(client, "٢")
    assert "1. الرياض" in await say(client, "مقابلة حضورية")  # a choice by its label
    assert "موضوع طلبكم" in await say(client, "١")
    assert "طلبكم كاملًا" in await say(client, "تأخر معاملة البناء")
    text = "تأخرت معاملة رخصة البناء في البلدية منذ ثلاثة أشهر دون رد."
    assert "«تم»" in await say(client, text)
    summary = await say(client, "تم")
    assert "فاطمة محمد الحربي" in summary and f"\u2066{CITIZEN_ID}\u2069" in summary
    assert "أنثى" in summary and "مقابلة حضورية" in summary and "الرياض" in summary and text in summary
    done = await say(client, "١")
    (case,) = await requests(sessions)
    assert f"\u2066{case.tracking_number}\u2069" in done and "شكرًا لكم" in done
    assert case.channel is Channel.WHATSAPP and case.phone == SENDER and case.status is CaseStatus.RECEIVED
    assert (case.kind, case.branch, case.gender) == (RequestKind.AUDIENCE_IN_PERSON, "riyadh", Gender.FEMALE)
    assert case.applicant_name == "فاطمة محمد الحربي" and case.text == text and case.language.value == "ar"
    talk = await conversation(sessions)
    assert (talk.step, talk.case_id, talk.purpose) == (Step.IDLE, case.id, None)
    async with sessions() as session:
        kept = list(await session.scalars(select(DeskMessage).order_by(DeskMessage.id)))
    # Every message in and out is kept; the request's own exchange (from the menu's choice on) is marked as its.
    assert [m.direction for m in kept] == [Direction.INBOUND, Direction.OUTBOUND] * 11
    assert {m.case_id for m in kept[2:]} == {case.id} and {m.case_id for m in kept[:2]} == {None}
    assert all(m.sent_as == "reply" for m in kept if m.direction is Direction.OUTBOUND)
    # The next message starts again with the greeting.
    assert "مكتب المقابلات المفتوحة" in await say(client, "شكرًا")


async def test_a_complaint_in_english_skips_the_kind_and_can_be_edited_before_it_is_sent(
    client: Client, sessions: Sessions
) -> None:
    greeting = await say(client, "Good morning")
    assert "How may we help you?" in greeting and "أرسلوا «عربي» للمتابعة باللغة العربية." in greeting
    assert "full name" in await say(client, "complaint")
    await say(client, "John Smith")
    assert "1. Male" in await say(client, RESIDENT_ID)
    assert "Which office" in await say(client, "male")  # no kind asked: a complaint is a complaint
    await say(client, "Jeddah")
    await say(client, "Rude treatment")
    await say(client, "I was treated rudely at the reception.")
    summary = await say(client, "skip")
    assert "Kind: Complaint" in summary and "Office: Jeddah" in summary and "Files: \u20660\u2069" in summary
    choices = await say(client, "2")
    assert "Which answer" in choices and "Kind of request" not in choices
    assert "subject" in await say(client, "5")  # the fifth of name, ID, gender, office, subject, text, files
    again = await say(client, "Rude treatment at reception")
    assert "Please review your request" in again and "Subject: Rude treatment at reception" in again
    done = await say(client, "confirm")
    (case,) = await requests(sessions)
    assert case.kind is RequestKind.COMPLAINT and case.subject == "Rude treatment at reception"
    assert case.applicant.kind.value == "resident" and case.language.value == "en"
    assert f"tracking number \u2066{case.tracking_number}\u2069" in done


async def test_a_wrong_id_is_asked_again_with_the_reason(client: Client, sessions: Sessions) -> None:
    await say(client, "Hello")
    await say(client, "1")
    await say(client, "Fatimah Alharbi")
    wrong = CITIZEN_ID[:-1] + str((int(CITIZEN_ID[-1]) + 1) % 10)
    assert "check digit does not match" in await say(client, wrong)
    assert "exactly 10 digits" in await say(client, "12345")
    assert "gender" in await say(client, CITIZEN_ID)
    assert "national ID" in await say(client, "back")
    assert "starts with 1" in await say(client, "3" + CITIZEN_ID[1:])
    assert "gender" in await say(client, CITIZEN_ID)
    assert (await conversation(sessions)).state["answers"]["id_number"] == CITIZEN_ID
    # Three unreadable answers in a row: a person takes over.
    for _ in range(2):
        assert "one of the numbers shown" in await say(client, "perhaps")
    handed = await say(client, "no idea")
    assert "member of our staff will continue" in handed
    talk = await conversation(sessions)
    assert talk.step is Step.STAFF and talk.handover_reason is HandoverReason.UNREADABLE
    assert await say(client, CITIZEN_ID) == ""  # the bot is quiet; the message is kept for staff
    assert (await conversation(sessions)).step is Step.STAFF


async def test_back_returns_to_the_previous_question_and_cancel_drops_the_request(
    client: Client, sessions: Sessions
) -> None:
    await say(client, "مرحبا")
    await say(client, "1")
    await say(client, "فاطمة محمد الحربي")
    assert "اسمكم الكامل" in await say(client, "رجوع")
    assert "رقم الهوية" in await say(client, "فاطمة الحربي")
    await say(client, CITIZEN_ID)
    assert "رقم الهوية" in await say(client, "back")
    assert "الجنس" in await say(client, CITIZEN_ID)
    talk = await conversation(sessions)
    assert talk.state["answers"]["name"] == "فاطمة الحربي" and talk.step is Step.GENDER
    cancelled = await say(client, "إلغاء")
    assert "تم الإلغاء" in cancelled and "1. تقديم طلب جديد" in cancelled
    talk = await conversation(sessions)
    assert (talk.step, talk.purpose, talk.state.get("answers")) == (Step.MENU, None, None)
    assert await requests(sessions) == []
    # "back" at the first question leads to the menu.
    await say(client, "2")
    assert "1. تقديم طلب جديد" in await say(client, "رجوع")


async def test_after_a_day_of_silence_the_conversation_offers_to_resume_or_start_over(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await say(client, "Hello")
    await say(client, "1")
    await say(client, "Fatimah Alharbi")
    clock.advance(timedelta(hours=25))
    resumed = await say(client, CITIZEN_ID)
    assert "Welcome back" in resumed and "Reply 1 to continue" in resumed
    assert (await conversation(sessions)).step is Step.RESUME
    assert "national ID" in await say(client, "1")
    assert "gender" in await say(client, CITIZEN_ID)
    clock.advance(timedelta(hours=30))
    await say(client, "1")
    menu = await say(client, "2")
    assert "1. A new request" in menu
    talk = await conversation(sessions)
    assert talk.step is Step.MENU and "answers" not in talk.state


async def test_language_words_switch_the_conversation_at_any_step(client: Client, sessions: Sessions) -> None:
    await say(client, "السلام عليكم")
    await say(client, "1")
    assert "Please send your full name" in await say(client, "English")
    assert "اسمكم الكامل" in await say(client, "عربي")
    assert (await conversation(sessions)).language == "ar"


async def test_follow_a_request_answers_for_the_sender_and_a_typed_tracking_number(
    client: Client, sessions: Sessions
) -> None:
    await up_to_evidence(client, arabic=False)
    await say(client, "done")
    await say(client, "1")
    (case,) = await requests(sessions)
    await say(client, "Hello")
    listed = await say(client, "3")
    assert case.tracking_number in listed and "tracking number" in listed
    assert (await conversation(sessions)).step is Step.FOLLOW
    typed = await say(client, case.tracking_number.translate(INDIC))
    assert case.tracking_number in typed
    assert "looks like" in await say(client, "where is it?")
    assert "1. A new request" in await say(client, "cancel")


async def test_talk_to_staff_hands_the_conversation_over_and_the_bot_stays_quiet(
    client: Client, sessions: Sessions
) -> None:
    await say(client, "مرحبا")
    assert "سيردّ عليكم أحد موظفينا" in await say(client, "٤")
    talk = await conversation(sessions)
    assert (talk.step, talk.purpose, talk.handover_reason) == (Step.STAFF, Purpose.STAFF, HandoverReason.ASKED)
    assert talk.needs_staff_since is not None
    assert await say(client, "متى يرد أحد؟") == ""
    async with sessions() as session:
        inbound = await session.scalar(
            select(func.count()).select_from(DeskMessage).where(DeskMessage.direction == Direction.INBOUND)
        )
    assert inbound == 3


async def test_files_that_cannot_be_fetched_are_named_and_the_request_goes_on(
    client: Client, sessions: Sessions
) -> None:
    await up_to_evidence(client)
    # No provider is configured here: the file cannot be fetched, and the sender is told which one.
    refused = await say(client, "", media=("https://api.twilio.com/Media/ME1",))
    assert "تعذّر استلام الملف \u20661\u2069" in refused
    assert (await conversation(sessions)).step is Step.EVIDENCE
    summary = await say(client, "تم")
    assert "يُرجى مراجعة طلبكم" in summary
    await say(client, "١")
    assert len(await requests(sessions)) == 1


async def test_files_failing_three_times_in_a_row_hand_the_conversation_to_staff(
    client: Client, sessions: Sessions
) -> None:
    await up_to_evidence(client, arabic=False)
    for _ in range(2):
        assert "could not be received" in await say(client, "", media=("https://api.twilio.com/Media/ME2",))
    handed = await say(client, "", media=("https://api.twilio.com/Media/ME3",))
    assert "could not receive your files" in handed
    talk = await conversation(sessions)
    assert talk.step is Step.STAFF and talk.handover_reason is HandoverReason.MEDIA
    async with sessions() as session:
        kept = await session.scalar(select(func.count()).select_from(InboundMessage))
    assert kept == 12


async def test_a_request_repeating_an_open_one_is_cancelled_and_the_sender_told_the_earlier_number(
    client: Client, sessions: Sessions
) -> None:
    for _ in range(2):
        await up_to_evidence(client)
        await say(client, "تم")
        answer = await say(client, "1")
    first, second = await requests(sessions)
    assert first.status is CaseStatus.RECEIVED and second.status is CaseStatus.DUPLICATE
    assert f"({second.tracking_number})" in answer.replace("\u2066", "").replace("\u2069", "")
    assert f"\u2066{first.tracking_number}\u2069" in answer and "مكرّر" in answer
    assert (await conversation(sessions)).case_id == second.id
