"""November 2026 on the emergency line, played by hand for the monthly report's tests (times in Riyadh):

Missions: the central consular desk (Riyadh), the embassy in Abu Dhabi (live, covers the UAE), the consulate in
Dubai (live, covers Dubai), the embassy in London (not live yet, covers the United Kingdom).
- r1 Abu Dhabi, life-threatening, 3 Nov 10:00: acknowledged in 5 minutes, solved in 20 hours: both in time;
- r2 Abu Dhabi, life-threatening, 5 Nov 02:00: escalated by the real sweep to the head of mission (rung 1) at
  02:10 and the consular deputy (rung 2) at 02:20, acknowledged after 30 minutes (late), solved after 30 hours
  (late);
- r3 Dubai, urgent, 10 Nov 12:00: acknowledged within the hour, still open at the month's end;
- r4 the central desk for the United Kingdom, normal, 20 Nov 09:00: never acknowledged, open at the end;
- r5 Abu Dhabi, normal, 28 Oct: acknowledged 1 Nov (in time), solved 2 Dec: not received in November, open at
  its end;
- r6 Abu Dhabi, urgent, 30 Nov 23:00: escalated by the sweep (1 Dec 01:00) and solved on 1 December (not
  November's), open at its end;
- r7 Abu Dhabi, urgent, 1 Dec 00:30 Riyadh (still 30 November in UTC): December's;
- r8 Abu Dhabi, normal, 5 Oct → solved 20 Oct: nothing in November.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import escalation
from emergency.models import (
    EmergencyReport,
    Mission,
    MissionCoverage,
    MissionKind,
    ReportSource,
    ReportState,
    ReportType,
    Severity,
)
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from tests.emergency.levels_arrange import DEPUTY
from worktime.models import WorkingCalendar

Sessions = async_sessionmaker[AsyncSession]
_serial = itertools.count(1)


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=RIYADH)


@dataclass(frozen=True)
class Arranged:
    desk: int
    abu_dhabi: int
    dubai: int
    london: int


async def calendar(session: AsyncSession, code: str, zone: str) -> WorkingCalendar:
    found = WorkingCalendar(code=code, name_ar=code, name_en=code, time_zone=zone, always_open=False)
    session.add(found)
    await session.flush()
    return found


async def mission(
    session: AsyncSession,
    code: str,
    kind: MissionKind,
    country: str,
    zone: str,
    *,
    live: bool,
    name_ar: str,
    name_en: str,
    covers: tuple[tuple[str, str], ...] = (),
) -> Mission:
    found = Mission(
        code=code,
        kind=kind,
        name_ar=name_ar,
        name_en=name_en,
        country=country,
        time_zone=zone,
        calendar_id=(await calendar(session, f"mission-{code}", zone)).id,
        email=f"{code}@missions.example.gov.sa",
        head_name="Head of mission",
        head_email=f"head.{code}@missions.example.gov.sa",
        head_phone="+971500000001",
        live=live,
        active=True,
    )
    session.add(found)
    await session.flush()
    session.add_all(MissionCoverage(mission_id=found.id, country=c, city_key=city) for c, city in covers)
    await session.flush()
    return found


async def report(
    session: AsyncSession,
    mission_id: int,
    country: str,
    severity: Severity,
    created: datetime,
    *,
    ack_in: timedelta,
    solve_in: timedelta,
    acknowledged: datetime | None = None,
    solved: datetime | None = None,
    covering_id: int | None = None,
    swept: bool = False,
) -> EmergencyReport:
    """A report as it stands; `swept`: on the escalation ladder (its first rung due at the acknowledgement deadline)."""
    state = ReportState.SOLVED if solved else ReportState.ACKNOWLEDGED if acknowledged else ReportState.OPEN
    row = EmergencyReport(
        number=f"E26-{next(_serial):06d}-0",
        national_id="1000000008",
        caller_name="Test caller",
        phone="+971501234567",
        language="ar",
        country=country,
        city="",
        type=ReportType.OTHER,
        severity=severity,
        account="…",
        source=ReportSource.AGENT,
        mission_id=mission_id,
        covering_mission_id=covering_id,
        state=state,
        generation=1,
        created_at=created,
        acknowledge_due_at=created + ack_in,
        solve_due_at=created + solve_in,
        acknowledged_at=acknowledged,
        acknowledged_by="duty officer" if acknowledged else "",
        solved_at=solved,
        escalation_level=0,
        next_escalation_at=created + ack_in if swept else None,
    )
    session.add(row)
    await session.flush()
    return row


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def hours(n: int) -> timedelta:
    return timedelta(hours=n)


def days(n: int) -> timedelta:
    return timedelta(days=n)


async def swept_at(sessions: Sessions, moment: datetime) -> None:
    """The real escalation sweep, run at `moment` (one step for each report due)."""
    await escalation.sweep(sessions=sessions, clock=FrozenClock(moment), deputy=DEPUTY)


async def settled(sessions: Sessions, report_id: int, acknowledged: datetime, solved: datetime | None = None) -> None:
    """The report acknowledged (and solved) afterwards, as the mission's steps would leave it."""
    state = ReportState.SOLVED if solved else ReportState.ACKNOWLEDGED
    async with transaction(sessions) as session:
        await session.execute(
            update(EmergencyReport)
            .where(EmergencyReport.id == report_id)
            .values(
                state=state,
                acknowledged_at=acknowledged,
                acknowledged_by="duty officer",
                solved_at=solved,
                next_escalation_at=None,
            )
        )


