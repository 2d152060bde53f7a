"""Alerts and the ladder with a frozen clock: a life-threatening report at 03:00 in Sydney rings the duty officer
at once (SMS, a call and e-mail through the real dispatcher, whatever the hour in Riyadh), climbs to the head
of mission after ten minutes unacknowledged and to the consular deputy after twenty, who is told again when
its solution is overdue and every day until it is solved; urgent and normal reports
reach people as their severity says; the sweep works in batches, escalates each rung once however often it
runs, and two sweeps at once do not escalate a report twice."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from emergency import alerts, escalation, lifecycle, timers, wording
from emergency.models import EmergencyReport, ReportEvent, ReportEventKind, Severity
from majlis import jobs
from majlis.clock import FrozenClock
from majlis.db import transaction
from notify.models import MessageStatus, OutboxMessage
from notify.outbox import EMERGENCY_LINK, Dispatcher
from notify.texts import say
from tests.conftest import RecordingChannel, make_settings
from tests.emergency.levels_arrange import DEPUTY, LEVELS, LINKS, add_mission, add_report, add_shift, report

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

    clock.advance(timedelta(minutes=10))  # one acknowledgement time after its deadline
    assert (await sweep(sessions, clock)).escalated == 1
    found = await report(sessions, report_id)
    # The deputy has it; the next step owed is the solution, by its deadline: the sweep still has a moment.
    assert (found.escalation_level, found.next_escalation_at) == (2, NIGHT + timedelta(hours=24))
    deputy = await outbox_rows(sessions, OutboxMessage.recipient.in_([DEPUTY.phone, DEPUTY.email]))
    assert sorted(r.channel for r in deputy) == ["email", "sms", "voice"]

    # "Until solved": at the solution deadline the deputy is told it is overdue, then reminded every day.
    clock.set(NIGHT + timedelta(hours=23, minutes=59))
    assert (await sweep(sessions, clock)).escalated == 0
    clock.set(NIGHT + timedelta(hours=24))
    assert (await sweep(sessions, clock)).escalated == 1
    found = await report(sessions, report_id)
    assert (found.escalation_level, found.next_escalation_at) == (3, NIGHT + timedelta(hours=48))
    clock.set(NIGHT + timedelta(hours=48))
    assert (await sweep(sessions, clock)).escalated == 1
    found = await report(sessions, report_id)
    assert (found.escalation_level, found.next_escalation_at) == (4, NIGHT + timedelta(hours=72))
    steps = await events(sessions, report_id, ReportEventKind.ESCALATED)
    assert [(e.params["rung"], e.params["step"], e.params["reason"], e.params.get("reminder")) for e in steps] == [
        (1, 1, timers.NOT_ACKNOWLEDGED, None),
        (2, 2, timers.NOT_ACKNOWLEDGED, None),
        (2, 3, timers.SOLUTION_OVERDUE, None),
        (2, 4, timers.SOLUTION_OVERDUE, True),
    ]
    deputy_sms = [
        r.body
        for r in await outbox_rows(sessions, OutboxMessage.recipient == DEPUTY.phone, OutboxMessage.channel == "sms")
    ]
    # The first tells of the escalation, the next two that the report is still open, and why.
    still_open = say("ar", alerts.REMINDER_SMS, severity="", number="", type="", place="", why="", link="")[:12]
    assert [body.startswith(still_open) for body in deputy_sms] == [False, True, True]
    assert say("ar", alerts.NOT_ACKNOWLEDGED) in deputy_sms[0] and say("ar", alerts.NOT_SOLVED) in deputy_sms[1]
    assert say("ar", alerts.STILL_NOT_SOLVED, due="") in deputy_sms[2]
    assert all(
        "\u2066" not in r.body and "\u2068" not in r.body
        for r in await outbox_rows(sessions, OutboxMessage.channel == "voice")
    )

    # Solved: nothing more, however often the sweep runs.
    async with transaction(sessions) as session:
        await lifecycle.solve(
            session=session,
            clock=clock,
            report_id=report_id,
            outcome="Found safe and back at the hotel.",
            handed_over=False,
            by="Layla Haddad",
            actor_id=None,
            status_url="https://majlis.example.sa/emergency/status",
        )
    assert (await report(sessions, report_id)).next_escalation_at is None
    clock.advance(timedelta(days=5))
    assert (await sweep(sessions, clock)).escalated == 0
    assert len(await events(sessions, report_id, ReportEventKind.ESCALATED)) == 4
    recorder.sent.clear()
    assert (await dispatcher.run_once()).sent == 3 + 3 * 3 + 1  # the head, the deputy three times, the citizen
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
    # Not solved: the deputy is reminded a day later.
    assert (await report(sessions, report_id)).next_escalation_at == NIGHT + timedelta(hours=48)


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


async def test_the_sweep_runs_as_a_periodic_job(sessions: Sessions, clock: FrozenClock, database_url: str) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.LIFE_THREATENING, alert=False)
    clock.advance(timedelta(minutes=10))
    runner = jobs.start(
        settings=make_settings(database_url, emergency_sweep_seconds=30), sessions=sessions, clock=clock
    )
    try:
        job = runner.get_job("emergency_sweep")
        assert job is not None and job.trigger.interval == timedelta(seconds=30)
        await job.func()
    finally:
        runner.shutdown(wait=False)
    assert (await report(sessions, report_id)).escalation_level == 1


async def test_after_a_reassignment_the_ladder_counts_from_the_new_deadline(
    sessions: Sessions, clock: FrozenClock
) -> None:
    # Registered at 10:00 in Abu Dhabi, sent to Sydney at 15:00 (Riyadh's clock, the moments are what count).
    morning = datetime(2026, 12, 9, 10, 0, tzinfo=ZoneInfo("Asia/Riyadh"))
    clock.set(morning)
    abudhabi = await add_mission(sessions, "abudhabi")
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, abudhabi, Severity.LIFE_THREATENING, alert=False)
    clock.set(morning + timedelta(hours=5))
    async with transaction(sessions) as session:
        await lifecycle.reassign(
            session=session,
            clock=clock,
            report_id=report_id,
            mission_id=sydney,
            reason="The citizen is in Sydney.",
            actor_id=None,
            levels=LEVELS,
            links=LINKS,
        )
    clock.set(morning + timedelta(hours=5, minutes=10))
    assert (await sweep(sessions, clock)).escalated == 1
    found = await report(sessions, report_id)
    # The head of mission at 15:10, the deputy at 15:20: not twice the time since registration (20:20).
    assert (found.escalation_level, found.next_escalation_at) == (1, morning + timedelta(hours=5, minutes=20))
    clock.set(morning + timedelta(hours=5, minutes=20))
    assert (await sweep(sessions, clock)).escalated == 1
    assert (await report(sessions, report_id)).escalation_level == 2


async def test_the_sweep_counts_the_deputys_rung_with_the_levels_in_force(
    sessions: Sessions, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    report_id = await add_report(sessions, clock, sydney, Severity.URGENT, alert=False)
    clock.advance(timedelta(hours=2))
    levels = dataclasses.replace(LEVELS, urgent_ack_minutes=30)
    assert (await escalation.sweep(sessions=sessions, clock=clock, deputy=DEPUTY, levels=levels)).escalated == 1
    # Thirty minutes after the acknowledgement deadline, as the settings in force say (not the default two hours).
    assert (await report(sessions, report_id)).next_escalation_at == NIGHT + timedelta(hours=2, minutes=30)


async def test_the_alerts_numbers_phones_places_and_moments_are_isolated_in_arabic(
    sessions: Sessions, clock: FrozenClock
) -> None:
    clock.set(NIGHT)
    sydney = await add_mission(sessions, "sydney")
    await add_shift(sessions, clock, sydney, NIGHT - timedelta(hours=1), name="Layla Haddad")
    await add_report(sessions, clock, sydney, Severity.URGENT)
    [mail] = await outbox_rows(sessions, OutboxMessage.channel == "email")
    assert mail.language == "ar"
    assert "\u2066+61412345678\u2069" in mail.body and "\u2068Citizen\u2069" in mail.body
    # The moments too (here the registration), and the place.
    registered = wording.at_mission_and_riyadh(NIGHT, "Australia/Sydney", "ar")
    assert f"\u2068{registered}\u2069" in mail.body
    assert f"\u2068{wording.place('Sydney', 'AU', 'ar')}\u2069" in mail.body
