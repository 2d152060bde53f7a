"""The WhatsApp desk's way in: every message from a sender, kept, put in order, and answered.

Order. The contact's conversation row is locked first (inserted if new, then SELECT … FOR UPDATE on
PostgreSQL; SQLite's write transactions already run one at a time), so two messages from one sender
arriving at once are handled one after the other, the second seeing the step the first left.

Once. Twilio delivers a webhook again when our answer is slow or lost: the message is kept once per
MessageSid (scheduler.replies' InboundMessage), and a repeat gives back the first answer (kept as the
outbound message "<sid>:reply") without acting again.

What answers. A blocked sender is kept and not answered; a sender over the rate is told once to wait
(whatsapp_desk.abuse). STOP and START are honoured as before. A confirmation answer ("1", "إلغاء" …) from a
number with an open confirmation is answered as the confirmation it is when no request is being gathered
(at the menu, only when the confirmation was asked after the menu was shown: the digits are the menu's
too); everything else is the guided conversation's (whatsapp_desk.conversation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fairness import chain
from majlis.clock import Clock
from notify.models import InboundMessage
from scheduler import replies
from whatsapp_desk import abuse, texts
from whatsapp_desk.context import DeskContext, Inbound
from whatsapp_desk.conversation import Turn, converse
from whatsapp_desk.models import Conversation, DeskMessage, Direction, Step
from whatsapp_desk.questions import mid_way

__all__ = ["DeskContext", "DeskReply", "Inbound", "receive"]

# WhatsApp's own limit on a message's length; a longer body is cut when kept.
MAX_BODY = replies.MAX_BODY
# Steps where nothing is being gathered: a bare confirmation answer there is about the audience.
_AT_REST = (Step.IDLE, Step.MENU, Step.FOLLOW)


@dataclass(frozen=True)
class DeskReply:
    """The text to answer with in the webhook's exchange ("" for none), and the request it concerns."""

    text: str
    case_id: int | None = None
    # Twilio delivered this message before: the first answer, nothing done again.
    repeated: bool = False


def _reply_id(message_sid: str) -> str:
    return f"{message_sid}:reply"


