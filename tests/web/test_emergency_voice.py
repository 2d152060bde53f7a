"""The emergency line's voice webhooks, posted as Twilio posts them and signed by the real RequestValidator
(tests/fake_twilio.Inbound): the Arabic menu's TwiML parsed, the emergency choice recorded and enqueued for the
agents, a missed call owed a callback, a bridged one answered, repeats changing nothing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import calls
from emergency.models import LineCall, LineCallState
from majlis.app import create_app
from majlis.clock import FrozenClock
from tests.conftest import RecordingChannel, make_settings
from tests.factories import Client
from tests.fake_twilio import Inbound, InboundRefused, new_call_sid
from tests.web.test_twilio_webhooks import AUTH_TOKEN, PUBLIC, signature

Sessions = async_sessionmaker[AsyncSession]
LINE = "/webhooks/twilio/emergency"
MENU = LINE + "/menu"
WAIT = LINE + "/wait"
CONNECT = LINE + "/connect"
RESULT = LINE + "/queue-result"
STATUS = LINE + "/status"
CALLER = "+61412345678"  # a citizen in Sydney
AR, EN = "Polly.Zeina", "Polly.Joanna"
WELCOME_AR = "السلام عليكم. مرحبًا بكم في خط الطوارئ بوزارة الخارجية للمواطنين في الخارج."


@pytest.fixture
def app(database_url: str, clock: FrozenClock, recorder: RecordingChannel) -> web.Application:
    settings = make_settings(database_url, twilio_auth_token=AUTH_TOKEN, public_url=PUBLIC)
    return create_app(settings, clock=clock, channels=recorder.channels())


@pytest.fixture
async def twilio(client: Client) -> AsyncIterator[Inbound]:
    inbound = Inbound(client, PUBLIC, AUTH_TOKEN)
    yield inbound
    await inbound.close()


def parsed(text: str) -> ET.Element:
    return ET.fromstring(text)  # noqa: S314 (our own TwiML, built by the twilio library)


def said(twiml: ET.Element) -> list[tuple[str, str]]:
    """Every <Say>, in order, with its voice."""
    return [(say.get("voice", ""), say.text or "") for say in twiml.iter("Say")]


async def call(twilio: Inbound, path: str, sid: str, *, digits: str | None = None, caller: str = CALLER) -> ET.Element:
    return parsed(await twilio.call(path, caller=caller, call_sid=sid, digits=digits))


async def left_queue(twilio: Inbound, sid: str, result: str, *, caller: str = CALLER, lang: str = "ar") -> ET.Element:
    """The queue's action callback: how the caller left the agents' queue."""
    form = twilio.call_form(caller=caller, call_sid=sid)
    form.update({"QueueResult": result, "QueueSid": "QU" + "1" * 32, "QueueTime": "42"})
    answer = await twilio.post(f"{RESULT}?lang={lang}", form)
    assert answer.status == 200 and answer.content_type == "text/xml", answer
    return parsed(answer.text)


async def line_calls(sessions: Sessions) -> list[LineCall]:
    async with sessions() as session:
        return list(await session.scalars(select(LineCall).order_by(LineCall.id)))


async def the_call(sessions: Sessions, sid: str) -> LineCall:
    async with sessions() as session:
        found = await session.scalar(select(LineCall).where(LineCall.call_sid == sid))
        assert found is not None
        return found


async def test_unsigned_or_wrongly_signed_posts_are_refused(twilio: Inbound, sessions: Sessions) -> None:
    form = twilio.call_form(caller=CALLER, call_sid=new_call_sid(), digits="1")
    for path in (LINE, f"{MENU}?lang=ar", f"{WAIT}?lang=ar", CONNECT, f"{RESULT}?lang=ar", STATUS):
        assert (await twilio.post(path, form, signature="")).status == 403, path
        forged = twilio.signature(path, {**form, "Digits": "2"})
        assert (await twilio.post(path, form, signature=forged)).status == 403, path
        other_key = signature(path, form, token="not-our-token")
        assert (await twilio.post(path, form, signature=other_key)).status == 403, path
        # Signed for another address (the signature covers the URL Twilio called).
        elsewhere = signature(path, form, base="https://elsewhere.example")
        assert (await twilio.post(path, form, signature=elsewhere)).status == 403, path
    assert await line_calls(sessions) == []


async def test_the_call_hears_an_arabic_keypad_menu_said_once_more_then_an_agent(twilio: Inbound) -> None:
    sid = new_call_sid()
    twiml = await call(twilio, LINE, sid)
    [gather] = list(twiml.iter("Gather"))
    assert gather.get("numDigits") == "1" and gather.get("method") == "POST"
    assert gather.get("action") == f"{PUBLIC}{MENU}?lang=ar"
    voices = said(gather)
    assert voices[0] == (AR, WELCOME_AR)
    assert [s.get("language") for s in gather.iter("Say")][:2] == ["arb", "arb"]
    assert voices[1] == (AR, "إن كانت لديكم حالة طارئة الآن، فاضغطوا 1. ولمتابعة بلاغ سبق أن قدّمتموه، اضغطوا 2.")
    assert voices[-1] == (EN, "For English, press 9.")
    # No key: the menu once more, without the welcome.
    [again] = [r.text for r in twiml.iter("Redirect")]
    assert again == f"{PUBLIC}{LINE}?lang=ar&again=1"
    second = await call(twilio, f"{LINE}?lang=ar&again=1", sid)
    assert WELCOME_AR not in [text for _, text in said(second)]
    assert list(second.iter("Gather"))
    # Still no key: the menu's own address without Digits, which puts the caller through (never a hang-up).
    [through] = [r.text for r in second.iter("Redirect")]
    assert through == f"{PUBLIC}{MENU}?lang=ar"
    assert not list(second.iter("Hangup"))


async def test_the_emergency_choice_is_recorded_once_and_enqueued_for_the_agents(
    twilio: Inbound, sessions: Sessions, clock: FrozenClock
) -> None:
    sid = new_call_sid()
    twiml = await call(twilio, f"{MENU}?lang=ar", sid, digits="1")
    assert said(twiml) == [(AR, "يُرجى البقاء على الخط، فنحن نحوّل اتصالكم إلى أحد الموظفين.")]
    [enqueue] = list(twiml.iter("Enqueue"))
    assert enqueue.text == "emergency-agents"
    assert enqueue.get("action") == f"{PUBLIC}{RESULT}?lang=ar" and enqueue.get("method") == "POST"
    assert enqueue.get("waitUrl") == f"{PUBLIC}{WAIT}?lang=ar" and enqueue.get("waitUrlMethod") == "POST"
    [recorded] = await line_calls(sessions)
    assert (recorded.call_sid, recorded.caller, recorded.language) == (sid, CALLER, "ar")
    assert recorded.state is LineCallState.WAITING and recorded.arrived_at == clock.now()
    # Twilio posting the same webhook again: the same call, not a second one.
    clock.advance(timedelta(seconds=3))
    repeat = await call(twilio, f"{MENU}?lang=ar", sid, digits="1")
    assert [e.text for e in repeat.iter("Enqueue")] == ["emergency-agents"]
    assert [c.id for c in await line_calls(sessions)] == [recorded.id]
    # No key after the menu said twice: put through as well.
    other = new_call_sid()
    fallback = await call(twilio, f"{MENU}?lang=ar", other)
    assert [e.text for e in fallback.iter("Enqueue")] == ["emergency-agents"]
    assert (await the_call(sessions, other)).state is LineCallState.WAITING


async def test_nine_gives_the_english_menu_and_english_callers_wait_in_english(
    twilio: Inbound, sessions: Sessions
) -> None:
    sid = new_call_sid()
    english = await call(twilio, f"{MENU}?lang=ar", sid, digits="9")
    [gather] = list(english.iter("Gather"))
    assert gather.get("action") == f"{PUBLIC}{MENU}?lang=en"
    assert said(gather)[0] == (
        EN,
        "You have reached the emergency line of the Ministry of Foreign Affairs for citizens abroad.",
    )
    assert all(voice == EN for voice, _ in said(gather))
    enqueued = await call(twilio, f"{MENU}?lang=en", sid, digits="1")
    [enqueue] = list(enqueued.iter("Enqueue"))
    assert enqueue.get("waitUrl") == f"{PUBLIC}{WAIT}?lang=en"
    assert (await the_call(sessions, sid)).language == "en"
    waiting = said(
        parsed(
            (
                await twilio.post(
                    f"{WAIT}?lang=en", {**twilio.call_form(caller=CALLER, call_sid=sid), "QueuePosition": "3"}
                )
            ).text
        )
    )
    assert waiting == [
        (
            EN,
            "All our agents are speaking with other callers. "
            "Please stay on the line: the next free agent will answer you.",
        ),
        (EN, "You are number 3 in line."),
    ]


async def test_following_a_report_says_how_and_returns_to_the_menu(twilio: Inbound, sessions: Sessions) -> None:
    twiml = await call(twilio, f"{MENU}?lang=ar", new_call_sid(), digits="2")
    [(voice, text)] = said(twiml)
    assert voice == AR and text.startswith("أُرسل إليكم رقم بلاغكم في رسالة نصية")
    assert [r.text for r in twiml.iter("Redirect")] == [f"{PUBLIC}{LINE}?lang=ar&again=1"]
    assert not list(twiml.iter("Enqueue")) and await line_calls(sessions) == []
    # A key not on the menu: said so, and the menu once more.
    other = await call(twilio, f"{MENU}?lang=ar", new_call_sid(), digits="7")
    assert said(other)[0] == (AR, "هذا الرقم ليس من خيارات القائمة.")
    assert list(other.iter("Gather")) and [r.text for r in other.iter("Redirect")] == [f"{PUBLIC}{MENU}?lang=ar"]


async def test_the_waiting_caller_hears_to_stay_on_the_line(twilio: Inbound) -> None:
    form = {**twilio.call_form(caller=CALLER, call_sid=new_call_sid()), "QueuePosition": "1", "QueueTime": "12"}
    twiml = parsed((await twilio.post(f"{WAIT}?lang=ar", form)).text)
    assert said(twiml) == [
        (AR, "جميع موظفينا يتحدثون مع متصلين آخرين. يُرجى البقاء على الخط، وسيجيبكم أول موظف يتفرّغ."),
        (AR, "ترتيبكم في الانتظار: 1."),
    ]
    [pause] = list(twiml.iter("Pause"))
    assert pause.get("length") == "20"
    assert not list(twiml.iter("Hangup")) and not list(twiml.iter("Leave"))


async def test_a_caller_who_hangs_up_in_the_queue_is_owed_a_callback_once(
    twilio: Inbound, sessions: Sessions, clock: FrozenClock
) -> None:
    sid = new_call_sid()
    await call(twilio, f"{MENU}?lang=ar", sid, digits="1")
    clock.advance(timedelta(minutes=2))
    twiml = await left_queue(twilio, sid, "hangup")
    assert said(twiml) == [] and list(twiml.iter("Hangup"))
    missed = await the_call(sessions, sid)
    assert missed.state is LineCallState.MISSED and missed.ended_at == clock.now()
    # The same callback again, and the call's end after it: nothing changes.
    clock.advance(timedelta(minutes=1))
    await left_queue(twilio, sid, "hangup")
    ended = twilio.call_form(caller=CALLER, call_sid=sid, call_status="completed")
    assert (await twilio.post(STATUS, ended)).status == 204
    again = await the_call(sessions, sid)
    assert again.state is LineCallState.MISSED and again.ended_at == missed.ended_at
    async with sessions() as session:
        owed = (await calls.agent_queue(session=session)).callbacks
        assert [c.call_sid for c in owed] == [sid]
        assert await session.scalar(select(func.count()).select_from(LineCall)) == 1


async def test_a_full_queue_or_an_error_tells_the_caller_an_agent_will_call_back(
    twilio: Inbound, sessions: Sessions
) -> None:
    for result in ("queue-full", "error", "leave", "redirected"):
        sid = new_call_sid()
        await call(twilio, f"{MENU}?lang=ar", sid, digits="1")
        twiml = await left_queue(twilio, sid, result)
        assert said(twiml) == [
            (
                AR,
                "تعذّر تحويل اتصالكم إلى أحد الموظفين الآن. وسيعاود أحد الموظفين الاتصال بكم على هذا الرقم في أقرب "
                "وقت ممكن.",
            )
        ], result
        assert list(twiml.iter("Hangup"))
        assert (await the_call(sessions, sid)).state is LineCallState.MISSED, result
    # A withheld number cannot be called back: the caller is asked to call again, and the task still shows.
    sid = new_call_sid()
    await call(twilio, f"{MENU}?lang=en", sid, digits="1", caller="anonymous")
    twiml = await left_queue(twilio, sid, "queue-full", caller="anonymous", lang="en")
    [(voice, text)] = said(twiml)
    assert voice == EN and "your number is hidden" in text
    withheld = await the_call(sessions, sid)
    assert withheld.caller == "" and withheld.state is LineCallState.MISSED


async def test_a_bridged_call_is_answered_and_stays_answered(twilio: Inbound, sessions: Sessions) -> None:
    sid = new_call_sid()
    await call(twilio, f"{MENU}?lang=ar", sid, digits="1")
    # The agents' side dequeues the caller: Twilio asks the <Queue url> on the caller's leg first.
    bridging = parsed(
        (
            await twilio.post(
                CONNECT, {**twilio.call_form(caller=CALLER, call_sid=sid), "DequeingCallSid": new_call_sid()}
            )
        ).text
    )
    assert said(bridging) == [(AR, "يتولى أحد الموظفين الرد على اتصالكم الآن.")]
    assert (await the_call(sessions, sid)).state is LineCallState.ANSWERED
    ended = twilio.call_form(caller=CALLER, call_sid=sid, call_status="completed")
    assert (await twilio.post(STATUS, ended)).status == 204
    twiml = await left_queue(twilio, sid, "bridged")
    assert list(twiml.iter("Hangup")) and said(twiml) == []
    assert (await the_call(sessions, sid)).state is LineCallState.ANSWERED
    # Without the connect step, bridged alone answers it, even after the call's end came first.
    other = new_call_sid()
    await call(twilio, f"{MENU}?lang=ar", other, digits="1")
    assert (
        await twilio.post(STATUS, twilio.call_form(caller=CALLER, call_sid=other, call_status="completed"))
    ).status == 204
    assert (await the_call(sessions, other)).state is LineCallState.MISSED
    await left_queue(twilio, other, "bridged")
    assert (await the_call(sessions, other)).state is LineCallState.ANSWERED
    async with sessions() as session:
        lists = await calls.agent_queue(session=session)
    assert lists.waiting == [] and lists.callbacks == []


async def test_a_call_that_ends_while_waiting_is_missed(twilio: Inbound, sessions: Sessions) -> None:
    sid = new_call_sid()
    await call(twilio, f"{MENU}?lang=ar", sid, digits="1")
    ringing = twilio.call_form(caller=CALLER, call_sid=sid, call_status="in-progress")
    assert (await twilio.post(STATUS, ringing)).status == 204
    assert (await the_call(sessions, sid)).state is LineCallState.WAITING
    assert (
        await twilio.post(STATUS, twilio.call_form(caller=CALLER, call_sid=sid, call_status="completed"))
    ).status == 204
    assert (await the_call(sessions, sid)).state is LineCallState.MISSED
    # A call Majlis never recorded: 204, nothing made up.
    unknown = twilio.call_form(caller=CALLER, call_sid=new_call_sid(), call_status="completed")
    assert (await twilio.post(STATUS, unknown)).status == 204
    assert len(await line_calls(sessions)) == 1


async def test_a_post_without_a_call_sid_is_refused_and_records_nothing(twilio: Inbound, sessions: Sessions) -> None:
    form = {"From": CALLER, "To": "+966112345678", "Digits": "1"}
    answer = await twilio.post(f"{MENU}?lang=ar", form)
    assert answer.status == 400
    with pytest.raises(InboundRefused):
        await twilio.call(f"{MENU}?lang=ar", call_sid="CA" + "x" * 80, digits="1")
    assert await line_calls(sessions) == []
