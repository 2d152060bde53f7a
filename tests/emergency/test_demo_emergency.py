"""The demo's emergency line on SQLite and PostgreSQL, loaded with the whole demo as `majlis demo` does: the
missions and their weeks, rosters without a gap for the week ahead (across Sydney's change of clocks too), the
three accounts, four reports in their states in this month's report; a second load adds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from accounts import service as accounts
from emergency import roster, timers
from emergency.models import (
    DutyShift,
    EmergencyReport,
    Mission,
    MissionCoverage,
    ReportEvent,
    ReportEventKind,
    ReportState,
)
from emergency.monthly import monthly_report
from followup.periods import gregorian_month
from majlis import demo_emergency
from majlis.clock import RIYADH, FrozenClock
from tests.emergency.month_arrange import Sessions
from tests.majlis.test_demo import load
from worktime import service as worktime
from worktime.clock import is_working


async def test_the_demo_line_is_made_once(sessions: Sessions, clock: FrozenClock) -> None:
    # Friday 2 October 2026, 09:00 in Riyadh; Sydney moves its clocks forward on Sunday 4 October.
    clock.set(datetime(2026, 10, 2, 9, 0, tzinfo=RIYADH))
    loaded = await load(sessions, clock)
    shown = loaded.emergency
    assert shown is not None and set(shown.numbers) == {"life", "urgent", "solved", "desk"} and shown.month == "2026-10"
    assert {"agent", "mission", "consular"} <= {s.username for s in loaded.staff}

    async with sessions() as session:
        missions = {m.code: m for m in await session.scalars(select(Mission))}
        assert len(missions) == 11
        assert {c for c, m in missions.items() if not m.live} == {"gb-london", "eg-cairo"}
        covered = {(c.country, c.city_key) for c in await session.scalars(select(MissionCoverage))}
        assert {("AE", ""), ("AE", "dubai"), ("AU", ""), ("AU", "sydney"), ("GB", ""), ("KW", "")} <= covered
        # Each country's weekend: Friday is a working morning in the UAE, a day off in Kuwait; Sunday the reverse.
        calendars = await worktime.load(session=session, calendar_ids={m.calendar_id for m in missions.values()})
        friday_morning = datetime(2026, 10, 2, 10, 0)
        sunday_morning = datetime(2026, 10, 4, 10, 0)
        for code, friday, sunday in (
            ("ae-abu-dhabi", True, False),
            ("kw-kuwait", False, True),
            ("om-muscat", False, True),
        ):
            zone = calendars[missions[code].calendar_id].zone
            assert is_working(calendars[missions[code].calendar_id], friday_morning.replace(tzinfo=zone)) is friday
            assert is_working(calendars[missions[code].calendar_id], sunday_morning.replace(tzinfo=zone)) is sunday
        # Every live mission has someone on duty from now to a week ahead; those not live have no roster.
        for mission in missions.values():
            gaps = await roster.gaps(session, mission.id, clock.now(), clock.now() + timedelta(days=7))
            shifts = await session.scalar(select(func.count()).where(DutyShift.mission_id == mission.id))
            assert (gaps, bool(shifts)) == (
                ([], True) if mission.live else ([(clock.now(), clock.now() + timedelta(days=7))], False)
            ), mission.code
        staff = await accounts.user_by_username(session=session, username="mission")
        assert staff is not None and staff.mission_id == missions["ae-abu-dhabi"].id

        reports = {r.number: r for r in await session.scalars(select(EmergencyReport))}
        states = {key: reports[number] for key, number in shown.numbers.items()}
        life = states["life"]
        assert life.state is ReportState.ACKNOWLEDGED and life.acknowledged_at is not None
        assert life.acknowledged_at <= life.acknowledge_due_at
        assert states["urgent"].state is ReportState.OPEN and states["urgent"].acknowledge_due_at < clock.now()
        assert states["urgent"].escalation_level == 1 and states["urgent"].mission_id == missions["au-sydney"].id
        assert states["solved"].state is ReportState.SOLVED
        # The duty officer who acknowledged a report is named on its steps; Majlis's own steps carry no name.
        steps = list(await session.scalars(select(ReportEvent).where(ReportEvent.report_id == life.id)))
        named = {e.kind: e.by for e in steps if e.kind is not ReportEventKind.REGISTERED}
        assert named[ReportEventKind.ACKNOWLEDGED] == life.acknowledged_by != ""
        assert all(by == "" for kind, by in named.items() if kind is ReportEventKind.ESCALATED)
        desk = states["desk"]
        assert (desk.mission_id, desk.covering_mission_id) == (missions["central-desk"].id, missions["gb-london"].id)

        october = await monthly_report(session=session, clock=clock, period=gregorian_month(2026, 10))
    # The solved report was made three days before, in September; the others in October, one escalated, all three open.
    overall = october.overall.figures
    assert (overall.received, overall.acknowledged_in_time, overall.escalations, overall.open_at_end) == (3, 1, 1, 3)
    # Recorded as the sweep records a step: the monthly report finds the head of mission's rung.
    assert overall.escalations_by_level == {1: 1}
    # And the urgent report's next step is the deputy's, one acknowledgement time after its deadline.
    deputy = timers.next_rung(states["urgent"], None, timers.DEFAULT_LEVELS)
    assert deputy is not None and states["urgent"].next_escalation_at == deputy.at

    again = await load(sessions, clock)
    assert again.emergency == shown
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Mission)) == 11
        assert await session.scalar(select(func.count()).select_from(EmergencyReport)) == 4
    assert demo_emergency.STAFF_MISSION == "ae-abu-dhabi"
