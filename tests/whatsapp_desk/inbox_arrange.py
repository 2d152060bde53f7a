"""Conversations for the inbox's tests, written as rows (as the desk writes them): a sender who asked for staff,
with what they said and what the bot answered, and the number's 24-hour window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import WhatsAppContact
from whatsapp_desk import inbox
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage, Direction, HandoverReason, Step

SENDER = "+966501234567"


@dataclass(frozen=True)
class Arranged:
    conversation_id: int
    message_ids: list[int]


async def handed_over(
    sessions: async_sessionmaker[AsyncSession],
    clock: FrozenClock,
    *,
    phone: str = SENDER,
    said: str = "أرغب في التحدث إلى موظف بخصوص طلبي",
    ago: timedelta = timedelta(minutes=10),
    reason: HandoverReason = HandoverReason.ASKED,
    language: str = "ar",
    case_id: int | None = None,
) -> Arranged:
    """A conversation that asked for staff `ago` before now: the menu, the choice, the bot's promise."""
    start = clock.now() - ago
    async with transaction(sessions) as session:
        conversation = Conversation(
            phone=phone,
            language=language,
            step=Step.MENU,
            purpose=None,
            state={},
            started_at=start,
            last_inbound_at=start,
            last_outbound_at=start,
            case_id=case_id,
        )
        session.add(conversation)
        await session.flush()
        messages = [
            _message(conversation, Direction.INBOUND, "مرحبا", start, case_id),
            _message(conversation, Direction.OUTBOUND, "أهلًا بكم، كيف نخدمكم؟", start, case_id, sent_as="reply"),
            _message(conversation, Direction.INBOUND, said, start, case_id),
            _message(conversation, Direction.OUTBOUND, "سيرد عليكم أحد موظفينا هنا", start, case_id, sent_as="reply"),
        ]
        session.add_all(messages)
        await session.flush()
        await touch_window(session, phone, start)
        # The desk's own call when a sender chooses "talk to staff".
        await inbox.hand_over(session=session, clock=_at(start), conversation=conversation, reason=reason)
        return Arranged(conversation.id, [m.id for m in messages])


async def with_media(sessions: async_sessionmaker[AsyncSession], arranged: Arranged, storage_key: str) -> int:
    """A PDF the sender sent with their first message (its file already in the attachment store)."""
    async with transaction(sessions) as session:
        message = await session.get_one(DeskMessage, arranged.message_ids[0])
        message.media_count = 1
        item = DeskMedia(
            conversation_id=arranged.conversation_id,
            message_id=message.id,
            filename="evidence.pdf",
            content_type="application/pdf",
            size=2048,
            sha256="0" * 64,
            storage_key=storage_key,
            received_at=message.at,
        )
        session.add(item)
        await session.flush()
        return item.id


async def touch_window(session: AsyncSession, phone: str, at: datetime) -> None:
    contact = await session.get(WhatsAppContact, phone)
    if contact is None:
        session.add(WhatsAppContact(phone=phone, last_inbound_at=at))
    else:
        contact.last_inbound_at = at
    await session.flush()


def _message(
    conversation: Conversation,
    direction: Direction,
    body: str,
    at: datetime,
    case_id: int | None,
    *,
    sent_as: str = "",
) -> DeskMessage:
    return DeskMessage(
        conversation_id=conversation.id,
        direction=direction,
        body=body,
        at=at,
        sent_as=sent_as,
        case_id=case_id,
        media_count=0,
    )


def _at(moment: datetime) -> FrozenClock:
    return FrozenClock(moment)
