"""The outbox dispatcher hands each due message to the sender once and records the outcome."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.db import transaction
from notify import outbox
from notify.models import MessageStatus, OutboxMessage
from notify.senders import ConsoleSender
from notify.texts import receipt_sms, sms_segments
from tests.conftest import RecordingSender

Sessions = async_sessionmaker[AsyncSession]


async def enqueue(sessions: Sessions, clock: FrozenClock, body: str, due_in: timedelta = timedelta(0)) -> int:
    async with transaction(sessions) as session:
        message = await outbox.enqueue(
            session=session,
            clock=clock,
            purpose="test",
            channel="sms",
            recipient="+966501234567",
            language="ar",
            body=body,
            due_at=clock.now() + due_in,
        )
        return message.id


async def statuses(sessions: Sessions) -> dict[str, MessageStatus]:
    async with sessions() as session:
        return {m.body: m.status for m in await session.scalars(select(OutboxMessage))}


async def test_due_messages_are_sent_once(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "now")
    await enqueue(sessions, clock, "later", due_in=timedelta(days=3))
    sender = RecordingSender()
    assert await outbox.dispatch_due(sessions=sessions, clock=clock, sender=sender) == 1
    assert await outbox.dispatch_due(sessions=sessions, clock=clock, sender=sender) == 0
    assert [m.body for m in sender.sent] == ["now"]
    assert await statuses(sessions) == {"now": MessageStatus.SENT, "later": MessageStatus.PENDING}

    clock.advance(timedelta(days=3))
    assert await outbox.dispatch_due(sessions=sessions, clock=clock, sender=sender) == 1
    assert [m.body for m in sender.sent] == ["now", "later"]


class FailingOnce(RecordingSender):
    async def send(self, message: OutboxMessage) -> str:
        if message.body == "bad":
            raise ConnectionError("provider unreachable")
        return await super().send(message)


async def test_a_failing_message_does_not_stop_the_others(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "bad")
    await enqueue(sessions, clock, "good")
    sender = FailingOnce()
    assert await outbox.dispatch_due(sessions=sessions, clock=clock, sender=sender) == 1
    assert await statuses(sessions) == {"bad": MessageStatus.FAILED, "good": MessageStatus.SENT}
    async with sessions() as session:
        bad = await session.scalar(select(OutboxMessage).where(OutboxMessage.body == "bad"))
    assert bad is not None and bad.last_error == "ConnectionError: provider unreachable"


async def test_console_sender_prints_the_message(sessions: Sessions, clock: FrozenClock) -> None:
    await enqueue(sessions, clock, "مرحبا")
    stream = io.StringIO()
    await outbox.dispatch_due(sessions=sessions, clock=clock, sender=ConsoleSender(stream))
    assert "[sms → +966501234567] (test) مرحبا" in stream.getvalue()


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
