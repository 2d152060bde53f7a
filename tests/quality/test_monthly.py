"""The monthly service-quality report on SQLite and PostgreSQL: its scope (a branch, a department, everything) and
refusals, its tables and workbook (read back with openpyxl), and the managers' e-mail, once per month.

The month arranged (November 2026): six requests at Riyadh, two at Jeddah; each rated once at the desk (Riyadh 5,
5, 4, 4, 2, 1; Jeddah 3, 5); five of Riyadh's referred to Health.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import StaffUser
from accounts.roles import Role
from cases import service as cases
from followup.periods import gregorian_month, hijri_month
from majlis import jobs
from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from quality import monthly_files, monthly_mailing
from quality.models import InviteChannel, QualityMailing, Rating, RatingInvite, Visit
from quality.monthly import EVERYTHING_SCOPE, ScopeNotFound, asked_scope, monthly_quality
from tests.conftest import make_settings
from tests.factories import Client, details, make_staff
from tests.followup.test_report import add_department, refer
from web.keys import SETTINGS
from worktime.models import WorkingCalendar

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.gov.sa/reports/quality-monthly"
NOVEMBER = gregorian_month(2026, 11)
RIYADH_SCORES = (5, 5, 4, 4, 2, 1)
JEDDAH_SCORES = (3, 5)


def nov(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=RIYADH)


@dataclass(frozen=True)
class November:
    health: int


async def _rated(session: AsyncSession, case_id: int, branch: str, score: int, when: datetime) -> None:
    invite = RatingInvite(
        case_id=case_id,
        appointment_id=0,
        visit=Visit.INTAKE,
        channel=InviteChannel.TABLET,
        branch_code=branch,
        created_at=when,
        expires_at=when + timedelta(hours=1),
        used_at=when,
    )
    session.add(invite)
    await session.flush()
    session.add(
        Rating(invite_id=invite.id, case_id=case_id, visit=Visit.INTAKE, branch_code=branch, score=score, rated_at=when)
    )


async def arranged_november(sessions: Sessions, clock: FrozenClock) -> November:
    """The month of the module's docstring; the clock is left on 2 December."""
    async with transaction(sessions) as session:
        government = await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code == "government"))
        assert government is not None
        health = await add_department(session, "health", "وزارة الصحة", "Ministry of Health", calendar_id=government)
        for branch, scores in (("riyadh", RIYADH_SCORES), ("jeddah", JEDDAH_SCORES)):
            for index, score in enumerate(scores):
                clock.set(nov(3 + index))
                submitted = await cases.submit(
                    session=session, clock=clock, details=details(branch=branch), status_url=""
                )
                case_id = submitted.case.id
                await _rated(session, case_id, branch, score, nov(3 + index, 10))
                if branch == "riyadh" and index < 5:
                    await refer(session, case_id, health, nov(3 + index, 11), nov(20), answered=nov(10))
    clock.set(datetime(2026, 12, 2, 9, tzinfo=RIYADH))
    return November(health=health)


async def test_a_branch_a_department_and_everything(sessions: Sessions, clock: FrozenClock) -> None:
    month = await arranged_november(sessions, clock)
    async with sessions() as session:
        riyadh = await asked_scope(session=session, branch="riyadh", department=None)
        jeddah = await asked_scope(session=session, branch=" jeddah ", department=None)
        health = await asked_scope(session=session, branch=None, department=str(month.health))
        everything = await asked_scope(session=session, branch="", department="")
        reports = {
            name: await monthly_quality(session=session, period=NOVEMBER, scope=scope, now=clock.now())
            for name, scope in (("riyadh", riyadh), ("jeddah", jeddah), ("health", health), ("all", everything))
        }
    assert everything == EVERYTHING_SCOPE
    assert riyadh.name("en") == "Branch: Riyadh" and health.name("en") == "Department: Ministry of Health"
    assert health.query() == {"department": str(month.health)} and riyadh.slug == "branch-riyadh"

    figures = {name: report.figures for name, report in reports.items()}
    assert figures["riyadh"].total_requests == 6
    assert figures["riyadh"].satisfaction_overall.count == 6
    assert figures["riyadh"].satisfaction_overall.mean == pytest.approx(sum(RIYADH_SCORES) / 6, abs=0.01)
    # Two requests and two ratings: fewer than five, suppressed.
    assert figures["jeddah"].total_requests is None and figures["jeddah"].satisfaction_overall.count is None
    assert figures["health"].total_requests == 5
    assert figures["health"].satisfaction_overall.mean == pytest.approx(4.0)
    assert figures["all"].total_requests == 8 and figures["all"].satisfaction_overall.count == 8
    assert not reports["all"].under_way and reports["all"].as_of == NOVEMBER.ends_at

    # The tables say so in the reader's language, and suppressed cells read "fewer than 5".
    summary = monthly_files.tables(reports["jeddah"], "ar", lambda _d, key: key)[0]
    assert summary.key == "summary" and summary.rows[0] == ["الطلبات المقدَّمة", "أقل من 5"]
    riyadh_summary = monthly_files.summary_rows(reports["riyadh"], "en")
    assert riyadh_summary[:4] == [
        ["Requests submitted", 6],
        ["Ratings", 6],
        ["Satisfaction, mean (1 to 5)", 3.5],
        # 2 negative of 6: the share would give the 2 back, so it is withheld too (not "fewer than 5").
        ["Negative ratings (%)", "withheld"],
    ]


