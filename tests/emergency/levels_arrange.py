"""Missions with their calendars and rosters, and reports with their deadlines, for the service-level tests:
written straight to the tables, the deadlines from emergency.timers and the alert from emergency.alerts.

Calendars: Sydney and the UAE work Monday to Friday (a Saturday–Sunday weekend), Kuwait Sunday to Thursday (a
Friday–Saturday weekend, as Saudi Arabia), each 09:00–17:00 in its own zone.
"""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import alerts, timers
from emergency.models import (
    DutyShift,
    EmergencyReport,
    Mission,
    MissionCoverage,
    MissionKind,
    ReportSource,
    ReportState,
    ReportType,
    Severity,
)
from emergency.numbers import format_report_number
from majlis.clock import Clock
from majlis.db import transaction
from majlis.settings import Settings
from notify.links import Links
from tests.conftest import TEST_SECRET, make_settings
from worktime.models import WorkingCalendar, WorkingHours

Sessions = async_sessionmaker[AsyncSession]
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
SUNDAY_TO_THURSDAY = (6, 0, 1, 2, 3)
LINKS = Links(public_url="https://majlis.example.sa", secret=TEST_SECRET)
STATUS_URL = "https://majlis.example.sa/emergency/status"
SETTINGS: Settings = make_settings("sqlite+aiosqlite:///unused.db")
LEVELS = timers.levels_from(SETTINGS)
DEPUTY = alerts.deputy_from(SETTINGS.model_copy(update={"emergency_consular_deputy_phone": "+966500000999"}))
_serial = itertools.count(1)

# (code, country, zone, working days)
PLACES = {
    "sydney": ("AU", "Australia/Sydney", MONDAY_TO_FRIDAY),
    "abudhabi": ("AE", "Asia/Dubai", MONDAY_TO_FRIDAY),
    "kuwait": ("KW", "Asia/Kuwait", SUNDAY_TO_THURSDAY),
}


async def add_mission(sessions: Sessions, code: str, *, head_phone: str = "+61200000001") -> int:
    """A live embassy at one of PLACES, with its calendar (09:00–17:00 on its working days) and coverage."""
    country, zone, days = PLACES[code]
    async with transaction(sessions) as session:
        calendar = WorkingCalendar(
            code=f"mission-{code}", name_ar=code, name_en=code, time_zone=zone, always_open=False
        )
        session.add(calendar)
        await session.flush()
        for day in days:
            session.add(WorkingHours(calendar_id=calendar.id, weekday=day, opens=time(9), closes=time(17)))
        mission = Mission(
            code=code,
            kind=MissionKind.EMBASSY,
            name_ar=f"سفارة {code}",
            name_en=f"Embassy in {code.title()}",
            country=country,
            time_zone=zone,
            calendar_id=calendar.id,
            email=f"{code}@mission.example",
            head_name=f"Head of {code}",
            head_email=f"head.{code}@mission.example",
            head_phone=head_phone,
            live=True,
            active=True,
        )
        session.add(mission)
        await session.flush()
        session.add(MissionCoverage(mission_id=mission.id, country=country, city_key=""))
        return mission.id


async def add_shift(
    sessions: Sessions,
    clock: Clock,
    mission_id: int,
    starts_at: datetime,
    hours: float = 12,
    *,
    name: str = "Duty officer",
    phone: str = "+61400000001",
    languages: tuple[str, ...] = ("ar", "en"),
) -> None:
    async with transaction(sessions) as session:
        session.add(
            DutyShift(
                mission_id=mission_id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=hours),
                officer_name=name,
                phone=phone,
                email=f"{name.lower().replace(' ', '.')}@mission.example",
                languages=list(languages),
                created_at=clock.now(),
            )
        )


async def add_report(
    sessions: Sessions,
    clock: Clock,
    mission_id: int,
    severity: Severity,
    *,
    city: str = "Sydney",
    alert: bool = True,
) -> int:
    """A report registered now at the mission, with its deadlines and (unless told not to) its alert."""
    async with transaction(sessions) as session:
        mission = await session.get(Mission, mission_id)
        assert mission is not None
        now = clock.now()
        due = await timers.deadlines(
            session=session, mission=mission, severity=severity, registered_at=now, levels=LEVELS
        )
        report = EmergencyReport(
            number=format_report_number(2026, next(_serial)),
            national_id="1000000008",
            caller_name="Citizen",
            phone="+61412345678",
            language="ar",
            country=mission.country,
            city=city,
            type=ReportType.ACCIDENT,
            severity=severity,
            account="A car accident; taken to hospital.",
            source=ReportSource.AGENT,
            mission_id=mission.id,
            state=ReportState.OPEN,
            generation=1,
            created_at=now,
            acknowledge_due_at=due.acknowledge_due_at,
            solve_due_at=due.solve_due_at,
            escalation_level=0,
            next_escalation_at=due.next_escalation_at,
        )
        session.add(report)
        await session.flush()
        if alert:
            await alerts.alert_registered(session=session, clock=clock, report=report, links=LINKS)
        return report.id


async def report(sessions: Sessions, report_id: int) -> EmergencyReport:
    async with sessions() as session:
        found = await session.scalar(select(EmergencyReport).where(EmergencyReport.id == report_id))
        assert found is not None
        return found
