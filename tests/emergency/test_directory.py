"""The missions directory on SQLite and PostgreSQL: missions with their own working week, the one central desk,
the rollout flag, coverage by country and city (one mission each), every refusal named and nothing half-saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from emergency import coverage, directory, weekly_hours
from emergency.coverage import CoverageInput
from emergency.directory import MissionInput
from emergency.models import Mission, MissionCoverage, MissionKind
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from worktime.models import WorkingCalendar, WorkingHours

Sessions = async_sessionmaker[AsyncSession]


def mission(code: str, **overrides: str) -> MissionInput:
    values = {
        "code": code,
        "kind": "embassy",
        "name_ar": f"سفارة {code}",
        "name_en": f"Embassy {code}",
        "country": "AU",
        "time_zone": "Australia/Sydney",
        "email": f"{code}@example.gov.sa",
        "head_name": "Head of mission",
        "head_email": f"head.{code}@example.gov.sa",
        "head_phone": "+61 412 345 678",
        "hours": "Mon-Fri 09:00-17:00",
        "calendar": "",
    }
    values.update(overrides)
    return MissionInput(**values)


async def add(sessions: Sessions, clock: FrozenClock, data: MissionInput, live: bool = False) -> Mission:
    async with transaction(sessions) as session:
        return await directory.add_mission(session=session, clock=clock, actor_id=None, data=data, live=live)


async def refused(sessions: Sessions, work: Callable[[AsyncSession], Awaitable[object]]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await work(session)
    return {e.field: e.code for e in caught.value.errors}


def test_weekly_hours_are_read_and_written_back() -> None:
    stretches, errors = weekly_hours.parse("Sun-Thu 08:00-15:00")
    assert not errors and sorted(int(s.weekday) for s in stretches) == [0, 1, 2, 3, 6]
    stretches, errors = weekly_hours.parse("Sat-Wed 8:00-12:00 13:00-16:30; Thu 09:00-11:00")
    assert not errors and len(stretches) == 11
    described = weekly_hours.describe([(int(s.weekday), s.opens, s.closes) for s in stretches])
    assert described == "Sat-Wed 08:00-12:00; Sat-Wed 13:00-16:30; Thu 09:00-11:00"
    for bad in ("", "Sunday", "Sun-Thu", "Xyz 08:00-15:00", "Sun-Thu 8-15"):
        assert weekly_hours.parse(bad)[1][0].code == "invalid_hours", bad


async def test_a_mission_gets_its_own_calendar_in_its_zone(sessions: Sessions, clock: FrozenClock) -> None:
    made = await add(sessions, clock, mission("au-canberra", hours="Mon-Fri 09:00-17:00"))
    assert not made.live and made.active and made.head_phone == "+61412345678"
    async with sessions() as session:
        calendar = await session.get(WorkingCalendar, made.calendar_id)
        assert calendar is not None and calendar.code == "mission-au-canberra"
        assert calendar.time_zone == "Australia/Sydney" and calendar.name_en == "Working hours of Embassy au-canberra"
        hours = list(await session.scalars(select(WorkingHours).where(WorkingHours.calendar_id == calendar.id)))
        assert sorted(h.weekday for h in hours) == [0, 1, 2, 3, 4]
        assert {(h.opens, h.closes) for h in hours} == {(time(9), time(17))}
        shown = await directory.view(session=session, code="au-canberra")
        assert shown.hours == "Mon-Fri 09:00-17:00"
    # A Gulf mission on an existing calendar of its zone; the week edited later becomes its own.
    riyadh = await add(
        sessions,
        clock,
        mission("sa-desk", kind="central_desk", country="SA", time_zone="Asia/Riyadh", hours="", calendar="government"),
    )
    assert riyadh.live  # the central desk is always on the line
    async with transaction(sessions) as session:
        await directory.update_mission(
            session=session,
            clock=clock,
            actor_id=None,
            code="au-canberra",
            data=mission("au-canberra", hours="Sun-Thu 08:00-15:00", time_zone="Australia/Perth"),
        )
    async with sessions() as session:
        shown = await directory.view(session=session, code="au-canberra")
        assert shown.hours == "Sun-Thu 08:00-15:00" and shown.calendar.time_zone == "Australia/Perth"
        assert shown.mission.time_zone == "Australia/Perth"
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions.count("emergency.mission.add") == 2 and "emergency.mission.update" in actions
    assert "worktime.calendar.add" in actions and "worktime.calendar.update" in actions


async def test_bad_missions_are_refused_with_every_field_named(sessions: Sessions, clock: FrozenClock) -> None:
    bad = mission(
        "X!",
        kind="palace",
        country="XX",
        time_zone="Mars/Olympus",
        email="nobody",
        head_phone="0412345678",
        hours="whenever",
    )
    errors = await refused(sessions, lambda s: directory.add_mission(session=s, clock=clock, actor_id=None, data=bad))
    assert errors == {
        "code": "invalid",
        "kind": "invalid_choice",
        "country": "unknown_country",
        "time_zone": "unknown_zone",
        "email": "invalid_email",
        "head_phone": "invalid_phone",
        "hours": "invalid_hours",
    }
    both = mission("ae-abudhabi", country="AE", time_zone="Asia/Dubai", calendar="government")
    errors = await refused(sessions, lambda s: directory.add_mission(session=s, clock=clock, actor_id=None, data=both))
    assert errors == {"calendar": "both"}
    # The government's calendar keeps Riyadh's time, not Dubai's.
    other_zone = mission("ae-abudhabi", country="AE", time_zone="Asia/Dubai", hours="", calendar="government")
    errors = await refused(
        sessions, lambda s: directory.add_mission(session=s, clock=clock, actor_id=None, data=other_zone)
    )
    assert errors == {"calendar": "other_zone"}
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Mission)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert await session.scalar(select(WorkingCalendar.id).where(WorkingCalendar.code.like("mission-%"))) is None


async def test_exactly_one_active_central_desk(sessions: Sessions, clock: FrozenClock) -> None:
    desk = mission("desk", kind="central_desk", country="SA", time_zone="Asia/Riyadh", hours="Sun-Thu 08:00-15:00")
    await add(sessions, clock, desk)
    second = mission("desk-two", kind="central_desk", country="SA", time_zone="Asia/Riyadh")
    errors = await refused(
        sessions, lambda s: directory.add_mission(session=s, clock=clock, actor_id=None, data=second)
    )
    assert errors == {"kind": "central_desk_taken"}
    assert await refused(
        sessions, lambda s: directory.set_active(session=s, clock=clock, actor_id=None, code="desk", active=False)
    ) == {"active": "last_central_desk"}
    assert await refused(
        sessions, lambda s: directory.set_live(session=s, clock=clock, actor_id=None, code="desk", live=False)
    ) == {"live": "central_desk_live"}
    as_embassy = mission("desk", kind="embassy", country="SA", time_zone="Asia/Riyadh")
    assert await refused(
        sessions,
        lambda s: directory.update_mission(session=s, clock=clock, actor_id=None, code="desk", data=as_embassy),
    ) == {"kind": "last_central_desk"}


async def test_the_rollout_flag_and_coverage_one_mission_per_place(sessions: Sessions, clock: FrozenClock) -> None:
    canberra = await add(sessions, clock, mission("au-canberra"))
    await add(sessions, clock, mission("au-sydney", kind="consulate"))
    async with transaction(sessions) as session:
        live = await directory.set_live(session=session, clock=clock, actor_id=None, code="au-canberra", live=True)
        assert live.live
        whole = await coverage.add_coverage(
            session=session, clock=clock, actor_id=None, mission_code="au-canberra", data=CoverageInput("au")
        )
        city = await coverage.add_coverage(
            session=session,
            clock=clock,
            actor_id=None,
            mission_code="au-sydney",
            data=CoverageInput("AU", city_ar="سيدني", city_en="  Sydney "),
        )
    assert whole.country == "AU" and whole.city_key == ""
    assert city.city_en == "Sydney" and city.city_key != ""

    def adding(code: str, data: CoverageInput) -> Callable[[AsyncSession], Awaitable[object]]:
        return lambda s: coverage.add_coverage(session=s, clock=clock, actor_id=None, mission_code=code, data=data)

    # The whole country again, Sydney spelt another way, and Sydney by its Arabic name alone.
    for code, data, field in (
        ("au-sydney", CoverageInput("AU"), "country"),
        ("au-canberra", CoverageInput("AU", city_en="SYDNEY"), "city_en"),
        ("au-canberra", CoverageInput("AU", city_ar="سيدنى"), "city_ar"),
    ):
        with pytest.raises(InvalidInput) as caught:
            async with transaction(sessions) as session:
                await adding(code, data)(session)
        [error] = caught.value.errors
        assert (error.field, error.code) == (field, "already_covered")
        holder = "au-canberra" if field == "country" else "au-sydney"
        assert error.params["mission"].startswith(holder)
    assert await refused(sessions, adding("au-canberra", CoverageInput("Narnia"))) == {"country": "unknown_country"}
    # A mission that still covers places is not deactivated; once they are given away it is, and off the line.
    assert await refused(
        sessions,
        lambda s: directory.set_active(session=s, clock=clock, actor_id=None, code="au-canberra", active=False),
    ) == {"active": "still_covers"}
    async with transaction(sessions) as session:
        await coverage.remove_coverage(
            session=session, clock=clock, actor_id=None, mission_code="au-canberra", coverage_id=whole.id
        )
        gone = await directory.set_active(session=session, clock=clock, actor_id=None, code="au-canberra", active=False)
        assert not gone.active and not gone.live
    with pytest.raises(coverage.CoverageNotFound):
        async with transaction(sessions) as session:
            await coverage.remove_coverage(
                session=session, clock=clock, actor_id=None, mission_code="au-canberra", coverage_id=city.id
            )
    async with sessions() as session:
        rows = await coverage.coverage(session=session)
        assert [(r.mission.code, r.coverage.city_en) for r in rows] == [("au-sydney", "Sydney")]
        assert coverage.place_name(rows[0].coverage, "en") == "Australia — Sydney"
        assert coverage.place_name(rows[0].coverage, "ar") == "أستراليا — سيدني"
        assert await session.scalar(select(func.count()).select_from(MissionCoverage)) == 1
        kinds = {m.code: m.kind for m in await directory.missions(session=session)}
    assert kinds == {"au-canberra": MissionKind.EMBASSY, "au-sydney": MissionKind.CONSULATE}
    assert canberra.id