async def test_unknown_and_malformed_scopes_are_refused(sessions: Sessions) -> None:
    async with sessions() as session:
        with pytest.raises(ScopeNotFound) as unknown:
            await asked_scope(session=session, branch="mecca", department=None)
        assert unknown.value.code == "branch_not_found"
        with pytest.raises(ScopeNotFound) as missing:
            await asked_scope(session=session, branch=None, department="99999")
        assert missing.value.code == "department_not_found"
        for department in ("health", "٣", "-1", "1" * 12):
            with pytest.raises(InvalidInput) as malformed:
                await asked_scope(session=session, branch=None, department=department)
            assert [e.field for e in malformed.value.errors] == ["department"]
        with pytest.raises(InvalidInput) as both:
            await asked_scope(session=session, branch="riyadh", department="1")
        assert both.value.errors[0].code == "both_scopes"


async def test_the_workbook_reads_right_to_left_with_numbers_as_numbers(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_november(sessions, clock)
    async with sessions() as session:
        scope = await asked_scope(session=session, branch="riyadh", department=None)
        report = await monthly_quality(session=session, period=NOVEMBER, scope=scope, now=clock.now())
    # A name typed by an administrator that a spreadsheet would run as a formula stays text.
    names = {"riyadh": '=HYPERLINK("http://evil")'}

    def name(dimension: str, key: str) -> str:
        return names.get(key, key) if dimension == "branch" else key

    workbook = load_workbook(io.BytesIO(monthly_files.xlsx_bytes(report, "ar", name)))
    cover, *sheets = workbook.worksheets
    assert all(sheet.sheet_view.rightToLeft for sheet in workbook.worksheets)
    cover_text = [str(c.value) for row in cover.iter_rows() for c in row if c.value is not None]
    # The month in both calendars: November 2026 runs from Jumada al-Ula into Jumada al-Akhirah 1448.
    assert "نوفمبر 2026" in cover_text
    assert any("جمادى الأولى 1448" in text and "جمادى الآخرة 1448" in text for text in cover_text)
    tables = monthly_files.tables(report, "ar", name)
    assert [sheet["A1"].value for sheet in sheets] == [table.title for table in tables]
    for sheet, table in zip(sheets, tables, strict=True):
        assert [c.value for c in sheet[2]] == table.headings
        body = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
        assert body == table.rows
    requests = sheets[1]
    branch_cells = [row for row in requests.iter_rows(min_row=3) if row[1].value == names["riyadh"]]
    assert branch_cells and branch_cells[0][1].data_type == "s" and branch_cells[0][2].value == 6
    assert isinstance(branch_cells[0][2].value, int)
    # English reads left to right.
    english = load_workbook(io.BytesIO(monthly_files.xlsx_bytes(report, "en", name)))
    assert not any(sheet.sheet_view.rightToLeft for sheet in english.worksheets)


async def test_a_hijri_month_is_its_own_days(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_november(sessions, clock)
    jumada = hijri_month(1448, 6)
    async with sessions() as session:
        report = await monthly_quality(session=session, period=jumada, scope=EVERYTHING_SCOPE, now=clock.now())
    assert report.figures.span.first_day == jumada.first_day and report.figures.span.last_day == jumada.last_day
    assert report.under_way
    lines = monthly_files.text_lines(report, "en", lambda _d, key: key)
    assert lines[0] == "Service quality report: Jumada al-Akhirah 1448 AH"


async def _mailed(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.purpose == monthly_mailing.PURPOSE)
        return list(await session.scalars(query.order_by(OutboxMessage.id)))


async def test_each_manager_with_an_address_gets_the_month_once(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_november(sessions, clock)
    with_address = await make_staff(sessions, clock, Role.MANAGER, "managera")
    await make_staff(sessions, clock, Role.MANAGER, "managerb")
    gone = await make_staff(sessions, clock, Role.MANAGER, "managerc")
    desk = await make_staff(sessions, clock, Role.INTAKE_DESK, "desk")
    async with transaction(sessions) as session:
        for staff_id, email in ((with_address.id, "a@example.gov.sa"), (gone.id, "c@example.gov.sa")):
            account = await session.get(StaffUser, staff_id)
            assert account is not None
            account.email = email
        inactive = await session.get(StaffUser, gone.id)
        desk_account = await session.get(StaffUser, desk.id)
        assert inactive is not None and desk_account is not None
        inactive.is_active = False
        desk_account.email = "desk@example.gov.sa"

    # 1 December, 01:00 in Riyadh: still 30 November in UTC.
    clock.set(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    async with transaction(sessions) as session:
        run = await monthly_mailing.send_monthly(session=session, clock=clock, hijri=False, report_url=URL)
    assert (run.period, run.sent, run.without_email, run.failed) == ("2026-11", [with_address.id], 1, [])
    [message] = await _mailed(sessions)
    assert (message.channel, message.recipient) == ("email", "a@example.gov.sa")
    assert message.payload["subject"] == "تقرير جودة الخدمة لشهر نوفمبر 2026 / Service quality report for November 2026"
    assert f"{URL}?branch=riyadh&month=2026-11" in message.body
    assert f"{URL}.xlsx?branch=riyadh&month=2026-11" in message.body
    assert "Branch: Riyadh" in message.body and "Department: Ministry of Health" in message.body
    # Jeddah's 2 are fewer than 5; Riyadh's 6 beside everything's 8 would tell them, so they are withheld: across
    # the two branches, neither count (nor the ratings) comes back as everything's less the other's.
    assert "  Requests submitted: 8" in message.body and "  Requests submitted: fewer than 5" in message.body
    assert "  Requests submitted: 6" not in message.body and "  Requests submitted: withheld" in message.body
    assert "  Ratings: 6" not in message.body and "  Ratings: withheld" in message.body
    assert "  الطلبات المقدَّمة: محجوب لحماية الخصوصية" in message.body
    # No names: no applicant's, no staff member's.
    assert "نورة" not in message.body and "manager" not in message.body

    # Later the same month: nothing new, the one without an address still counted.
    clock.set(datetime(2026, 12, 5, 6, tzinfo=RIYADH))
    async with transaction(sessions) as session:
        again = await monthly_mailing.send_monthly(session=session, clock=clock, hijri=False, report_url=URL)
    assert (again.sent, again.without_email) == ([], 1)
    assert len(await _mailed(sessions)) == 1
    async with sessions() as session:
        assert [(m.period, m.staff_id) for m in await session.scalars(select(QualityMailing))] == [
            ("2026-11", with_address.id)
        ]


async def test_the_daily_job_sends_when_due(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_november(sessions, clock)
    manager = await make_staff(sessions, clock, Role.MANAGER, "managera")
    async with transaction(sessions) as session:
        account = await session.get(StaffUser, manager.id)
        assert account is not None
        account.email = "a@example.gov.sa"
    settings = make_settings(client.app[SETTINGS].database_url_value, public_url="https://majlis.example.gov.sa/")
    runner = jobs.start(settings=settings, sessions=sessions, clock=clock)
    try:
        job = runner.get_job("quality_report_mailing")
        assert job is not None and isinstance(job.trigger, CronTrigger)
        assert str(job.trigger) == "cron[hour='6', minute='0']" and str(job.trigger.timezone) == "Asia/Riyadh"
        await job.func()
        await job.func()
    finally:
        runner.shutdown(wait=False)
    [message] = await _mailed(sessions)
    assert f"{URL}?month=2026-11" in message.body
