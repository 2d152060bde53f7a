"""The staff inbox of the WhatsApp desk: hand-overs, assignment, replies, hand-back, linking and blocking.

A conversation waits for a person from the moment it is handed over (`needs_staff_since`) until staff hand
it back to the bot. While it waits the bot stays quiet (step STAFF): only staff answer. Every staff action
is written to the audit log in the same transaction; the words of a reply are kept in its DeskMessage, not
in the log.

Replies go through the outbox on channel "whatsapp". Inside the 24-hour window (the contact's last inbound
message) WhatsApp takes free text; outside it only an approved template. Each reply's outbox row carries
both: the text as its body, and the template `desk_reply` with the text as its one variable. The dispatcher
decides which to send when it claims the row (notify/outbox.py), so a reply written just before the window
closes and sent just after goes as the template.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from accounts import service as accounts
from accounts.roles import Role
from cases import service as cases
from cases.models import Case
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required, too_long
from notify import outbox
from notify.models import WhatsAppContact
from notify.outbox import WHATSAPP_WINDOW
from whatsapp_desk import media
from whatsapp_desk.models import Conversation, DeskMessage, Direction, HandoverReason, Step

# Majlis's name for the approved template of a staff reply (settings.whatsapp_templates maps it to a ContentSid).
DESK_REPLY_TEMPLATE = "desk_reply"
# Twilio refuses a WhatsApp body longer than this.
MAX_REPLY = 1600
MAX_REASON = 500
AUDITED = "whatsapp_conversation"
NOT_THE_SENDERS = N_(
    "This request is not the sender's: it was made with another phone number, by someone with no request "
    "made with the sender's number. It cannot be linked to this conversation."
)


class ConversationNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("conversation_not_found", N_("There is no such WhatsApp conversation."))


class InboxRefused(DomainError):
    """A step the conversation cannot take now (a blocked sender, an opted-out number, a closed window)."""


def window_open(contact: WhatsAppContact | None, *, now: datetime) -> bool:
    """Whether WhatsApp takes free text to this contact now: it wrote to us in the last 24 hours (the
    dispatcher's own rule, notify/outbox.py)."""
    return (
        contact is not None and contact.last_inbound_at is not None and now - contact.last_inbound_at < WHATSAPP_WINDOW
    )


async def hand_over(
    *,
    session: AsyncSession,
    clock: Clock,
    conversation: Conversation,
    reason: HandoverReason,
    at: datetime | None = None,
) -> None:
    """Puts the conversation in the staff inbox (step STAFF): the bot stays quiet until staff hand it back.

    `at`: the time of the sender's message that asked for it (now by default), so that message is the first
    of the hand-over's exchange. The request the conversation made last is not this exchange's: the
    hand-over's messages go into a request's history only once staff link one.

    Handing over a conversation already waiting changes nothing: it keeps its place (the time it first
    waited) and its first reason.
    """
    conversation.step = Step.STAFF
    if conversation.needs_staff_since is None:
        conversation.needs_staff_since = at or clock.now()
        conversation.handover_reason = reason
        conversation.case_id = None
    await session.flush()


async def handover_start(*, session: AsyncSession, conversation: Conversation) -> int | None:
    """The first message of the hand-over under way (None when there is none): its exchange runs from there."""
    if conversation.needs_staff_since is None:
        return None
    return await session.scalar(
        select(func.min(DeskMessage.id)).where(
            DeskMessage.conversation_id == conversation.id, DeskMessage.at >= conversation.needs_staff_since
        )
    )


async def _drop_gathering(session: AsyncSession, conversation: Conversation) -> None:
    """Forgets the files of a request being gathered that will not be made (the files kept for staff stay)."""
    first = (conversation.state or {}).get("first_message_id")
    if first is not None:
        await media.discard_pending(session=session, conversation=conversation, since_message_id=int(first))


async def conversation_for_update(*, session: AsyncSession, conversation_id: int) -> Conversation:
    """The conversation, locked as the desk locks it for an inbound message (PostgreSQL: FOR UPDATE), so a
    staff step and a message from the sender are taken one after the other."""
    found = await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise ConversationNotFound()
    return found


async def _take_over(session: AsyncSession, conversation: Conversation, *, now: datetime, actor_id: int) -> None:
    """Staff writing into a conversation the bot was handling take it: the bot must not talk over them. A
    request being gathered is dropped with its files (the sender is answered by a person now); the request
    the conversation is linked to stays, as the page showed it to the writer (their reply goes into its history)."""
    if conversation.step is not Step.STAFF:
        await _drop_gathering(session, conversation)
        conversation.step = Step.STAFF
        conversation.purpose = None
        # Only the rate limit's mark outlives the gathering (as when the bot starts over).
        conversation.state = {k: v for k, v in (conversation.state or {}).items() if k == "rate_warned_at"}
    if conversation.needs_staff_since is None:
        # The reply (written at `now`) is the first message of the hand-over's exchange.
        conversation.needs_staff_since = now
    if conversation.assigned_to_id is None:
        conversation.assigned_to_id = actor_id


async def assign(
    *, session: AsyncSession, clock: Clock, conversation_id: int, staff_id: int, actor_id: int
) -> Conversation:
    """Gives the conversation to a member of the WhatsApp desk (the actor themselves to take it)."""
    conversation = await conversation_for_update(session=session, conversation_id=conversation_id)
    member = await accounts.get_user(session=session, user_id=staff_id)
    if member is None or not member.is_active or member.role is not Role.WHATSAPP_DESK:
        raise InvalidInput(
            [FieldError("staff_id", "not_desk_staff", N_("{field} must be an active member of the WhatsApp desk."))]
        )
    before = conversation.assigned_to_id
    conversation.assigned_to_id = member.id
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.assigned",
        target_type=AUDITED,
        target_id=conversation.id,
        details={"to": member.id, "from": before},
    )
    return conversation


