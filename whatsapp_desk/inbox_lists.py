"""What the WhatsApp desk's staff read: the inbox (waiting, theirs, recent), one conversation with its messages
and media, and the messages that document a request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from cases import service as cases
from cases.models import Case
from majlis import paging
from notify.models import OutboxMessage, WhatsAppContact
from whatsapp_desk.inbox import ConversationNotFound, window_open
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage

# A page of recent conversations, and of one conversation's latest messages: more than staff read at once.
RECENT = 50
SHOWN_MESSAGES = 300


@dataclass(frozen=True)
class InboxLine:
    """One conversation in a list: who holds it and the last thing said."""

    conversation: Conversation
    assignee: str
    last_message: DeskMessage | None

    @property
    def last_activity(self) -> datetime:
        return self.last_message.at if self.last_message is not None else self.conversation.started_at


@dataclass(frozen=True)
class Inbox:
    # Waiting for a person, oldest first: unassigned, or held by someone else; one page of them.
    waiting: list[InboxLine]
    # Waiting and held by the reader, oldest first (all of them: one person's own work).
    mine: list[InboxLine]
    # Handled by the bot (or blocked), latest first.
    recent: list[InboxLine]
    # How many wait in all, and which page of them `waiting` is (web/pagination.py reads these).
    total: int = 0
    page: int = 1
    per_page: int = paging.PER_PAGE

    @property
    def pages(self) -> int:
        return paging.last_page(self.total, self.per_page)


async def _lines(session: AsyncSession, conversations: list[Conversation]) -> list[InboxLine]:
    if not conversations:
        return []
    ids = [c.id for c in conversations]
    latest = (
        select(func.max(DeskMessage.id))
        .where(DeskMessage.conversation_id.in_(ids))
        .group_by(DeskMessage.conversation_id)
        .scalar_subquery()
    )
    last = {m.conversation_id: m for m in await session.scalars(select(DeskMessage).where(DeskMessage.id.in_(latest)))}
    names = await accounts.names_by_id(
        session=session, ids={c.assigned_to_id for c in conversations if c.assigned_to_id is not None}
    )
    return [
        InboxLine(
            conversation=c,
            assignee=names.get(c.assigned_to_id, "") if c.assigned_to_id is not None else "",
            last_message=last.get(c.id),
        )
        for c in conversations
    ]


async def inbox(*, session: AsyncSession, reader_id: int, page: int = 1, per_page: int = paging.PER_PAGE) -> Inbox:
    """The inbox as `reader_id` sees it: page `page` of the others' waiting conversations (counted and cut in the
    database, majlis/paging.py), all of the reader's own, the latest handled by the bot."""
    held_by_other = or_(Conversation.assigned_to_id.is_(None), Conversation.assigned_to_id != reader_id)
    waiting_page = await paging.page_of(
        session,
        select(Conversation)
        .where(Conversation.needs_staff_since.is_not(None), held_by_other)
        .order_by(Conversation.needs_staff_since, Conversation.id),
        page=page,
        per_page=per_page,
    )
    mine = list(
        await session.scalars(
            select(Conversation)
            .where(Conversation.needs_staff_since.is_not(None), Conversation.assigned_to_id == reader_id)
            .order_by(Conversation.needs_staff_since, Conversation.id)
        )
    )
    recent = list(
        await session.scalars(
            select(Conversation)
            .where(Conversation.needs_staff_since.is_(None))
            .order_by(
                func.coalesce(Conversation.last_inbound_at, Conversation.started_at).desc(), Conversation.id.desc()
            )
            .limit(RECENT)
        )
    )
    lines = await _lines(session, waiting_page.items + mine + recent)
    by_id = {line.conversation.id: line for line in lines}
    return Inbox(
        waiting=[by_id[c.id] for c in waiting_page.items],
        mine=[by_id[c.id] for c in mine],
        recent=[by_id[c.id] for c in recent],
        total=waiting_page.total,
        page=waiting_page.page,
        per_page=per_page,
    )


@dataclass(frozen=True)
class Transcript:
    """A conversation as staff read it."""

    conversation: Conversation
    # Oldest first; the latest SHOWN_MESSAGES when there are more.
    messages: list[DeskMessage]
    earlier: int
    media: dict[int, list[DeskMedia]]
    # The outbox rows of staff replies, by id: whether each went, and as what.
    deliveries: dict[int, OutboxMessage]
    # Staff named by id: the writers of replies, the assignee, who blocked.
    names: dict[int, str]
    case: Case | None
    # Free text reaches the sender now (they wrote in the last 24 hours); otherwise only the template.
    window_open: bool
    opted_out: bool


async def transcript(*, session: AsyncSession, conversation_id: int, now: datetime) -> Transcript:
    conversation = await session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise ConversationNotFound()
    mine = DeskMessage.conversation_id == conversation.id
    total = await session.scalar(select(func.count()).select_from(DeskMessage).where(mine)) or 0
    newest = list(
        await session.scalars(select(DeskMessage).where(mine).order_by(DeskMessage.id.desc()).limit(SHOWN_MESSAGES))
    )
    messages = newest[::-1]
    media: dict[int, list[DeskMedia]] = {}
    if messages:
        rows = await session.scalars(
            select(DeskMedia)
            .where(DeskMedia.conversation_id == conversation.id, DeskMedia.message_id >= messages[0].id)
            .order_by(DeskMedia.id)
        )
        for item in rows:
            media.setdefault(item.message_id, []).append(item)
    outbox_ids = [m.outbox_id for m in messages if m.outbox_id is not None]
    deliveries = (
        {row.id: row for row in await session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(outbox_ids)))}
        if outbox_ids
        else {}
    )
    staff = {m.staff_id for m in messages if m.staff_id is not None}
    staff |= {i for i in (conversation.assigned_to_id, conversation.blocked_by_id) if i is not None}
    contact = await session.get(WhatsAppContact, conversation.phone, populate_existing=True)
    return Transcript(
        conversation=conversation,
        messages=messages,
        earlier=total - len(messages),
        media=media,
        deliveries=deliveries,
        names=await accounts.names_by_id(session=session, ids=staff),
        case=await cases.get_case(session=session, case_id=conversation.case_id)
        if conversation.case_id is not None
        else None,
        window_open=window_open(contact, now=now),
        opted_out=contact is not None and contact.opted_out_at is not None,
    )


async def media_item(*, session: AsyncSession, conversation_id: int, media_id: int) -> DeskMedia | None:
    """A file received in this conversation (None if it belongs to another)."""
    item = await session.get(DeskMedia, media_id)
    return item if item is not None and item.conversation_id == conversation_id else None


async def messages_of_case(*, session: AsyncSession, case_id: int) -> list[DeskMessage]:
    """Every WhatsApp message that belongs to the request, in and out, in the order they were exchanged."""
    rows = await session.scalars(
        select(DeskMessage).where(DeskMessage.case_id == case_id).order_by(DeskMessage.at, DeskMessage.id)
    )
    return list(rows)
