"""A report's deadlines by severity, in wall time or the mission's working time, and its escalation moments.

Life-threatening and urgent reports count in wall time, around the clock: an emergency abroad does not wait
for the mission's morning. A normal report counts in the mission's working calendar (its zone, its weekend,
its holidays): acknowledged by the end of the mission's next working day, solved within so many of its working
days. Every deadline is stored as a moment (UTC), so the sweep and the pages only compare.

The ladder above the duty officer, "until solved":
1. the head of mission, when the acknowledgement is overdue;
2. the ministry's consular deputy, when the report is still not acknowledged one acknowledgement time later
   (counted from the acknowledgement deadline, so after a reassignment from the new one: in wall time the
   severity's acknowledgement time again, for a normal report the end of the mission's next working day);
3. the consular deputy told that the solution is overdue, at the solution deadline (straight from the duty
   officer or the head of mission when it falls first, or once the report was acknowledged);
4. and on, the consular deputy reminded every REMIND_EVERY while the report is still not solved or handed over.
`escalation_level` counts these steps (3 and above all reach the deputy), so the next one is worked out from the
row alone and the sweep, which reads only `next_escalation_at`, always has a moment while the report is owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import EmergencyReport, Mission, ReportState, Severity
from majlis.settings import Settings
from worktime import service as worktime
from worktime.clock import Calendar, NoWorkingTime, add_working

# The rungs above the duty officer (escalation_level 0).
HEAD_OF_MISSION = 1
CONSULAR_DEPUTY = 2
LAST_RUNG = CONSULAR_DEPUTY
# The deputy told the solution is overdue; each step above it is a reminder of the same, REMIND_EVERY apart.
SOLUTION_OVERDUE_STEP = 3
# A day: the "solved within a day", and no more than one voice call a day to the deputy per report.
REMIND_EVERY = timedelta(hours=24)
# Why a rung was reached, as the ESCALATED event's params say it.
NOT_ACKNOWLEDGED = "not_acknowledged"
SOLUTION_OVERDUE = "solution_overdue"
# States in which the mission owes something, so the ladder runs.
OWING = frozenset({ReportState.OPEN, ReportState.ACKNOWLEDGED})
_DAY = timedelta(days=1)
ROUND_THE_CLOCK = Calendar(zone=ZoneInfo("UTC"), always_open=True)
_HORIZON_DAYS = 400


@dataclass(frozen=True)
class Levels:
    """The service levels in force (from the settings)."""

    life_ack_minutes: int
    life_solve_hours: float
    urgent_ack_minutes: int
    urgent_solve_hours: float
    normal_solve_working_days: int


def levels_from(settings: Settings) -> Levels:
    return Levels(
        life_ack_minutes=settings.emergency_life_ack_minutes,
        life_solve_hours=settings.emergency_life_solve_hours,
        urgent_ack_minutes=settings.emergency_urgent_ack_minutes,
        urgent_solve_hours=settings.emergency_urgent_solve_hours,
        normal_solve_working_days=settings.emergency_normal_solve_working_days,
    )


def _default(name: str) -> Any:
    return Settings.model_fields[f"emergency_{name}"].default


# The settings' defaults: for callers that pass no levels where they cannot matter (see next_rung).
DEFAULT_LEVELS = Levels(
    life_ack_minutes=_default("life_ack_minutes"),
    life_solve_hours=_default("life_solve_hours"),
    urgent_ack_minutes=_default("urgent_ack_minutes"),
    urgent_solve_hours=_default("urgent_solve_hours"),
    normal_solve_working_days=_default("normal_solve_working_days"),
)


@dataclass(frozen=True)
class Deadlines:
    acknowledge_due_at: datetime
    solve_due_at: datetime
    # The first rung (head of mission): when the acknowledgement is overdue.
    next_escalation_at: datetime


def in_wall_time(severity: Severity) -> bool:
    """Whether the severity's clocks run around the clock (else in the mission's working time)."""
    return severity is not Severity.NORMAL


def _midnight(calendar: Calendar, day: date) -> datetime:
    # A zone whose clock skips midnight reads it with the offset from before the jump: within the hour, and
    # no mission works at that hour.
    return datetime.combine(day, time(0), calendar.zone)


def end_of_next_working_day(calendar: Calendar, moment: datetime) -> datetime:
    """When the working time of the first working day after `moment`'s local day ends (UTC).

    A day's working time is what the calendar works between its local midnights: Monday's end is its
    closing time, wherever the zone's offset stands that day. Raises NoWorkingTime on a calendar with none.
    """
    day = moment.astimezone(calendar.zone).date() + _DAY
    for _ in range(_HORIZON_DAYS):
        spans = list(calendar.intervals(_midnight(calendar, day), _midnight(calendar, day + _DAY)))
        if spans:
            return spans[-1][1]
        day += _DAY
    raise NoWorkingTime("no working day in the calendar ahead")


def compute(calendar: Calendar, severity: Severity, registered_at: datetime, levels: Levels) -> Deadlines:
    """The deadlines of a report registered at `registered_at` (pure: the mission's calendar given)."""
    # In UTC first: Python adds to an aware local time by its wall clock, so 01:55 + 10 minutes would read
    # 02:05 on the night Sydney's clock jumps from 02:00 to 03:00, an hour late.
    registered_at = registered_at.astimezone(UTC)
    if severity is Severity.LIFE_THREATENING:
        acknowledge = registered_at + timedelta(minutes=levels.life_ack_minutes)
        solve = registered_at + timedelta(hours=levels.life_solve_hours)
    elif severity is Severity.URGENT:
        acknowledge = registered_at + timedelta(minutes=levels.urgent_ack_minutes)
        solve = registered_at + timedelta(hours=levels.urgent_solve_hours)
    else:
        acknowledge = end_of_next_working_day(calendar, registered_at)
        solve = add_working(calendar, registered_at, calendar.working_day * levels.normal_solve_working_days)
    # A solution is never due before its acknowledgement (settings set too tight, or a short working day).
    solve = max(solve, acknowledge)
    return Deadlines(acknowledge_due_at=acknowledge, solve_due_at=solve, next_escalation_at=acknowledge)


async def calendar_of(*, session: AsyncSession, mission: Mission) -> Calendar:
    return (await worktime.load(session=session, calendar_ids=[mission.calendar_id]))[mission.calendar_id]


async def deadlines(
    *, session: AsyncSession, mission: Mission, severity: Severity, registered_at: datetime, levels: Levels
) -> Deadlines:
    """The deadlines of a report registered at `registered_at` (aware, UTC) for `mission`."""
    if in_wall_time(severity):
        # The calendar plays no part: nothing to read.
        return compute(ROUND_THE_CLOCK, severity, registered_at, levels)
    return compute(await calendar_of(session=session, mission=mission), severity, registered_at, levels)


@dataclass(frozen=True)
class Rung:
    """The next rung a report reaches, when, and why."""

    level: int
    at: datetime
    reason: str


def acknowledge_interval(severity: Severity, levels: Levels) -> timedelta:
    """How long a wall-time severity is given to be acknowledged."""
    minutes = levels.life_ack_minutes if severity is Severity.LIFE_THREATENING else levels.urgent_ack_minutes
    return timedelta(minutes=minutes)


def second_rung_at(report: EmergencyReport, calendar: Calendar | None, levels: Levels) -> datetime:
    """One acknowledgement time after the acknowledgement deadline: the deadline is counted afresh when the
    report is sent to another mission, so this is too (registration may be long past)."""
    due = report.acknowledge_due_at.astimezone(UTC)
    if in_wall_time(report.severity):
        return due + acknowledge_interval(report.severity, levels)
    if calendar is None:
        # Only callers that cannot reach this rung pass no calendar (an acknowledged report climbs at its
        # solution deadline); a day is the nearest reading of "the next working day".
        return due + _DAY
    return end_of_next_working_day(calendar, due)


def step_person(level: int) -> int:
    """Who a step of the ladder reaches: the head of mission (1) or the consular deputy (2, and every step above)."""
    return min(level, CONSULAR_DEPUTY)


def next_rung(report: EmergencyReport, calendar: Calendar | None, levels: Levels | None = None) -> Rung | None:
    """The step above the one the report has reached, with its moment; None once solved or handed over.

    `calendar` is the mission's, needed for normal reports only (their second rung counts in working time);
    `levels` the service levels in force (the settings' defaults when not given), for the second rung of a
    wall-time report.
    """
    if report.state not in OWING:
        return None
    solve_due = report.solve_due_at.astimezone(UTC)
    if report.escalation_level >= SOLUTION_OVERDUE_STEP:
        reminders = report.escalation_level - SOLUTION_OVERDUE_STEP + 1
        return Rung(report.escalation_level + 1, solve_due + reminders * REMIND_EVERY, SOLUTION_OVERDUE)
    overdue = Rung(SOLUTION_OVERDUE_STEP, solve_due, SOLUTION_OVERDUE)
    if report.state is ReportState.ACKNOWLEDGED or report.escalation_level >= CONSULAR_DEPUTY:
        # Acknowledged, or the deputy already has it: the next step owed is the solution.
        return overdue
    if report.escalation_level < HEAD_OF_MISSION:
        return Rung(HEAD_OF_MISSION, report.acknowledge_due_at, NOT_ACKNOWLEDGED)
    second = second_rung_at(report, calendar, levels or DEFAULT_LEVELS)
    if solve_due <= second:
        return overdue
    return Rung(CONSULAR_DEPUTY, second, NOT_ACKNOWLEDGED)


def set_next_escalation(report: EmergencyReport, calendar: Calendar | None, levels: Levels | None = None) -> None:
    """Stores when the sweep must look at the report next (None once solved or handed over)."""
    rung = next_rung(report, calendar, levels)
    report.next_escalation_at = rung.at if rung is not None else None
