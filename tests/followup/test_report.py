"""The monthly follow-up report on SQLite and PostgreSQL, every figure checked against a month played by hand.

November 2026 (Sunday 1st). Health ("health", top level, the government calendar: Sun–Thu 08:00–15:00, 7 hours):
- r1 1 Nov 08:00 → answered 3 Nov 15:00, due 15 Nov: on time, 3 working days;
- r2 2 Nov 08:00 → answered 12 Nov 15:00, due 4 Nov: late; 9 working days less 4 waiting for the applicant
  (asked Sun 8 Nov 08:00, given Wed 11 Nov 15:00) → 5;
- r3 10 Nov, due 19 Nov, open → overdue; escalated to level 1 on 19 Nov and level 2 on 24 Nov;
- r4 20 Oct 08:00 → answered 5 Nov 08:00, due 25 Nov: on time, 12 working days, not referred in November;
- r5 29 Nov, due 10 Dec, open → not overdue;
- r6 3 Nov, due 10 Nov, returned as not theirs on 4 Nov → returned, not overdue;
- r7 15 Nov, due 22 Nov, waiting for the applicant since 19 Nov → not overdue;
- r8 1 Oct, due 15 Oct, answered only on 1 Dec → overdue at November's end; escalated level 1 in October (not
  counted), level 2 on 2 Nov;
- r9 1 Nov, due 5 Nov, closed unanswered on 20 Nov → not overdue;
- r10 2 Nov, due 9 Nov, returned on 3 Nov then sent to them again on 4 Nov → returned, and overdue;
- r11 3 Nov, due 12 Nov, asked the applicant 4 Nov, given 5 Nov, open → overdue.
Water ("water", under health, its own calendar Sun–Thu 07:30–14:30 with a holiday on Monday 16 Nov):
- b1 15 Nov 07:30 → answered 17 Nov 14:30, due 30 Nov: on time, 2 working days (the holiday does not count);
- b2 1 Nov 07:30 → answered 5 Nov 14:30, due 3 Nov: late, 5 working days.
Roads (active, nothing this month) is listed with zeros; Archive (inactive, nothing) is not; Old (inactive) is
listed because one referral went to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cases.models import Case
from followup.models import (
    ContactRole,
    Department,
    DepartmentContact,
    EventKind,
    Referral,
    ReferralEvent,
    ReferralSource,
    ReferralState,
)
from followup.periods import Period, asked_period, gregorian_month, hijri_month, last_complete_month
from followup.report import DepartmentFigures, Figures, MonthlyReport, WorkingTimeline, monthly_report
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from tests.priority.test_triage import new_case
from worktime.clock import Calendar, Stretch, working_between
from worktime.models import CalendarHoliday, WorkingCalendar, WorkingHours

Sessions = async_sessionmaker[AsyncSession]
SUNDAY_TO_THURSDAY = (6, 0, 1, 2, 3)


def at(month: int, day: int, hour: int = 8, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=RIYADH)


@dataclass(frozen=True)
class Month:
    """The departments of the month in the module's docstring, by code → id."""

    ids: dict[str, int]


async def add_department(
    session: AsyncSession,
    code: str,
    name_ar: str,
    name_en: str,
    *,
    calendar_id: int,
    parent_id: int | None = None,
    active: bool = True,
    head: str | None = None,
    head_language: str = "ar",
) -> int:
    department = Department(
        code=code,
        name_ar=name_ar,
        name_en=name_en,
        parent_id=parent_id,
        calendar_id=calendar_id,
        email=f"{code}@example.gov.sa",
        active=active,
    )
    session.add(department)
    await session.flush()
    # A liaison officer is never the one a report goes to.
    session.add(
        DepartmentContact(
            department_id=department.id,
            role=ContactRole.LIAISON,
            name="ضابط الاتصال",
            email=f"liaison.{code}@example.gov.sa",
        )
    )
    if head is not None:
        session.add(
            DepartmentContact(
                department_id=department.id, role=ContactRole.HEAD, name="المدير", email=head, language=head_language
            )
        )
    await session.flush()
    return department.id