async def lock_conversation(*, session: AsyncSession, phone: str, now: datetime) -> Conversation:
    """The contact's conversation, created if new, locked until the transaction ends and read afresh."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # One statement, so two first messages of a number at once cannot both insert it.
    await session.execute(
        insert(Conversation)
        .values(phone=phone, language="ar", step=Step.IDLE, state={}, started_at=now, block_reason="")
        .on_conflict_do_nothing(index_elements=[Conversation.phone])
    )
    query = select(Conversation).where(Conversation.phone == phone).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await session.scalars(query)).one()


async def _may_append(*, session: AsyncSession, phone: str, parsed: replies.Parsed) -> bool:
    """Whether what the message asks may append to the fairness chain: an answer to a confirmation (a digit, or
    stop and start, which answer it too) or the request sent at the conversation's last step (a repeat of an open
    request is cancelled by rule). Read before the conversation is locked, without a lock."""
    if parsed.answer is not None or parsed.opt_out or parsed.opt_in:
        return True
    step = await session.scalar(select(Conversation.step).where(Conversation.phone == phone))
    return step is Step.CONFIRM


async def receive(*, session: AsyncSession, clock: Clock, inbound: Inbound, context: DeskContext) -> DeskReply:
    """Keeps a message from `inbound.sender` (E.164) and does what it asks; gives back the answer to send."""
    now = clock.now()
    parsed = replies.parse(inbound.body)
    # The fairness chain's turn before the conversation's lock, as every change that appends takes it before any
    # row (fairness.chain.take_turn): only for a message that may append, so the desk's other messages never wait
    # behind an allocation run.
    if await _may_append(session=session, phone=inbound.sender, parsed=parsed):
        await chain.take_turn(session=session)
    conversation = await lock_conversation(session=session, phone=inbound.sender, now=now)
    row, new = await replies.record_inbound(
        session=session,
        channel="whatsapp",
        provider_id=inbound.message_sid,
        sender=inbound.sender,
        body=inbound.body,
        now=now,
    )
    if not new:
        first = await session.scalar(
            select(DeskMessage).where(
                DeskMessage.conversation_id == conversation.id,
                DeskMessage.provider_id == _reply_id(inbound.message_sid),
            )
        )
        return DeskReply(first.body if first else "", first.case_id if first else None, repeated=True)
    opted_out = True if parsed.opt_out else False if parsed.opt_in else None
    await replies.touch_contact(session=session, phone=inbound.sender, now=now, opted_out=opted_out)

    previous_at = conversation.last_inbound_at
    expired = previous_at is not None and now - previous_at >= context.expiry
    conversation.last_inbound_at = now
    message = DeskMessage(
        conversation_id=conversation.id,
        direction=Direction.INBOUND,
        body=inbound.body[:MAX_BODY],
        at=now,
        provider_id=inbound.message_sid,
        sent_as="",
        media_count=len(inbound.media),
        case_id=conversation.case_id if conversation.step is Step.STAFF else None,
    )
    session.add(message)
    await session.flush()

    turn = await _answer(
        session=session,
        clock=clock,
        conversation=conversation,
        row=row,
        message=message,
        parsed=parsed,
        inbound=inbound,
        context=context,
        expired=expired,
    )
    if turn.case_id is not None:
        message.case_id = row.case_id = turn.case_id
    if turn.text:
        session.add(
            DeskMessage(
                conversation_id=conversation.id,
                direction=Direction.OUTBOUND,
                body=turn.text[:MAX_BODY],
                at=now,
                provider_id=_reply_id(inbound.message_sid),
                sent_as="reply",
                case_id=message.case_id,
                media_count=0,
            )
        )
        conversation.last_outbound_at = now
    await session.flush()
    return DeskReply(turn.text, message.case_id)


async def _answers_confirmation(
    *, session: AsyncSession, clock: Clock, conversation: Conversation, expired: bool
) -> bool:
    """Whether a bare 1/2/3 answers an open confirmation rather than the desk's menu.

    At the menu the digits are the menu's too: they answer the confirmation only when it was asked after the
    menu was shown (the latest message the sender read is the confirmation request).
    """
    found = await replies.open_confirmations(session=session, clock=clock, phone=conversation.phone)
    if not found:
        return False
    if conversation.step is not Step.MENU or expired or conversation.last_outbound_at is None:
        return True
    now = clock.now()
    return any(conversation.last_outbound_at < confirmation.ask_at <= now for confirmation, _ in found)


async def _answer(
    *,
    session: AsyncSession,
    clock: Clock,
    conversation: Conversation,
    row: InboundMessage,
    message: DeskMessage,
    parsed: replies.Parsed,
    inbound: Inbound,
    context: DeskContext,
    expired: bool,
) -> Turn:
    """What the message gets: silence, a request to wait, a confirmation's answer, or the conversation's."""
    if abuse.is_blocked(conversation):
        row.understood_as = "blocked"
        return Turn("")
    pace = await abuse.pace(
        session=session, conversation=conversation, now=clock.now(), per_minute=context.rate_per_minute
    )
    if pace is not abuse.Pace.WITHIN:
        row.understood_as = "rate_limited"
        said = texts.text(conversation.language, texts.SLOW_DOWN) if pace is abuse.Pace.WARN else ""
        return Turn(said)
    at_rest = conversation.step in _AT_REST or (expired and conversation.step is not Step.STAFF)
    if parsed.opt_out or parsed.opt_in:
        reply = await replies.answer_whatsapp(
            session=session, clock=clock, row=row, parsed=parsed, policy=context.policy, status_url=context.status_url
        )
        return Turn(reply.text)
    if (
        at_rest
        and parsed.answer is not None
        and await _answers_confirmation(session=session, clock=clock, conversation=conversation, expired=expired)
    ):
        reply = await replies.answer_whatsapp(
            session=session,
            clock=clock,
            row=row,
            parsed=parsed,
            policy=context.policy,
            status_url=context.status_url,
        )
        if expired and mid_way(conversation.step):
            # The half-made request waits: the next message is asked whether to go on with it.
            conversation.state = {**conversation.state, "resume_step": conversation.step.value}
            conversation.step = Step.RESUME
        return Turn(reply.text, reply.case_id)
    row.understood_as = "conversation"
    return await converse(
        session=session,
        clock=clock,
        conversation=conversation,
        message=message,
        inbound=inbound,
        context=context,
        expired=expired,
    )
