"""The WhatsApp desk inbox's JSON shapes (web/whatsapp_inbox_api.py), strict on input, listed in the OpenAPI
document."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from web.api_models import ID_LIMIT
from whatsapp_desk.inbox import MAX_REASON, MAX_REPLY


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReplyIn(_Body):
    message: str = Field(
        max_length=MAX_REPLY,
        description="The reply's text: a WhatsApp message inside the 24-hour window, the approved template "
        "desk_reply (the text as its variable) outside it",
    )


class AssignIn(_Body):
    staff_id: int | None = Field(
        default=None, ge=1, le=ID_LIMIT, description="A member of the WhatsApp desk; none to take it oneself"
    )


class LinkIn(_Body):
    tracking_number: str = Field(max_length=40, description="The request the exchange is documented in")


class BlockIn(_Body):
    reason: str = Field(max_length=MAX_REASON)


class EmptyIn(_Body):
    """Hand back and unblock take nothing (an empty object, or no body)."""


class ConversationLineOut(BaseModel):
    id: int
    phone: str
    language: str
    step: str
    needs_staff_since: datetime | None
    handover_reason: Literal["asked", "unreadable", "media"] | None
    assigned_to_id: int | None
    assigned_to: str = Field(description="The assignee's name; empty when no one holds it")
    blocked: bool
    tracking_number: str | None = Field(default=None, description="The linked request, if any")
    last_message_at: datetime | None
    last_message: str | None


class InboxOut(BaseModel):
    waiting: list[ConversationLineOut] = Field(description="Waiting for staff, oldest first (not the reader's)")
    assigned_to_me: list[ConversationLineOut] = Field(description="Waiting and held by the reader, oldest first")
    recent: list[ConversationLineOut] = Field(description="With the automatic desk or blocked, latest first")
    waiting_total: int = Field(description="How many conversations wait for staff in all (not the reader's)")
    page: int = Field(description="Which page of the waiting conversations `waiting` is (?page=, from 1)")
    pages: int = Field(description="How many pages of waiting conversations there are")
    per_page: int = Field(description="Waiting conversations a page")


class MediaOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(description="Where staff of the desk download it")
    attachment_id: int | None = Field(description="The request's attachment made of it, once attached")


class MessageOut(BaseModel):
    id: int
    direction: Literal["inbound", "outbound"]
    body: str
    at: datetime
    sent_as: str = Field(description="Outbound: reply (the bot), session or template (staff)")
    staff_id: int | None
    staff: str = Field(description="The writer of a staff reply; empty for the sender and the bot")
    delivery: str | None = Field(description="A staff reply's outbox state: pending, sending, sent, failed…")
    delivery_status: str | None = Field(description="What Twilio last reported (delivered, read…)")
    case_id: int | None = Field(description="The request whose history documents the message")
    media: list[MediaOut]


class ConversationOut(ConversationLineOut):
    block_reason: str
    blocked_at: datetime | None
    window_open: bool = Field(description="Free text reaches the sender now (they wrote in the last 24 hours)")
    opted_out: bool
    earlier_messages: int = Field(description="Older messages kept but not listed")
    messages: list[MessageOut]


WHATSAPP_INPUTS: tuple[type[BaseModel], ...] = (ReplyIn, AssignIn, LinkIn, BlockIn, EmptyIn)
WHATSAPP_OUTPUTS: tuple[type[BaseModel], ...] = (ConversationLineOut, InboxOut, MediaOut, MessageOut, ConversationOut)
