"""End to end with the real providers' libraries: the twilio library against a local fake of its REST API,
aiosmtplib against a local SMTP server. An appointment is placed, the clock jumps to three days before, the
confirmation goes out once on every channel; a declined audience cancels the invitation and a new one follows
with the same UID and a higher SEQUENCE."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
from icalendar import Calendar
from sqlalchemy import select

from majlis.app import create_app
from majlis.bidi import left_to_right
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify.links import Links
from notify.models import MessageStatus, OutboxMessage
from scheduler import confirmations
from scheduler.confirmations import ConfirmationPolicy, Via
from scheduler.models import Answer
from tests.conftest import TEST_SECRET, make_settings, start_client
from tests.factories import Client
from tests.fake_smtp import FakeSmtpServer
from tests.fake_twilio import FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio
from tests.notify.test_email import pictures, read_qr
from tests.scheduler.test_confirmations import at, placed_case
from tests.scheduler.test_runs import URL, appointments, run, sunday_hall
from web.keys import DISPATCHER, LINKS, SESSIONS

TEMPLATE_SID = "HX" + "1" * 32


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def smtp() -> Iterator[FakeSmtpServer]:
    with FakeSmtpServer() as server:
        yield server


@pytest.fixture
async def live(
    database_url: str, clock: FrozenClock, twilio_api: FakeTwilio, smtp: FakeSmtpServer
) -> AsyncIterator[Client]:
    settings = make_settings(
        database_url,
        notify_backend="providers",
        public_url="https://majlis.example",
        twilio_account_sid=FAKE_ACCOUNT_SID,
        twilio_auth_token=FAKE_AUTH_TOKEN,
        twilio_api_base=twilio_api.base_url,
        twilio_whatsapp_from="+966110000000",
        twilio_voice_from="+966110000001",
        whatsapp_templates={"confirmation_ar": TEMPLATE_SID},
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        mail_from="majlis@majlis.example",
    )
    client = await start_client(create_app(settings, clock=clock))
    yield client
    await client.close()


def calendars(smtp: FakeSmtpServer) -> list[Calendar]:
    found = []
    for mail in smtp.received:
        for part in mail.message.walk():
            if part.get_content_type() == "text/calendar":
                found.append(Calendar.from_ical(part.get_content()))
    return found


async def test_the_timeline_through_twilio_and_smtp(
    live: Client, clock: FrozenClock, twilio_api: FakeTwilio, smtp: FakeSmtpServer
) -> None:
    sessions = live.app[SESSIONS]
    dispatcher = live.app[DISPATCHER]
    await sunday_hall(sessions, clock, weeks=3)
    number = await placed_case(sessions, clock)
    await run(sessions, clock)
    # A passing failure on the way: the receipt meets a 429 and goes on the next try.
    twilio_api.fail_next(429)
    first = await dispatcher.run_once()
    assert first.retried == 1
    clock.advance(dispatcher.policy.retry_max)
    await dispatcher.run_once()
    sms = [r.params for r in twilio_api.accepted if r.resource == "Messages" and not r.params["To"].startswith("wh")]
    assert [p["From"] for p in sms] == ["MAJLIS", "MAJLIS"]  # the receipt and the scheduled notice
    assert sms[-1]["StatusCallback"] == "https://majlis.example/webhooks/twilio/status"
    invitation = calendars(smtp)
    assert len(invitation) == 1 and invitation[0]["METHOD"] == "REQUEST"
    uid = str(invitation[0].walk("VEVENT")[0]["UID"])
    assert uid == f"audience-{number}@majlis.example"

    # Three days before, within working hours: asked once on every channel.
    clock.set(at(26, 10))
    async with transaction(sessions) as session:
        assert await confirmations.ask_due(session=session, clock=clock, policy=ConfirmationPolicy()) == 1
    before = len(twilio_api.accepted)
    report = await dispatcher.run_once()
    assert report.failed == 0 and report.sent == 4
    asked = twilio_api.accepted[before:]
    whatsapp = next(r for r in asked if r.params["To"].startswith("whatsapp:"))
    # Outside the 24-hour window: the approved template, with the signed link among its variables.
    assert whatsapp.params["ContentSid"] == TEMPLATE_SID and "Body" not in whatsapp.params
    variables = json.loads(whatsapp.params["ContentVariables"])
    assert variables["1"] == number and variables["4"].startswith("https://majlis.example/a/")
    call = next(r for r in asked if r.resource == "Calls")
    assert 'voice="Polly.Zeina"' in call.twiml and "<Gather" in call.twiml
    assert "https://majlis.example/webhooks/twilio/voice/" in call.twiml
    text = next(r for r in asked if r.resource == "Messages" and r.params["To"].startswith("+"))
    assert "https://majlis.example/a/" in text.params["Body"]
    assert (await dispatcher.run_once()).sent == 0  # nothing goes twice
    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.purpose.like("confirm:%"))))
    assert {r.status for r in rows} == {MessageStatus.SENT}
    assert all(r.provider_id for r in rows if r.channel != "email")

    # The applicant asks for another date: the invitation is cancelled and a new one follows, same UID.
    appointment = (await appointments(sessions))[number]
    async with transaction(sessions) as session:
        await confirmations.answer(
            session=session,
            clock=clock,
            appointment_id=appointment.id,
            answer=Answer.RESCHEDULED,
            via=Via.PORTAL,
            actor_id=None,
            status_url=URL,
            policy=ConfirmationPolicy(),
        )
    await dispatcher.run_once()
    received = calendars(smtp)
    methods = [(c["METHOD"], int(str(c.walk("VEVENT")[0]["SEQUENCE"]))) for c in received]
    assert methods == [("REQUEST", 0), ("REQUEST", 0), ("CANCEL", 1), ("REQUEST", 2)]
    cancel = received[2]
    event = cancel.events[0]
    assert str(event["UID"]) == uid and str(event["STATUS"]) == "CANCELLED"
    assert str(cancel.walk("VTIMEZONE")[0]["TZID"]) == "Asia/Riyadh"
    assert event.start == datetime(2026, 11, 29, 10, 0, tzinfo=RIYADH)
    assert "DTSTART;TZID=Asia/Riyadh:20261129T100000" in cancel.to_ical().decode()
    assert str(received[3].walk("VEVENT")[0]["UID"]) == uid


async def test_the_confirmation_email_shows_the_arrival_code_as_a_qr_code(
    live: Client, clock: FrozenClock, smtp: FakeSmtpServer
) -> None:
    sessions = live.app[SESSIONS]
    dispatcher = live.app[DISPATCHER]
    await sunday_hall(sessions, clock, weeks=3)
    number = await placed_case(sessions, clock)
    await run(sessions, clock)
    appointment = (await appointments(sessions))[number]
    clock.set(at(26, 10))
    async with transaction(sessions) as session:
        assert await confirmations.ask_due(session=session, clock=clock, policy=ConfirmationPolicy()) == 1
    await dispatcher.run_once()
    # Another date asked for: the invitation is cancelled and a new one goes, neither with a picture.
    async with transaction(sessions) as session:
        await confirmations.answer(
            session=session,
            clock=clock,
            appointment_id=appointment.id,
            answer=Answer.RESCHEDULED,
            via=Via.PORTAL,
            actor_id=None,
            status_url=URL,
            policy=ConfirmationPolicy(),
        )
    await dispatcher.run_once()
    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email"))
        purposes = {f"<outbox-{row.id}@majlis.example>": row.purpose.split(":")[0] for row in rows}
    mails = [(purposes[mail.message["Message-ID"]], mail.message) for mail in smtp.received]
    assert [purpose for purpose, _ in mails] == ["invite", "confirm", "uninvite", "invite"]

    confirmation = mails[1][1]
    [picture] = pictures(confirmation)
    assert picture.get_content_type() == "image/png" and picture.get_content_disposition() == "inline"
    code = read_qr(picture.get_content())
    # Exactly the code the kiosk takes for this appointment, signed with the application's secret.
    assert code == Links(public_url="https://majlis.example", secret=TEST_SECRET).arrival_code(appointment.id)
    assert live.app[LINKS].check_arrival_code(code) == appointment.id
    text = confirmation.get_body(preferencelist=("plain",))
    page = confirmation.get_body(preferencelist=("html",))
    assert text is not None and page is not None
    assert code in text.get_content()
    content_id = picture["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}" alt="رمز الحضور {left_to_right(code)}"' in page.get_content()
    # The invitation rides as before: the calendar alternative and the same text as invite.ics.
    [calendar_part] = [part for part in confirmation.walk() if part.get_content_type() == "text/calendar"]
    [attachment] = [part for part in confirmation.walk() if part.get_filename() == "invite.ics"]
    assert calendar_part.get_param("method") == "REQUEST"
    assert attachment.get_content() == calendar_part.get_content().encode()
    event = Calendar.from_ical(calendar_part.get_content()).events[0]
    assert str(event["UID"]) == f"audience-{number}@majlis.example" and int(str(event["SEQUENCE"])) == 0
    # The calendar entry reads as the e-mail does: the code and the answer link written in, no placeholders.
    description = str(event["DESCRIPTION"])
    assert code in description and "/a/" in description
    assert "{arrival}" not in description and "{link}" not in description

    for purpose, mail in mails:
        if purpose != "confirm":
            assert pictures(mail) == [] and mail.get_body(preferencelist=("html",)) is None, purpose


async def test_an_invalid_number_stops_and_is_kept_for_staff(
    live: Client, clock: FrozenClock, twilio_api: FakeTwilio
) -> None:
    sessions = live.app[SESSIONS]
    twilio_api.invalid_numbers.add("+966501000001")
    await placed_case(sessions, clock)
    report = await live.app[DISPATCHER].run_once()
    assert report.failed == 1
    async with sessions() as session:
        receipt = await session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "receipt"))
    assert receipt is not None and receipt.status is MessageStatus.FAILED and receipt.error_code == "21211"
