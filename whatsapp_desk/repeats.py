"""Repeated WhatsApp requests: cancelled on arrival as a duplicate of an open one, and the undoing of that.

INTERFACE (owned by the repeats helper; bodies to be written).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cases.models import Case
from majlis.clock import Clock


async def cancel_if_repeated(
    *, session: AsyncSession, clock: Clock, case: Case, window: timedelta, status_url: str
) -> Case | None:
    """Cancels a request just made by WhatsApp as a duplicate when it is similar to an open request of the same
    applicant (the duplicate scorer decides); gives back that earlier request, or None when it stands."""
    raise NotImplementedError
