"""The day's report on SQLite and PostgreSQL: time per audience against the 6 minutes, and the day's counts.

Sunday 29 November: five in-person appointments (slots 10:00, 10:08, 10:16, 10:24, 10:32) and one video audience.
- hall 0: arrives 09:40, called 10:00, outcome 10:05 → 5 minutes, waited 20;
- hall 1: arrives 09:50, called 10:05, outcome 10:13 → 8 minutes, waited 15;
- hall 2: arrives late 10:40 (slot 10:16), called 10:42, the next press ends it at 10:48 without an outcome → 6 minutes,
  waited 2;
- hall 3: cancelled on Thursday (released); hall 4: never comes (no-show after the sweep);
- video (the women's room sits 12:00–13:00): checked in by the room at 11:50, the call 12:20–12:27 → 7 minutes,
  waited 30, no outcome yet.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from audience_day.report import REFERENCE_MINUTES, DayReport, day_report, text_lines
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler import calendar
from scheduler.models import AudienceMode
from tests.audience_day.arrange import at, booked_day, call, cancel, check_in, official, phone, record, sweep
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_changes import national_id
from tests.scheduler.test_runs import run
from video import service as video

Sessions = async_sessionmaker[AsyncSession]
SUNDAY = at(29, 10).date()


async def arranged_day(sessions: Sessions, clock: FrozenClock) -> None:
    """The day in the module's docstring, played on the clock."""
    day = await booked_day(sessions, clock, 5)
    room = await add_room(sessions, clock, name="غرفة الاتصال المرئي ١", kind="women_video")
    await add(sessions, clock, template((room.id,), starts="12:00", ends="13:00", slot_minutes="10", mode="video"))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=1)
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor2")).id
    number = await new_case(sessions, clock, applicant_national_id=national_id(40), applicant_phone=phone(40))
    await ready(sessions, clock, auditor, number, route="audience_video")
    assert (await run(sessions, clock)).placed == 1
    actor = await official(sessions, clock)
    women = (await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")).id

    clock.set(at(26, 10))
    await cancel(sessions, clock, day[3].appointment_id)
    clock.set(at(29, 9, 40))
    await check_in(sessions, clock, day[0].appointment_id)
    clock.set(at(29, 9, 50))
    await check_in(sessions, clock, day[1].appointment_id)

    session_id = day[0].session_id
    clock.set(at(29, 10))
    first = await call(sessions, clock, session_id, None, actor)
    assert first.current is not None and first.current.appointment_id == day[0].appointment_id
    clock.set(at(29, 10, 5))
    await record(sessions, clock, first.current.id, actor)
    second = await call(sessions, clock, session_id, None, actor)
    assert second.current is not None and second.current.appointment_id == day[1].appointment_id
    clock.set(at(29, 10, 13))
    await record(sessions, clock, second.current.id, actor)
    assert (await call(sessions, clock, session_id, None, actor)).current is None

    clock.set(at(29, 10, 40))
    late = await check_in(sessions, clock, day[2].appointment_id)
    assert late.late
    clock.set(at(29, 10, 42))
    third = await call(sessions, clock, session_id, None, actor)
    assert third.current is not None and third.current.appointment_id == day[2].appointment_id
    clock.set(at(29, 10, 48))
    assert (await call(sessions, clock, session_id, third.current.id, actor)).current is None

    clock.set(at(29, 11, 50))
    async with transaction(sessions) as session:
        [item] = await video.video_audiences_today(session=session, clock=clock)
        assert item.video is not None
        audience_id = item.video.id
        await video.check_in(session=session, clock=clock, audience_id=audience_id, actor_id=women)
    clock.set(at(29, 12, 20))
    async with transaction(sessions) as session:
        await video.mark_started(session=session, clock=clock, audience_id=audience_id)
    clock.set(at(29, 12, 27))
    async with transaction(sessions) as session:
        await video.mark_ended(
            session=session, clock=clock, audience_id=audience_id, by="official", reason="", connected_seconds=420
        )

    clock.set(at(29, 13, 30))
    report = await sweep(sessions, clock)
    assert report.no_shows == 1


def check_figures(report: DayReport) -> None:
    assert report.day == SUNDAY
    timed = [(a.mode, round(a.minutes, 6), a.queue_number) for a in report.audiences]
    assert timed == [
        (AudienceMode.IN_PERSON, 5.0, 1),
        (AudienceMode.IN_PERSON, 8.0, 2),
        (AudienceMode.IN_PERSON, 6.0, 3),
        # Queue numbers count in each session: the video room's own line starts at 1.
        (AudienceMode.VIDEO, 7.0, 1),
    ]
    assert report.reference_minutes == REFERENCE_MINUTES == 6.0
    assert (report.mean_minutes, report.median_minutes, report.over_reference) == (6.5, 6.5, 2)
    assert (report.appointments, report.arrived, report.on_time, report.late) == (6, 4, 3, 1)
    assert (report.held, report.no_shows, report.released, report.in_audience) == (2, 1, 1, 2)
    assert sorted(round(w, 6) for w in report.waits) == [2.0, 15.0, 20.0, 30.0]
    assert report.mean_wait_minutes == 16.75


async def test_the_days_report_times_each_audience_against_six_minutes(
    sessions: Sessions, clock: FrozenClock, database_url: str
) -> None:
    await arranged_day(sessions, clock)
    async with sessions() as session:
        report = await day_report(session=session, day=SUNDAY)
        empty = await day_report(session=session, day=SUNDAY + timedelta(days=1))
    check_figures(report)
    assert (empty.audiences, empty.appointments, empty.mean_minutes, empty.mean_wait_minutes) == ([], 0, None, None)
    lines = text_lines(report)
    assert "appointments 6; arrived 4 (on time 3, late 1); held 2; no-shows 1; released 1" in lines[1]
    assert "mean 6.5 min, median 6.5 min, against the reference 6 min" in lines[2] and "2 over it" in lines[2]
    assert lines[3] == "mean wait from arrival to call 16.8 min"
    assert lines[4].startswith("  10:00-10:05    5.0 min")

    # The command line prints the same figures from the same database.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAJLIS_")}
    env["MAJLIS_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "majlis.cli",
        "day-report",
        "--day",
        "2026-11-29",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == lines
    bad = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "majlis.cli", "day-report", "--day", "29/11/2026", env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await bad.communicate()
    assert bad.returncode == 2 and "YYYY-MM-DD" in err.decode()
