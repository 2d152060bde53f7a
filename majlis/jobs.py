"""The periodic-job runner: APScheduler is the clock; the state of every job lives in our tables."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import sessions as staff_sessions
from accounts import sign_in_throttle
from cases import retention
from emergency import alerts as emergency_alerts
from emergency import escalation as emergency_escalation
from emergency import monthly_mailing as emergency_mailing
from emergency import roster_gaps as emergency_roster_gaps
from emergency import timers as emergency_timers
from fairness import anchors as fairness_anchors
from followup import escalation, mailing
from followup.attachments import AttachmentStore, remove_orphans
from majlis.clock import Clock
from majlis.db import transaction
from majlis.logs import job_request_id, request_id_set
from majlis.settings import Settings
from notify.outbox import Dispatcher
from quality import monthly_mailing as quality_mailing
from scheduler import confirmations, lifecycle
from scheduler.weekly import weekly_run

log = logging.getLogger(__name__)


class JobScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """APScheduler's asyncio scheduler that can stop gracefully: no new runs, and the running ones finish.

    APScheduler's own shutdown cancels a running job wherever it is. A job cancelled in the middle of a
    statement leaves asyncpg waiting on the query's cancellation while the pool is being disposed, which
    can hang the process's exit; a job that finishes its transaction leaves nothing half-done either.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._running: set[asyncio.Task[Any]] = set()

    def add_job(self, func: Callable[[], Awaitable[None]], *args: Any, **kwargs: Any) -> Any:
        name = getattr(func, "__name__", "job")

        async def tracked() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                # Each run logs under an id of its own, and the messages it enqueues carry it (majlis.logs).
                with request_id_set(job_request_id(name)):
                    await func()
            finally:
                if task is not None:
                    self._running.discard(task)

        tracked.__name__ = tracked.__qualname__ = name
        return super().add_job(tracked, *args, **kwargs)

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Lets the running jobs end (for up to `grace_seconds`), then shuts down; nothing starts meanwhile."""
        if not self.running:
            return
        self.pause()
        if self._running:
            _, late = await asyncio.wait(set(self._running), timeout=grace_seconds)
            if late:
                log.warning("%d job(s) still running after %.0f s are cancelled", len(late), grace_seconds)
        self.shutdown(wait=False)


def start_dispatching(*, settings: Settings, dispatcher: Dispatcher) -> JobScheduler:
    """A running scheduler that sends the outbox's due messages; every process runs one.

    Dispatchers claim messages with SKIP LOCKED and take each send's slot from the provider's shared
    rate (notify.send_budget), so any number of them together send each message once, within the rate.
    """
    scheduler = JobScheduler(timezone=settings.timezone)

    async def dispatch_outbox() -> None:
        try:
            report = await dispatcher.run_once(max_rounds=20)
        except Exception:
            log.exception("outbox dispatch failed; the next run tries again")
            return
        if report.sent or report.failed or report.retried:
            log.info("outbox: %s", report)

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


def start(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    attachments: AttachmentStore | None = None,
    allocation_ran: Callable[[float], None] | None = None,
) -> JobScheduler:
    """A running scheduler with Majlis's periodic jobs, run by the job leader only (majlis.leader).

    The outbox's dispatch is not among them: start_dispatching runs it in every process. `allocation_ran` is told
    each weekly allocation's duration in seconds (the app's metrics).
    """
    scheduler = JobScheduler(timezone=settings.timezone)

    policy = confirmations.policy_from(settings)

    async def ask_confirmations() -> None:
        try:
            async with transaction(sessions) as session:
                asked = await confirmations.ask_due(session=session, clock=clock, policy=policy)
        except Exception:
            log.exception("asking for confirmations failed; the next run tries again")
            return
        if asked:
            log.info("confirmations: asked %d applicant(s)", asked)

    # The sweep writes the confirmation requests; a dispatcher sends them on its next round.
    scheduler.add_job(
        ask_confirmations,
        "interval",
        seconds=settings.outbox_interval_seconds,
        id="confirmations",
        max_instances=1,
        coalesce=True,
    )

    no_show_policy = lifecycle.policy_from(settings)

    async def end_sessions() -> None:
        try:
            async with transaction(sessions) as session:
                report = await lifecycle.end_past_sessions(
                    session=session, clock=clock, policy=no_show_policy, status_url=status_url(settings)
                )
        except Exception:
            log.exception("ending past sessions failed; the next run tries again")
            return
        if report.no_shows or report.not_reached:
            log.info("sessions ended: %s", report)

    # Every appointment ends: the sweep after each session marks no-shows and places those not reached.
    scheduler.add_job(
        end_sessions,
        "interval",
        seconds=settings.end_sessions_interval_seconds,
        id="end_sessions",
        max_instances=1,
        coalesce=True,
    )

    async def escalation_sweep() -> None:
        try:
            report = await escalation.sweep(sessions=sessions, clock=clock)
        except Exception:
            log.exception("the escalation sweep failed; the next run tries again")
            return
        if report.escalated or report.deferred or report.failed:
            log.info("escalation sweep: %s", report)

    # Each referral past its next rung is escalated in its own savepoint; a failing one is logged and retried.
    scheduler.add_job(
        escalation_sweep,
        "interval",
        seconds=settings.followup_sweep_seconds,
        id="escalation_sweep",
        max_instances=1,
        coalesce=True,
    )

    async def weekly_allocation() -> None:
        # Real elapsed time, not the injected clock: it measures the run's work.
        started = time.perf_counter()
        try:
            report = await weekly_run(
                sessions=sessions,
                clock=clock,
                actor_id=None,
                status_url=status_url(settings),
                horizon=settings.allocation_horizon,
            )
        except Exception:
            log.exception("weekly allocation failed; protocol can run it from the calendar page")
            return
        seconds = time.perf_counter() - started
        if allocation_ran is not None:
            allocation_ran(seconds)
        log.info(
            "weekly allocation: %d new sessions, %d placed, %d waiting (%.1f s)",
            report.new_sessions,
            report.run.placed,
            report.run.unplaced,
            seconds,
        )

    # Thursday morning, Riyadh time, by default (settings.weekly_allocation_at): Sunday's audience is three
    # days away. With the 10-day horizon each run reaches past the next run's own reach (next Thursday + 3
    # days), so no session is left between two runs.
    day, at = settings.weekly_allocation_at.split()
    hour, minute, *second = at.split(":")
    scheduler.add_job(
        weekly_allocation,
        "cron",
        day_of_week=day,
        hour=int(hour),
        minute=int(minute),
        second=int(second[0]) if second else 0,
        id="weekly_allocation",
        max_instances=1,
        coalesce=True,
    )

    def mail_monthly(job_id: str, name: str, what: str, send: Callable[[AsyncSession], Awaitable[Any]]) -> None:
        """Every morning at 06:00 in Riyadh: on the 1st the month just ended goes out; later days send only what a
        failure or a stopped server left owed (each report goes once per recipient and period)."""

        async def mail() -> None:
            try:
                async with transaction(sessions) as session:
                    run = await send(session)
            except Exception:
                log.exception("mailing %s failed; tomorrow's run tries again", what)
                return
            if run.sent or run.failed:
                log.info("%s %s: sent %s, failed %s", what, run.period, run.sent, run.failed)

        mail.__name__ = mail.__qualname__ = name
        scheduler.add_job(mail, "cron", hour=6, minute=0, id=job_id, max_instances=1, coalesce=True)

    # The follow-up's to each department, the emergency line's to each mission, service quality's to each manager
    # with an address (the last two in the follow-up's calendar setting, the missions' always Gregorian).
    mail_monthly(
        "followup_report_mailing",
        "monthly_followup_report",
        "the monthly follow-up report",
        lambda session: mailing.send_monthly(
            session=session, clock=clock, hijri=settings.followup_report_hijri, report_url=followup_report_url(settings)
        ),
    )
    mail_monthly(
        "emergency_report_mailing",
        "monthly_emergency_report",
        "the emergency line's monthly report",
        lambda session: emergency_mailing.send_monthly(
            session=session, clock=clock, hijri=False, report_url=emergency_report_url(settings)
        ),
    )
    mail_monthly(
        "quality_report_mailing",
        "monthly_quality_report",
        "the monthly service-quality report",
        lambda session: quality_mailing.send_monthly(
            session=session, clock=clock, hijri=settings.followup_report_hijri, report_url=quality_report_url(settings)
        ),
    )

    async def fairness_anchor() -> None:
        try:
            async with transaction(sessions) as session:
                anchor = await fairness_anchors.send_daily(
                    session=session,
                    clock=clock,
                    anchor_file=Path(settings.fairness_anchor_file),
                    recipients=settings.fairness_anchor_recipients,
                )
        except Exception:
            log.exception("sending the fairness record's anchor failed; the next hour's run tries again")
            return
        if anchor is not None:
            log.info("fairness anchor of %s: entry %d, hash %s", anchor.day, anchor.seq, anchor.hash)

    # Hourly at ten past: the day's first run (00:10 in Riyadh) sends the head once; a run missed at 00:10 (the
    # server down) is caught up by the next one, and later runs find the day's anchor sent.
    scheduler.add_job(fairness_anchor, "cron", minute=10, id="fairness_anchor", max_instances=1, coalesce=True)

    async def roster_gaps() -> None:
        try:
            async with transaction(sessions) as session:
                report = await emergency_roster_gaps.flag_gaps(
                    session=session,
                    clock=clock,
                    lookahead=timedelta(hours=settings.emergency_roster_lookahead_hours),
                    to=settings.emergency_consular_deputy_email,
                    mission_url=missions_url(settings),
                )
        except Exception:
            log.exception("looking for gaps in the duty rosters failed; the next run tries again")
            return
        if report.flagged or report.resolved or report.failed:
            log.info("duty roster gaps: %s", report)

    # Hourly: a gap is told as soon as it comes within the look-ahead, long before it starts.
    scheduler.add_job(roster_gaps, "interval", hours=1, id="emergency_roster_gaps", max_instances=1, coalesce=True)

    deputy = emergency_alerts.deputy_from(settings)
    levels = emergency_timers.levels_from(settings)

    async def emergency_sweep() -> None:
        try:
            report = await emergency_escalation.sweep(sessions=sessions, clock=clock, deputy=deputy, levels=levels)
        except Exception:
            log.exception("the emergency escalation sweep failed; the next run tries again")
            return
        if report.escalated or report.rescheduled or report.failed:
            log.info("emergency escalation sweep: %s", report)

    # Every minute by default: a life-threatening report climbs ten minutes after it came unacknowledged.
    scheduler.add_job(
        emergency_sweep,
        "interval",
        seconds=settings.emergency_sweep_seconds,
        id="emergency_sweep",
        max_instances=1,
        coalesce=True,
    )

    async def anonymise_expired() -> None:
        try:
            async with transaction(sessions) as session:
                done = await retention.anonymise(session=session, clock=clock, years=settings.retention_years)
        except Exception:
            log.exception("anonymising expired personal data failed; tomorrow's run tries again")
            return
        if not done.empty:
            log.info(
                "retention: anonymised %d request(s) and %d applicant(s) closed before %s; "
                "deleted %d WhatsApp conversation(s)",
                len(done.case_ids),
                len(done.applicant_ids),
                done.cutoff.date().isoformat(),
                len(done.conversation_ids),
            )

    # Nightly, before the orphan sweep (03:30), which then deletes the files of the attachments it removed.
    scheduler.add_job(anonymise_expired, "cron", hour=3, minute=0, id="retention", max_instances=1, coalesce=True)
    if attachments is not None:

        async def remove_orphan_files() -> None:
            try:
                async with transaction(sessions) as session:
                    removed = await remove_orphans(session=session, clock=clock, store=attachments)
            except Exception:
                log.exception("removing orphan attachment files failed; tomorrow's run tries again")
                return
            if removed:
                log.info("attachments: removed %d file(s) no request names", removed)

        # Files written by a transaction that then failed; none can be served (files are reached through rows).
        scheduler.add_job(
            remove_orphan_files, "cron", hour=3, minute=30, id="attachment_orphans", max_instances=1, coalesce=True
        )
    session_policy = staff_sessions.SessionPolicy(
        lifetime=timedelta(hours=settings.session_hours), idle=timedelta(minutes=settings.session_idle_minutes)
    )

    async def delete_ended_staff_sessions() -> None:
        try:
            async with transaction(sessions) as session:
                deleted = await staff_sessions.delete_ended(session=session, clock=clock, policy=session_policy)
                # Sign-in attempts older than the throttle's window count for nothing any more.
                attempts = await sign_in_throttle.prune(
                    session=session, clock=clock, window=timedelta(minutes=settings.login_window_minutes)
                )
        except Exception:
            log.exception("deleting ended staff sessions failed; the next run tries again")
            return
        if deleted:
            log.info("staff sessions: deleted %d past their idle or absolute end", deleted)
        if attempts:
            log.info("sign-in attempts: deleted %d older than the throttle's window", attempts)

    # Hourly: ended sessions are refused anyway; this only keeps the table to the live ones.
    scheduler.add_job(
        delete_ended_staff_sessions, "interval", hours=1, id="staff_sessions", max_instances=1, coalesce=True
    )
    scheduler.start()
    return scheduler


def status_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") + "/status"


def followup_report_url(settings: Settings) -> str:
    """The follow-up's monthly report page, which the monthly e-mails link to."""
    return settings.public_url.rstrip("/") + "/reports/followup"


def quality_report_url(settings: Settings) -> str:
    """The monthly service-quality report's page, which the managers' e-mails link to (and to its workbook)."""
    return settings.public_url.rstrip("/") + "/reports/quality-monthly"


def emergency_report_url(settings: Settings) -> str:
    """The ministry's page of the emergency line's monthly report, which the central desk's e-mail links to."""
    return settings.public_url.rstrip("/") + "/reports/emergency"


def missions_url(settings: Settings) -> str:
    """The missions' pages (…/{code}), which the e-mails about roster gaps link to."""
    return emergency_roster_gaps.watch_from(settings).mission_url
