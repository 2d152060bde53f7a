"""The emergency ladder's sweep: each report past its next rung goes up one, that rank is told, and it is recorded.

The same design as the follow-up's sweep (followup/escalation.py): it reads only `next_escalation_at`
(indexed), so its cost is the number of reports due, not the number open; a batch is tried whole in one
savepoint, its rows written together, and if any item fails each is taken alone in its own savepoint, the
failing one logged and left for the next sweep. On PostgreSQL due rows are claimed with SKIP LOCKED, so two
sweeps (two processes) never escalate one report twice.

There is no working-hours hold: a life-threatening or urgent report climbs at any hour, and a normal one's
rungs already fall in the mission's working time (its deadlines count in it). Every report still owed has a next
moment (the deputy is reminded until it is solved), so nothing open is left out of the index the sweep reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import alerts, timers
from emergency.models import EmergencyReport, Mission, ReportEvent, Severity
from majlis.clock import Clock
from majlis.db import transaction
from worktime import service as worktime
from worktime.clock import Calendar

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    escalated: int = 0
    # Due by a moment stored earlier, but not by the report as it stands (the moment was stale): moved.
    rescheduled: int = 0
    failed: list[int] = field(default_factory=list)


class Known:
    """What escalating a batch needs, read once: the missions (a small table) and the calendars of those with
    normal reports (their second rung counts in working time)."""

    def __init__(self, session: AsyncSession, levels: timers.Levels) -> None:
        self.session = session
        # The service levels in force: a wall-time report's deputy rung is one acknowledgement time after its deadline.
        self.levels = levels
        self.missions: dict[int, Mission] = {}
        self.calendars: dict[int, Calendar] = {}

    async def prepare(self, reports: list[EmergencyReport]) -> None:
        if not self.missions:
            self.missions = {m.id: m for m in await self.session.scalars(select(Mission))}
        wanted = {
            self.missions[r.mission_id].calendar_id for r in reports if r.severity is Severity.NORMAL
        } - self.calendars.keys()
        if wanted:
            self.calendars.update(await worktime.load(session=self.session, calendar_ids=wanted))

    def calendar(self, report: EmergencyReport) -> Calendar | None:
        return self.calendars.get(self.missions[report.mission_id].calendar_id)


async def escalate(
    *, session: AsyncSession, clock: Clock, report: EmergencyReport, deputy: alerts.Deputy, known: Known
) -> ReportEvent | None:
    """Takes the (locked) report up one rung if it is due; None when it was not (its next moment is reset)."""
    calendar = known.calendar(report)
    rung = timers.next_rung(report, calendar, known.levels)
    if rung is None or rung.at > clock.now():
        report.next_escalation_at = rung.at if rung is not None else None
        return None
    event = await alerts.alert_rung(
        session=session,
        clock=clock,
        report=report,
        mission=known.missions[report.mission_id],
        rung=rung,
        deputy=deputy,
        by="",
        flush=False,
    )
    timers.set_next_escalation(report, calendar, known.levels)
    return event


async def _due(session: AsyncSession, clock: Clock, batch: int, skip: set[int]) -> list[EmergencyReport]:
    # `skip` holds at most a sweep's work (rounds × batch) plus its failures: well within a statement's parameters.
    query = (
        select(EmergencyReport)
        .where(EmergencyReport.next_escalation_at <= clock.now(), EmergencyReport.id.not_in(skip))
        .order_by(EmergencyReport.next_escalation_at, EmergencyReport.id)
        .limit(batch)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(await session.scalars(query))


async def _whole_batch(
    session: AsyncSession, clock: Clock, due: list[EmergencyReport], deputy: alerts.Deputy, levels: timers.Levels
) -> list[ReportEvent | None] | None:
    """Escalates the batch in one savepoint; None (and nothing kept) if any item fails."""
    try:
        async with session.begin_nested():
            known = Known(session, levels)
            await known.prepare(due)
            return [
                await escalate(session=session, clock=clock, report=report, deputy=deputy, known=known)
                for report in due
            ]
    except Exception:
        log.warning(
            "a batch of %d emergency escalations failed; taking its reports one by one", len(due), exc_info=True
        )
        return None


async def _one_by_one(
    session: AsyncSession,
    clock: Clock,
    ids: list[int],
    deputy: alerts.Deputy,
    levels: timers.Levels,
    report: SweepReport,
) -> list[ReportEvent | None]:
    """Each report in its own savepoint: a failing one is logged and left for the next sweep."""
    # Read afresh by id: the batch's savepoint took back what it had changed and expired the objects.
    fresh = {
        r.id: r
        for r in await session.scalars(
            select(EmergencyReport).where(EmergencyReport.id.in_(ids)).execution_options(populate_existing=True)
        )
    }
    known = Known(session, levels)
    await known.prepare(list(fresh.values()))
    done: list[ReportEvent | None] = []
    for report_id in ids:
        try:
            async with session.begin_nested():
                event = await escalate(
                    session=session, clock=clock, report=fresh[report_id], deputy=deputy, known=known
                )
        except Exception:
            log.exception("escalating emergency report %s failed; the next sweep tries again", report_id)
            report.failed.append(report_id)
            continue
        done.append(event)
    return done


async def sweep(
    *,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    deputy: alerts.Deputy,
    levels: timers.Levels | None = None,
    batch: int = 500,
    rounds: int = 20,
) -> SweepReport:
    """Escalates every report whose next rung is due, one rung each, in batches of one transaction each.

    `levels`: the service levels in force (the settings' defaults when not given).
    """
    levels = levels or timers.DEFAULT_LEVELS
    report = SweepReport()
    skip: set[int] = set()
    for _ in range(rounds):
        async with transaction(sessions) as session:
            due = await _due(session, clock, batch, skip)
            if not due:
                break
            ids = [r.id for r in due]
            # One rung per report per sweep, even one long past both: each rank hears in turn, a sweep apart.
            skip.update(ids)
            events = await _whole_batch(session, clock, due, deputy, levels)
            if events is None:
                events = await _one_by_one(session, clock, ids, deputy, levels, report)
            report.escalated += sum(event is not None for event in events)
            report.rescheduled += sum(event is None for event in events)
    return report
