"""The monthly report by e-mail, on SQLite and PostgreSQL: once per period and scope, to the head (else the
department's address), the overall report to the top-level department, the previous month from the 1st on."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from followup import mailing
from followup.models import ContactRole, Department, DepartmentContact, ReportMailing
from majlis import jobs
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.conftest import make_settings
from tests.factories import Client
from tests.followup.test_report import arranged_month, at
from web.keys import SETTINGS

Sessions = async_sessionmaker[AsyncSession]
URL = "https://majlis.example.gov.sa/reports/followup"


async def send(sessions: Sessions, clock: FrozenClock, *, hijri: bool = False) -> mailing.MailingRun:
    async with transaction(sessions) as session:
        return await mailing.send_monthly(session=session, clock=clock, hijri=hijri, report_url=URL)


async def reports_sent(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == mailing.PURPOSE).order_by(OutboxMessage.id)
            )
        )


async def mailings(sessions: Sessions) -> set[tuple[str, str]]:
    async with sessions() as session:
        return {(m.period, m.scope) for m in await session.scalars(select(ReportMailing))}


async def test_each_head_gets_the_last_month_once(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions, clock)
    # 1 December, 01:00 in Riyadh: still 30 November in UTC.
    clock.set(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    run = await send(sessions, clock)
    assert run.period == "2026-11" and run.failed == []
    # Active departments only (archive and old are not), then the overall report.
    assert run.sent == ["health", "water", "roads", "*"]
    assert await mailings(sessions) == {("2026-11", scope) for scope in ("health", "water", "roads", "*")}

    messages = await reports_sent(sessions)
    assert [(m.channel, m.recipient) for m in messages] == [
        ("email", "head@health.sa"),  # health's head
        ("email", "water@example.gov.sa"),  # no head named: the department's own address
        ("email", "roads@example.gov.sa"),
        ("email", "head@health.sa"),  # health has no parent: the official's office
    ]
    health, water, _roads, overall = messages
    assert health.payload["subject"] == "تقرير المتابعة لشهر نوفمبر 2026: وزارة الصحة"
    assert overall.payload["subject"] == "تقرير المتابعة لشهر نوفمبر 2026: جميع الجهات"
    # Health's own figures, not water's; the link opens November's page.
    assert "  الإحالات: 9\n" in health.body and "  وسيط أيام العمل حتى الحل: 5.0\n" in health.body
    assert "  التصعيدات، المستوى 2: 2\n" in health.body and "مديرية المياه" not in health.body
    assert health.body.rstrip().endswith(f"{URL}?month=2026-11")
    assert "  الإحالات: 2\n" in water.body and "  وسيط أيام العمل حتى الحل: 3.5\n" in water.body
    assert "وزارة الصحة" not in water.body
    # The overall one: every department listed, and the totals.
    assert all(name in overall.body for name in ("وزارة الصحة", "مديرية المياه", "إدارة الطرق", "جميع الجهات"))
    assert "  الإحالات: 12\n" in overall.body

    again = await send(sessions, clock)
    assert (again.sent, again.messages) == ([], 0)
    clock.set(at(12, 15, 6))
    assert (await send(sessions, clock)).sent == []  # the 15th: November is still the last month, already sent
    assert len(await reports_sent(sessions)) == 4


async def test_the_month_is_the_previous_one_in_riyadh_and_in_the_heads_language(
    sessions: Sessions, clock: FrozenClock
) -> None:
    await arranged_month(sessions, clock)
    async with transaction(sessions) as session:
        health = await session.scalar(select(Department.id).where(Department.code == "health"))
        head = await session.scalar(
            select(DepartmentContact).where(
                DepartmentContact.department_id == health, DepartmentContact.role == ContactRole.HEAD
            )
        )
        assert head is not None
        head.language = "en"
    # 30 November 23:59 in Riyadh: October is the last complete month.
    clock.set(at(11, 30, 23, 59))
    assert (await send(sessions, clock)).period == "2026-10"
    # The 15th of December, with nothing sent for November before: it goes now.
    clock.set(at(12, 15, 6))
    run = await send(sessions, clock)
    assert run.period == "2026-11" and run.sent == ["health", "water", "roads", "*"]
    english = [m for m in await reports_sent(sessions) if m.recipient == "head@health.sa"][-2:]
    assert [m.payload["subject"] for m in english] == [
        "Follow-up report for November 2026: Ministry of Health",
        "Follow-up report for November 2026: all departments",
    ]
    assert english[0].language == "en" and "  Referrals made: 9\n" in english[0].body


async def test_a_hijri_period_from_the_first_of_the_hijri_month(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions, clock)
    # 1 Jumada al-Akhirah 1448 is 11 November 2026; Jumada al-Ula is the month just ended.
    clock.set(at(11, 11, 6))
    run = await send(sessions, clock, hijri=True)
    assert run.period == "h1448-05" and "*" in run.sent
    clock.set(at(11, 25, 6))  # the 15th of Jumada al-Akhirah
    assert (await send(sessions, clock, hijri=True)).sent == []
    body = (await reports_sent(sessions))[0].body
    assert "جمادى الأولى 1448 هـ" in body and body.rstrip().endswith("?hijri=1448-05")


async def test_the_daily_job_sends_when_due(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions, clock)
    clock.set(at(12, 1, 6))
    settings = make_settings(client.app[SETTINGS].database_url_value, public_url="https://majlis.example.gov.sa/")
    runner = jobs.start(settings=settings, sessions=sessions, clock=clock)
    try:
        job = runner.get_job("followup_report_mailing")
        assert job is not None and isinstance(job.trigger, CronTrigger)
        assert str(job.trigger) == "cron[hour='6', minute='0']" and str(job.trigger.timezone) == "Asia/Riyadh"
        await job.func()
        await job.func()
    finally:
        runner.shutdown(wait=False)
    messages = await reports_sent(sessions)
    assert len(messages) == 4 and messages[0].body.rstrip().endswith(f"{URL}?month=2026-11")