def _checked_text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise InvalidInput([required(field)])
    if len(text) > limit:
        raise InvalidInput([too_long(field, limit)])
    return text


async def reply(
    *,
    session: AsyncSession,
    clock: Clock,
    conversation_id: int,
    actor_id: int,
    text: str,
    template_available: bool = True,
) -> DeskMessage:
    """Writes a staff reply to the sender (a DeskMessage and its outbox row, flushed, not committed).

    `template_available` says whether the approved template `desk_reply` can be sent: without it, a reply
    outside the 24-hour window is refused here rather than failing at the provider.
    """
    body = _checked_text(text, "message", MAX_REPLY)
    conversation = await conversation_for_update(session=session, conversation_id=conversation_id)
    if conversation.blocked_at is not None:
        raise InboxRefused("sender_blocked", N_("This sender is blocked. Unblock them before replying."))
    now = clock.now()
    contact = await session.get(WhatsAppContact, conversation.phone, populate_existing=True)
    if contact is not None and contact.opted_out_at is not None:
        raise InboxRefused(
            "opted_out",
            N_("The sender has stopped WhatsApp messages (STOP). Nothing can be sent until they send START."),
        )
    in_window = window_open(contact, now=now)
    if not in_window and not template_available:
        raise InboxRefused(
            "window_closed",
            N_(
                "More than 24 hours have passed since the sender's last message, and no approved template for "
                "staff replies is configured. WhatsApp delivers nothing else outside the window."
            ),
        )
    message = DeskMessage(
        conversation_id=conversation.id,
        direction=Direction.OUTBOUND,
        body=body,
        at=now,
        sent_as="session" if in_window else "template",
        staff_id=actor_id,
        case_id=conversation.case_id,
        media_count=0,
    )
    session.add(message)
    await session.flush()
    row = await outbox.enqueue(
        session=session,
        clock=clock,
        # One row per reply: the outbox keeps one message of each purpose per request.
        purpose=f"whatsapp_desk_reply:{message.id}",
        channel="whatsapp",
        recipient=conversation.phone,
        language=conversation.language,
        body=body,
        case_id=conversation.case_id,
        payload={
            "template": DESK_REPLY_TEMPLATE,
            # A template's variable may hold no line breaks or runs of spaces: the text on one line.
            "variables": {"1": " ".join(body.split())},
        },
    )
    message.outbox_id = row.id
    conversation.last_outbound_at = now
    await _take_over(session, conversation, now=now, actor_id=actor_id)
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.replied",
        target_type=AUDITED,
        target_id=conversation.id,
        details={"message_id": message.id, "sent_as": message.sent_as, "outbox_id": row.id},
    )
    return message


async def hand_back(*, session: AsyncSession, clock: Clock, conversation_id: int, actor_id: int) -> Conversation:
    """Gives the conversation back to the bot: out of the inbox, unassigned, linked to no request (what the
    linked request's history holds stays); the sender's next message is greeted with the menu. Files the
    sender sent to staff stay on the conversation's page, for no later request."""
    conversation = await conversation_for_update(session=session, conversation_id=conversation_id)
    waited_since = conversation.needs_staff_since
    await _drop_gathering(session, conversation)
    conversation.case_id = None
    conversation.step = Step.IDLE
    conversation.purpose = None
    conversation.state = {}
    conversation.needs_staff_since = None
    conversation.handover_reason = None
    conversation.assigned_to_id = None
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.handed_back",
        target_type=AUDITED,
        target_id=conversation.id,
        details={"waited_since": waited_since.isoformat() if waited_since else None},
    )
    return conversation


