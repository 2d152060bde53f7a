"""Status on request: the state of a sender's requests in plain words, for WhatsApp and the enquiry line.

INTERFACE (owned by the status helper; bodies to be written).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from majlis.clock import Clock


async def status_answer(
    *, session: AsyncSession, clock: Clock, phone: str, tracking_number: str | None, language: str
) -> str:
    """The answer to "follow a request", in `language`: the sender's own requests (given with this phone), or
    the request with this tracking number when its phone is the sender's; a plain "none found" otherwise."""
    raise NotImplementedError
