"""What the database says about Majlis's health, read at each scrape of /metrics with a few aggregate queries.

Read from the tables, not counted in memory: the outbox is sent by every serving process and by `majlis worker`
processes that answer no HTTP, video calls are carried by whichever process is the signalling home, and deadlines
pass with no process touching them. The shared database is the one place that knows, whichever process Prometheus
happens to reach. Each query is an aggregate over an indexed column or a small set of rows (the live ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import EmergencyReport, ReportState
from followup.models import Referral, ReferralState
from majlis.clock import Clock
from notify.models import MessageStatus, OutboxMessage
from quality import review
from video.models import VideoAudience, VideoEvent, VideoEventKind, VideoState


@dataclass(frozen=True)
class OutboxFigures:
    # (channel, status) → messages in the table now. Not a counter: a failed message sent again (notify.attention.retry)
    # goes back to pending, so failed, and even sent, can fall; Prometheus takes delta() of them.
    by_channel_status: dict[tuple[str, str], int]
    # Pending messages whose time has come, and how long the oldest of them has been due (0 when none is).
    due: int
    oldest_due_seconds: float


@dataclass(frozen=True)
class DatabaseFigures:
    outbox: OutboxFigures
    # Video audiences by state (waiting, in_call), and those in a call carried by the server's bridge.
    video_by_state: dict[str, int]
    bridged_calls: int
    # (area, deadline) → items past that deadline and not yet met.
    sla_breaches: dict[tuple[str, str], int]
    # Negative ratings not reviewed by the end of the next working day after theirs (quality.review).
    overdue_reviews: int


async def database_figures(*, session: AsyncSession, clock: Clock) -> DatabaseFigures:
    """The figures of the moment, read in the caller's transaction."""
    now = clock.now()
    return DatabaseFigures(
        outbox=await outbox_figures(session=session, now=now),
        video_by_state=await video_by_state(session=session),
        bridged_calls=await bridged_calls(session=session),
        sla_breaches=await sla_breaches(session=session, now=now),
        overdue_reviews=await review.overdue_count(session, clock),
    )


async def outbox_figures(*, session: AsyncSession, now: datetime) -> OutboxFigures:
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count()).group_by(
            OutboxMessage.channel, OutboxMessage.status
        )
    )
    counts = {(str(channel), str(MessageStatus(status).value)): int(n) for channel, status, n in rows}
    # The (status, next_attempt_at) index finds the due ones; lateness counts from due_at, when it was meant to go.
    due_row = (
        await session.execute(
            select(func.count(), func.min(OutboxMessage.due_at)).where(
                OutboxMessage.status == MessageStatus.PENDING, OutboxMessage.next_attempt_at <= now
            )
        )
    ).one()
    due, oldest = int(due_row[0]), due_row[1]
    oldest_seconds = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxFigures(by_channel_status=counts, due=due, oldest_due_seconds=oldest_seconds)


async def video_by_state(*, session: AsyncSession) -> dict[str, int]:
    """Audiences waiting for, or in, their call (ended ones are history, not load)."""
    rows = await session.execute(
        select(VideoAudience.state, func.count())
        .where(VideoAudience.state.in_((VideoState.WAITING, VideoState.IN_CALL)))
        .group_by(VideoAudience.state)
    )
    found = {str(VideoState(state).value): int(n) for state, n in rows}
    return {state.value: found.get(state.value, 0) for state in (VideoState.WAITING, VideoState.IN_CALL)}


async def bridged_calls(*, session: AsyncSession) -> int:
    """Calls in progress that went through the server's media bridge (their BRIDGED event)."""
    bridged = exists().where(VideoEvent.audience_id == VideoAudience.id, VideoEvent.kind == VideoEventKind.BRIDGED)
    count = await session.scalar(
        select(func.count()).select_from(VideoAudience).where(VideoAudience.state == VideoState.IN_CALL, bridged)
    )
    return int(count or 0)


async def sla_breaches(*, session: AsyncSession, now: datetime) -> dict[tuple[str, str], int]:
    """Referrals and emergency reports past a deadline they have not met.

    A referral waiting for the applicant is paused (its deadlines move on by the paused time), so it is left out;
    an answered one has met its deadline whatever the follow-up team does next.
    """
    running = Referral.paused_since.is_(None)
    queries = {
        ("followup", "first_response"): and_(
            Referral.state == ReferralState.SENT, running, Referral.first_response_due_at < now
        ),
        ("followup", "solution"): and_(
            Referral.state.in_((ReferralState.SENT, ReferralState.ACKNOWLEDGED)),
            running,
            Referral.solution_due_at < now,
        ),
    }
    found: dict[tuple[str, str], int] = {}
    for key, condition in queries.items():
        found[key] = int(await session.scalar(select(func.count()).select_from(Referral).where(condition)) or 0)
    emergency = {
        ("emergency", "acknowledge"): and_(
            EmergencyReport.state == ReportState.OPEN, EmergencyReport.acknowledge_due_at < now
        ),
        ("emergency", "solve"): and_(
            EmergencyReport.state.in_((ReportState.OPEN, ReportState.ACKNOWLEDGED)),
            EmergencyReport.solve_due_at < now,
        ),
    }
    for key, condition in emergency.items():
        found[key] = int(await session.scalar(select(func.count()).select_from(EmergencyReport).where(condition)) or 0)
    return found
