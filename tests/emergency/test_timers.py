"""Deadlines by severity across zones: wall time around the clock for life-threatening and urgent reports, the
mission's working days for normal ones, Sydney's daylight-saving changes and the Gulf's two kinds of weekend."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import timers
from emergency.models import EmergencyReport, Mission, ReportState, Severity
from majlis.clock import FrozenClock
from tests.emergency.levels_arrange import LEVELS, MONDAY_TO_FRIDAY, SUNDAY_TO_THURSDAY, add_mission
from worktime.clock import Calendar, Stretch

SYDNEY = ZoneInfo("Australia/Sydney")
DUBAI = ZoneInfo("Asia/Dubai")
KUWAIT = ZoneInfo("Asia/Kuwait")


def office(zone: ZoneInfo, days: tuple[int, ...]) -> Calendar:
    return Calendar(zone=zone, stretches=tuple(Stretch(d, time(9), time(17)) for d in days))


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def test_life_threatening_counts_in_wall_time_at_any_hour() -> None:
    registered = datetime(2026, 12, 9, 3, 0, tzinfo=SYDNEY)  # a Wednesday, 03:00 in Sydney
    due = timers.compute(office(SYDNEY, MONDAY_TO_FRIDAY), Severity.LIFE_THREATENING, registered, LEVELS)
    assert due.acknowledge_due_at == registered + timedelta(minutes=10)
    assert due.solve_due_at == registered + timedelta(hours=24)
    assert due.next_escalation_at == due.acknowledge_due_at
    assert due.acknowledge_due_at.tzinfo is not None


def test_urgent_counts_two_hours_of_wall_time_over_a_weekend() -> None:
    registered = datetime(2026, 12, 12, 23, 30, tzinfo=SYDNEY)  # Saturday night
    due = timers.compute(office(SYDNEY, MONDAY_TO_FRIDAY), Severity.URGENT, registered, LEVELS)
    assert local(due.acknowledge_due_at, SYDNEY) == datetime(2026, 12, 13, 1, 30, tzinfo=SYDNEY)
    assert due.solve_due_at - registered == timedelta(hours=72)


def test_life_threatening_across_sydneys_clock_jump_is_ten_real_minutes() -> None:
    # 4 October 2026: at 02:00 AEST the clock jumps to 03:00 AEDT.
    registered = datetime(2026, 10, 4, 1, 55, tzinfo=SYDNEY)
    due = timers.compute(office(SYDNEY, MONDAY_TO_FRIDAY), Severity.LIFE_THREATENING, registered, LEVELS)
    assert due.acknowledge_due_at - registered.astimezone(UTC) == timedelta(minutes=10)
    shown = local(due.acknowledge_due_at, SYDNEY)
    assert (shown.hour, shown.minute, shown.utcoffset()) == (3, 5, timedelta(hours=11))


def test_normal_on_a_friday_evening_in_sydney_is_due_at_the_end_of_monday() -> None:
    registered = datetime(2026, 12, 11, 18, 30, tzinfo=SYDNEY)  # Friday evening, AEDT
    calendar = office(SYDNEY, MONDAY_TO_FRIDAY)
    due = timers.compute(calendar, Severity.NORMAL, registered, LEVELS)
    assert local(due.acknowledge_due_at, SYDNEY) == datetime(2026, 12, 14, 17, 0, tzinfo=SYDNEY)
    # Ten working days of eight hours from Friday evening: the end of the second Friday after.
    assert local(due.solve_due_at, SYDNEY) == datetime(2026, 12, 25, 17, 0, tzinfo=SYDNEY)
    # Registered on Monday morning, it is due at the end of Tuesday (the NEXT working day).
    monday = timers.compute(calendar, Severity.NORMAL, datetime(2026, 12, 14, 10, 0, tzinfo=SYDNEY), LEVELS)
    assert local(monday.acknowledge_due_at, SYDNEY) == datetime(2026, 12, 15, 17, 0, tzinfo=SYDNEY)


@pytest.mark.parametrize(
    ("friday", "monday_offset"),
    [
        # Summer time begins on Sunday 4 October 2026: Friday is AEST (UTC+10), Monday AEDT (UTC+11).
        (datetime(2026, 10, 2, 18, 0), timedelta(hours=11)),
        # Summer time ends on Sunday 5 April 2026: Friday is AEDT (UTC+11), Monday AEST (UTC+10).
        (datetime(2026, 4, 3, 18, 0), timedelta(hours=10)),
    ],
)
def test_a_normal_report_across_sydneys_clock_change_keeps_the_wall_clock_hours(
    friday: datetime, monday_offset: timedelta
) -> None:
    registered = friday.replace(tzinfo=SYDNEY)
    assert registered.utcoffset() != monday_offset
    due = timers.compute(office(SYDNEY, MONDAY_TO_FRIDAY), Severity.NORMAL, registered, LEVELS)
    shown = local(due.acknowledge_due_at, SYDNEY)
    assert (shown.date(), shown.time(), shown.utcoffset()) == (
        (friday + timedelta(days=3)).date(),
        time(17, 0),
        monday_offset,
    )
    assert due.acknowledge_due_at == datetime.combine(shown.date(), time(17), UTC) - monday_offset


@pytest.mark.parametrize(
    ("registered", "uae", "kuwait"),
    [
        # Thursday evening: the UAE works on Friday; Kuwait (Friday–Saturday weekend, as Saudi Arabia) on Sunday.
        (datetime(2026, 12, 10, 19, 0), datetime(2026, 12, 11, 17, 0), datetime(2026, 12, 13, 17, 0)),
        # Friday evening: the UAE's next working day is Monday, Kuwait's Sunday.
        (datetime(2026, 12, 11, 19, 0), datetime(2026, 12, 14, 17, 0), datetime(2026, 12, 13, 17, 0)),
        # Saturday morning: Monday in the UAE, Sunday in Kuwait.
        (datetime(2026, 12, 12, 10, 0), datetime(2026, 12, 14, 17, 0), datetime(2026, 12, 13, 17, 0)),
    ],
)
def test_gulf_weekends_are_respected(registered: datetime, uae: datetime, kuwait: datetime) -> None:
    in_uae = timers.compute(office(DUBAI, MONDAY_TO_FRIDAY), Severity.NORMAL, registered.replace(tzinfo=DUBAI), LEVELS)
    in_kuwait = timers.compute(
        office(KUWAIT, SUNDAY_TO_THURSDAY), Severity.NORMAL, registered.replace(tzinfo=KUWAIT), LEVELS
    )
    assert local(in_uae.acknowledge_due_at, DUBAI) == uae.replace(tzinfo=DUBAI)
    assert local(in_kuwait.acknowledge_due_at, KUWAIT) == kuwait.replace(tzinfo=KUWAIT)


def test_a_holiday_moves_the_next_working_day() -> None:
    calendar = Calendar(
        zone=SYDNEY,
        stretches=tuple(Stretch(d, time(9), time(17)) for d in MONDAY_TO_FRIDAY),
        holidays=frozenset({datetime(2026, 12, 28).date()}),  # a Monday off
    )
    due = timers.compute(calendar, Severity.NORMAL, datetime(2026, 12, 25, 20, 0, tzinfo=SYDNEY), LEVELS)
    assert local(due.acknowledge_due_at, SYDNEY) == datetime(2026, 12, 29, 17, 0, tzinfo=SYDNEY)


def _report(severity: Severity, created: datetime, acknowledge: datetime, solve: datetime) -> EmergencyReport:
    return EmergencyReport(
        severity=severity,
        state=ReportState.OPEN,
        created_at=created,
        acknowledge_due_at=acknowledge,
        solve_due_at=solve,
        escalation_level=0,
    )


def test_the_ladder_head_of_mission_then_deputy_then_reminders_until_solved() -> None:
    created = datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    report = _report(Severity.LIFE_THREATENING, created, created + timedelta(minutes=10), created + timedelta(days=1))
    first = timers.next_rung(report, None)
    assert first == timers.Rung(1, created + timedelta(minutes=10), timers.NOT_ACKNOWLEDGED)
    report.escalation_level = 1
    assert timers.next_rung(report, None) == timers.Rung(2, created + timedelta(minutes=20), timers.NOT_ACKNOWLEDGED)
    # At the deputy: told again when the solution is overdue, then every day until solved.
    report.escalation_level = 2
    assert timers.next_rung(report, None) == timers.Rung(3, created + timedelta(days=1), timers.SOLUTION_OVERDUE)
    report.escalation_level = 3
    assert timers.next_rung(report, None) == timers.Rung(4, created + timedelta(days=2), timers.SOLUTION_OVERDUE)
    report.escalation_level = 7
    assert timers.next_rung(report, None) == timers.Rung(8, created + timedelta(days=6), timers.SOLUTION_OVERDUE)
    # Acknowledged before any rung: the next step owed is the solution, and overdue it goes to the deputy.
    report.escalation_level, report.state = 0, ReportState.ACKNOWLEDGED
    assert timers.next_rung(report, None) == timers.Rung(3, created + timedelta(days=1), timers.SOLUTION_OVERDUE)
    report.state = ReportState.SOLVED
    assert timers.next_rung(report, None) is None
    report.state = ReportState.HANDED_OVER
    assert timers.next_rung(report, None) is None


def test_the_deputys_rung_counts_from_the_acknowledgement_deadline_not_registration() -> None:
    # Registered at 10:00, sent to another mission at 15:00: the deadlines were counted afresh from 15:00.
    registered = datetime(2026, 12, 8, 7, 0, tzinfo=UTC)
    moved = registered + timedelta(hours=5)
    report = _report(Severity.LIFE_THREATENING, registered, moved + timedelta(minutes=10), moved + timedelta(days=1))
    report.escalation_level = 1
    rung = timers.next_rung(report, None, LEVELS)
    assert rung == timers.Rung(2, moved + timedelta(minutes=20), timers.NOT_ACKNOWLEDGED)
    urgent = _report(Severity.URGENT, registered, moved + timedelta(hours=2), moved + timedelta(days=3))
    urgent.escalation_level = 1
    assert timers.next_rung(urgent, None, LEVELS) == timers.Rung(2, moved + timedelta(hours=4), timers.NOT_ACKNOWLEDGED)


def test_a_normal_reports_second_rung_counts_in_working_time() -> None:
    calendar = office(SYDNEY, MONDAY_TO_FRIDAY)
    created = datetime(2026, 12, 11, 18, 30, tzinfo=SYDNEY)
    due = timers.compute(calendar, Severity.NORMAL, created, LEVELS)
    report = _report(Severity.NORMAL, created, due.acknowledge_due_at, due.solve_due_at)
    report.escalation_level = 1
    rung = timers.next_rung(report, calendar)
    # Eight working hours to the acknowledgement (Monday), eight more: the end of Tuesday.
    assert rung is not None and local(rung.at, SYDNEY) == datetime(2026, 12, 15, 17, 0, tzinfo=SYDNEY)


async def test_deadlines_read_the_missions_calendar(
    sessions: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    mission_id = await add_mission(sessions, "kuwait")
    async with sessions() as session:
        mission = await session.get(Mission, mission_id)
        assert mission is not None
        due = await timers.deadlines(
            session=session,
            mission=mission,
            severity=Severity.NORMAL,
            registered_at=datetime(2026, 12, 10, 19, 0, tzinfo=KUWAIT),  # Thursday evening
            levels=LEVELS,
        )
    assert local(due.acknowledge_due_at, KUWAIT) == datetime(2026, 12, 13, 17, 0, tzinfo=KUWAIT)
