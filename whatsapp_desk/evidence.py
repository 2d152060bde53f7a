"""Files a sender sends the WhatsApp desk, as the conversation takes them: for the request being gathered, or
for staff while they hold the conversation; each file refused is named to the sender in their language.

Which request a file can end in is decided here by the exchange it arrived in: a file of a gathering counts
(and is attached) only with that gathering's files, a file sent to staff only with that hand-over's, so a
file left from an abandoned exchange never ends up in a later request (whatsapp_desk.media: pending).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from majlis.clock import Clock
from whatsapp_desk import inbox, media, texts
from whatsapp_desk.context import DeskContext
from whatsapp_desk.media import MediaRef
from whatsapp_desk.models import Conversation, DeskMessage

_PROBLEMS = {
    media.UNREADABLE: texts.MEDIA_UNREADABLE,
    media.TOO_LARGE: texts.MEDIA_TOO_LARGE,
    media.FILE_TYPE: texts.MEDIA_FILE_TYPE,
    media.TOO_MANY: texts.MEDIA_TOO_MANY,
}


@dataclass(frozen=True)
class Taken:
    """How many files of the message were kept, what to tell the sender about the others, and whether none
    could be fetched at all (the provider unreachable, not a file refused for what it is)."""

    kept: int
    said: list[str]
    unreachable: bool


async def take(
    *,
    session: AsyncSession,
    clock: Clock,
    context: DeskContext,
    conversation: Conversation,
    message: DeskMessage,
    files: Sequence[MediaRef],
    since_message_id: int,
) -> Taken:
    """Keeps the message's files for the exchange that began with message `since_message_id`."""
    result = await media.take_media(
        session=session,
        clock=clock,
        fetcher=context.fetcher,
        store=context.store,
        conversation=conversation,
        message=message,
        media=files,
        since_message_id=since_message_id,
    )
    said = []
    for problem in result.problems:
        params = {key: texts.isolated(value) for key, value in problem.params.items()}
        params["index"] = texts.isolated(str(problem.index + 1))
        said.append(texts.text(conversation.language, _PROBLEMS.get(problem.code, texts.MEDIA_UNREADABLE), **params))
    unreachable = bool(result.problems) and not result.stored
    unreachable = unreachable and all(problem.code == media.UNREADABLE for problem in result.problems)
    return Taken(len(result.stored), said, unreachable)


async def keep_for_staff(
    *,
    session: AsyncSession,
    clock: Clock,
    context: DeskContext,
    conversation: Conversation,
    message: DeskMessage,
    files: Sequence[MediaRef],
) -> None:
    """Files sent while staff hold the conversation: shown to them with the message, and attached at once to
    the request linked in this hand-over, if any (linking one later attaches them then: inbox.link_case)."""
    start = await inbox.handover_start(session=session, conversation=conversation) or message.id
    taken = await take(
        session=session,
        clock=clock,
        context=context,
        conversation=conversation,
        message=message,
        files=files,
        since_message_id=start,
    )
    if taken.kept and conversation.case_id is not None:
        case = await session.get_one(Case, conversation.case_id)
        await media.attach_to_case(
            session=session, clock=clock, conversation=conversation, case=case, since_message_id=start
        )
