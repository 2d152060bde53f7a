"""The enquiry line: Twilio's voice webhooks, signed by the real RequestValidator, reading the caller's requests."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases import service as cases
from majlis.app import create_app
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client, details
from tests.web.test_twilio_webhooks import AUTH_TOKEN, PUBLIC, signature
from whatsapp_desk.status import spoken_number

Sessions = async_sessionmaker[AsyncSession]
CALL = "/webhooks/twilio/enquiry"
MENU = "/webhooks/twilio/enquiry/menu"
CALLER = "+966501234567"  # the phone of tests.factories.details


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> web.Application:
    settings = make_settings(database_url, twilio_auth_token=AUTH_TOKEN, public_url=PUBLIC)
    return create_app(settings, clock=clock, channels=recorder.channels())


def call(caller: str = CALLER, **fields: str) -> dict[str, str]:
    return {"CallSid": "CA" + "0" * 32, "From": caller, "To": "+966112345678", "CallStatus": "in-progress", **fields}


async def signed(client: Client, path: str, params: dict[str, str]) -> ET.Element:
    """The TwiML answer to a post signed as Twilio signs it."""
    response = await client.post(path, data=params, headers={"X-Twilio-Signature": signature(path, params)})
    assert response.status == 200, await response.text()
    assert response.content_type == "text/xml"
    return ET.fromstring(await response.text())  # noqa: S314 (our own TwiML, built by the twilio library)


def said(twiml: ET.Element) -> list[tuple[str, str]]:
    """Every <Say>, in order, with its voice."""
    return [(say.get("voice", ""), say.text or "") for say in twiml.iter("Say")]


async def submitted(sessions: Sessions, clock: FrozenClock, **overrides: object) -> str:
    async with transaction(sessions) as session:
        made = await cases.submit(session=session, clock=clock, details=details(**overrides), status_url=PUBLIC)
        return made.case.tracking_number


async def test_unsigned_or_wrongly_signed_calls_are_refused(client: Client) -> None:
    for path in (CALL, MENU, f"{MENU}?lang=en"):
        plain = await client.post(path, data=call(Digits="1"))
        assert plain.status == 403
        forged = await client.post(
            path, data=call(Digits="1"), headers={"X-Twilio-Signature": signature(path, call(Digits="2"))}
        )
        assert forged.status == 403
        other_key = signature(path, call(Digits="1"), token="not-our-token")
        assert (await client.post(path, data=call(Digits="1"), headers={"X-Twilio-Signature": other_key})).status == 403


async def test_the_call_is_greeted_in_arabic_with_a_keypad_menu_said_once_more_then_goodbye(client: Client) -> None:
    twiml = await signed(client, CALL, call())
    [gather] = list(twiml.iter("Gather"))
    assert gather.get("numDigits") == "1" and gather.get("action") == f"{PUBLIC}{MENU}?lang=ar"
    voices = said(gather)
    assert voices[0] == ("Polly.Zeina", "السلام عليكم. مرحبًا بكم في خط الاستعلام لمكتب اللقاء المفتوح.")
    assert "اضغطوا 1" in voices[1][1]
    assert voices[-1] == ("Polly.Joanna", "For English, press 2.")
    # No key: the menu once more (without the welcome), then goodbye.
    [again] = [r.text for r in twiml.iter("Redirect")]
    assert again == f"{PUBLIC}{CALL}?lang=ar&again=1"
    second = await signed(client, f"{CALL}?lang=ar&again=1", call())
    assert "مرحبًا" not in " ".join(text for _, text in said(second))
    assert said(second)[-1] == ("Polly.Zeina", "شكرًا لاتصالكم، في أمان الله.")
    assert list(second.iter("Hangup")) and not list(second.iter("Redirect"))


async def test_pressing_1_reads_the_callers_requests_and_hangs_up(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    number = await submitted(sessions, clock)
    await submitted(sessions, clock, applicant_phone="+966551112233", subject="مساعدة سكنية")
    twiml = await signed(client, f"{MENU}?lang=ar", call(Digits="1"))
    voices = said(twiml)
    assert voices[0] == ("Polly.Zeina", f"الطلب رقم {spoken_number(number)}: تم استلامه، ويتولى مكتب التدقيق مراجعته.")
    assert voices[-1][1] == "شكرًا لاتصالكم، في أمان الله."
    assert list(twiml.iter("Hangup"))
    # In English after pressing 2, with the English voice.
    english_menu = await signed(client, f"{MENU}?lang=ar", call(Digits="2"))
    [gather] = list(english_menu.iter("Gather"))
    assert gather.get("action") == f"{PUBLIC}{MENU}?lang=en"
    assert all(voice == "Polly.Joanna" for voice, _ in said(gather))
    english = said(await signed(client, f"{MENU}?lang=en", call(Digits="1")))
    assert english[0] == ("Polly.Joanna", f"Request {spoken_number(number)}: received; the audit desk is reviewing it.")


async def test_an_unknown_or_withheld_caller_hears_none_found(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await submitted(sessions, clock)
    for caller in ("+966559998877", "anonymous", "+441632960961"):
        voices = said(await signed(client, f"{MENU}?lang=en", call(caller, Digits="1")))
        assert voices[0][1] == "We found no request made with your phone number.", caller


async def test_another_key_says_so_and_offers_the_menu_once_more(client: Client) -> None:
    twiml = await signed(client, f"{MENU}?lang=en", call(Digits="7"))
    voices = said(twiml)
    assert voices[0] == ("Polly.Joanna", "That key is not on the menu.")
    assert list(twiml.iter("Gather")) and list(twiml.iter("Hangup"))
    # 0: the menu again, from the start.
    again = await signed(client, f"{MENU}?lang=en", call(Digits="0"))
    assert said(again)[0][1] == "Welcome to the enquiry line of the open-door audience."
    assert list(again.iter("Redirect"))