async def arranged_month(sessions: Sessions) -> Arranged:
    life, urgent, normal = Severity.LIFE_THREATENING, Severity.URGENT, Severity.NORMAL
    async with transaction(sessions) as session:
        desk = await mission(
            session, "central-desk", MissionKind.CENTRAL_DESK, "SA", "Asia/Riyadh", live=True,
            name_ar="المكتب القنصلي المركزي", name_en="Central consular desk",
        )  # fmt: skip
        abu_dhabi = await mission(
            session, "ae-abu-dhabi", MissionKind.EMBASSY, "AE", "Asia/Dubai", live=True,
            name_ar="السفارة في أبوظبي", name_en="Embassy in Abu Dhabi", covers=(("AE", ""),),
        )  # fmt: skip
        dubai = await mission(
            session, "ae-dubai", MissionKind.CONSULATE, "AE", "Asia/Dubai", live=True,
            name_ar="القنصلية العامة في دبي", name_en="Consulate General in Dubai", covers=(("AE", "dubai"),),
        )  # fmt: skip
        london = await mission(
            session, "gb-london", MissionKind.EMBASSY, "GB", "Europe/London", live=False,
            name_ar="السفارة في لندن", name_en="Embassy in London", covers=(("GB", ""),),
        )  # fmt: skip
        ad = abu_dhabi.id
        r1 = at(11, 3, 10)
        await report(session, ad, "AE", life, r1, ack_in=minutes(10), solve_in=hours(24),
                     acknowledged=r1 + minutes(5), solved=r1 + hours(20))  # fmt: skip
        r2 = at(11, 5, 2)
        two = await report(session, ad, "AE", life, r2, ack_in=minutes(10), solve_in=hours(24), swept=True)
        r3 = at(11, 10, 12)
        await report(session, dubai.id, "AE", urgent, r3, ack_in=hours(2), solve_in=hours(72),
                     acknowledged=r3 + minutes(50))  # fmt: skip
        await report(session, desk.id, "GB", normal, at(11, 20), ack_in=days(2), solve_in=days(14),
                     covering_id=london.id)  # fmt: skip
        await report(session, ad, "AE", normal, at(10, 28), ack_in=days(5), solve_in=days(14),
                     acknowledged=at(11, 1), solved=at(12, 2))  # fmt: skip
        r6 = at(11, 30, 23)
        six = await report(session, ad, "AE", urgent, r6, ack_in=hours(2), solve_in=hours(72), swept=True)
        await report(session, ad, "AE", urgent, at(12, 1, 0, 30), ack_in=hours(2), solve_in=hours(72))
        await report(session, ad, "AE", normal, at(10, 5), ack_in=days(2), solve_in=days(14),
                     acknowledged=at(10, 6), solved=at(10, 20))  # fmt: skip
        await session.flush()
        arranged = Arranged(desk=desk.id, abu_dhabi=ad, dubai=dubai.id, london=london.id)
    # The ladder, in time order: r2 to the head of mission, then the deputy, then acknowledged and solved.
    await swept_at(sessions, r2 + minutes(10))
    await swept_at(sessions, r2 + minutes(20))
    await settled(sessions, two.id, r2 + minutes(30), r2 + hours(30))
    await swept_at(sessions, at(12, 1, 1))
    await settled(sessions, six.id, at(12, 1, 3), at(12, 1, 9))
    return arranged
