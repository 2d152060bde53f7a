"""The emergency line's monthly report on SQLite and PostgreSQL: every figure checked against November 2026 as
tests/emergency/month_arrange.py plays it, per mission, per country, by severity and for the whole ministry."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from emergency import monthly_files
from emergency.models import MissionKind, ReportEvent, Severity
from emergency.monthly import EmergencyMonthly, Figures, monthly_report
from followup.periods import gregorian_month, hijri_month
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.emergency import month_arrange
from tests.emergency.month_arrange import Sessions, arranged_month, at

LIFE, URGENT, NORMAL = Severity.LIFE_THREATENING, Severity.URGENT, Severity.NORMAL


async def november(sessions: Sessions, clock: FrozenClock) -> EmergencyMonthly:
    async with sessions() as session:
        return await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 11))


async def test_november_per_mission_country_severity_and_overall(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await arranged_month(sessions)
    clock.set(at(12, 15))
    async with sessions() as session:
        report = await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 11))
    assert report.as_of == gregorian_month(2026, 11).ends_at

    abu_dhabi = report.mission(arranged.abu_dhabi)
    assert abu_dhabi is not None
    # r1 and r2 and r6 received (r7 is December's in Riyadh though November's in UTC); r5 acknowledged in time in
    # November though received in October; r2 late twice and escalated to both rungs; r5 and r6 open at the end.
    assert abu_dhabi.figures == Figures(
        received=3,
        acknowledged_in_time=2,
        acknowledged_late=1,
        solved_in_time=1,
        solved_late=1,
        escalations=2,
        open_at_end=2,
        escalations_by_level={1: 1, 2: 1},
    )
    assert abu_dhabi.by_severity[LIFE] == Figures(
        received=2,
        acknowledged_in_time=1,
        acknowledged_late=1,
        solved_in_time=1,
        solved_late=1,
        escalations=2,
        open_at_end=0,
        escalations_by_level={1: 1, 2: 1},
    )
    assert abu_dhabi.by_severity[URGENT] == Figures(received=1, open_at_end=1)
    assert abu_dhabi.by_severity[NORMAL] == Figures(acknowledged_in_time=1, open_at_end=1)

    dubai = report.mission(arranged.dubai)
    assert dubai is not None and dubai.figures == Figures(received=1, acknowledged_in_time=1, open_at_end=1)
    desk = report.mission(arranged.desk)
    assert desk is not None and desk.figures == Figures(received=1, open_at_end=1)
    # Not live yet: listed with nothing (the report from its country is the central desk's).
    london = report.mission(arranged.london)
    assert london is not None and london.figures == Figures() and not london.live

    countries = {c.country: c for c in report.countries}
    assert set(countries) == {"AE", "GB"}
    assert countries["AE"].figures.received == 4 and countries["AE"].figures.open_at_end == 3
    assert countries["GB"].figures == Figures(received=1, open_at_end=1)
    assert (
        countries["AE"].name("en") == "United Arab Emirates"
        and countries["AE"].name("ar") == "الإمارات العربية المتحدة"
    )

    overall = report.overall.figures
    assert overall == Figures(
        received=5,
        acknowledged_in_time=3,
        acknowledged_late=1,
        solved_in_time=1,
        solved_late=1,
        escalations=2,
        open_at_end=4,
        escalations_by_level={1: 1, 2: 1},
    )
    assert [report.overall.by_severity[s].received for s in (LIFE, URGENT, NORMAL)] == [2, 2, 1]
    assert report.levels == [1, 2]
    # The central desk first, then by country and name.
    assert [m.code for m in report.ordered_missions("en")] == ["central-desk", "ae-dubai", "ae-abu-dhabi", "gb-london"]


async def test_december_takes_what_happened_on_its_first_day(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await arranged_month(sessions)
    clock.set(at(12, 15))
    async with sessions() as session:
        report = await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 12))
    abu_dhabi = report.mission(arranged.abu_dhabi)
    assert abu_dhabi is not None
    # r7 received; r6 acknowledged late, solved in time, escalated once; r5 solved late (due 11 November); r7 still
    # open now.
    assert abu_dhabi.figures == Figures(
        received=1,
        acknowledged_late=1,
        solved_in_time=1,
        solved_late=1,
        escalations=1,
        open_at_end=1,
        escalations_by_level={1: 1},
    )


async def test_the_month_under_way_counts_open_as_of_now(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await arranged_month(sessions)
    # 24 November: r2 is solved (6 Nov), r3 and r5 open, r4 (20 Nov) open.
    async with sessions() as session:
        report = await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 11))
    assert report.as_of == clock.now()
    desk = report.mission(arranged.desk)
    assert desk is not None and desk.figures.open_at_end == 1
    assert report.overall.figures.open_at_end == 3  # r3, r4, r5; r6 not yet registered
    clock.set(at(11, 19))
    async with sessions() as session:
        earlier = await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 11))
    assert earlier.overall.figures.open_at_end == 2  # r3 and r5: r4 is not registered yet on the 19th


async def test_a_hijri_month_is_bounded_by_riyadh_midnights(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions)
    clock.set(datetime(2026, 12, 20, tzinfo=UTC))
    # Jumada al-Akhirah 1448 runs 11 Nov – 9 Dec 2026 in the Umm al-Qura table: r4 and r6 are in it, r1–r3 not.
    period = hijri_month(1448, 6)
    assert (period.first_day.isoformat(), period.last_day.isoformat()) == ("2026-11-11", "2026-12-09")
    async with sessions() as session:
        report = await monthly_report(session=session, clock=clock, period=period)
    assert report.overall.figures.received == 3  # r4, r6, r7


async def test_the_csv_has_a_row_per_line_and_severity(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions)
    clock.set(at(12, 15))
    async with sessions() as session:
        report = await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 11))
    text = monthly_files.csv_bytes(report, "en").decode("utf-8")
    assert text.startswith("\ufeffTable,Code,Name,Severity,Reports received,")
    lines = text.strip().splitlines()
    # Four missions, two countries and the ministry, four rows each.
    assert len(lines) == 1 + 7 * 4
    assert "Mission,ae-abu-dhabi,Embassy in Abu Dhabi,All severities,3,2,1,1,1,2,2" in lines
    assert "Mission,ae-abu-dhabi,Embassy in Abu Dhabi,Life-threatening,2,1,1,1,1,2,0" in lines
    assert "Country,GB,United Kingdom,Normal,1,0,0,0,0,0,1" in lines
    assert "Ministry,*,All missions,All severities,5,3,1,1,1,2,4" in lines
    arabic = monthly_files.csv_bytes(report, "ar").decode("utf-8")
    assert "البعثة,ae-abu-dhabi,السفارة في أبوظبي,جميع درجات الخطورة,3,2,1,1,1,2,2" in arabic
    assert monthly_files.xlsx_bytes(report, "ar")[:2] == b"PK"


async def test_escalations_come_from_the_sweeps_events_and_reminders_are_not_counted(
    sessions: Sessions, clock: FrozenClock
) -> None:
    # One acknowledged report left unsolved: the real sweep tells the deputy at its solution deadline (rung 2),
    # then reminds them each day; a reminder is not another escalation.
    async with transaction(sessions) as session:
        kuwait = await month_arrange.mission(
            session, "kw-kuwait", MissionKind.EMBASSY, "KW", "Asia/Kuwait", live=True,
            name_ar="السفارة في الكويت", name_en="Embassy in Kuwait", covers=(("KW", ""),),
        )  # fmt: skip
        created = at(11, 10, 8)
        one = await month_arrange.report(
            session, kuwait.id, "KW", LIFE, created, ack_in=month_arrange.minutes(10),
            solve_in=month_arrange.hours(24), acknowledged=created + month_arrange.minutes(5),
        )  # fmt: skip
        one.next_escalation_at = one.solve_due_at
    for day in range(3):
        await month_arrange.swept_at(sessions, created + month_arrange.hours(24 * (day + 1)))
    async with sessions() as session:
        steps = list(await session.scalars(select(ReportEvent.params).where(ReportEvent.report_id == one.id)))
    assert [(p["rung"], p.get("reminder", False)) for p in steps] == [(2, False), (2, True), (2, True)]
    clock.set(at(12, 15))
    report = await november(sessions, clock)
    line = report.mission(kuwait.id)
    assert line is not None
    assert (line.figures.escalations, line.figures.escalations_by_level) == (1, {2: 1})