async def water_calendar(session: AsyncSession) -> int:
    calendar = WorkingCalendar(code="water", name_ar="دوام المياه", name_en="Water's hours", time_zone="Asia/Riyadh")
    session.add(calendar)
    await session.flush()
    for weekday in SUNDAY_TO_THURSDAY:
        session.add(WorkingHours(calendar_id=calendar.id, weekday=weekday, opens=time(7, 30), closes=time(14, 30)))
    session.add(CalendarHoliday(calendar_id=calendar.id, day=date(2026, 11, 16), name="إجازة"))
    await session.flush()
    return calendar.id


async def refer(
    session: AsyncSession,
    case_id: int,
    department_id: int,
    created: datetime,
    due: datetime,
    *,
    answered: datetime | None = None,
    closed: datetime | None = None,
    state: ReferralState | None = None,
    events: tuple[tuple[EventKind, datetime, str], ...] = (),
) -> Referral:
    """A referral written straight to the table, with its SENT event and the events given (kind, when, level)."""
    referral = Referral(
        case_id=case_id,
        department_id=department_id,
        policy_id=1,
        source=ReferralSource.AUDIT_DESK,
        directive="للإفادة",
        state=state or (ReferralState.ANSWERED if answered else ReferralState.CLOSED if closed else ReferralState.SENT),
        created_at=created,
        first_response_due_at=created,
        solution_due_at=due,
        answered_at=answered,
        closed_at=closed,
        paused_since=next((when for kind, when, _ in events if kind == EventKind.INFORMATION_ASKED), None)
        if state == ReferralState.AWAITING_APPLICANT
        else None,
    )
    session.add(referral)
    await session.flush()
    for kind, when, level in ((EventKind.SENT, created, ""), *events):
        session.add(
            ReferralEvent(
                referral_id=referral.id,
                case_id=case_id,
                kind=kind,
                at=when,
                details={"level": level} if level else {},
            )
        )
    await session.flush()
    return referral


async def arranged_month(sessions: Sessions, clock: FrozenClock) -> Month:
    """The month of the module's docstring."""
    number = await new_case(sessions, clock)
    ask, give, up = EventKind.INFORMATION_ASKED, EventKind.INFORMATION_GIVEN, EventKind.ESCALATED
    back, sent = EventKind.RETURNED, EventKind.SENT
    async with transaction(sessions) as session:
        case_id = await session.scalar(select(Case.id).where(Case.tracking_number == number))
        government = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == "government"))
        assert case_id is not None and government is not None
        health = await add_department(
            session, "health", "وزارة الصحة", "Ministry of Health", calendar_id=government, head="head@health.sa"
        )
        water = await add_department(
            session,
            "water",
            "مديرية المياه",
            "Water Directorate",
            calendar_id=await water_calendar(session),
            parent_id=health,
        )
        roads = await add_department(
            session, "roads", "إدارة الطرق", "Roads Department", calendar_id=government, parent_id=health
        )
        archive = await add_department(
            session, "archive", "الأرشيف", "Archive", calendar_id=government, parent_id=health, active=False
        )
        old = await add_department(
            session, "old", "الإدارة السابقة", "Former Department", calendar_id=government, active=False
        )

        await refer(session, case_id, health, at(11, 1), at(11, 15), answered=at(11, 3, 15))
        await refer(
            session,
            case_id,
            health,
            at(11, 2),
            at(11, 4),
            answered=at(11, 12, 15),
            events=((ask, at(11, 8), ""), (give, at(11, 11, 15), "")),
        )
        await refer(
            session, case_id, health, at(11, 10), at(11, 19), events=((up, at(11, 19, 10), "1"), (up, at(11, 24), "2"))
        )
        await refer(session, case_id, health, at(10, 20), at(11, 25), answered=at(11, 5))
        await refer(session, case_id, health, at(11, 29, 10), at(12, 10))
        await refer(
            session,
            case_id,
            health,
            at(11, 3),
            at(11, 10),
            state=ReferralState.RETURNED,
            events=((back, at(11, 4, 9), ""),),
        )
        await refer(
            session,
            case_id,
            health,
            at(11, 15),
            at(11, 22),
            state=ReferralState.AWAITING_APPLICANT,
            events=((ask, at(11, 19, 9), ""),),
        )
        await refer(
            session,
            case_id,
            health,
            at(10, 1),
            at(10, 15),
            answered=at(12, 1, 10),
            events=((up, at(10, 20), "1"), (up, at(11, 2, 10), "2")),
        )
        await refer(session, case_id, health, at(11, 1, 9), at(11, 5), closed=at(11, 20, 10))
        await refer(
            session, case_id, health, at(11, 2), at(11, 9), events=((back, at(11, 3), ""), (sent, at(11, 4), ""))
        )
        await refer(
            session, case_id, health, at(11, 3), at(11, 12), events=((ask, at(11, 4), ""), (give, at(11, 5), ""))
        )

        await refer(session, case_id, water, at(11, 15, 7, 30), at(11, 30, 7, 30), answered=at(11, 17, 14, 30))
        await refer(session, case_id, water, at(11, 1, 7, 30), at(11, 3, 7, 30), answered=at(11, 5, 14, 30))
        await refer(session, case_id, old, at(11, 2), at(12, 20))
    return Month({"health": health, "water": water, "roads": roads, "archive": archive, "old": old})


