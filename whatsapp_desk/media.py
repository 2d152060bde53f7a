"""Media received on the WhatsApp desk: fetched from the provider, checked by content, kept for the request.

A file is fetched with the account's credentials (the MediaFetcher refuses any URL that is not the
provider's own), read only up to the attachment store's limit, and accepted only as PDF, JPEG or PNG by its
first bytes, never by the type the message declared. Each file kept is written to the attachment store
and named by a `DeskMedia` row of the conversation; once the request is made the same stored file becomes
the request's attachment, so nothing is copied. A file that cannot be kept is named in `problems` and the
conversation goes on: nothing here raises for a sender's file.

Which files are "pending". A file not yet attached waits for the request being gathered, or for staff while
they hold the conversation. Each function that reads pending files takes `since_message_id`: only the files
of messages from that one on count (the current gathering's, or the current hand-over's), so a file left
over from an abandoned exchange or kept for staff is never counted against the limit of a later request, nor
attached to it. Without it every unattached file of the conversation counts.

Media dropped with a cancelled request loses its row only: the file, no longer named by any row, is deleted
by the attachment store's orphan sweep a day later (a transaction that fails after deleting a file would
otherwise leave a row naming nothing).
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from followup.attachments import AttachmentStore, clean_filename, content_type_of, megabytes
from followup.models import Attachment, AttachmentOwner
from majlis.clock import Clock
from notify.channels import MediaFetcher, MediaTooLarge, MediaUnavailable
from whatsapp_desk.models import Conversation, DeskMedia, DeskMessage

log = logging.getLogger(__name__)

UNREADABLE = "unreadable"
TOO_LARGE = "too_large"
FILE_TYPE = "file_type"
# More files than a request may keep.
TOO_MANY = "too_many"


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


async def _fetch(fetcher: MediaFetcher | None, ref: MediaRef, max_bytes: int) -> bytes | MediaProblem | None:
    """The file's bytes, or the problem to name (with index -1: the caller knows the file's place)."""
    if fetcher is None:
        return MediaProblem(-1, UNREADABLE)
    try:
        return await fetcher.fetch_media(ref.url, max_bytes=max_bytes)
    except MediaTooLarge:
        return MediaProblem(-1, TOO_LARGE, {"max": megabytes(max_bytes)})
    except MediaUnavailable as exc:
        log.info("a WhatsApp file could not be fetched: %s", exc)
        return MediaProblem(-1, UNREADABLE)


def pending(conversation: Conversation, since_message_id: int | None) -> ColumnElement[bool]:
    """The conversation's files not yet attached, of messages from `since_message_id` on when given."""
    condition = and_(DeskMedia.conversation_id == conversation.id, DeskMedia.attachment_id.is_(None))
    if since_message_id is not None:
        condition = and_(condition, DeskMedia.message_id >= since_message_id)
    return condition


async def _pending_count(session: AsyncSession, conversation: Conversation, since_message_id: int | None) -> int:
    count = await session.scalar(
        select(func.count()).select_from(DeskMedia).where(pending(conversation, since_message_id))
    )
    return int(count or 0)


async def take_media(
    *,
    session: AsyncSession,
    clock: Clock,
    fetcher: MediaFetcher | None,
    store: AttachmentStore,
    conversation: Conversation,
    message: DeskMessage,
    media: Sequence[MediaRef],
    since_message_id: int | None = None,
) -> MediaResult:
    """Fetches, checks and stores each file of a message; the files refused are named in `problems`. The files
    pending since `since_message_id` count against the limit of files a request keeps."""
    if not media:
        return MediaResult([], [])
    # The rows name the message and the conversation by id: both must have one.
    await session.flush()
    # The files are fetched together: the webhook waits for all of them.
    fetched = await asyncio.gather(*(_fetch(fetcher, ref, store.max_bytes) for ref in media))
    number = await _pending_count(session, conversation, since_message_id)
    stored: list[DeskMedia] = []
    problems: list[MediaProblem] = []
    for index, outcome in enumerate(fetched):
        if isinstance(outcome, MediaProblem):
            problems.append(MediaProblem(index, outcome.code, outcome.params))
            continue
        if not outcome:
            problems.append(MediaProblem(index, UNREADABLE))
            continue
        if number >= store.max_files:
            # A request keeps as many files as the portal's form allows; the rest are named, not kept.
            problems.append(MediaProblem(index, TOO_MANY, {"max": str(store.max_files)}))
            continue
        content_type = content_type_of(outcome[:16])
        if content_type is None:
            # What the message declared (media[index].content_type) is not trusted: the content decides.
            problems.append(MediaProblem(index, FILE_TYPE))
            continue
        kept = await store.put(io.BytesIO(outcome))
        number += 1
        row = DeskMedia(
            conversation_id=conversation.id,
            message_id=message.id,
            filename=clean_filename(f"whatsapp-{number}", content_type),
            content_type=content_type,
            size=kept.size,
            sha256=kept.sha256,
            storage_key=kept.key,
            received_at=clock.now(),
        )
        session.add(row)
        stored.append(row)
    await session.flush()
    return MediaResult(stored, problems)


async def attach_to_case(
    *,
    session: AsyncSession,
    clock: Clock,
    conversation: Conversation,
    case: Case,
    since_message_id: int | None = None,
) -> list[Attachment]:
    """The conversation's media not yet attached (since `since_message_id`) become the request's attachments
    (same stored files)."""
    waiting = list(
        await session.scalars(select(DeskMedia).where(pending(conversation, since_message_id)).order_by(DeskMedia.id))
    )
    attachments = [
        Attachment(
            case_id=case.id,
            added_by=AttachmentOwner.APPLICANT,
            filename=item.filename,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            storage_key=item.storage_key,
            added_at=clock.now(),
        )
        for item in waiting
    ]
    session.add_all(attachments)
    await session.flush()
    for item, attachment in zip(waiting, attachments, strict=True):
        item.attachment_id = attachment.id
    await session.flush()
    return attachments


async def discard_pending(
    *, session: AsyncSession, conversation: Conversation, since_message_id: int | None = None
) -> int:
    """Forgets the media gathered (since `since_message_id`) for a request that was cancelled or started over;
    gives back how many."""
    result = await session.execute(
        delete(DeskMedia).where(pending(conversation, since_message_id)).execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
