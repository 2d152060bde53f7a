"""The staff inbox of the WhatsApp desk: hand-overs, assignment, replies, blocking.

INTERFACE (owned by the inbox helper; bodies to be written).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from majlis.clock import Clock
from whatsapp_desk.models import Conversation, HandoverReason


async def hand_over(*, session: AsyncSession, clock: Clock, conversation: Conversation, reason: HandoverReason) -> None:
    """Puts the conversation in the staff inbox (step STAFF): the bot stays quiet until staff hand it back."""
    raise NotImplementedError
