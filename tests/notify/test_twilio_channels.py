"""The Twilio channels, through the real twilio library, against a fake of Twilio's REST API on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from notify.channels import Channel, Channels, Delivery, Outgoing, PermanentSendError, TransientSendError
from notify.twilio_channels import BoundedHttpClient, twilio_channels
from tests.fake_twilio import FakeTwilio

APPLICANT = "+966501234567"
VOICES = {"ar": ("Polly.Zeina", "arb"), "en": ("Polly.Joanna", "en-US")}
TEMPLATES = {"appointment_confirmation": "HX" + "a" * 32}
CALLBACK = "https://majlis.example/notify/status/7"
GATHER = "https://majlis.example/notify/voice/7/answer"
WAIT = 5.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    await fake.start()
    yield fake
    await fake.stop()


def make_channels(api_base: str, *, auth_token: str = "", timeout: float = 5.0) -> dict[str, Channel]:
    return twilio_channels(
        account_sid=FakeTwilio().account_sid,
        auth_token=auth_token or FakeTwilio().auth_token,
        api_base=api_base,
        sms_sender="MAJLIS",
        whatsapp_from="+966110000000",
        voice_from="+966110000001",
        voices=VOICES,
        whatsapp_templates=TEMPLATES,
        request_timeout=timeout,
    )


@pytest.fixture
async def channels(fake: FakeTwilio) -> AsyncIterator[dict[str, Channel]]:
    channels = make_channels(fake.base_url)
    yield channels
    await Channels(channels).close()


def outgoing(channel: str = "sms", **changes: Any) -> Outgoing:
    values: dict[str, Any] = {
        "message_id": 7,
        "channel": channel,
        "recipient": APPLICANT,
        "language": "ar",
        "body": "تم استلام طلبكم رقم 1024.",
        "purpose": "receipt",
    }
    return Outgoing(**(values | changes))


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_sms_goes_out_under_the_sender_name_with_the_status_callback(
    fake: FakeTwilio, channels: dict[str, Channel]
) -> None:
    delivery = await channels["sms"].send(outgoing(status_callback=CALLBACK))

    [accepted] = fake.accepted
    assert accepted.resource == "Messages"
    assert accepted.params == {
        "To": APPLICANT,
        "From": "MAJLIS",
        "Body": "تم استلام طلبكم رقم 1024.",
        "StatusCallback": CALLBACK,
    }
    assert delivery == Delivery(provider_id=accepted.sid, status="queued")
    assert accepted.sid.startswith("SM") and len(accepted.sid) == 34


async def test_sms_without_a_callback_sends_none(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    await channels["sms"].send(outgoing())

    assert "StatusCallback" not in fake.accepted[0].params


async def test_whatsapp_in_the_session_window_sends_free_text(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    await channels["whatsapp"].send(outgoing("whatsapp", whatsapp_session_open=True, body="موعدكم غدًا"))

    assert fake.accepted[0].params == {
        "To": f"whatsapp:{APPLICANT}",
        "From": "whatsapp:+966110000000",
        "Body": "موعدكم غدًا",
    }


async def test_whatsapp_outside_the_window_sends_the_approved_template(
    fake: FakeTwilio, channels: dict[str, Channel]
) -> None:
    message = outgoing(
        "whatsapp",
        payload={"template": "appointment_confirmation", "variables": {"1": "الأحد", "2": "10:30"}},
        status_callback=CALLBACK,
    )

    await channels["whatsapp"].send(message)

    params = fake.accepted[0].params
    assert params["ContentSid"] == TEMPLATES["appointment_confirmation"]
    assert json.loads(params["ContentVariables"]) == {"1": "الأحد", "2": "10:30"}
    assert "Body" not in params
    assert params["To"] == f"whatsapp:{APPLICANT}"
    assert params["StatusCallback"] == CALLBACK


@pytest.mark.parametrize("payload", [{}, {"template": "not_configured", "variables": {}}])
async def test_whatsapp_outside_the_window_without_a_configured_template_fails_permanently(
    fake: FakeTwilio, channels: dict[str, Channel], payload: dict[str, Any]
) -> None:
    with pytest.raises(PermanentSendError, match="template"):
        await channels["whatsapp"].send(outgoing("whatsapp", payload=payload))

    assert fake.accepted == []


async def test_a_call_reads_the_message_in_arabic_and_gathers_one_key(
    fake: FakeTwilio, channels: dict[str, Channel]
) -> None:
    delivery = await channels["voice"].send(outgoing("voice", gather_action=GATHER, status_callback=CALLBACK))

    [accepted] = fake.accepted
    assert accepted.resource == "Calls"
    assert delivery == Delivery(provider_id=accepted.sid, status="queued")
    assert accepted.sid.startswith("CA")
    assert accepted.params["To"] == APPLICANT
    assert accepted.params["From"] == "+966110000001"
    assert accepted.params["StatusCallback"] == CALLBACK
    response = ET.fromstring(accepted.twiml)  # noqa: S314 (our own TwiML, built by the twilio library)
    gather, goodbye = list(response)
    assert gather.tag == "Gather"
    assert gather.attrib == {"action": GATHER, "method": "POST", "numDigits": "1", "timeout": "8"}
    [question] = list(gather)
    assert question.tag == "Say"
    assert question.attrib == {"voice": "Polly.Zeina", "language": "arb"}
    assert question.text == "تم استلام طلبكم رقم 1024."
    assert goodbye.tag == "Say"
    assert goodbye.attrib == {"voice": "Polly.Zeina", "language": "arb"}
    assert goodbye.text == "لم نتلقَّ إجابة. سنعاود الاتصال بكم. شكرًا لكم."


async def test_a_call_in_english_without_a_question_only_speaks(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    await channels["voice"].send(outgoing("voice", language="en", body="Your audience is tomorrow."))

    response = ET.fromstring(fake.accepted[0].twiml)  # noqa: S314 (our own TwiML)
    [say] = list(response)
    assert say.tag == "Say"
    assert say.attrib == {"voice": "Polly.Joanna", "language": "en-US"}
    assert say.text == "Your audience is tomorrow."


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
async def test_rate_limits_and_server_errors_are_transient(
    fake: FakeTwilio, channels: dict[str, Channel], status: int, code: int
) -> None:
    fake.fail_next(status, code)

    with pytest.raises(TransientSendError, match=str(status)):
        await channels["sms"].send(outgoing())

    assert fake.accepted == []
    # The refusal was for that request only.
    await channels["sms"].send(outgoing())
    assert len(fake.accepted) == 1


async def test_an_invalid_number_is_permanent_with_twilios_code(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    fake.invalid_numbers.add(APPLICANT)

    with pytest.raises(PermanentSendError, match="not a valid phone number") as raised:
        await channels["sms"].send(outgoing())

    assert raised.value.code == "21211"
    assert fake.accepted == []


async def test_an_injected_refusal_keeps_its_code(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    fake.fail_next(400, 21610)

    with pytest.raises(PermanentSendError) as raised:
        await channels["whatsapp"].send(outgoing("whatsapp", whatsapp_session_open=True))

    assert raised.value.code == "21610"


async def test_a_refused_connection_is_transient() -> None:
    channels = make_channels(closed_port_url())
    try:
        with pytest.raises(TransientSendError, match="could not be reached"):
            await channels["sms"].send(outgoing())
        with pytest.raises(TransientSendError):
            await channels["sms"].find_sent(outgoing(), since=datetime.now(UTC))
    finally:
        await Channels(channels).close()


async def test_a_wrong_auth_token_is_permanent(fake: FakeTwilio) -> None:
    channels = make_channels(fake.base_url, auth_token="not-the-token")
    try:
        with pytest.raises(PermanentSendError) as raised:
            await channels["sms"].send(outgoing())
        # A look-up Twilio refuses is asked again later, like any failed look-up.
        with pytest.raises(TransientSendError, match="could not be asked"):
            await channels["sms"].find_sent(outgoing(), since=datetime.now(UTC))
    finally:
        await Channels(channels).close()

    assert raised.value.code == "20003"
    assert fake.accepted == []


async def test_an_unanswered_request_times_out_as_transient(fake: FakeTwilio) -> None:
    channels = make_channels(fake.base_url, timeout=0.3)
    fake.hold_after(0)
    since = datetime.now(UTC)
    try:
        with pytest.raises(TransientSendError):
            await channels["sms"].send(outgoing())
        # Twilio took it all the same: the dispatcher must not send it again.
        found = await channels["sms"].find_sent(outgoing(), since=since)
    finally:
        await Channels(channels).close()

    assert found == Delivery(provider_id=fake.accepted[0].sid, status="queued")


async def test_find_sent_finds_a_message_accepted_before_the_dispatcher_died(
    fake: FakeTwilio, channels: dict[str, Channel]
) -> None:
    await channels["sms"].send(outgoing(recipient="+966509999999", body="for someone else"))
    fake.hold_after(1)
    since = datetime.now(UTC)
    sending = asyncio.create_task(channels["sms"].send(outgoing()))
    await asyncio.wait_for(fake.holding.wait(), WAIT)
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending

    found = await channels["sms"].find_sent(outgoing(), since=since)

    assert found == Delivery(provider_id=fake.accepted[1].sid, status="queued")
    assert fake.accepted[1].params["To"] == APPLICANT


async def test_find_sent_is_none_when_nothing_was_sent(channels: dict[str, Channel]) -> None:
    since = datetime.now(UTC)

    for name in ("sms", "whatsapp", "voice"):
        assert await channels[name].find_sent(outgoing(name), since=since) is None


async def test_find_sent_ignores_other_texts_and_older_messages(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    await channels["sms"].send(outgoing(body="an earlier notice"))
    now = datetime.now(UTC)

    assert await channels["sms"].find_sent(outgoing(), since=now) is None
    later = now + timedelta(minutes=5)
    assert await channels["sms"].find_sent(outgoing(body="an earlier notice"), since=later) is None
    # Within the allowance for clock skew it still counts.
    skewed = now + timedelta(seconds=90)
    found = await channels["sms"].find_sent(outgoing(body="an earlier notice"), since=skewed)
    assert found == Delivery(provider_id=fake.accepted[0].sid, status="queued")


async def test_find_sent_matches_a_whatsapp_template_on_recipient_and_time(
    fake: FakeTwilio, channels: dict[str, Channel]
) -> None:
    since = datetime.now(UTC)
    template = outgoing("whatsapp", payload={"template": "appointment_confirmation", "variables": {"1": "x"}})
    await channels["sms"].send(outgoing())
    delivery = await channels["whatsapp"].send(template)

    assert await channels["whatsapp"].find_sent(template, since=since) == delivery
    # The SMS to the same number is not the WhatsApp message.
    assert delivery.provider_id == fake.accepted[1].sid


async def test_find_sent_finds_a_call(fake: FakeTwilio, channels: dict[str, Channel]) -> None:
    since = datetime.now(UTC)
    delivery = await channels["voice"].send(outgoing("voice", gather_action=GATHER))

    assert await channels["voice"].find_sent(outgoing("voice"), since=since) == delivery
    assert await channels["voice"].find_sent(outgoing("voice", recipient="+966509999999"), since=since) is None


async def test_the_rate_limit_refuses_creates_above_it() -> None:
    fake = FakeTwilio(rate_limit_per_second=2)
    await fake.start()
    channels = make_channels(fake.base_url)
    try:
        await channels["sms"].send(outgoing())
        await channels["sms"].send(outgoing())
        with pytest.raises(TransientSendError, match="429"):
            await channels["sms"].send(outgoing())
    finally:
        await Channels(channels).close()
        await fake.stop()

    assert fake.rate_limited == 1
    assert len(fake.accepted) == 2
    assert fake.max_in_any_second() == 2


async def test_close_is_idempotent_and_final(fake: FakeTwilio) -> None:
    channels = make_channels(fake.base_url)
    await channels["sms"].send(outgoing())

    await Channels(channels).close()
    for channel in channels.values():
        await channel.close()

    with pytest.raises(RuntimeError, match="closed"):
        await channels["voice"].send(outgoing("voice"))


def test_only_twilio_urls_are_sent_to_the_api_base() -> None:
    local = BoundedHttpClient(timeout=1.0, api_base="http://127.0.0.1:8081/")
    direct = BoundedHttpClient(timeout=1.0)

    messages = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?To=%2B9665&PageSize=50"
    assert (
        local.target(messages) == "http://127.0.0.1:8081/2010-04-01/Accounts/AC1/Messages.json?To=%2B9665&PageSize=50"
    )
    assert local.target("https://api.dublin.ie1.twilio.com/x.json") == "http://127.0.0.1:8081/x.json"
    assert local.target("https://example.com/x.json") == "https://example.com/x.json"
    assert local.target("https://nottwilio.com/x.json") == "https://nottwilio.com/x.json"
    assert direct.target(messages) == messages


def test_the_factory_refuses_missing_voices() -> None:
    with pytest.raises(ValueError, match="en"):
        twilio_channels(
            account_sid="AC1",
            auth_token="token",
            api_base="",
            sms_sender="MAJLIS",
            whatsapp_from="+966110000000",
            voice_from="+966110000001",
            voices={"ar": VOICES["ar"]},
            whatsapp_templates={},
        )
