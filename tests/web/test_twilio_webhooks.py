"""Twilio's webhooks: signed or refused, WhatsApp and keypad answers, opt-out, delivery reports that never go back."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped, unused-ignore]

from accounts.roles import Role
from cases.models import CaseStatus
from majlis.app import create_app
from majlis.clock import FrozenClock, riyadh
from notify.models import InboundMessage, OutboxMessage, WhatsAppContact
from scheduler.models import Answer, Appointment, AppointmentState, Confirmation, Slot, UnavailableDay
from scheduler.replies import parse
from scheduler.reply_texts import Understood
from tests.conftest import RecordingChannel, make_settings, start_client
from tests.factories import Client, make_staff, sign_in
from tests.web.asking import Asked, appointment_state, ask, case_of, placed
from web.keys import DISPATCHER, LINKS

Sessions = async_sessionmaker[AsyncSession]
AUTH_TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://majlis.example"
WHATSAPP = "/webhooks/twilio/whatsapp"
STATUS = "/webhooks/twilio/status"


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> web.Application:
    settings = make_settings(database_url, twilio_auth_token=AUTH_TOKEN, public_url=PUBLIC)
    return create_app(settings, clock=clock, channels=recorder.channels())


def signature(path: str, params: dict[str, str], *, token: str = AUTH_TOKEN, base: str = PUBLIC) -> str:
    return str(RequestValidator(token).compute_signature(base + path, params))


async def post_signed(client: Client, path: str, params: dict[str, str]) -> str:
    response = await client.post(path, data=params, headers={"X-Twilio-Signature": signature(path, params)})
    assert response.status == 200, await response.text()
    assert response.content_type == "text/xml"
    return await response.text()


def whatsapp(body: str, sid: str, sender: str = "+966501234567") -> dict[str, str]:
    return {"From": f"whatsapp:{sender}", "To": "whatsapp:+14155238886", "Body": body, "MessageSid": sid}


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def one_asked(sessions: Sessions, clock: FrozenClock) -> Asked:
    (number,) = await placed(sessions, clock)
    return (await ask(sessions, clock))[number]


def test_replies_are_read_in_arabic_and_english() -> None:
    for text in ("1", "١", " 1. ", "نعم", "تأكيد", "أؤكد", "Confirm", "YES"):
        assert parse(text).answer is Answer.CONFIRMED, text
    for text in ("2", "٢", "تغيير الموعد", "تأجيل", "reschedule", "change"):
        assert parse(text).answer is Answer.RESCHEDULED, text
    for text in ("3", "٣", "إلغاء", "الغاء", "cancel"):
        assert parse(text).answer is Answer.CANCELLED, text
    for text in ("STOP", "إيقاف", "ايقاف", "الغاء الاشتراك", "إلغاء الاشتراك"):
        assert parse(text).opt_out, text
    for text in ("START", "اشتراك"):
        assert parse(text).opt_in, text
    for text in ("", "4", "12", "نعم 3", "ok", "متى موعدي؟"):
        assert parse(text) == parse(""), text


async def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    params = whatsapp("1", "SM00000000000000000000000000000001")
    attempts = [
        {},  # no signature
        {"X-Twilio-Signature": "not-a-signature"},
        {"X-Twilio-Signature": signature(WHATSAPP, params, token="another-account-token")},
        {"X-Twilio-Signature": signature(WHATSAPP, {**params, "Body": "3"})},  # signed for another body
        # Signed for the address aiohttp sees, not the public one Twilio called.
        {"X-Twilio-Signature": signature(WHATSAPP, params, base=str(client.make_url("")).rstrip("/"))},
    ]
    for headers in attempts:
        response = await client.post(WHATSAPP, data=params, headers=headers)
        assert response.status == 403
        assert "Twilio" in await response.text() and response.content_type == "text/plain"
    for path in (STATUS, "/webhooks/twilio/voice/" + client.app[LINKS].token(item.link())):
        assert (await client.post(path, data={"CallSid": "CA1", "Digits": "1"})).status == 403
    assert await count(sessions, InboundMessage) == 0
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED


async def test_without_an_auth_token_every_webhook_is_refused(database_url: str, clock: FrozenClock) -> None:
    client = await start_client(create_app(make_settings(database_url, public_url=PUBLIC), clock=clock))
    try:
        params = whatsapp("1", "SM1")
        headers = {"X-Twilio-Signature": signature(WHATSAPP, params, token="")}
        assert (await client.post(WHATSAPP, data=params, headers=headers)).status == 403
    finally:
        await client.close()


async def test_a_whatsapp_1_confirms_once_however_often_twilio_delivers_it(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    params = whatsapp("١", "SM0123456789abcdef0123456789abcdef")
    reply = await post_signed(client, WHATSAPP, params)
    assert "<Response><Message>" in reply and "شكرًا لكم" in reply and item.tracking_number in reply
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
    assert (await case_of(sessions, item.tracking_number)).status is CaseStatus.CONFIRMED
    async with sessions() as session:
        inbound = await session.scalar(select(InboundMessage))
        contact = await session.get(WhatsAppContact, item.phone)
        confirmation = await session.get_one(Confirmation, item.confirmation_id)
    messages = await count(sessions, OutboxMessage)
    assert inbound is not None and inbound.understood_as == "confirmed" and inbound.case_id is not None
    assert contact is not None and contact.last_inbound_at == clock.now() and contact.opted_out_at is None
    assert confirmation.answered_via == "whatsapp"
    # Twilio delivers the same message again: the same answer, nothing done twice.
    clock.advance(timedelta(minutes=1))
    assert await post_signed(client, WHATSAPP, params) == reply
    assert await count(sessions, InboundMessage) == 1
    assert await count(sessions, OutboxMessage) == messages


async def test_a_confirmed_audience_can_still_be_cancelled_by_whatsapp(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    await post_signed(client, WHATSAPP, whatsapp("1", "SM" + "1" * 32))
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.CONFIRMED
    clock.advance(timedelta(hours=2))
    await post_signed(client, WHATSAPP, whatsapp("3", "SM" + "2" * 32))
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.RELEASED
    assert (await case_of(sessions, item.tracking_number)).status is CaseStatus.REFERRED


async def test_a_whatsapp_2_frees_the_seat_and_places_the_request_on_another_day(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    reply = await post_signed(client, WHATSAPP, whatsapp("تغيير الموعد", "SM2"))
    assert "موعد" in reply
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.RELEASED
    case = await case_of(sessions, item.tracking_number)
    async with sessions() as session:
        again = await session.scalar(
            select(Slot)
            .join(Appointment, Appointment.slot_id == Slot.id)
            .where(Appointment.case_id == case.id, Appointment.state == AppointmentState.SCHEDULED)
        )
        unavailable = await session.get(UnavailableDay, (case.id, riyadh(item.starts_at).date()))
    assert again is not None and riyadh(again.starts_at).date() == date(2026, 12, 6)
    assert unavailable is not None


async def test_stop_opts_out_and_start_opts_back_in(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    item = await one_asked(sessions, clock)
    reply = await post_signed(client, WHATSAPP, whatsapp("إيقاف", "SM3"))
    assert "اشتراك" in reply
    async with sessions() as session:
        contact = await session.get(WhatsAppContact, item.phone)
    assert contact is not None and contact.opted_out_at == clock.now()
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED
    await post_signed(client, WHATSAPP, whatsapp("START", "SM4"))
    async with sessions() as session:
        contact = await session.get(WhatsAppContact, item.phone)
        understood = list(await session.scalars(select(InboundMessage.understood_as).order_by(InboundMessage.id)))
    assert contact is not None and contact.opted_out_at is None
    assert understood == [Understood.OPTED_OUT, Understood.OPTED_IN]


async def test_messages_that_answer_no_confirmation_are_kept_and_get_the_desk_s_menu(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    # A "1" from a number no confirmation waits on is not an answer: the desk greets it with its menu.
    stranger = await post_signed(client, WHATSAPP, whatsapp("1", "SM5", sender="+966551112222"))
    assert "مكتب المقابلات المفتوحة" in stranger and "4. التحدث إلى أحد الموظفين" in stranger
    chatter = await post_signed(client, WHATSAPP, whatsapp("متى موعدي؟", "SM6"))
    assert "3. متابعة طلب" in chatter
    async with sessions() as session:
        rows = list(await session.scalars(select(InboundMessage).order_by(InboundMessage.id)))
    assert [(r.understood_as, r.case_id) for r in rows] == [("conversation", None), ("conversation", None)]
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED


async def test_a_keypad_3_cancels_and_an_altered_or_expired_link_does_not(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    item = await one_asked(sessions, clock)
    token = client.app[LINKS].token(item.link())
    altered = "/webhooks/twilio/voice/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    params = {"CallSid": "CA0123456789abcdef0123456789abcdef", "Digits": "3"}
    response = await client.post(altered, data=params, headers={"X-Twilio-Signature": signature(altered, params)})
    assert response.status == 403
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.SCHEDULED

    path = "/webhooks/twilio/voice/" + token
    spoken = await post_signed(client, path, params)
    assert '<Say language="arb" voice="Polly.Zeina">' in spoken and "أُلغيت المقابلة" in spoken
    assert spoken.endswith("<Hangup /></Response>")
    assert await appointment_state(sessions, item.appointment_id) is AppointmentState.RELEASED
    assert (await case_of(sessions, item.tracking_number)).status is CaseStatus.REFERRED
    assert await post_signed(client, path, params) == spoken  # the same gather again: nothing more

    clock.set(item.starts_at + timedelta(minutes=1))
    late = await post_signed(client, path, {**params, "CallSid": "CA2"})
    assert "مضى وقت هذه المقابلة" in late and "has passed" in late


async def test_delivery_reports_move_forward_only_and_failures_show_to_staff(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await placed(sessions, clock)
    await client.app[DISPATCHER].run_once()
    async with sessions() as session:
        receipt = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "receipt"))
    assert receipt is not None and receipt.provider_id is not None

    async def report(status: str, **extra: str) -> str | None:
        params = {"MessageSid": str(receipt.provider_id), "MessageStatus": status, **extra}
        response = await client.post(STATUS, data=params, headers={"X-Twilio-Signature": signature(STATUS, params)})
        assert response.status == 204
        async with sessions() as session:
            return (await session.get_one(OutboxMessage, receipt.id)).delivery_status

    assert await report("sent") == "sent"
    assert await report("delivered") == "delivered"
    assert await report("sent") == "delivered"  # a late callback does not move it back
    assert await report("read") == "read"
    assert await report("queued") == "read"
    unknown = {"MessageSid": "SMunknown", "MessageStatus": "delivered"}
    response = await client.post(STATUS, data=unknown, headers={"X-Twilio-Signature": signature(STATUS, unknown)})
    assert response.status == 204

    async with sessions() as session:
        others = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.id != receipt.id)))
        scheduled = next(m for m in others if m.provider_id)
    assert scheduled.provider_id is not None
    params = {"MessageSid": scheduled.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30008"}
    response = await client.post(STATUS, data=params, headers={"X-Twilio-Signature": signature(STATUS, params)})
    assert response.status == 204
    params = {**params, "MessageStatus": "delivered"}
    response = await client.post(STATUS, data=params, headers={"X-Twilio-Signature": signature(STATUS, params)})
    assert response.status == 204  # undelivered is final

    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    page = await client.get("/messages")
    text = await page.text()
    assert page.status == 200
    assert f'id="message-{scheduled.id}"' in text and "30008" in text and "undelivered" in text
    assert f'id="message-{receipt.id}"' not in text
