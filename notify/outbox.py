"""Writing messages to the outbox and handing due ones to a sender."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.db import transaction
from notify.models import MessageStatus, OutboxMessage
from notify.senders import Sender

log = logging.getLogger(__name__)


async def enqueue(
    *,
    session: AsyncSession,
    clock: Clock,
    purpose: str,
    channel: str,
    recipient: str,
    language: str,
    body: str,
    case_id: int | None = None,
    due_at: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (flushed, not committed)."""
    now = clock.now()
    message = OutboxMessage(
        case_id=case_id,
        purpose=purpose,
        channel=channel,
        recipient=recipient,
        language=language,
        body=body,
        created_at=now,
        due_at=due_at or now,
        status=MessageStatus.PENDING,
        attempts=0,
    )
    session.add(message)
    await session.flush()
    return message


async def messages_for_case(*, session: AsyncSession, case_id: int) -> list[OutboxMessage]:
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
    )
    return list(rows)


async def dispatch_due(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender,
    batch: int = 50,
) -> int:
    """Send the messages that are due; gives back how many were sent.

    A message is claimed (status sending) and committed before the sender is
    called, so two dispatchers never send the same message; on PostgreSQL the
    claim skips rows another dispatcher holds. Each message is sent and
    recorded in its own transaction, so one failure does not stop the rest.
    """
    async with transaction(sessions) as session:
        query = (
            select(OutboxMessage.id)
            .where(OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.due_at <= clock.now())
            .order_by(OutboxMessage.due_at, OutboxMessage.id)
            .limit(batch)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(await session.scalars(query))
        if not ids:
            return 0
        # SQLite: BEGIN IMMEDIATE already holds the single write lock here.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=MessageStatus.SENDING, claimed_at=clock.now(), attempts=OutboxMessage.attempts + 1)
        )
    sent = 0
    for message_id in ids:
        async with transaction(sessions) as session:
            message = await session.get_one(OutboxMessage, message_id)
            try:
                provider_id = await sender.send(message)
            except Exception as exc:  # one bad message must not stop the batch
                log.exception("outbox message %s failed", message_id)
                message.status = MessageStatus.FAILED
                message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                continue
            message.status = MessageStatus.SENT
            message.sent_at = clock.now()
            message.provider_id = provider_id
            sent += 1
    return sent


class Addressee(Protocol):
    """What the outbox needs of a request to write to its applicant."""

    @property
    def id(self) -> int: ...
    @property
    def phone(self) -> str: ...
    @property
    def language(self) -> str: ...


async def sms_to_applicant(
    *, session: AsyncSession, clock: Clock, case: Addressee, purpose: str, compose: Callable[[str], str]
) -> OutboxMessage:
    """An SMS to the applicant of a request, composed in the language given with it (flushed, not committed)."""
    language = str(case.language)
    return await enqueue(
        session=session,
        clock=clock,
        purpose=purpose,
        channel="sms",
        recipient=case.phone,
        language=language,
        body=compose(language),
        case_id=case.id,
    )
