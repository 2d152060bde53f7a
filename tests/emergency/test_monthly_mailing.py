"""The emergency line's monthly e-mail on SQLite and PostgreSQL: on the 1st (Riyadh), last month's report to each
mission in service, in Arabic with the English below, once per mission and month; the central desk's carries the
whole ministry and the page's link; the job runs at 06:00 Riyadh every day."""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from emergency import monthly_mailing
from emergency.models import MissionReportMailing
from majlis import jobs
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import OutboxMessage
from tests.conftest import make_settings
from tests.emergency.month_arrange import Sessions, arranged_month, at
from tests.factories import Client
from web.keys import SETTINGS

URL = "https://majlis.example.gov.sa/reports/emergency"


async def send(sessions: Sessions, clock: FrozenClock) -> monthly_mailing.MailingRun:
    async with transaction(sessions) as session:
        return await monthly_mailing.send_monthly(session=session, clock=clock, hijri=False, report_url=URL)


async def sent(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.purpose == monthly_mailing.PURPOSE).order_by(OutboxMessage.id)
            )
        )


async def test_each_mission_in_service_gets_last_month_once(sessions: Sessions, clock: FrozenClock) -> None:
    arranged = await arranged_month(sessions)
    # 1 December, 01:00 in Riyadh: still 30 November in UTC.
    clock.set(datetime(2026, 11, 30, 22, 0, tzinfo=UTC))
    run = await send(sessions, clock)
    assert run.period == "2026-11" and run.failed == []
    # London is not live and had nothing: no e-mail.
    assert run.sent == ["central-desk", "ae-abu-dhabi", "ae-dubai"]
    async with sessions() as session:
        rows = {(m.period, m.mission_id) for m in await session.scalars(select(MissionReportMailing))}
    assert rows == {("2026-11", i) for i in (arranged.desk, arranged.abu_dhabi, arranged.dubai)}

    desk, abu_dhabi, dubai = await sent(sessions)
    assert [(m.channel, m.recipient) for m in (desk, abu_dhabi, dubai)] == [
        ("email", "central-desk@missions.example.gov.sa"),
        ("email", "ae-abu-dhabi@missions.example.gov.sa"),
        ("email", "ae-dubai@missions.example.gov.sa"),
    ]
    assert abu_dhabi.payload["subject"] == (
        "تقرير خط الطوارئ لشهر نوفمبر 2026: السفارة في أبوظبي"
        " / Emergency line report for November 2026: Embassy in Abu Dhabi"
    )
    # Arabic first, the English below it; the mission's own figures, by severity.
    arabic, english = abu_dhabi.body.split("—" * 24)
    assert "  البلاغات الواردة: 3 (خطر على الحياة 2، عاجلة 1، عادية 0)\n" in arabic
    assert "  Reports received: 3 (Life-threatening 2, Urgent 1, Normal 0)\n" in english
    assert "  Acknowledged late: 1 (Life-threatening 1, Urgent 0, Normal 0)\n" in english
    assert "  Escalations: 2 (Life-threatening 2, Urgent 0, Normal 0)\n" in english
    assert "  Open at the month's end: 2 (Life-threatening 0, Urgent 1, Normal 1)" in english
    assert "Consulate General in Dubai" not in abu_dhabi.body and URL not in abu_dhabi.body
    # The central desk's carries every mission, each country and the ministry, and the page for the month.
    assert all(n in desk.body for n in ("Embassy in Abu Dhabi", "United Kingdom", "All missions", "جميع البعثات"))
    assert f"{URL}?month=2026-11" in desk.body

    again = await send(sessions, clock)
    assert again.sent == [] and len(await sent(sessions)) == 3
    clock.set(at(12, 20))
    assert (await send(sessions, clock)).sent == []  # still November, already sent
    clock.set(at(1, 1, 6, year=2027))
    assert (await send(sessions, clock)).sent == ["central-desk", "ae-abu-dhabi", "ae-dubai"]


async def test_a_run_missed_on_the_first_sends_on_a_later_day(sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions)
    clock.set(at(12, 3, 6))
    assert (await send(sessions, clock)).period == "2026-11"
    assert len(await sent(sessions)) == 3


async def test_the_daily_job_sends_when_due(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    await arranged_month(sessions)
    clock.set(at(12, 1, 6))
    settings = make_settings(client.app[SETTINGS].database_url_value, public_url="https://majlis.example.gov.sa/")
    runner = jobs.start(settings=settings, sessions=sessions, clock=clock)
    try:
        job = runner.get_job("emergency_report_mailing")
        assert job is not None and isinstance(job.trigger, CronTrigger)
        assert str(job.trigger) == "cron[hour='6', minute='0']" and str(job.trigger.timezone) == "Asia/Riyadh"
        await job.func()
        await job.func()
    finally:
        runner.shutdown(wait=False)
    messages = await sent(sessions)
    assert len(messages) == 3 and f"{URL}?month=2026-11" in messages[0].body
