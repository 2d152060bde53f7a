"""The outbox: every message to an applicant, written in the transaction that causes it.

Beside it, what the providers tell us back: replies that arrived (every
exchange is kept) and each WhatsApp number's 24-hour window and opt-out.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from majlis.db import Base, UTCDateTime, enum_type


class MessageStatus(enum.StrEnum):
    PENDING = "pending"
    # Claimed by a dispatcher and handed to the provider; the outcome is not yet known.
    SENDING = "sending"
    SENT = "sent"
    # Stopped: a permanent refusal, or passing failures past the last attempt. Shown to staff.
    FAILED = "failed"
    # The dispatcher died while handing it over and the provider cannot be asked
    # (SMTP): staff decide whether to send it again.
    UNCERTAIN = "uncertain"
    # No longer wanted (the appointment it concerned was released, the applicant opted out).
    CANCELLED = "cancelled"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
        # One message of each purpose per case: a retried intake can never
        # produce a second receipt, whatever path it takes.
        UniqueConstraint("case_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    body: Mapped[str] = mapped_column(Text)
    # Channel extras: an e-mail's subject and invitation, a WhatsApp template and
    # its variables, a link to sign when the message is sent.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When it was meant to go: lateness is measured from here.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When a dispatcher may next try it: due_at at first, later after a backoff or a deferral.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[MessageStatus] = mapped_column(enum_type(MessageStatus, 16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a dispatcher took over a dead claim to ask the provider about it. The claim's own
    # time is kept: the provider is always asked about everything since the send began.
    lookup_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # No longer wanted (the appointment answered, moved or released) while it was in flight:
    # it is never put back in the queue.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the provider last reported (queued, sent, delivered, read, undelivered, failed, …).
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    delivery_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(32))


class InboundMessage(Base):
    """A message or keypad answer an applicant sent us; kept whether or not it was understood."""

    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # The provider's id: a webhook Twilio delivers twice is recorded once.
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    sender: Mapped[str] = mapped_column(String(254), index=True)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # What Majlis made of it: confirmed, rescheduled, cancelled, opted_out, opted_in, unmatched …
    understood_as: Mapped[str] = mapped_column(String(32), default="")


class WhatsAppContact(Base):
    """A phone's WhatsApp state: when it last wrote (the 24-hour window) and whether it opted out."""

    __tablename__ = "whatsapp_contacts"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SendBudget(Base):
    """How many sends one channel has taken in one short window, counted across every process and machine.

    A provider's rate limit is per account, not per process: dispatchers in several processes claim their
    sends here (one row per channel and window, incremented while under the limit), so their total stays
    under the limit however many run. Rows of past windows are deleted by the dispatcher.
    """

    __tablename__ = "send_budgets"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Whole windows since the Unix epoch (the window's length is in notify.send_budget).
    window_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer, default=0)
