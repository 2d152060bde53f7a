"""Missions, their coverage, calendars and duty rosters for the emergency line's tests, written straight to the
tables (the directory's own checks are tested with it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from emergency.intake import ReportDetails, check_report
from emergency.models import DutyShift, Mission, MissionCoverage, MissionKind
from emergency.routing import city_key
from majlis.clock import Clock
from majlis.db import transaction
from tests.factories import make_staff
from worktime.models import WorkingCalendar, WorkingHours

Sessions = async_sessionmaker[AsyncSession]

# Monday 0 … Sunday 6. Saturday–Sunday weekends (the UAE since 2022, Australia, the United Kingdom) and the
# Kingdom's Friday–Saturday one.
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
SUNDAY_TO_THURSDAY = (6, 0, 1, 2, 3)
# A valid national ID (its Luhn check digit holds) and a UAE mobile number.
NATIONAL_ID = "1000000008"
UAE_MOBILE = "+971501234567"


@dataclass(frozen=True)
class Missions:
    """The usual world of these tests: the central desk in Riyadh; the embassy in Abu Dhabi (live, the whole
    UAE) and the consulate in Dubai (live, Dubai only); the embassy in Canberra (live, Australia but Sydney) and
    the consulate in Sydney (live); the embassy in London (not live yet, the United Kingdom); the embassy in
    Tokyo covering Osaka and Tokyo only (no whole-country row)."""

    desk: int
    abu_dhabi: int
    dubai: int
    canberra: int
    sydney: int
    london: int
    tokyo: int


async def add_calendar(
    session: AsyncSession,
    code: str,
    zone: str,
    *,
    days: Sequence[int] = MONDAY_TO_FRIDAY,
    opens: time = time(9),
    closes: time = time(17),
    always_open: bool = False,
) -> int:
    """A working calendar in `zone`, open these days and hours."""
    calendar = WorkingCalendar(code=code, name_ar=code, name_en=code, time_zone=zone, always_open=always_open)
    session.add(calendar)
    await session.flush()
    session.add_all(WorkingHours(calendar_id=calendar.id, weekday=d, opens=opens, closes=closes) for d in days)
    await session.flush()
    return calendar.id


async def add_mission(
    sessions: Sessions,
    code: str,
    *,
    country: str,
    zone: str,
    kind: MissionKind = MissionKind.EMBASSY,
    live: bool = True,
    whole_country: bool = True,
    cities: Sequence[tuple[str, str]] = (),
    days: Sequence[int] = MONDAY_TO_FRIDAY,
    name_en: str = "",
    name_ar: str = "",
) -> int:
    """A mission with its own calendar, covering its whole country (or not) and these (English, Arabic) cities."""
    async with transaction(sessions) as session:
        mission = Mission(
            code=code,
            kind=kind,
            name_ar=name_ar or f"بعثة {code}",
            name_en=name_en or f"The {code} mission",
            country=country,
            time_zone=zone,
            calendar_id=await add_calendar(session, f"mission-{code}", zone, days=days),
            email=f"{code}@missions.example.gov.sa",
            head_name=f"Head of {code}",
            head_email=f"head.{code}@missions.example.gov.sa",
            head_phone="+966501110000",
            live=live,
            active=True,
        )
        session.add(mission)
        await session.flush()
        if whole_country:
            session.add(MissionCoverage(mission_id=mission.id, country=country, city_key=""))
        for city_en, city_ar in cities:
            await add_city(session, mission.id, country, city_en, city_ar)
        return mission.id


async def add_city(session: AsyncSession, mission_id: int, country: str, city_en: str, city_ar: str) -> None:
    session.add(
        MissionCoverage(
            mission_id=mission_id, country=country, city_key=city_key(city_en), city_en=city_en, city_ar=city_ar
        )
    )
    await session.flush()


async def add_central_desk(sessions: Sessions, code: str = "central-desk") -> int:
    """The ministry's central consular desk in Riyadh, live, covering no country of its own."""
    return await add_mission(
        sessions,
        code,
        country="SA",
        zone="Asia/Riyadh",
        kind=MissionKind.CENTRAL_DESK,
        whole_country=False,
        days=SUNDAY_TO_THURSDAY,
        name_en="The central consular desk",
        name_ar="المكتب القنصلي المركزي",
    )


async def add_missions(sessions: Sessions) -> Missions:
    """The world described on Missions."""
    return Missions(
        desk=await add_central_desk(sessions),
        abu_dhabi=await add_mission(
            sessions, "abu-dhabi", country="AE", zone="Asia/Dubai", name_en="The embassy in Abu Dhabi"
        ),
        dubai=await add_mission(
            sessions,
            "dubai",
            country="AE",
            zone="Asia/Dubai",
            kind=MissionKind.CONSULATE,
            whole_country=False,
            cities=[("Dubai", "دبي")],
            name_en="The consulate in Dubai",
            name_ar="القنصلية العامة في دبي",
        ),
        canberra=await add_mission(
            sessions, "canberra", country="AU", zone="Australia/Sydney", name_en="The embassy in Canberra"
        ),
        sydney=await add_mission(
            sessions,
            "sydney",
            country="AU",
            zone="Australia/Sydney",
            kind=MissionKind.CONSULATE,
            whole_country=False,
            cities=[("Sydney", "سيدني")],
            name_en="The consulate in Sydney",
        ),
        london=await add_mission(
            sessions, "london", country="GB", zone="Europe/London", live=False, name_en="The embassy in London"
        ),
        tokyo=await add_mission(
            sessions,
            "tokyo",
            country="JP",
            zone="Asia/Tokyo",
            whole_country=False,
            cities=[("Tokyo", "طوكيو"), ("Osaka", "أوساكا")],
            name_en="The embassy in Tokyo",
        ),
    )


async def add_shift(
    sessions: Sessions,
    mission_id: int,
    starts_at: datetime,
    *,
    hours: int = 24,
    officer: str = "Duty officer",
    phone: str = "+971509990000",
    languages: Sequence[str] = ("ar", "en"),
) -> int:
    """One stretch of a mission's duty roster."""
    async with transaction(sessions) as session:
        shift = DutyShift(
            mission_id=mission_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            officer_name=officer,
            phone=phone,
            email=f"duty.{mission_id}@missions.example.gov.sa",
            languages=list(languages),
            created_at=starts_at,
            created_by_id=None,
        )
        session.add(shift)
        await session.flush()
        return shift.id


async def add_agent(sessions: Sessions, clock: Clock, username: str = "agent") -> StaffUser:
    """An agent of the unified contact centre."""
    return await make_staff(sessions, clock, Role.EMERGENCY_AGENT, username=username)


def report_fields(**overrides: str) -> dict[str, str]:
    """What an agent types for a valid report from Dubai; overrides replace fields."""
    fields = {
        "national_id": NATIONAL_ID,
        "caller_name": "  سعد   العتيبي ",
        "phone": "+971 50 123 4567",
        "country": "ae",
        "city": "Dubai",
        "type": "accident",
        "severity": "urgent",
        "account": "Car accident on Sheikh Zayed Road; in Rashid Hospital.",
        "language": "ar",
    }
    fields.update(overrides)
    return fields


def report_details(**overrides: str) -> ReportDetails:
    return check_report(report_fields(**overrides))
