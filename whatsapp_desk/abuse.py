"""Abuse of the WhatsApp desk: a sender writing too fast, and senders staff have blocked.

Both keep every message (the record of what was sent stays whole); they only decide whether the bot answers.
A sender over the rate is told once to wait, then gets silence until their last minute is under the rate
again: answering each message of a flood would make the desk a loudspeaker for it.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from whatsapp_desk.models import Conversation, DeskMessage, Direction

RATE_WINDOW = timedelta(seconds=60)
_WARNED_AT = "rate_warned_at"


class Pace(enum.StrEnum):
    WITHIN = "within"
    # Over the rate for the first time in this stretch: told to wait.
    WARN = "warn"
    # Over the rate and already told: not answered.
    QUIET = "quiet"


def is_blocked(conversation: Conversation) -> bool:
    return conversation.blocked_at is not None


async def pace(*, session: AsyncSession, conversation: Conversation, now: datetime, per_minute: int) -> Pace:
    """Whether the message just recorded keeps the sender within `per_minute` inbound messages in 60 seconds.

    The warning's moment is kept in the conversation's state until a message within the rate clears it: one
    warning per stretch over the rate, however long the stretch.
    """
    count = await session.scalar(
        select(func.count())
        .select_from(DeskMessage)
        .where(
            DeskMessage.conversation_id == conversation.id,
            DeskMessage.direction == Direction.INBOUND,
            DeskMessage.at > now - RATE_WINDOW,
        )
    )
    state = dict(conversation.state or {})
    if int(count or 0) <= per_minute:
        if _WARNED_AT in state:
            state.pop(_WARNED_AT)
            conversation.state = state
        return Pace.WITHIN
    if _WARNED_AT in state:
        return Pace.QUIET
    conversation.state = {**state, _WARNED_AT: now.isoformat()}
    return Pace.WARN
