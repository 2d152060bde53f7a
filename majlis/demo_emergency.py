"""The demo's emergency line: the ministry's central consular desk in Riyadh, the first phase's missions live (the
GCC embassies, a consulate in Dubai, the embassy in Canberra and a consulate in Sydney), two missions not live
yet (London, Cairo), each with its own working week and a duty roster for the week ahead; the line's three
accounts (`agent`, `mission` of the embassy in Abu Dhabi, `consular`); and four reports in different states.

Missions, coverage and shifts go through the directory's and the roster's domain functions, as a supervisor adds
them. The reports are written as rows with their events, on moments counted back from when the demo runs, with
the deadlines the default service levels give; no message is sent for them. Everything is made once: when the
central desk is there, nothing is added.

Working weeks, as each country keeps its own: the UAE works Monday to Friday noon since 2022 (weekend Saturday
and Sunday); Kuwait, Bahrain, Qatar, Oman and Egypt Sunday to Thursday (Friday and Saturday); Australia and the
United Kingdom Monday to Friday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts import service as accounts
from accounts.roles import Role
from emergency import alerts, coverage, directory, roster, timers
from emergency.coverage import CoverageInput
from emergency.directory import MissionInput
from emergency.models import (
    EmergencyReport,
    Mission,
    ReportEvent,
    ReportEventKind,
    ReportSource,
    ReportState,
    ReportType,
    Severity,
)
from emergency.numbers import next_report_number
from emergency.roster import ShiftInput
from majlis.clock import Clock, FrozenClock

AGENT, MISSION_STAFF, SUPERVISOR = "agent", "mission", "consular"
ACCOUNTS = (
    (AGENT, "لمى الحربي", Role.EMERGENCY_AGENT, "female"),
    (MISSION_STAFF, "ماجد الغامدي", Role.MISSION_STAFF, "male"),
    (SUPERVISOR, "عبدالعزيز المطيري", Role.CONSULAR_SUPERVISOR, "male"),
)
CENTRAL_DESK = "central-desk"
# The mission the `mission` account belongs to.
STAFF_MISSION = "ae-abu-dhabi"
GULF_WEEK = "Sun-Thu 08:00-15:00"
UAE_WEEK = "Mon-Thu 07:30-15:30; Fri 07:30-12:00"
WESTERN_WEEK = "Mon-Fri 09:00-17:00"


@dataclass(frozen=True)
class DemoMission:
    code: str
    kind: str
    name_ar: str
    name_en: str
    country: str
    zone: str
    hours: str
    head_phone: str
    live: bool
    # The cities it covers ((Arabic, English)); none: the whole country.
    cities: tuple[tuple[str, str], ...] = ()


MISSIONS = (
    DemoMission(CENTRAL_DESK, "central_desk", "المكتب القنصلي المركزي بالوزارة", "The ministry's central consular desk",
                "SA", "Asia/Riyadh", GULF_WEEK, "+966501234567", True),
    DemoMission(STAFF_MISSION, "embassy", "سفارة المملكة في أبوظبي", "Embassy of the Kingdom in Abu Dhabi",
                "AE", "Asia/Dubai", UAE_WEEK, "+971501234567", True),
    DemoMission("ae-dubai", "consulate", "القنصلية العامة في دبي", "Consulate General in Dubai",
                "AE", "Asia/Dubai", UAE_WEEK, "+971502220011", True, (("دبي", "Dubai"),)),
    DemoMission("kw-kuwait", "embassy", "سفارة المملكة في الكويت", "Embassy of the Kingdom in Kuwait",
                "KW", "Asia/Kuwait", GULF_WEEK, "+96550012345", True),
    DemoMission("bh-manama", "embassy", "سفارة المملكة في المنامة", "Embassy of the Kingdom in Manama",
                "BH", "Asia/Bahrain", GULF_WEEK, "+97336001234", True),
    DemoMission("qa-doha", "embassy", "سفارة المملكة في الدوحة", "Embassy of the Kingdom in Doha",
                "QA", "Asia/Qatar", GULF_WEEK, "+97433123456", True),
    DemoMission("om-muscat", "embassy", "سفارة المملكة في مسقط", "Embassy of the Kingdom in Muscat",
                "OM", "Asia/Muscat", GULF_WEEK, "+96891234567", True),
    DemoMission("au-canberra", "embassy", "سفارة المملكة في كانبرا", "Embassy of the Kingdom in Canberra",
                "AU", "Australia/Sydney", WESTERN_WEEK, "+61412345678", True),
    DemoMission("au-sydney", "consulate", "القنصلية العامة في سيدني", "Consulate General in Sydney",
                "AU", "Australia/Sydney", WESTERN_WEEK, "+61412345600", True, (("سيدني", "Sydney"),)),
    DemoMission("gb-london", "embassy", "سفارة المملكة في لندن", "Embassy of the Kingdom in London",
                "GB", "Europe/London", WESTERN_WEEK, "+447911123456", False),
    DemoMission("eg-cairo", "embassy", "سفارة المملكة في القاهرة", "Embassy of the Kingdom in Cairo",
                "EG", "Africa/Cairo", GULF_WEEK, "+201001234567", False),
)  # fmt: skip
# Two officers a day at each live mission, 08:00–20:00 and 20:00–08:00 local time.
OFFICERS = (("ضابط المناوبة النهارية", "day"), ("ضابط المناوبة الليلية", "night"))
ROSTER_DAYS = 8


@dataclass(frozen=True)
class DemoReport:
    key: str
    mission: str
    covering: str | None
    country: str
    city: str
    type: ReportType
    severity: Severity
    caller: str
    national_id: str
    phone: str
    account: str


# Valid check digits, nobody's.
REPORTS = (
    DemoReport("life", STAFF_MISSION, None, "AE", "أبوظبي", ReportType.ACCIDENT, Severity.LIFE_THREATENING,
               "سلطان فهد الدوسري", "1000000024", "+971503330101",
               "تعرض لحادث سير على طريق أبوظبي–العين ونُقل إلى المستشفى في حالة حرجة؛ يطلب ذووه المساعدة."),
    DemoReport("urgent", "au-sydney", None, "AU", "Sydney", ReportType.ARREST, Severity.URGENT,
               "نواف خالد العنزي", "1000000032", "+61412345601",
               "أُوقف في سيدني مساء أمس ولم يُسمح له بالاتصال بمحامٍ؛ يطلب حضور مندوب من القنصلية."),
    DemoReport("solved", "kw-kuwait", None, "KW", "الكويت", ReportType.LOST_PASSPORT, Severity.NORMAL,
               "هند سعد القحطاني", "1000000040", "+96550012399",
               "فقدت جواز سفرها في مطار الكويت وتحتاج إلى وثيقة سفر للعودة."),
    DemoReport("desk", CENTRAL_DESK, "gb-london", "GB", "London", ReportType.FINANCIAL, Severity.NORMAL,
               "تركي عبدالله الشمري", "1000000057", "+447911123499",
               "طالب مبتعث سُرقت محفظته وبطاقاته في لندن ولا يملك ما يكفي للسكن حتى تحويل مكافأته."),
)  # fmt: skip


@dataclass(frozen=True)
class EmergencyShown:
    """What `majlis demo` prints of the emergency line."""

    # The demo's reports by what they show (life, urgent, solved, desk): their numbers.
    numbers: dict[str, str]
    # The month the demo's reports are in, for the report page's link (YYYY-MM).
    month: str


async def load(*, session: AsyncSession, clock: Clock, password: str) -> EmergencyShown:
    """Adds the missions, rosters, accounts and reports unless the central desk is there already."""
    now = clock.now()
    if await directory.central_desk(session=session) is None:
        missions = {m.code: await _mission(session, clock, m) for m in MISSIONS}
        for mission in missions.values():
            if mission.live:
                await _roster(session, clock, mission)
        await _accounts(session, clock, password, missions[STAFF_MISSION].code)
        for report in REPORTS:
            await _report(session, now, report, missions)
    numbers = {}
    for report in REPORTS:
        number = await session.scalar(select(EmergencyReport.number).where(EmergencyReport.phone == report.phone))
        if number is not None:
            numbers[report.key] = number
    return EmergencyShown(numbers=numbers, month=now.astimezone(ZoneInfo("Asia/Riyadh")).strftime("%Y-%m"))


async def _mission(session: AsyncSession, clock: Clock, demo: DemoMission) -> Mission:
    domain = "mofa.example.gov.sa"
    mission = await directory.add_mission(
        session=session,
        clock=clock,
        actor_id=None,
        data=MissionInput(
            code=demo.code,
            kind=demo.kind,
            name_ar=demo.name_ar,
            name_en=demo.name_en,
            country=demo.country,
            time_zone=demo.zone,
            email=f"{demo.code}@{domain}",
            head_name=f"رئيس البعثة — {demo.name_ar}",
            head_email=f"head.{demo.code}@{domain}",
            head_phone=demo.head_phone,
            hours=demo.hours,
        ),
        live=demo.live,
    )
    if demo.kind == "central_desk":
        return mission
    places = [CoverageInput(country=demo.country, city_ar=ar, city_en=en) for ar, en in demo.cities]
    for place in places or [CoverageInput(country=demo.country)]:
        await coverage.add_coverage(session=session, clock=clock, actor_id=None, mission_code=demo.code, data=place)
    return mission


async def _roster(session: AsyncSession, clock: Clock, mission: Mission) -> None:
    """Day and night shifts from last night to a week ahead, in the mission's local time; ended ones left out."""
    zone = ZoneInfo(mission.time_zone)
    today = clock.now().astimezone(zone).date()
    for offset in range(-1, ROSTER_DAYS):
        day = today + timedelta(days=offset)
        for (title, part), (starts, ends) in zip(OFFICERS, ((time(8), time(20)), (time(20), time(8))), strict=True):
            end_day = day if ends > starts else day + timedelta(days=1)
            if datetime.combine(end_day, ends, tzinfo=zone) <= clock.now():
                continue
            await roster.add_shift(
                session=session,
                clock=clock,
                actor_id=None,
                mission_id=mission.id,
                data=ShiftInput(
                    starts=f"{day.isoformat()} {starts:%H:%M}",
                    ends=f"{end_day.isoformat()} {ends:%H:%M}",
                    officer_name=f"{title} ({mission.code})",
                    phone=mission.head_phone,
                    email=f"duty.{part}.{mission.email}",
                    languages=["ar", "en"],
                ),
            )


