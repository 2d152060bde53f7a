"""Tables of the WhatsApp desk: one conversation per contact, every message in and out, the media received."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class Step(enum.StrEnum):
    """Where a conversation stands: the question the desk asked last."""

    # Nothing asked yet, or the last conversation ended: the next message gets the greeting and menu.
    IDLE = "idle"
    MENU = "menu"
    NAME = "name"
    ID_NUMBER = "id_number"
    # Asked because the audience day seats women in the women's section.
    GENDER = "gender"
    KIND = "kind"
    BRANCH = "branch"
    SUBJECT = "subject"
    TEXT = "text"
    EVIDENCE = "evidence"
    CONFIRM = "confirm"
    # "Follow a request": waiting for a tracking number (or a choice among the sender's requests).
    FOLLOW = "follow"
    # Handed to a person: the bot stays quiet until staff close the hand-over.
    STAFF = "staff"
    # After 24 hours of silence mid-way: asked whether to go on or start over.
    RESUME = "resume"


class Purpose(enum.StrEnum):
    REQUEST = "request"
    COMPLAINT = "complaint"
    FOLLOW = "follow"
    STAFF = "staff"


class HandoverReason(enum.StrEnum):
    """Why a conversation waits for a person."""

    ASKED = "asked"  # the sender chose "talk to staff"
    UNREADABLE = "unreadable"  # the bot could not read the answers, more than once
    MEDIA = "media"  # a file could not be fetched or was refused


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Conversation(Base):
    """The desk's conversation with one WhatsApp number: its state, what it has gathered, and who handles it.

    One row per contact, kept: starting over resets the state, the messages stay. Every message from the
    number locks this row first (SELECT … FOR UPDATE on PostgreSQL), so two messages arriving at once are
    handled one after the other, in the order their locks were granted.
    """

    __tablename__ = "whatsapp_conversations"
    __table_args__ = (Index("ix_whatsapp_conversations_handover", "needs_staff_since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # E.164, as WhatsApp verified it: the sender is the phone.
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="ar")
    step: Mapped[Step] = mapped_column(enum_type(Step, 16))
    purpose: Mapped[Purpose | None] = mapped_column(enum_type(Purpose, 16))
    # The answers gathered so far, by field name (name, kind, id_number, request_kind, branch, subject, text),
    # and the step to go back to: {"answers": {...}, "previous": [...], "misreads": n}.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The request this conversation made or asked about last; its history documents the exchange.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # Waiting for a person since, and why; None when the bot handles it.
    needs_staff_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handover_reason: Mapped[HandoverReason | None] = mapped_column(enum_type(HandoverReason, 16))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Blocked by staff: messages are kept, not answered.
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    blocked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    block_reason: Mapped[str] = mapped_column(Text, default="")


class DeskMessage(Base):
    """One message of a conversation, in or out: what was said, by whom, and how it was sent."""

    __tablename__ = "whatsapp_messages"
    __table_args__ = (
        Index("ix_whatsapp_messages_conversation_id", "conversation_id", "id"),
        Index("ix_whatsapp_messages_case_id", "case_id"),
        # The rate limit counts a sender's recent messages.
        Index("ix_whatsapp_messages_conversation_at", "conversation_id", "direction", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("whatsapp_conversations.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(enum_type(Direction, 8))
    body: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Twilio's MessageSid of an inbound message (its InboundMessage row dedupes repeats).
    provider_id: Mapped[str | None] = mapped_column(String(64))
    # Outbound: "reply" (answered in the webhook's own exchange), "session" or "template" (sent by staff
    # through the outbox), with the outbox row.
    sent_as: Mapped[str] = mapped_column(String(16), default="")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    # The member of staff who wrote an outbound message; None for the bot.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The request the message belongs to, when one is known: the request's history lists it.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    media_count: Mapped[int] = mapped_column(Integer, default=0)


class DeskMedia(Base):
    """A file received in a conversation, stored by content; attached to the request once it is made."""

    __tablename__ = "whatsapp_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("whatsapp_conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("whatsapp_messages.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # The file's key in the attachment store; the request's attachment names the same file.
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id", ondelete="SET NULL"))