async def link_case(
    *, session: AsyncSession, clock: Clock, conversation_id: int, tracking_number: str, actor_id: int
) -> Conversation:
    """Links the conversation to one of the sender's requests: the exchange of the hand-over under way (every
    message of it, whichever request it was linked to before), its files, and every message from now on are
    documented in that request's history. With no hand-over under way, the messages since the last one that
    belongs to a request are.

    Only a request of the sender can be linked: one made with the conversation's phone, or whose applicant
    has made a request with it. Otherwise what the sender writes would go into a stranger's history."""
    if not tracking_number.strip():
        raise InvalidInput([required("tracking_number")])
    conversation = await conversation_for_update(session=session, conversation_id=conversation_id)
    case = await cases.find_by_tracking_number(session=session, tracking_number=tracking_number)
    if case is None:
        raise InvalidInput([FieldError("tracking_number", "unknown", N_("No request has this tracking number."))])
    if not await _senders(session, case, conversation.phone):
        raise InvalidInput([FieldError("tracking_number", "not_the_senders", NOT_THE_SENDERS)])
    before = conversation.case_id
    conversation.case_id = case.id
    start = await handover_start(session=session, conversation=conversation)
    if start is not None:
        exchange = select(DeskMessage).where(DeskMessage.conversation_id == conversation.id, DeskMessage.id >= start)
        # The files sent to staff in this hand-over are the request's evidence too.
        await media.attach_to_case(
            session=session, clock=clock, conversation=conversation, case=case, since_message_id=start
        )
    else:
        # The messages after the last one that already belongs to a request are this exchange's.
        last_linked = await session.scalar(
            select(func.max(DeskMessage.id)).where(
                DeskMessage.conversation_id == conversation.id, DeskMessage.case_id.is_not(None)
            )
        )
        exchange = select(DeskMessage).where(
            DeskMessage.conversation_id == conversation.id, DeskMessage.case_id.is_(None)
        )
        if last_linked is not None:
            exchange = exchange.where(DeskMessage.id > last_linked)
    for message in await session.scalars(exchange):
        message.case_id = case.id
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.linked",
        target_type=AUDITED,
        target_id=conversation.id,
        details={"case_id": case.id, "tracking_number": case.tracking_number, "before": before},
    )
    return conversation


async def _senders(session: AsyncSession, case: Case, phone: str) -> bool:
    """Whether the request is the sender's: made with their phone, or by an applicant who used it."""
    if case.phone == phone:
        return True
    other = await session.scalar(select(exists().where(Case.applicant_id == case.applicant_id, Case.phone == phone)))
    return bool(other)


async def block(
    *, session: AsyncSession, clock: Clock, conversation_id: int, reason: str, actor_id: int
) -> Conversation:
    """Blocks the sender: their messages are kept and never answered; out of the inbox until unblocked."""
    why = _checked_text(reason, "reason", MAX_REASON)
    conversation = await conversation_for_update(session=session, conversation_id=conversation_id)
    if conversation.blocked_at is not None:
        raise InboxRefused("already_blocked", N_("This sender is already blocked."))
    conversation.blocked_at = clock.now()
    conversation.blocked_by_id = actor_id
    conversation.block_reason = why
    # Nothing to wait for: no one answers a blocked sender, the bot included.
    await _drop_gathering(session, conversation)
    conversation.step = Step.IDLE
    conversation.state = {}
    conversation.purpose = None
    conversation.needs_staff_since = None
    conversation.handover_reason = None
    conversation.assigned_to_id = None
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.blocked",
        target_type=AUDITED,
        target_id=conversation.id,
        details={"reason": why},
    )
    return conversation


async def unblock(*, session: AsyncSession, clock: Clock, conversation_id: int, actor_id: int) -> Conversation:
    """Lifts the block: the sender's next message is answered by the bot again."""
    conversation = await conversation_for_update(session=session, conversation_id=conversation_id)
    if conversation.blocked_at is None:
        raise InboxRefused("not_blocked", N_("This sender is not blocked."))
    details = {
        "blocked_at": conversation.blocked_at.isoformat(),
        "blocked_by": conversation.blocked_by_id,
        "reason": conversation.block_reason,
    }
    conversation.blocked_at = None
    conversation.blocked_by_id = None
    conversation.block_reason = ""
    await session.flush()
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action="whatsapp.unblocked",
        target_type=AUDITED,
        target_id=conversation.id,
        details=details,
    )
    return conversation