async def _accounts(session: AsyncSession, clock: Clock, password: str, mission_code: str) -> None:
    for username, full_name, role, gender in ACCOUNTS:
        if await accounts.user_by_username(session=session, username=username) is not None:
            continue
        # A mission's staff account is made for its mission (accounts.create_user refuses one without).
        await accounts.create_user(
            session=session,
            clock=clock,
            username=username,
            full_name=full_name,
            role=role,
            gender=gender,
            password=password,
            mission_code=mission_code if role is Role.MISSION_STAFF else "",
        )
    await session.flush()


async def _report(session: AsyncSession, now: datetime, demo: DemoReport, missions: dict[str, Mission]) -> None:
    """One report with its events, as registration and the mission's steps would have written them."""
    agent = await accounts.user_by_username(session=session, username=AGENT)
    mission = missions[demo.mission]
    minutes = timedelta(minutes=1)
    # (registered, acknowledge due, solve due, acknowledged, solved, escalation level) by the state shown.
    if demo.key == "life":
        created = now - 25 * minutes
        ack_due, solve_due = created + 10 * minutes, created + timedelta(hours=24)
        acknowledged, solved, level, next_rung = created + 6 * minutes, None, 0, solve_due
    elif demo.key == "urgent":
        # Not acknowledged within two hours: the head of mission was told; the consular deputy is next.
        created = now - 3 * 60 * minutes
        ack_due, solve_due = created + 120 * minutes, created + timedelta(hours=72)
        acknowledged, solved, level, next_rung = None, None, 1, created + 240 * minutes
    elif demo.key == "solved":
        created = now - timedelta(days=3)
        ack_due, solve_due = created + timedelta(days=1), created + timedelta(days=14)
        acknowledged, solved, level, next_rung = created + timedelta(hours=16), created + timedelta(days=1), 0, None
    else:
        created = now - 60 * minutes
        ack_due, solve_due = created + timedelta(days=1), created + timedelta(days=14)
        acknowledged, solved, level, next_rung = None, None, 0, ack_due
    state = ReportState.SOLVED if solved else ReportState.ACKNOWLEDGED if acknowledged else ReportState.OPEN
    report = EmergencyReport(
        number=await next_report_number(session=session, clock=FrozenClock(created)),
        national_id=demo.national_id,
        caller_name=demo.caller,
        phone=demo.phone,
        language="ar",
        country=demo.country,
        city=demo.city,
        type=demo.type,
        severity=demo.severity,
        account=demo.account,
        source=ReportSource.AGENT,
        mission_id=mission.id,
        covering_mission_id=missions[demo.covering].id if demo.covering else None,
        state=state,
        generation=1,
        created_at=created,
        registered_by_id=agent.id if agent else None,
        acknowledge_due_at=ack_due,
        solve_due_at=solve_due,
        acknowledged_at=acknowledged,
        acknowledged_by=f"ضابط المناوبة ({mission.code})" if acknowledged else "",
        solved_at=solved,
        outcome="صدرت لها وثيقة سفر مؤقتة وعادت إلى المملكة." if solved else "",
        escalation_level=level,
        next_escalation_at=next_rung,
    )
    session.add(report)
    await session.flush()
    params: dict[str, object] = {"mission": mission.code}
    if demo.covering:
        params["covering"] = demo.covering
    events: list[tuple[ReportEventKind, datetime, dict[str, object]]] = [
        (ReportEventKind.REGISTERED, created, params),
        (ReportEventKind.ALERTED, created, {"mission": mission.code}),
    ]
    if level:
        # As emergency.alerts.alert_rung records a step (the monthly report counts escalations by "rung").
        head = {
            "name": mission.head_name,
            "role": alerts.HEAD_OF_MISSION,
            "channels": list(alerts.CHANNELS[demo.severity]),
        }
        reached = {"rung": level, "step": level, "reason": timers.NOT_ACKNOWLEDGED, "mission": mission.code}
        events.append((ReportEventKind.ESCALATED, ack_due, {**reached, "told": [head]}))
    if acknowledged:
        events.append((ReportEventKind.ACKNOWLEDGED, acknowledged, {}))
    if solved:
        events.append((ReportEventKind.SOLVED, solved, {}))
    session.add_all(
        ReportEvent(
            report_id=report.id,
            kind=kind,
            at=at,
            actor_id=agent.id if agent and kind is ReportEventKind.REGISTERED else None,
            # The duty officer acknowledges and solves; Majlis's own steps (escalations) carry no name, as
            # emergency/escalation.py records them.
            by=report.acknowledged_by if kind in (ReportEventKind.ACKNOWLEDGED, ReportEventKind.SOLVED) else "",
            params=values,
        )
        for kind, at, values in events
    )
    await session.flush()
