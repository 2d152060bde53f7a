"""The periodic-job runner: APScheduler is the clock; the state of every job lives in our tables."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import Clock
from majlis.settings import Settings
from notify import outbox
from notify.senders import Sender

log = logging.getLogger(__name__)


def start(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    sender: Sender,
) -> AsyncIOScheduler:
    """A running scheduler with Majlis's periodic jobs."""
    scheduler = AsyncIOScheduler(timezone=settings.timezone)

    async def dispatch_outbox() -> None:
        try:
            sent = await outbox.dispatch_due(sessions=sessions, clock=clock, sender=sender)
        except Exception:
            log.exception("outbox dispatch failed; the next run tries again")
            return
        if sent:
            log.info("outbox: sent %d message(s)", sent)

    scheduler.add_job(
        dispatch_outbox,
        "interval",
        seconds=settings.outbox_interval_seconds,
        id="outbox",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