def by_code(report: MonthlyReport) -> dict[str, DepartmentFigures]:
    return {d.code: d for d in report.departments}


async def report_for(sessions: Sessions, clock: FrozenClock, period: Period, **scope: object) -> MonthlyReport:
    async with sessions() as session:
        return await monthly_report(session=session, clock=clock, period=period, **scope)  # type: ignore[arg-type]


async def test_every_figure_of_a_gregorian_month(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions, clock)
    clock.set(at(12, 2, 9))
    november = gregorian_month(2026, 11)
    report = await report_for(sessions, clock, november)
    assert report.as_of == at(12, 1, 0)
    listed = by_code(report)
    assert set(listed) == {"health", "water", "roads", "old"}  # the inactive archive had nothing
    assert listed["health"].figures == Figures(
        referred=9,
        answered_on_time=2,
        answered_late=1,
        overdue=4,
        median_working_days=5.0,
        escalations={1: 1, 2: 2},
        escalated=3,
        returned=2,
    )
    assert listed["water"].figures == Figures(referred=2, answered_on_time=1, answered_late=1, median_working_days=3.5)
    assert listed["roads"].figures == Figures()
    assert listed["old"].figures == Figures(referred=1)
    assert report.overall == Figures(
        referred=12,
        answered_on_time=3,
        answered_late=2,
        overdue=4,
        # Of every answer: 2, 3, 5, 5, 12 working days.
        median_working_days=5.0,
        escalations={1: 1, 2: 2},
        escalated=3,
        returned=2,
    )
    assert report.levels == [1, 2]
    assert [d.code for d in report.ordered("en")] == ["old", "health", "roads", "water"]
    assert [d.code for d in report.ordered("ar")] == ["roads", "old", "water", "health"]


