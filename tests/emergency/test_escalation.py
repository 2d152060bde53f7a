"""Alerts and the ladder with a frozen clock: a life-threatening report at 03:00 in Sydney rings the duty officer
at once (SMS, a call and e-mail through the real dispatcher, whatever the hour in Riyadh), climbs to the head
of mission after ten minutes unacknowledged and to the consular deputy after twenty; urgent and normal reports
reach people as their severity says; the sweep works in batches, escalates each rung once however often it
runs, and two sweeps at once do not escalate a report twice."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import alerts, escalation, lifecycle, timers
from emergency.models import EmergencyReport, ReportEvent, ReportEventKind, Severity
from majlis import jobs
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import EMERGENCY_LINK, Dispatcher
from notify.texts import say
from tests.conftest import RecordingChannel, make_settings
from tests.emergency.levels_arrange import DEPUTY, LINKS, add_mission, add_report, add_shift, report

Sessions = async_sessionmaker[AsyncSession]
SYDNEY = ZoneInfo("Australia/Sydney")
NIGHT = datetime(2026, 12, 9, 3, 0, tzinfo=SYDNEY)  # Wednesday 03:00 in Sydney: Tuesday 19:00 in Riyadh


async def outbox_rows(sessions: Sessions, *where: object) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).where(*where).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


async def events(sessions: Sessions, report_id: int, kind: ReportEventKind) -> list[ReportEvent]:
    async with sessions() as session:
        rows = await session.scalars(
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id, ReportEvent.kind == kind)
            .order_by(ReportEvent.id)
        )
        return list(rows)


async def sweep(sessions: Sessions, clock: FrozenClock, batch: int = 500) -> escalation.SweepReport:
    return await escalation.sweep(sessions=sessions, clock=clock, deputy=DEPUTY, batch=batch)


async def test_life_threatening_at_three_in_the_morning_rings_at_once_then_climbs(
    sessions: Sessions, clock: FrozenClock, recorder: RecordingChannel
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    await add_shift(sessions, clock, sydney, NIGHT - timedelta(hours=4), name="Layla Haddad", phone="+61400000111")
    report_id = await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING)

    # Written due now, the link left for the dispatcher to sign: the outbox holds no way in.
    written = await outbox_rows(sessions)
    assert sorted(r.channel for r in written) == ["email", "sms", "voice"]
    assert all(
        r.due_at == clock.now() and r.recipient in {"+61400000111", "layla.haddad@mission.example"} for r in written
    )
    assert all("/e/" not in r.body for r in written)
    assert EMERGENCY_LINK in next(r for r in written if r.channel == "sms").body

    dispatcher = Dispatcher(sessions=sessions, clock=clock, channels=recorder.channels(), links=LINKS)
    sent = await dispatcher.run_once()
    assert sent.sent == 3 and sent.deferred == 0  # the call too, at 19:00 in Riyadh
    by_channel = {o.channel: o for o in recorder.sent}
    token = by_channel["sms"].body.split("/e/")[1].split()[0]
    assert LINKS.check_emergency_token(token) == (report_id, 1)
    assert f"/e/{token}" in by_channel["email"].body
    call = by_channel["voice"].body
    assert "E 2 6" in call and "أستراليا" in call and "/e/" not in call  # the officer speaks Arabic
    [alerted] = await events(sessions, report_id, ReportEventKind.ALERTED)
    assert alerted.params["told"] == [
        {"name": "Layla Haddad", "role": "duty_officer", "channels": ["sms", "voice", "email"]}
    ]
    assert alerted.params["nobody_on_duty"] is False

    clock.advance(timedelta(minutes=9, seconds=59))
    assert (await sweep(sessions, clock)).escalated == 0
    clock.advance(timedelta(seconds=1))  # ten minutes, not acknowledged
    assert (await sweep(sessions, clock)).escalated == 1
    found = await report(sessions, report_id)
    assert found.escalation_level == 1
    assert found.next_escalation_at == NIGHT + timedelta(minutes=20)
    [first] = await events(sessions, report_id, ReportEventKind.ESCALATED)
    assert first.params["rung"] == 1 and first.params["reason"] == timers.NOT_ACKNOWLEDGED
    assert first.params["told"][0]["role"] == "head_of_mission"
    head = await outbox_rows(sessions, OutboxMessage.recipient.in_(["+61200000001", "head.sydney@mission.example"]))
    assert sorted(r.channel for r in head) == ["email", "sms", "voice"]

    clock.advance(timedelta(minutes=10))  # twice the acknowledgement time
    assert (await sweep(sessions, clock)).escalated == 1
    found = await report(sessions, report_id)
    assert (found.escalation_level, found.next_escalation_at) == (2, None)
    deputy = await outbox_rows(sessions, OutboxMessage.recipient.in_([DEPUTY.phone, DEPUTY.email]))
    assert sorted(r.channel for r in deputy) == ["email", "sms", "voice"]

    # Past the top of the ladder nothing more is sent, however often the sweep runs.
    clock.advance(timedelta(days=2))
    assert (await sweep(sessions, clock)).escalated == 0
    assert len(await events(sessions, report_id, ReportEventKind.ESCALATED)) == 2
    recorder.sent.clear()
    assert (await dispatcher.run_once()).sent == 6
    assert all(o.channel != "voice" or o.payload.get("any_hour") for o in recorder.sent)


async def test_nobody_on_duty_tells_the_head_of_mission_and_says_so(sessions: Sessions, clock: FrozenClock) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.URGENT)
    [alerted] = await events(sessions, report_id, ReportEventKind.ALERTED)
    assert alerted.params["nobody_on_duty"] is True
    assert alerted.params["told"] == [
        {"name": "Head of sydney", "role": "head_of_mission", "channels": ["sms", "email"]}
    ]
    [mail] = await outbox_rows(sessions, OutboxMessage.channel == "email")
    assert mail.recipient == "head.sydney@mission.example"
    assert mail.body.startswith(say("ar", alerts.NOBODY_ON_DUTY_INTRO, mission="سفارة sydney"))


async def test_urgent_goes_by_sms_and_email_and_normal_by_email_in_the_officers_language(
    sessions: Sessions, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    await add_shift(sessions, clock, sydney, NIGHT - timedelta(hours=1), name="Sam Lee", languages=("en",))
    await add_report(sessions, clock, sydney, Severity.URGENT)
    await add_report(sessions, clock, sydney, Severity.NORMAL)
    rows = await outbox_rows(sessions)
    assert [(r.channel, r.language) for r in rows] == [("sms", "en"), ("email", "en"), ("email", "en")]
    urgent_mail = rows[1]
    # Times at the mission and in Riyadh side by side.
    assert "local time" in urgent_mail.body and "Riyadh time" in urgent_mail.body
    assert (
        "Wednesday 9 December 2026, 05:00 local time (Tuesday 8 December 2026, 21:00 Riyadh time)" in urgent_mail.body
    )


async def test_an_acknowledged_report_still_climbs_when_its_solution_is_overdue(
    sessions: Sessions, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING)
    clock.advance(timedelta(minutes=4))
    async with transaction(sessions) as session:
        await lifecycle.acknowledge(
            session=session, clock=clock, report_id=report_id, generation=1, by="Layla Haddad", actor_id=None
        )
    assert (await report(sessions, report_id)).next_escalation_at == NIGHT + timedelta(hours=24)
    clock.advance(timedelta(hours=12))
    assert (await sweep(sessions, clock)).escalated == 0
    clock.set(NIGHT + timedelta(hours=24))
    assert (await sweep(sessions, clock)).escalated == 1
    [event] = await events(sessions, report_id, ReportEventKind.ESCALATED)
    assert (event.params["rung"], event.params["reason"]) == (2, timers.SOLUTION_OVERDUE)
    assert (await report(sessions, report_id)).next_escalation_at is None


async def test_the_sweep_takes_batches_and_escalates_each_rung_once(sessions: Sessions, clock: FrozenClock) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney", head_phone="")
    ids = [await add_report(sessions, clock, sydney, Severity.URGENT, alert=False) for _ in range(12)]
    clock.advance(timedelta(hours=2))
    swept = await sweep(sessions, clock, batch=5)
    assert (swept.escalated, swept.rescheduled, swept.failed) == (12, 0, [])
    again = await sweep(sessions, clock, batch=5)
    assert again.escalated == 0
    async with sessions() as session:
        levels = list(
            await session.scalars(select(EmergencyReport.escalation_level).where(EmergencyReport.id.in_(ids)))
        )
    assert levels == [1] * 12
    # The head of mission has no phone here: e-mail only, and the event says so.
    assert len(await outbox_rows(sessions, OutboxMessage.recipient == "head.sydney@mission.example")) == 12
    assert len(await outbox_rows(sessions, OutboxMessage.channel == "sms")) == 0
    [event] = await events(sessions, ids[0], ReportEventKind.ESCALATED)
    assert event.params["told"][0]["channels"] == ["email"]


async def test_a_stale_moment_is_moved_not_escalated(sessions: Sessions, clock: FrozenClock) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.URGENT, alert=False)
    async with transaction(sessions) as session:
        found = await session.get(EmergencyReport, report_id)
        assert found is not None
        found.next_escalation_at = NIGHT  # written earlier by a version that counted otherwise
    swept = await sweep(sessions, clock)
    assert (swept.escalated, swept.rescheduled) == (0, 1)
    assert (await report(sessions, report_id)).next_escalation_at == NIGHT + timedelta(hours=2)


async def test_two_sweeps_at_once_escalate_each_report_once(sessions: Sessions, clock: FrozenClock) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    ids = [await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING, alert=False) for _ in range(12)]
    clock.advance(timedelta(minutes=10))
    reports = await asyncio.gather(*(sweep(sessions, clock, batch=5) for _ in range(2)))
    assert sum(r.escalated for r in reports) == len(ids)
    assert all(r.failed == [] for r in reports)
    async with sessions() as session:
        escalated = await session.scalar(
            select(func.count()).select_from(ReportEvent).where(ReportEvent.kind == ReportEventKind.ESCALATED)
        )
        calls = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "voice")
        )
    assert escalated == len(ids) and calls == len(ids)
    assert all(r.status is MessageStatus.PENDING for r in await outbox_rows(sessions))


async def test_the_sweep_runs_as_a_periodic_job(
    sessions: Sessions, clock: FrozenClock, database_url: str, recorder: RecordingChannel
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING, alert=False)
    clock.advance(timedelta(minutes=10))
    dispatcher = Dispatcher(sessions=sessions, clock=clock, channels=recorder.channels(), links=LINKS)
    runner = jobs.start(
        settings=make_settings(database_url, emergency_sweep_seconds=30),
        sessions=sessions,
        clock=clock,
        dispatcher=dispatcher,
    )
    try:
        job = runner.get_job("emergency_sweep")
        assert job is not None and job.trigger.interval == timedelta(seconds=30)
        await job.func()
    finally:
        runner.shutdown(wait=False)
    assert (await report(sessions, report_id)).escalation_level == 1
