"""Making the request a WhatsApp conversation gathered: the same checks and the same service as every channel.

The phone is the sender's: WhatsApp has verified it. The request is submitted with an idempotency key of
the conversation and the confirming message, its files become its attachments, and a request repeating an
open one of the same applicant is cancelled at once (whatsapp_desk.repeats). Other likely duplicates are
flagged for the audit desk as on every channel, in a savepoint of their own: that advisory check failing
never costs the applicant the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cases import service as cases
from cases.intake import check_request
from cases.models import Case, Channel, RequestKind
from majlis.clock import Clock
from majlis.errors import InvalidInput
from priority import duplicates
from whatsapp_desk import media, repeats
from whatsapp_desk.context import DeskContext
from whatsapp_desk.models import Conversation, DeskMessage, Step

log = logging.getLogger(__name__)

# The question to ask again when the check refuses a field (none should be refused: each was checked as
# it was answered; this is the way back if the checks ever differ).
_STEP_OF_FIELD = {
    "applicant.name": Step.NAME,
    "applicant.kind": Step.ID_NUMBER,
    "applicant.id_number": Step.ID_NUMBER,
    "applicant.gender": Step.GENDER,
    "kind": Step.KIND,
    "branch": Step.BRANCH,
    "subject": Step.SUBJECT,
    "text": Step.TEXT,
}


@dataclass(frozen=True)
class Made:
    """The request made, and the earlier one it repeated (then it was cancelled); or why none was made."""

    case: Case | None = None
    earlier: Case | None = None
    # The sender's number cannot take the SMS every request's notices go by.
    refused_phone: bool = False
    # The question whose answer the check refused.
    missing: Step | None = None


async def has_pending_media(
    *, session: AsyncSession, conversation: Conversation, since_message_id: int | None = None
) -> bool:
    """Whether the conversation holds files not yet attached to a request (of messages since `since_message_id`)."""
    found = await session.scalar(select(exists().where(media.pending(conversation, since_message_id))))
    return bool(found)


async def make_request(
    *,
    session: AsyncSession,
    clock: Clock,
    conversation: Conversation,
    answers: dict[str, Any],
    message: DeskMessage,
    context: DeskContext,
    first_message_id: int | None,
) -> Made:
    """Checks and submits the gathered request; its conversation's messages since `first_message_id` are
    marked as the request's, so its history shows the exchange, and the files sent since then are its
    attachments (never a file of an earlier exchange: one kept for staff, or left by a dropped request)."""
    since = first_message_id if first_message_id is not None else message.id
    applicant = {
        "kind": answers.get("kind", ""),
        "id_number": answers.get("id_number", ""),
        "name": answers.get("name", ""),
        "gender": answers.get("gender", ""),
        "phone": conversation.phone,
        "language": conversation.language,
    }
    request = {
        "kind": answers.get("request_kind") or RequestKind.COMPLAINT.value,
        "subject": answers.get("subject", ""),
        "text": answers.get("text", ""),
        "branch": answers.get("branch", ""),
    }
    try:
        details = check_request(applicant, request, channel=Channel.WHATSAPP)
    except InvalidInput as refused:
        fields = [error.field for error in refused.errors]
        if "applicant.phone" in fields:
            return Made(refused_phone=True)
        return Made(missing=next((_STEP_OF_FIELD[f] for f in fields if f in _STEP_OF_FIELD), Step.NAME))
    try:
        submission = await cases.submit(
            session=session,
            clock=clock,
            details=details,
            status_url=context.status_url,
            idempotency_key=f"whatsapp:{conversation.id}:{message.provider_id}",
        )
    except InvalidInput:
        # The centre chosen was closed after the question was asked (cases.branches.require_open): ask again.
        return Made(missing=Step.BRANCH)
    case = submission.case
    if await has_pending_media(session=session, conversation=conversation, since_message_id=since):
        await media.attach_to_case(
            session=session, clock=clock, conversation=conversation, case=case, since_message_id=since
        )
    earlier = await repeats.cancel_if_repeated(
        session=session, clock=clock, case=case, window=context.duplicate_window, status_url=context.status_url
    )
    if earlier is None:
        try:
            async with session.begin_nested():
                await duplicates.flag_on_intake(
                    session=session, clock=clock, case=case, window=context.duplicate_window
                )
        except Exception:
            log.exception("duplicate check failed for %s; the request is saved", case.tracking_number)
    conversation.case_id = case.id
    await session.execute(
        update(DeskMessage)
        .where(
            DeskMessage.conversation_id == conversation.id,
            DeskMessage.id >= since,
            DeskMessage.case_id.is_(None),
        )
        .values(case_id=case.id)
    )
    return Made(case=case, earlier=earlier)
