"""Messages that need a person: stopped (failed), of unknown fate (uncertain), or reported undelivered.

Staff read why, then send such a message again or, for an uncertain one they
know went out (the applicant says so), record it as sent. Each action is in
the audit log with what the message looked like before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from majlis.clock import Clock
from majlis.errors import N_, DomainError
from notify.delivery import NOT_DELIVERED
from notify.models import MessageStatus, OutboxMessage

ATTENTION_LIMIT = 200
# Every purpose of the emergency line's messages starts so (emergency_registered, emergency:…, emergency_solved:…).
EMERGENCY = "emergency"


class MessageActionRefused(DomainError):
    pass


NOT_FOUND = N_("There is no such message.")


def needs_attention(message: OutboxMessage) -> bool:
    return message.status in (MessageStatus.FAILED, MessageStatus.UNCERTAIN) or (
        message.status is MessageStatus.SENT and message.delivery_status in NOT_DELIVERED
    )


def is_emergency(message: OutboxMessage) -> bool:
    """A message of the emergency line (to a citizen, a mission or its staff): no request, its purpose named so."""
    return message.case_id is None and message.purpose.startswith(EMERGENCY)


async def needing_attention(
    *, session: AsyncSession, emergency: bool = False, limit: int = ATTENTION_LIMIT
) -> list[OutboxMessage]:
    """Failed, uncertain and undelivered messages, newest first, at most `limit`: the emergency line's alone
    (`emergency`), or every other."""
    of_emergency = OutboxMessage.case_id.is_(None) & OutboxMessage.purpose.startswith(EMERGENCY)
    rows = await session.scalars(
        select(OutboxMessage)
        .where(
            or_(
                OutboxMessage.status.in_((MessageStatus.FAILED, MessageStatus.UNCERTAIN)),
                (OutboxMessage.status == MessageStatus.SENT) & OutboxMessage.delivery_status.in_(NOT_DELIVERED),
            ),
            of_emergency if emergency else ~of_emergency,
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    )
    return list(rows)


async def _locked(*, session: AsyncSession, message_id: int) -> OutboxMessage:
    query = select(OutboxMessage).where(OutboxMessage.id == message_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    message = await session.scalar(query)
    if message is None:
        raise MessageActionRefused("message_not_found", NOT_FOUND)
    return message


def _before(message: OutboxMessage) -> dict[str, Any]:
    return {
        "status": message.status.value,
        "attempts": message.attempts,
        "provider_id": message.provider_id,
        "delivery_status": message.delivery_status,
        "error_code": message.error_code,
        "last_error": message.last_error,
    }


async def retry(*, session: AsyncSession, clock: Clock, message_id: int, actor_id: int) -> OutboxMessage:
    """Puts a failed, uncertain or undelivered message back in the queue, due now, with its attempts reset."""
    message = await _locked(session=session, message_id=message_id)
    if not needs_attention(message):
        raise MessageActionRefused(
            "message_not_retryable",
            N_("Only a failed, uncertain or undelivered message can be sent again."),
        )
    now = clock.now()
    if message.withdrawn_at is not None:
        raise MessageActionRefused(
            "message_withdrawn",
            N_("This message is no longer wanted: the appointment it was about was answered or changed."),
        )
    link = (message.payload or {}).get("answer_link")
    if isinstance(link, dict) and datetime.fromisoformat(str(link["expires_at"])) <= now:
        raise MessageActionRefused(
            "message_out_of_date",
            N_("The audience this message is about has begun or passed; it is not sent again."),
        )
    before = _before(message)
    message.status = MessageStatus.PENDING
    message.next_attempt_at = now
    message.attempts = 0
    message.claimed_at = None
    message.lookup_at = None
    message.sent_at = None
    # A late callback about the old attempt must not touch the new one.
    message.provider_id = None
    message.delivery_status = None
    message.delivery_updated_at = None
    message.error_code = None
    message.last_error = None
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="message.retry",
        target_type="outbox_message",
        target_id=message.id,
        details=before,
    )
    await session.flush()
    return message


async def mark_sent(*, session: AsyncSession, clock: Clock, message_id: int, actor_id: int) -> OutboxMessage:
    """Records an uncertain message as sent, on a person's word that it went out."""
    message = await _locked(session=session, message_id=message_id)
    if message.status is not MessageStatus.UNCERTAIN:
        raise MessageActionRefused(
            "message_not_uncertain",
            N_("Only a message whose fate is uncertain can be recorded as sent."),
        )
    before = _before(message)
    message.status = MessageStatus.SENT
    message.sent_at = message.claimed_at or clock.now()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="message.mark_sent",
        target_type="outbox_message",
        target_id=message.id,
        details=before,
    )
    await session.flush()
    return message