async def test_a_hijri_month_runs_between_riyadh_midnights_of_umm_al_qura(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await arranged_month(sessions, clock)
    clock.set(at(12, 2, 9))
    month = hijri_month(1448, 5)
    # Jumada al-Ula 1448: 12 October – 10 November 2026, 30 days.
    assert (month.first_day, month.last_day, month.days) == (date(2026, 10, 12), date(2026, 11, 10), 30)
    assert month.starts_at == datetime(2026, 10, 11, 21, 0, tzinfo=UTC)
    assert month.ends_at == datetime(2026, 11, 10, 21, 0, tzinfo=UTC)
    assert (month.key, month.value, month.parameter) == ("h1448-05", "1448-05", "hijri")
    assert month.name("ar") == "جمادى الأولى 1448 هـ" and month.name("en") == "Jumada al-Ula 1448 AH"
    assert month.previous() == hijri_month(1448, 4) and month.previous().last_day == date(2026, 10, 11)

    health = by_code(await report_for(sessions, clock, month))["health"].figures
    # r1, r2, r3 (10 Nov), r4 (20 Oct), r6, r9, r10, r11; r5 and r7 come after the month.
    assert health.referred == 8
    # r2's answer (12 Nov) is after the month; r1 and r4 on time: 3 and 12 working days.
    assert (health.answered_on_time, health.answered_late, health.median_working_days) == (2, 0, 7.5)
    # At the month's end r8 is still unanswered, r9 not yet closed and r10 sent back; r2 waits for the applicant.
    assert health.overdue == 3
    # r8's two escalations (20 Oct, 2 Nov) fall in it; r3's come later.
    assert (health.escalations, health.returned) == ({1: 1, 2: 1}, 2)


async def test_a_liaisons_report_holds_their_department_only(sessions: Sessions, clock: FrozenClock) -> None:
    month = await arranged_month(sessions, clock)
    clock.set(at(12, 2, 9))
    report = await report_for(sessions, clock, gregorian_month(2026, 11), department_ids=[month.ids["water"]])
    assert report.scoped and [d.code for d in report.departments] == ["water"]
    assert report.overall == report.departments[0].figures


async def test_the_month_under_way_counts_overdue_until_now(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions, clock)
    clock.set(at(11, 14, 12))
    report = await report_for(sessions, clock, gregorian_month(2026, 11))
    assert report.as_of == at(11, 14, 12)
    # Past their deadline on 14 Nov and open: r8, r9 (closed only on the 20th), r10, r11.
    assert by_code(report)["health"].figures.overdue == 4


def test_the_period_asked_for() -> None:
    now = at(12, 6, 22, 30)
    assert asked_period(month=None, hijri=None, now=now, hijri_default=False) == gregorian_month(2026, 11)
    # 6 December 2026 is 26 Jumada al-Akhirah 1448: the last complete Hijri month is Jumada al-Ula.
    assert asked_period(month="", hijri=None, now=now, hijri_default=True) == hijri_month(1448, 5)
    assert asked_period(month=" 2026-02 ", hijri=None, now=now, hijri_default=True) == gregorian_month(2026, 2)
    assert gregorian_month(2026, 2).days == 28 and gregorian_month(2026, 12).last_day == date(2026, 12, 31)
    assert asked_period(month=None, hijri="1448-06", now=now, hijri_default=False).first_day == date(2026, 11, 11)
    # In Riyadh the 1st begins at 21:00 UTC the day before.
    assert last_complete_month(datetime(2026, 11, 30, 21, 0, tzinfo=UTC), hijri=False) == gregorian_month(2026, 11)
    assert last_complete_month(datetime(2026, 11, 30, 20, 59, tzinfo=UTC), hijri=False) == gregorian_month(2026, 10)


@pytest.mark.parametrize(
    ("month", "hijri", "field", "code"),
    [
        ("2026-13", None, "month", "invalid_month"),
        ("26-11", None, "month", "invalid_month"),
        ("٢٠٢٦-١١", None, "month", "invalid_month"),
        ("1800-01", None, "month", "invalid_month"),
        (None, "1448-00", "hijri", "invalid_month"),
        (None, "1600-01", "hijri", "invalid_month"),
        (None, "1448/05", "hijri", "invalid_month"),
        ("2026-11", "1448-05", "hijri", "both_calendars"),
        ("2027-01", None, "month", "not_begun"),
        (None, "1448-07", "hijri", "not_begun"),
    ],
)
def test_a_period_that_cannot_be_reported_is_refused_naming_its_field(
    month: str | None, hijri: str | None, field: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        asked_period(month=month, hijri=hijri, now=at(12, 6, 12), hijri_default=False)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, code)]


# Sun–Thu mornings, a Sunday night shift past midnight and an overlapping Monday start, two holidays, in a zone
# with daylight saving; and a desk that never closes.
_SYDNEY = Calendar(
    zone=ZoneInfo("Australia/Sydney"),
    stretches=(
        *(Stretch(day, time(8), time(15)) for day in SUNDAY_TO_THURSDAY),
        Stretch(6, time(22), time(9)),
    ),
    holidays=frozenset({date(2026, 10, 6), date(2026, 12, 25)}),
)
_ALWAYS = Calendar(zone=RIYADH, always_open=True)
_ORIGIN = datetime(2026, 9, 20, tzinfo=UTC)


@settings(max_examples=150, deadline=None)
@given(
    always=st.booleans(),
    minutes=st.lists(st.integers(min_value=0, max_value=120 * 24 * 60), min_size=2, max_size=6),
)
def test_the_timeline_agrees_with_working_between(always: bool, minutes: list[int]) -> None:
    calendar = _ALWAYS if always else _SYDNEY
    moments = sorted(_ORIGIN + timedelta(minutes=m) for m in minutes)
    timeline = WorkingTimeline(calendar, moments[0], moments[-1])
    for start in moments:
        for end in moments:
            assert timeline.between(start, end) == working_between(calendar, start, end)
