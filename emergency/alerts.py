"""Alerts: the duty officer on shift told at once (SMS and a call for life-threatening reports, e-mail otherwise),
with an acknowledgement link; each rung of the ladder told the same way.

INTERFACE (owned by the SERVICE-LEVELS helper; bodies to be written).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import EmergencyReport
from majlis.clock import Clock
from notify.links import Links


async def alert_registered(*, session: AsyncSession, clock: Clock, report: EmergencyReport, links: Links) -> None:
    """Alerts whoever is on duty at the report's mission now (the head of mission when nobody is), writes the
    messages to the outbox and the ALERTED event."""
    raise NotImplementedError
