"""The desk's way in: one answer per MessageSid however often Twilio delivers it, two messages of one sender
at once handled in order, the rate limit, blocked senders, STOP, and confirmation answers that still work."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import ColumnElement, func, select

from majlis.app import create_app
from majlis.clock import FrozenClock
from notify.models import InboundMessage, WhatsAppContact
from scheduler.models import AppointmentState
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import Client
from tests.web.asking import appointment_state, ask, placed
from tests.whatsapp_desk.test_conversation import (
    AUTH_TOKEN,
    CITIZEN_ID,
    PUBLIC,
    WHATSAPP,
    Sessions,
    app,  # noqa: F401 (the fixture: an app whose webhooks Twilio signs)
    conversation,
    message_params,
    new_sid,
    reply_of,
    requests,
    say,
    signed_headers,
    up_to_evidence,
)
from web.keys import SESSIONS
from whatsapp_desk.models import Conversation, DeskMessage, Direction, Step


async def count(sessions: Sessions, model: type, *where: ColumnElement[bool]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_a_message_delivered_again_gets_the_first_answer_and_makes_one_request(
    client: Client, sessions: Sessions
) -> None:
    await up_to_evidence(client)
    await say(client, "تم")
    sid = new_sid()
    first = await say(client, "1", sid=sid)
    (case,) = await requests(sessions)
    assert case.tracking_number in first
    again = await say(client, "1", sid=sid)
    assert again == first
    assert len(await requests(sessions)) == 1
    assert await count(sessions, InboundMessage, InboundMessage.provider_id == sid) == 1
    assert await count(sessions, DeskMessage, DeskMessage.provider_id == sid) == 1
    assert (await conversation(sessions)).step is Step.IDLE


async def test_two_messages_of_one_sender_at_once_are_handled_one_after_the_other(
    client: Client, sessions: Sessions
) -> None:
    await say(client, "Hello")
    await say(client, "1")
    await say(client, "Fatimah Alharbi")
    await say(client, CITIZEN_ID)

    # Each round posts "1" twice at once. Handled in turn, the second sees the step the first left and answers
    # the next question; read together, both would answer the same question and the conversation would move once.
    async def both(body: str) -> list[str]:
        posted = [message_params(body, new_sid()) for _ in range(2)]
        answers = await asyncio.gather(
            *(client.post(WHATSAPP, data=params, headers=signed_headers(params)) for params in posted)
        )
        assert all(answer.status == 200 for answer in answers)
        return [reply_of(await answer.text()) for answer in answers]

    said = await both("1")  # at the gender question: male, then the kind (audience in person)
    assert sum("What kind of request" in text for text in said) == 1
    assert sum("Which office" in text for text in said) == 1
    said = await both("1")  # at the office: Riyadh, then the subject ("1")
    assert sum("subject of your request" in text for text in said) == 1
    assert sum("write your request in full" in text for text in said) == 1
    talk = await conversation(sessions)
    assert talk.step is Step.TEXT
    given = talk.state["answers"]
    assert (given["gender"], given["request_kind"], given["branch"], given["subject"]) == (
        "male",
        "audience_in_person",
        "riyadh",
        "1",
    )
    assert talk.state["previous"] == ["name", "id_number", "gender", "kind", "branch", "subject"]


async def test_a_sender_over_the_rate_is_told_once_to_wait_then_not_answered(
    database_url: str, clock: FrozenClock, recorder: RecordingChannel
) -> None:
    settings = make_settings(database_url, twilio_auth_token=AUTH_TOKEN, public_url=PUBLIC, whatsapp_rate_per_minute=3)
    client = await start_client(create_app(settings, clock=clock, channels=recorder.channels()))
    try:
        sessions = client.app[SESSIONS]
        assert "مكتب المقابلات" in await say(client, "مرحبا")
        clock.advance(timedelta(seconds=10))
        assert "اسمكم الكامل" in await say(client, "1")
        clock.advance(timedelta(seconds=10))
        assert "رقم الهوية" in await say(client, "فاطمة محمد الحربي")
        clock.advance(timedelta(seconds=10))
        assert "يُرجى الانتظار دقيقة" in await say(client, CITIZEN_ID)
        assert await say(client, CITIZEN_ID) == ""
        assert (await conversation(sessions)).step is Step.ID_NUMBER  # nothing done while over the rate
        clock.advance(timedelta(seconds=61))
        assert "الجنس" in await say(client, CITIZEN_ID)
        assert await count(sessions, DeskMessage, DeskMessage.direction == Direction.INBOUND) == 6
    finally:
        await client.close()


async def test_a_blocked_sender_is_kept_but_not_answered(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await say(client, "Hello")
    blocked = await conversation(sessions)
    async with sessions() as session, session.begin():
        talk = await session.get_one(Conversation, blocked.id)
        talk.blocked_at = clock.now()
        talk.block_reason = "abusive messages"
    params = message_params("1", new_sid())
    twiml = await client.post(WHATSAPP, data=params, headers=signed_headers(params))
    assert "<Message>" not in await twiml.text()
    assert (await conversation(sessions)).step is Step.MENU
    assert await count(sessions, DeskMessage, DeskMessage.direction == Direction.INBOUND) == 2
    assert await count(sessions, DeskMessage, DeskMessage.direction == Direction.OUTBOUND) == 1


async def test_stop_opts_out_mid_way_and_start_opts_back_in(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await say(client, "مرحبا")
    await say(client, "1")
    stopped = await say(client, "STOP")
    assert "لن تصلكم رسائل واتساب" in stopped or "no longer receive" in stopped
    async with sessions() as session:
        contact = await session.get(WhatsAppContact, "+966501234567")
    assert contact is not None and contact.opted_out_at == clock.now()
    assert (await conversation(sessions)).step is Step.NAME  # the request waits where it was
    await say(client, "اشتراك")
    async with sessions() as session:
        contact = await session.get(WhatsAppContact, "+966501234567")
    assert contact is not None and contact.opted_out_at is None


async def test_a_confirmation_answer_still_confirms_when_no_request_is_being_made(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    (number,) = await placed(sessions, clock)
    phone = "+966501234567"
    # The sender saw the menu, then the confirmation request: "١" answers the confirmation.
    await say(client, "مرحبا", sender=phone)
    item = (await ask(sessions, clock))[number]
    assert item.phone == phone and (await conversation(sessions, phone)).step is Step.MENU
    confirmed = await say(client, "١", sender=phone)
    assert "شكرًا لكم" in confirmed and item.tracking_number in confirmed
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
    # At the menu shown after the confirmation, "2" is a complaint, not a new date.
    clock.advance(timedelta(minutes=5))
    assert "1. تقديم طلب جديد" in await say(client, "قائمة", sender=phone)
    assert "اسمكم الكامل" in await say(client, "2", sender=phone)
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
    # Mid-way through a complaint, "٣" is an answer to the question asked, and the audience stays.
    await say(client, "فاطمة محمد الحربي", sender=phone)
    assert "10 أرقام" in await say(client, "٣", sender=phone)
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
