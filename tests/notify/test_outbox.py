"""The outbox dispatcher hands each due message to its channel once, retries passing failures with
backoff, stops at permanent ones, and settles the claims of a dispatcher that died."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.bidi import left_to_right
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from notify import delivery, outbox
from notify.channels import (
    CHANNELS,
    Channels,
    ConsoleChannel,
    Delivery,
    Outgoing,
    PermanentSendError,
    TransientSendError,
    Unresolvable,
)
from notify.links import Links
from notify.models import MessageStatus, OutboxMessage, WhatsAppContact
from notify.outbox import Dispatcher, DispatchPolicy, next_calling_time
from notify.texts import receipt_sms, sms_segments
from tests.conftest import TEST_SECRET, RecordingChannel

Sessions = async_sessionmaker[AsyncSession]
LINKS = Links(public_url="https://majlis.example", secret=TEST_SECRET)


def dispatcher(sessions: Sessions, clock: FrozenClock, channel: Any, **policy: Any) -> Dispatcher:
    return Dispatcher(
        sessions=sessions,
        clock=clock,
        channels=Channels(dict.fromkeys(CHANNELS, channel)),
        links=LINKS,
        policy=DispatchPolicy(**{"rate_per_second": 10_000.0, **policy}),
    )


async def enqueue(
    sessions: Sessions,
    clock: FrozenClock,
    body: str,
    due_in: timedelta = timedelta(0),
    channel: str = "sms",
    recipient: str = "+966501234567",
    payload: dict[str, Any] | None = None,
) -> int:
    async with transaction(sessions) as session:
        message = await outbox.enqueue(
            session=session,
            clock=clock,
            purpose=f"test:{body}",
            channel=channel,
            recipient=recipient,
            language="ar",
            body=body,
            due_at=clock.now() + due_in,
            payload=payload,
        )
        return message.id


async def rows(sessions: Sessions) -> dict[str, OutboxMessage]:
    async with sessions() as session:
        return {m.body: m for m in await session.scalars(select(OutboxMessage))}


async def test_due_messages_are_sent_once(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "now")
    await enqueue(sessions, clock, "later", due_in=timedelta(days=3))
    recorder = RecordingChannel()
    sending = dispatcher(sessions, clock, recorder)
    assert (await sending.run_once()).sent == 1
    assert (await sending.run_once()).sent == 0
    assert [m.body for m in recorder.sent] == ["now"]
    found = await rows(sessions)
    assert found["now"].status is MessageStatus.SENT and found["now"].provider_id == f"test-{found['now'].id}"
    assert found["later"].status is MessageStatus.PENDING

    clock.advance(timedelta(days=3))
    assert (await sending.run_once()).sent == 1
    assert [m.body for m in recorder.sent] == ["now", "later"]


class Scripted(RecordingChannel):
    """Fails the messages named in `script` the given way, as many times as listed."""

    def __init__(self, script: dict[str, list[Exception]]) -> None:
        super().__init__()
        self.script = script

    async def send(self, outgoing: Outgoing) -> Delivery:
        failures = self.script.get(outgoing.body)
        if failures:
            raise failures.pop(0)
        return await super().send(outgoing)


async def test_passing_failures_are_retried_with_backoff(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "flaky")
    await enqueue(sessions, clock, "good")
    channel = Scripted({"flaky": [TransientSendError("429 too many requests"), TransientSendError("503")]})
    sending = dispatcher(sessions, clock, channel)
    report = await sending.run_once()
    assert (report.sent, report.retried) == (1, 1)
    flaky = (await rows(sessions))["flaky"]
    assert flaky.status is MessageStatus.PENDING and flaky.attempts == 1
    first_wait = flaky.next_attempt_at - clock.now()
    assert timedelta(seconds=30) <= first_wait <= timedelta(seconds=45)
    assert flaky.last_error == "429 too many requests"

    # Not yet due again: nothing happens.
    assert (await sending.run_once()).retried == 0
    clock.advance(first_wait)
    assert (await sending.run_once()).retried == 1
    flaky = (await rows(sessions))["flaky"]
    assert flaky.next_attempt_at - clock.now() >= timedelta(seconds=60)  # the wait doubles
    clock.advance(timedelta(minutes=2))
    assert (await sending.run_once()).sent == 1
    flaky = (await rows(sessions))["flaky"]
    assert flaky.status is MessageStatus.SENT and flaky.attempts == 3
    assert [m.body for m in channel.sent] == ["good", "flaky"]


async def test_permanent_failures_stop_and_passing_ones_give_up(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "invalid number")
    await enqueue(sessions, clock, "always down")
    channel = Scripted(
        {
            "invalid number": [PermanentSendError("The 'To' number is not valid", code="21211")],
            "always down": [TransientSendError("500")] * 5,
        }
    )
    sending = dispatcher(sessions, clock, channel, max_attempts=3)
    report = await sending.run_once()
    assert (report.failed, report.retried) == (1, 1)
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        await sending.run_once()
    found = await rows(sessions)
    assert found["invalid number"].status is MessageStatus.FAILED
    assert found["invalid number"].error_code == "21211" and found["invalid number"].attempts == 1
    assert found["always down"].status is MessageStatus.FAILED and found["always down"].attempts == 3
    assert found["always down"].error_code == "gave_up"
    assert channel.sent == []


async def test_an_unexpected_error_does_not_stop_the_batch(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "bad")
    await enqueue(sessions, clock, "good")
    channel = Scripted({"bad": [RuntimeError("bug in a channel")]})
    report = await dispatcher(sessions, clock, channel).run_once()
    assert (report.sent, report.unsure) == (1, 1)
    bad = (await rows(sessions))["bad"]
    # The provider may have it: the claim stays until the provider can be asked.
    assert bad.status is MessageStatus.SENDING and bad.last_error == "RuntimeError: bug in a channel"


class Remembering(RecordingChannel):
    """A provider that may already hold a message: `find_sent` answers from `held`."""

    def __init__(self, held: dict[str, str], *, resolvable: bool = True) -> None:
        super().__init__()
        self.held = held
        self.resolvable = resolvable
        self.failing: list[str] = []
        self.asked: list[tuple[str, datetime]] = []

    async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
        self.asked.append((outgoing.body, since))
        if not self.resolvable:
            raise Unresolvable("SMTP keeps no record")
        sid = self.held.get(outgoing.body)
        return Delivery(provider_id=sid, status="queued") if sid else None


async def claim_and_die(sessions: Sessions, clock: FrozenClock, *bodies: str) -> None:
    """What a dispatcher killed after its claim leaves behind: the rows "sending", claimed now."""
    async with transaction(sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.body.in_(bodies))
            .values(status=MessageStatus.SENDING, claimed_at=clock.now(), attempts=1)
        )


async def test_a_timeout_after_the_request_went_out_asks_before_sending_again(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await enqueue(sessions, clock, "accepted, answer lost")
    await enqueue(sessions, clock, "never arrived")
    lost = TransientSendError("Twilio did not answer", maybe_sent=True)

    class Provider(Remembering):
        async def send(self, outgoing: Outgoing) -> Delivery:
            if outgoing.body in self.failing:
                self.failing.remove(outgoing.body)
                raise lost
            return await super().send(outgoing)

    provider = Provider({"accepted, answer lost": "SM0002"})
    provider.failing = ["accepted, answer lost", "never arrived"]
    sending = dispatcher(sessions, clock, provider, claim_timeout=timedelta(minutes=2))
    assert (await sending.run_once()).unsure == 2
    clock.advance(timedelta(minutes=3))
    report = await sending.run_once()
    assert (report.resolved_sent, report.resolved_again, report.sent) == (1, 1, 1)
    assert [m.body for m in provider.sent] == ["never arrived"]  # the other is never sent twice
    found = await rows(sessions)
    assert found["accepted, answer lost"].provider_id == "SM0002"
    assert {row.status for row in found.values()} == {MessageStatus.SENT}


async def test_claims_of_a_dead_dispatcher_are_asked_about_before_sending_again(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await enqueue(sessions, clock, "taken by the provider")
    await enqueue(sessions, clock, "never reached it")
    await claim_and_die(sessions, clock, "taken by the provider", "never reached it")
    claimed_at = clock.now()
    provider = Remembering({"taken by the provider": "SM0001"})
    sending = dispatcher(sessions, clock, provider, claim_timeout=timedelta(minutes=2))

    # A live dispatcher may still hold them: nothing is touched before the claim times out.
    clock.advance(timedelta(minutes=1))
    assert (await sending.run_once()).sent == 0
    assert provider.asked == [] and provider.sent == []

    clock.advance(timedelta(minutes=2))
    report = await sending.run_once()
    assert (report.resolved_sent, report.resolved_again, report.sent) == (1, 1, 1)
    assert sorted(provider.asked) == [("never reached it", claimed_at), ("taken by the provider", claimed_at)]
    # Only the message the provider never had is sent; the other keeps the provider's id.
    assert [m.body for m in provider.sent] == ["never reached it"]
    found = await rows(sessions)
    assert found["taken by the provider"].status is MessageStatus.SENT
    assert found["taken by the provider"].provider_id == "SM0001"
    assert found["never reached it"].status is MessageStatus.SENT


async def test_a_claim_smtp_cannot_settle_is_left_to_staff(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "invitation", channel="email", recipient="a@example.com")
    await claim_and_die(sessions, clock, "invitation")
    clock.advance(timedelta(minutes=5))
    provider = Remembering({}, resolvable=False)
    report = await dispatcher(sessions, clock, provider).run_once()
    assert report.uncertain == 1 and provider.sent == []
    found = (await rows(sessions))["invitation"]
    assert found.status is MessageStatus.UNCERTAIN and found.last_error == "SMTP keeps no record"


async def test_voice_calls_ring_in_working_hours_once_a_day(sessions: Sessions, clock: FrozenClock) -> None:
    # Tuesday 2026-11-24 at 17:00 Riyadh: after hours.
    clock.set(datetime(2026, 11, 24, 17, 0, tzinfo=RIYADH))
    await enqueue(sessions, clock, "call 1", channel="voice")
    recorder = RecordingChannel()
    sending = dispatcher(sessions, clock, recorder)
    assert (await sending.run_once()).deferred == 1
    assert (await rows(sessions))["call 1"].next_attempt_at == datetime(2026, 11, 25, 8, 0, tzinfo=RIYADH)

    clock.set(datetime(2026, 11, 25, 8, 0, tzinfo=RIYADH))
    await enqueue(sessions, clock, "call 2", channel="voice")
    await enqueue(sessions, clock, "call to someone else", channel="voice", recipient="+966551234567")
    report = await sending.run_once()
    assert report.sent == 2 and report.deferred == 1
    assert sorted(m.body for m in recorder.sent) == ["call 1", "call to someone else"]
    # The same applicant's second call waits for the next working day.
    assert (await rows(sessions))["call 2"].next_attempt_at == datetime(2026, 11, 26, 8, 0, tzinfo=RIYADH)


def test_calling_hours_skip_the_weekend() -> None:
    thursday_evening = datetime(2026, 11, 26, 16, 30, tzinfo=RIYADH)
    assert next_calling_time(thursday_evening) == datetime(2026, 11, 29, 8, 0, tzinfo=RIYADH)
    saturday = datetime(2026, 11, 28, 11, 0, tzinfo=RIYADH)
    assert next_calling_time(saturday) == datetime(2026, 11, 29, 8, 0, tzinfo=RIYADH)
    sunday_early = datetime(2026, 11, 29, 6, 0, tzinfo=RIYADH)
    assert next_calling_time(sunday_early) == datetime(2026, 11, 29, 8, 0, tzinfo=RIYADH)
    sunday_noon = datetime(2026, 11, 29, 12, 0, tzinfo=RIYADH)
    assert next_calling_time(sunday_noon) == sunday_noon
    assert next_calling_time(sunday_noon, not_today=True) == datetime(2026, 11, 30, 8, 0, tzinfo=RIYADH)


async def test_whatsapp_opt_out_and_the_24_hour_window(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "to the opted out", channel="whatsapp", recipient="+966500000001")
    await enqueue(sessions, clock, "inside the window", channel="whatsapp", recipient="+966500000002")
    await enqueue(sessions, clock, "outside the window", channel="whatsapp", recipient="+966500000003")
    async with transaction(sessions) as session:
        session.add(WhatsAppContact(phone="+966500000001", opted_out_at=clock.now()))
        session.add(WhatsAppContact(phone="+966500000002", last_inbound_at=clock.now() - timedelta(hours=23)))
        session.add(WhatsAppContact(phone="+966500000003", last_inbound_at=clock.now() - timedelta(hours=25)))
    recorder = RecordingChannel()
    report = await dispatcher(sessions, clock, recorder).run_once()
    assert report.cancelled == 1 and report.sent == 2
    assert {m.body: m.whatsapp_session_open for m in recorder.sent} == {
        "inside the window": True,
        "outside the window": False,
    }
    assert (await rows(sessions))["to the opted out"].status is MessageStatus.CANCELLED


async def test_the_answer_link_is_signed_when_the_message_goes(sessions: Sessions, clock: FrozenClock) -> None:
    expires = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    payload = outbox.answer_link_payload(appointment_id=42, expires_at=expires)
    await enqueue(sessions, clock, "confirm here: {link}", payload=payload)
    await enqueue(sessions, clock, "press 1", channel="voice", payload={**payload, "gather": True})
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=RIYADH))
    recorder = RecordingChannel()
    await dispatcher(sessions, clock, recorder).run_once()
    by_channel = {m.channel: m for m in recorder.sent}
    sms = by_channel["sms"]
    assert sms.body.startswith("confirm here: https://majlis.example/a/")
    token = sms.body.rsplit("/", 1)[1]
    assert LINKS.check(token, now=clock.now()).appointment_id == 42
    assert sms.status_callback == "https://majlis.example/webhooks/twilio/status"
    voice = by_channel["voice"]
    assert voice.gather_action.startswith("https://majlis.example/webhooks/twilio/voice/")
    # The stored body keeps the placeholder: no signed link (and no secret) sits in the outbox.
    assert "{link}" in (await rows(sessions))["confirm here: {link}"].body


async def test_an_email_carrying_the_arrival_code_gets_it_as_a_qr_code_too(
    sessions: Sessions, clock: FrozenClock
) -> None:
    expires = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    link = outbox.answer_link_payload(appointment_id=42, expires_at=expires)
    for body, payload in [
        ("code {arrival}, answer at {link}", {**link, "subject": "s"}),
        ("answer at {link}", {**link, "subject": "s"}),
        ("a notice", {"subject": "s"}),
    ]:
        await enqueue(sessions, clock, body, channel="email", recipient="applicant@example.com", payload=payload)
    await enqueue(sessions, clock, "by SMS: {arrival}", payload=link)
    clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=RIYADH))
    recorder = RecordingChannel()
    await dispatcher(sessions, clock, recorder).run_once()

    sent = {m.purpose.removeprefix("test:"): m for m in recorder.sent}
    code = LINKS.arrival_code(42)
    confirmation = sent["code {arrival}, answer at {link}"]
    assert confirmation.body.startswith(f"code {code}, answer at https://majlis.example/a/")
    [image] = confirmation.images
    # The alt text is an Arabic sentence: the code inside it reads left to right between isolates.
    assert image.text == code and image.alt == f"رمز الحضور {left_to_right(code)}"
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n") and image.width == image.height
    # Only an e-mail whose text gives the code shows it as a picture.
    assert [purpose for purpose, m in sent.items() if m.images] == ["code {arrival}, answer at {link}"]
    assert sent["by SMS: {arrival}"].body == f"by SMS: {code}"
    # Nothing of it is kept: the row still holds the placeholders.
    assert "{arrival}" in (await rows(sessions))["code {arrival}, answer at {link}"].body


async def test_console_channel_prints_the_message(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "مرحبا")
    stream = io.StringIO()
    await dispatcher(sessions, clock, ConsoleChannel("sms", stream)).run_once()
    assert "[sms → +966501234567] (test:مرحبا) مرحبا" in stream.getvalue()


async def test_a_missing_channel_fails_the_message_clearly(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "by pigeon", channel="pigeon")
    report = await dispatcher(sessions, clock, RecordingChannel()).run_once()
    assert report.failed == 1
    found = (await rows(sessions))["by pigeon"]
    assert found.status is MessageStatus.FAILED and found.last_error == "no pigeon channel is configured"


def test_backoff_doubles_up_to_the_ceiling() -> None:
    policy = DispatchPolicy(retry_base=timedelta(seconds=30), retry_max=timedelta(hours=1))
    assert policy.backoff(attempts=1, message_id=10) == timedelta(seconds=30)
    assert policy.backoff(attempts=2, message_id=10) == timedelta(seconds=60)
    assert policy.backoff(attempts=20, message_id=10) == timedelta(hours=1)
    assert policy.backoff(attempts=1, message_id=19) == timedelta(seconds=30) * 1.45


def test_arabic_receipt_fits_one_sms_segment_with_a_short_link() -> None:
    # 43 characters before the link: a link of up to 27 characters keeps it to one segment.
    body = receipt_sms(language="ar", tracking_number="26-000417-5", status_url="https://majlis.sa/status")
    assert sms_segments(body) == 1
    longer = receipt_sms(
        language="ar", tracking_number="26-000417-5", status_url="https://majlis.example.gov.sa/status"
    )
    assert sms_segments(longer) == 2
    assert sms_segments("ا" * 71) == 2
    assert sms_segments("a" * 160) == 1


@pytest.mark.parametrize("rate", [50.0])
async def test_the_rate_limiter_spaces_sends(rate: float) -> None:
    import time

    limiter = outbox.RateLimiter(rate)
    started = time.monotonic()
    for _ in range(11):
        await limiter.acquire()
    # Ten intervals of 1.05/50 s at least: never faster than the provider allows.
    assert time.monotonic() - started >= 10 * 1.05 / rate


async def test_a_delivery_report_before_the_answer_is_recorded_is_kept_and_applied(
    sessions: Sessions, clock: FrozenClock
) -> None:
    message_id = await enqueue(sessions, clock, "quick")
    # Twilio may call the status callback before the dispatcher has recorded the sid it was given.
    async with transaction(sessions) as session:
        known = await delivery.record_delivery(
            session=session, clock=clock, provider_id=f"test-{message_id}", status="undelivered", error_code="30003"
        )
    assert known is False
    await dispatcher(sessions, clock, RecordingChannel()).run_once()
    row = (await rows(sessions))["quick"]
    assert row.status is MessageStatus.SENT and row.delivery_status == "undelivered"
    assert row.error_code == "30003" and row.last_error is not None and "30003" in row.last_error


async def test_a_failed_look_up_asks_again_about_the_whole_span(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "lost answer")
    await claim_and_die(sessions, clock, "lost answer")
    claimed_at = clock.now()

    class Flaky(Remembering):
        async def find_sent(self, outgoing: Outgoing, *, since: datetime) -> Delivery | None:
            if not self.asked:
                self.asked.append((outgoing.body, since))
                raise TransientSendError("Twilio answered 503 to the look-up")
            return await super().find_sent(outgoing, since=since)

    provider = Flaky({"lost answer": "SM0003"})
    sending = dispatcher(sessions, clock, provider, claim_timeout=timedelta(minutes=2))
    clock.advance(timedelta(minutes=3))
    await sending.run_once()
    assert (await rows(sessions))["lost answer"].status is MessageStatus.SENDING
    clock.advance(timedelta(minutes=3))
    report = await sending.run_once()
    # Asked again about everything since the send began, not since the first look-up: found, not resent.
    assert [since for _, since in provider.asked] == [claimed_at, claimed_at]
    assert report.resolved_sent == 1 and provider.sent == []
    assert (await rows(sessions))["lost answer"].provider_id == "SM0003"


async def test_a_message_withdrawn_in_flight_is_never_queued_again(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "call about a confirmed audience", channel="sms")

    class AnsweredMeanwhile(RecordingChannel):
        async def send(self, outgoing: Outgoing) -> Delivery:
            # The applicant answers on another channel while this one is being handed over.
            async with transaction(sessions) as session:
                await session.execute(update(OutboxMessage).values(withdrawn_at=clock.now()))
            raise TransientSendError("503")

    report = await dispatcher(sessions, clock, AnsweredMeanwhile()).run_once()
    assert report.retried == 1
    assert (await rows(sessions))["call about a confirmed audience"].status is MessageStatus.CANCELLED


async def test_no_calls_on_a_declared_holiday(sessions: Sessions, clock: FrozenClock) -> None:
    from scheduler import calendar
    from worktime import service as worktime

    async with transaction(sessions) as session:
        await worktime.add_holiday(session=session, day=datetime(2026, 11, 25).date(), name="يوم التأسيس")
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=RIYADH))  # a Wednesday, declared a holiday
    await enqueue(sessions, clock, "call", channel="voice")
    recorder = RecordingChannel()
    sending = Dispatcher(
        sessions=sessions,
        clock=clock,
        channels=recorder.channels(),
        links=LINKS,
        policy=DispatchPolicy(rate_per_second=10_000.0),
        days_off=calendar.days_off,
    )
    assert (await sending.run_once()).deferred == 1 and recorder.sent == []
    assert (await rows(sessions))["call"].next_attempt_at == datetime(2026, 11, 26, 8, 0, tzinfo=RIYADH)
