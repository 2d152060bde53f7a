"""Each step of an emergency report after registration: acknowledged (through the duty officer's link or by
staff), news posted, solved or handed over to another authority, sent to another mission.

Callers lock nothing themselves: each step reads the report afresh and locks its row (SELECT … FOR UPDATE on
PostgreSQL; SQLite's write lock holds the whole database), then checks the state it found, so two people
acting at once get one change and one clear refusal.

Staff confined to one mission name it (`mission_id`): the report is checked against it once locked, for a
supervisor may have sent it to another mission between the staff's read of it and their step, and another
mission's report is not found, as it would have been on the read.

A link names the report's generation. Only sending the report to another mission raises it, so the old
mission's link says it has moved on; acknowledging does not, so a second press of the same link says who
acknowledged it, and the duty officer's page keeps working until the report is solved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import audit
from emergency import alerts, timers
from emergency.models import EmergencyReport, Mission, ReportEvent, ReportEventKind, ReportState
from majlis.clock import Clock
from majlis.errors import N_, DomainError, FieldError, InvalidInput, required, too_long
from notify import outbox
from notify.links import Links
from notify.texts import Text

MAX_NOTE = 4000
MAX_BY = 200

solved_sms = Text(N_("Your emergency report {number} has been dealt with: {outcome}. Details: {status_url}"))
handed_over_sms = Text(
    N_(
        "Your emergency report {number} has been passed to the authority that can act on it: {outcome}. "
        "Details: {status_url}"
    )
)


class ReportRefused(DomainError):
    """A step the report cannot take now (acknowledged already, solved, handed over): a conflict."""


class LinkMovedOn(ReportRefused):
    """A link made before the report was sent to another mission: gone, rather than in conflict."""

    def __init__(self) -> None:
        super().__init__("moved_on", N_("This link is no longer valid: the report has been sent to another mission."))


class ReportNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("report_not_found", N_("There is no such emergency report."))


def checked_text(value: str, field: str, limit: int = MAX_NOTE) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput([required(field)])
    if len(value) > limit:
        raise InvalidInput([too_long(field, limit)])
    return value


def isolated(value: str) -> str:
    """A number between left-to-right isolates, so it reads the same inside Arabic text."""
    return f"\u2066{value}\u2069"


async def lock(
    *, session: AsyncSession, report_id: int, generation: int | None = None, mission_id: int | None = None
) -> EmergencyReport:
    """The report, read afresh and locked; a link of another generation is refused as moved on, and a report
    no longer with `mission_id` (when given: the one mission the caller is confined to) is not found."""
    query = select(EmergencyReport).where(EmergencyReport.id == report_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    report = await session.scalar(query)
    if report is None or (mission_id is not None and report.mission_id != mission_id):
        raise ReportNotFound()
    if generation is not None and generation != report.generation:
        raise LinkMovedOn()
    return report


def require_owing(report: EmergencyReport) -> None:
    """Refuses a step on a report that is closed (solved or handed over)."""
    if report.state is ReportState.SOLVED:
        raise ReportRefused("solved", N_("This report has been solved already; nothing more can be done on it."))
    if report.state is ReportState.HANDED_OVER:
        raise ReportRefused(
            "handed_over",
            N_("This report has been handed over to another authority; nothing more can be done on it."),
        )


def _event(
    session: AsyncSession,
    clock: Clock,
    report: EmergencyReport,
    kind: ReportEventKind,
    *,
    actor_id: int | None,
    by: str,
    note: str = "",
    params: dict[str, object] | None = None,
) -> ReportEvent:
    event = ReportEvent(
        report_id=report.id,
        kind=kind,
        at=clock.now(),
        actor_id=actor_id,
        by=by[:MAX_BY],
        note=note,
        params=params or {},
    )
    session.add(event)
    return event


async def _audit(
    session: AsyncSession, clock: Clock, actor_id: int | None, action: str, report: EmergencyReport, **details: str
) -> None:
    await audit.record(
        session=session,
        clock=clock,
        actor_id=actor_id,
        action=action,
        target_type="emergency_report",
        target_id=report.number,
        details=details,
    )


def _acknowledge(report: EmergencyReport, clock: Clock, by: str) -> None:
    report.state = ReportState.ACKNOWLEDGED
    report.acknowledged_at = clock.now()
    report.acknowledged_by = by[:MAX_BY]


async def acknowledge(
    *,
    session: AsyncSession,
    clock: Clock,
    report_id: int,
    generation: int | None,
    by: str,
    actor_id: int | None,
    mission_id: int | None = None,
) -> EmergencyReport:
    """The mission takes the report on: the acknowledgement clock stops, the ladder waits for the solution.

    Through the link `generation` is the link's (None for staff, who act on the report as it stands); `by` is
    who acknowledged as people read it (the duty officer's name, or a member of staff's); `mission_id` the
    mission a member of staff is confined to (None for supervisors and the link).
    """
    by = checked_text(by, "by", MAX_BY)
    report = await lock(session=session, report_id=report_id, generation=generation, mission_id=mission_id)
    require_owing(report)
    if report.state is ReportState.ACKNOWLEDGED:
        raise ReportRefused(
            "acknowledged", N_("This report has been acknowledged already, by {by}."), by=report.acknowledged_by
        )
    _acknowledge(report, clock, by)
    timers.set_next_escalation(report, None)
    _event(
        session,
        clock,
        report,
        ReportEventKind.ACKNOWLEDGED,
        actor_id=actor_id,
        by=by,
        params={"within_service_level": clock.now() <= report.acknowledge_due_at},
    )
    await _audit(session, clock, actor_id, "emergency.acknowledge", report, by=by)
    await session.flush()
    return report


async def post_update(
    *,
    session: AsyncSession,
    clock: Clock,
    report_id: int,
    generation: int | None = None,
    note: str,
    by: str,
    actor_id: int | None,
    mission_id: int | None = None,
) -> ReportEvent:
    """News on an open report, in its history for the mission, the supervisors and the agents."""
    note = checked_text(note, "note")
    by = checked_text(by, "by", MAX_BY)
    report = await lock(session=session, report_id=report_id, generation=generation, mission_id=mission_id)
    require_owing(report)
    event = _event(session, clock, report, ReportEventKind.UPDATE, actor_id=actor_id, by=by, note=note)
    await session.flush()
    return event


async def solve(
    *,
    session: AsyncSession,
    clock: Clock,
    report_id: int,
    generation: int | None = None,
    outcome: str,
    handed_over: bool,
    by: str,
    actor_id: int | None,
    status_url: str,
    mission_id: int | None = None,
) -> EmergencyReport:
    """Closes the report, solved or handed over to another authority, and tells the citizen by SMS.

    A report solved before anyone acknowledged it counts as acknowledged now: someone took it on.
    """
    outcome = checked_text(outcome, "outcome")
    by = checked_text(by, "by", MAX_BY)
    report = await lock(session=session, report_id=report_id, generation=generation, mission_id=mission_id)
    require_owing(report)
    if report.state is ReportState.OPEN:
        _acknowledge(report, clock, by)
    report.state = ReportState.HANDED_OVER if handed_over else ReportState.SOLVED
    report.solved_at = clock.now()
    report.solved_by_id = actor_id
    report.outcome = outcome
    report.next_escalation_at = None
    kind = ReportEventKind.HANDED_OVER if handed_over else ReportEventKind.SOLVED
    _event(
        session,
        clock,
        report,
        kind,
        actor_id=actor_id,
        by=by,
        note=outcome,
        params={"within_service_level": clock.now() <= report.solve_due_at, "citizen_told": "sms"},
    )
    text = handed_over_sms if handed_over else solved_sms
    await outbox.enqueue(
        session=session,
        clock=clock,
        purpose=f"emergency_{kind.value}:{report.id}",
        channel="sms",
        recipient=report.phone,
        language=report.language,
        body=text(language=report.language, number=isolated(report.number), outcome=outcome, status_url=status_url),
        payload={"emergency_report_id": report.id},
        flush=False,
    )
    await _audit(session, clock, actor_id, f"emergency.{kind.value}", report, by=by)
    await session.flush()
    return report


async def reassign(
    *,
    session: AsyncSession,
    clock: Clock,
    report_id: int,
    mission_id: int,
    reason: str,
    actor_id: int | None,
    levels: timers.Levels,
    links: Links,
) -> EmergencyReport:
    """A supervisor sends the report to another mission: a new generation (the old links say it moved on), the
    deadlines counted afresh from now in the new mission's time, the ladder back at its first step, and the new
    mission's duty officer alerted."""
    reason = checked_text(reason, "reason")
    report = await lock(session=session, report_id=report_id)
    require_owing(report)
    target = await session.get(Mission, mission_id)
    if target is None or not target.active:
        raise InvalidInput([FieldError("mission_id", "unknown", N_("There is no such mission."))])
    if target.id == report.mission_id:
        raise InvalidInput([FieldError("mission_id", "same_mission", N_("The report is already with this mission."))])
    before = await session.get(Mission, report.mission_id)
    assert before is not None
    now = clock.now()
    due = await timers.deadlines(
        session=session, mission=target, severity=report.severity, registered_at=now, levels=levels
    )
    report.mission_id = target.id
    if report.covering_mission_id == target.id:
        report.covering_mission_id = None
    report.generation += 1
    report.state = ReportState.OPEN
    report.acknowledged_at = None
    report.acknowledged_by = ""
    report.escalation_level = 0
    report.acknowledge_due_at = due.acknowledge_due_at
    report.solve_due_at = due.solve_due_at
    report.next_escalation_at = due.next_escalation_at
    _event(
        session,
        clock,
        report,
        ReportEventKind.REASSIGNED,
        actor_id=actor_id,
        by="",
        note=reason,
        params={"from": before.code, "to": target.code},
    )
    await _audit(session, clock, actor_id, "emergency.reassign", report, to=target.code, reason=reason)
    await alerts.alert_registered(session=session, clock=clock, report=report, links=links)
    return report
