"""Media received on the WhatsApp desk: fetched from the provider, checked by content, kept for the request.

INTERFACE (owned by the media helper; bodies to be written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from followup.attachments import AttachmentStore
from followup.models import Attachment
from majlis.clock import Clock
from notify.channels import MediaFetcher
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage


@dataclass(frozen=True)
class MediaRef:
    """One file Twilio announced with a message: its URL (MediaUrlN) and the type it declared (MediaContentTypeN)."""

    url: str
    content_type: str


@dataclass(frozen=True)
class MediaProblem:
    """A file that could not be kept: `code` is "unreadable" (not fetched), "too_large" or "file_type";
    `params` are the values its message names (e.g. {"max": "10"})."""

    index: int
    code: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MediaResult:
    stored: list[DeskMedia]
    problems: list[MediaProblem]


async def take_media(
    *,
    session: AsyncSession,
    clock: Clock,
    fetcher: MediaFetcher | None,
    store: AttachmentStore,
    conversation: Conversation,
    message: DeskMessage,
    media: Sequence[MediaRef],
) -> MediaResult:
    """Fetches, checks and stores each file of a message; the files refused are named in `problems`."""
    raise NotImplementedError


async def attach_to_case(
    *, session: AsyncSession, clock: Clock, conversation: Conversation, case: Case
) -> list[Attachment]:
    """The conversation's media not yet attached become the request's attachments (same stored files)."""
    raise NotImplementedError


async def discard_pending(*, session: AsyncSession, conversation: Conversation) -> int:
    """Forgets the media gathered for a request that was cancelled or started over; gives back how many."""
    raise NotImplementedError
