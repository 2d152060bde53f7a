"""The duty roster on SQLite and PostgreSQL: shifts typed in the mission's local time, who is on duty across
Sydney's daylight-saving change, gaps, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from emergency import directory, roster, roster_gaps
from emergency.models import DutyShift, Mission, MissionKind, RosterGap
from emergency.roster import ShiftInput, ShiftNotFound
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from worktime import editing

Sessions = async_sessionmaker[AsyncSession]
SYDNEY = ZoneInfo("Australia/Sydney")


async def sydney_mission(sessions: Sessions, code: str = "au-sydney") -> int:
    async with transaction(sessions) as session:
        calendar = await editing.calendar_by_code(session=session, code="government")
        mission = Mission(
            code=code,
            kind=MissionKind.CONSULATE,
            name_ar="القنصلية في سيدني",
            name_en="Consulate in Sydney",
            country="AU",
            time_zone="Australia/Sydney",
            calendar_id=calendar.id,
            email="sydney@example.gov.sa",
            head_name="Head",
            head_email="head@example.gov.sa",
            head_phone="+61412345678",
            live=True,
            active=True,
        )
        session.add(mission)
        await session.flush()
        return mission.id


def shift(starts: str, ends: str, name: str = "Officer Salem", **overrides: object) -> ShiftInput:
    values: dict[str, object] = {
        "starts": starts,
        "ends": ends,
        "officer_name": name,
        "phone": "+61 412 345 678",
        "email": "duty@example.gov.sa",
        "languages": ["ar", "en"],
    }
    values.update(overrides)
    return ShiftInput(**values)  # type: ignore[arg-type]


async def add(sessions: Sessions, clock: FrozenClock, mission_id: int, data: ShiftInput) -> DutyShift:
    async with transaction(sessions) as session:
        return await roster.add_shift(session=session, clock=clock, actor_id=None, mission_id=mission_id, data=data)


async def refused(sessions: Sessions, clock: FrozenClock, mission_id: int, data: ShiftInput) -> dict[str, str]:
    with pytest.raises(InvalidInput) as caught:
        await add(sessions, clock, mission_id, data)
    return {e.field: e.code for e in caught.value.errors}


def at_sydney(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SYDNEY)


async def test_on_duty_across_the_clocks_going_forward_in_sydney(sessions: Sessions, clock: FrozenClock) -> None:
    mission = await sydney_mission(sessions)
    clock.set(datetime(2026, 10, 1, tzinfo=UTC))
    # The night of 3–4 October 2026: at 02:00 the clocks jump to 03:00 (AEST +10 to AEDT +11).
    night = await add(sessions, clock, mission, shift("2026-10-03 20:00", "2026-10-04 08:00", "Night officer"))
    day = await add(sessions, clock, mission, shift("2026-10-04T08:00", "2026-10-04T20:00", "Day officer"))
    assert night.starts_at == datetime(2026, 10, 3, 10, 0, tzinfo=UTC)
    assert night.ends_at == datetime(2026, 10, 3, 21, 0, tzinfo=UTC)
    # Eleven hours by the clock on the wall that shows twelve.
    assert night.ends_at - night.starts_at == timedelta(hours=11)
    assert day.starts_at == night.ends_at
    async with sessions() as session:
        for local, expected in (
            ("2026-10-03 19:59", None),
            ("2026-10-03 20:00", "Night officer"),
            ("2026-10-04 01:59", "Night officer"),
            ("2026-10-04 03:00", "Night officer"),
            ("2026-10-04 07:59", "Night officer"),
            ("2026-10-04 08:00", "Day officer"),
            ("2026-10-04 19:59", "Day officer"),
            ("2026-10-04 20:00", None),
        ):
            found = await roster.on_duty(session, mission, at_sydney(local))
            assert (found.officer_name if found else None) == expected, local
        # 02:30 that night never shows on a Sydney clock.
        assert await roster.gaps(session, mission, at_sydney("2026-10-03 12:00"), at_sydney("2026-10-05 00:00")) == [
            (at_sydney("2026-10-03 12:00"), at_sydney("2026-10-03 20:00")),
            (at_sydney("2026-10-04 20:00"), at_sydney("2026-10-05 00:00")),
        ]
    skipped = await refused(sessions, clock, mission, shift("2026-10-04 02:30", "2026-10-04 09:00"))
    assert skipped == {"starts": "skipped_time"}


async def test_on_duty_across_the_clocks_going_back_and_overlapping_hand_overs(
    sessions: Sessions, clock: FrozenClock
) -> None:
    mission = await sydney_mission(sessions)
    clock.set(datetime(2026, 4, 1, tzinfo=UTC))
    # 5 April 2026: at 03:00 the clocks go back to 02:00, so this night lasts thirteen hours.
    night = await add(sessions, clock, mission, shift("2026-04-04 20:00", "2026-04-05 08:00", "Night officer"))
    assert night.ends_at - night.starts_at == timedelta(hours=13)
    # The morning officer comes in half an hour early: from 07:30 on, they are the one on duty.
    await add(sessions, clock, mission, shift("2026-04-05 07:30", "2026-04-05 16:00", "Morning officer"))
    async with sessions() as session:
        second_two_thirty = datetime(2026, 4, 4, 16, 30, tzinfo=UTC)  # 02:30 AEST, the second time round
        assert second_two_thirty.astimezone(SYDNEY).strftime("%H:%M") == "02:30"
        found = await roster.on_duty(session, mission, second_two_thirty)
        assert found is not None and found.officer_name == "Night officer"
        found = await roster.on_duty(session, mission, at_sydney("2026-04-05 07:45"))
        assert found is not None and found.officer_name == "Morning officer"
        every = await roster.on_duty_at_missions(
            session=session, mission_ids=[mission], at=at_sydney("2026-04-05 07:45")
        )
        assert every[mission].officer_name == "Morning officer"
        assert await roster.on_duty(session, mission, at_sydney("2026-04-05 16:00")) is None


async def test_bad_shifts_are_refused_and_nothing_is_saved(sessions: Sessions, clock: FrozenClock) -> None:
    mission = await sydney_mission(sessions)
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    assert await refused(sessions, clock, mission, shift("2026-12-05 20:00", "2026-12-05 08:00")) == {
        "ends": "before_start"
    }
    assert await refused(
        sessions, clock, mission, shift("2026-12-05 08:00", "2026-12-05 20:00", phone="0412 345 678")
    ) == {"phone": "invalid_phone"}
    assert await refused(
        sessions, clock, mission, shift("2026-12-05 08:00", "2026-12-05 20:00", phone="+61 2 9999 9999")
    ) == {"phone": "invalid_phone"}
    assert await refused(
        sessions,
        clock,
        mission,
        shift("yesterday", "2026-12-05 20:00", " ", email="nobody", languages=["klingon"]),
    ) == {
        "starts": "invalid_datetime",
        "officer_name": "missing",
        "email": "invalid_email",
        "languages": "unknown_language",
    }
    assert await refused(sessions, clock, mission, shift("2026-11-20 08:00", "2026-11-20 20:00")) == {"ends": "past"}
    assert await refused(sessions, clock, mission, shift("2026-12-05 08:00", "2026-12-25 20:00")) == {
        "ends": "too_long"
    }
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DutyShift)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0


async def test_a_shift_is_removed_only_from_its_own_mission(sessions: Sessions, clock: FrozenClock) -> None:
    sydney = await sydney_mission(sessions)
    canberra = await sydney_mission(sessions, "au-canberra")
    clock.set(datetime(2026, 12, 1, tzinfo=UTC))
    made = await add(sessions, clock, sydney, shift("2026-12-05 08:00", "2026-12-05 20:00", phone="+1 202 555 0123"))
    assert made.phone == "+12025550123" and made.languages == ["ar", "en"]
    with pytest.raises(ShiftNotFound):
        async with transaction(sessions) as session:
            await roster.remove_shift(
                session=session, clock=clock, actor_id=None, mission_id=canberra, shift_id=made.id
            )
    async with transaction(sessions) as session:
        await roster.remove_shift(session=session, clock=clock, actor_id=None, mission_id=sydney, shift_id=made.id)
    async with sessions() as session:
        assert await session.get(DutyShift, made.id) is None
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["emergency.shift.add", "emergency.shift.remove"]


async def flag(sessions: Sessions, clock: FrozenClock) -> roster_gaps.GapReport:
    async with transaction(sessions) as session:
        return await roster_gaps.flag_gaps(
            session=session,
            clock=clock,
            lookahead=timedelta(hours=72),
            to="consular.deputy@example.gov.sa",
            mission_url="https://majlis.example/emergency/missions",
        )


async def told(sessions: Sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_gap_is_flagged_to_the_supervisors_before_it_starts_and_once(
    sessions: Sessions, clock: FrozenClock
) -> None:
    mission = await sydney_mission(sessions)
    await sydney_mission(sessions, "au-perth")  # not live: its roster is nobody's concern yet
    async with transaction(sessions) as session:
        perth = await session.scalar(select(Mission).where(Mission.code == "au-perth"))
        assert perth is not None
        perth.live = False
    clock.set(at_sydney("2026-12-01 06:00"))
    await add(sessions, clock, mission, shift("2026-12-01 06:00", "2026-12-01 18:00", "Day officer"))
    await add(sessions, clock, mission, shift("2026-12-01 22:00", "2026-12-07 06:00", "Long officer"))
    report = await flag(sessions, clock)
    assert (report.flagged, report.resolved, report.failed) == (1, 0, [])
    [message] = await told(sessions)
    assert message.channel == "email" and message.recipient == "consular.deputy@example.gov.sa"
    assert message.language == "ar" and "القنصلية في سيدني" in message.payload["subject"]
    # 18:00–22:00 in Sydney (AEDT, +11) is 10:00–14:00 in Riyadh.
    for text in ("2026-12-01 18:00", "2026-12-01 22:00", "2026-12-01 10:00", "2026-12-01 14:00"):
        assert text in message.body
    assert "https://majlis.example/emergency/missions/au-sydney" in message.body
    async with sessions() as session:
        [gap] = await roster.open_gaps(session=session)
    assert (gap.starts_at, gap.ends_at) == (at_sydney("2026-12-01 18:00"), at_sydney("2026-12-01 22:00"))
    assert gap.flagged_at < gap.starts_at

    # Hour after hour, and once the gap has begun: told once.
    for moment in ("2026-12-01 07:00", "2026-12-01 12:00", "2026-12-01 19:00", "2026-12-01 20:00"):
        clock.set(at_sydney(moment))
        assert (await flag(sessions, clock)).flagged == 0, moment
    assert len(await told(sessions)) == 1
    async with sessions() as session:
        [gap] = await roster.open_gaps(session=session)
        assert gap.ends_at == at_sydney("2026-12-01 22:00")

    # A shift over what is left of it resolves it at once; its removal opens it again, and it is told again.
    cover = await add(sessions, clock, mission, shift("2026-12-01 20:00", "2026-12-01 22:00", "Cover officer"))
    async with sessions() as session:
        assert await roster.open_gaps(session=session) == []
    assert (await flag(sessions, clock)).flagged == 0
    async with transaction(sessions) as session:
        await roster.remove_shift(session=session, clock=clock, actor_id=None, mission_id=mission, shift_id=cover.id)
    clock.set(at_sydney("2026-12-01 20:30"))
    assert (await flag(sessions, clock)).flagged == 1
    assert len(await told(sessions)) == 2
    # Once it has passed, it is settled.
    clock.set(at_sydney("2026-12-01 23:00"))
    report = await flag(sessions, clock)
    assert (report.flagged, report.resolved) == (0, 1)
    async with sessions() as session:
        assert await roster.open_gaps(session=session) == []
        assert await session.scalar(select(func.count()).select_from(RosterGap)) == 2


WATCH = roster_gaps.Watch(
    lookahead=timedelta(hours=72),
    to="consular.deputy@example.gov.sa",
    mission_url="https://majlis.example/emergency/missions",
)


async def test_removing_a_shift_tells_the_gap_it_opens_at_once(sessions: Sessions, clock: FrozenClock) -> None:
    mission = await sydney_mission(sessions)
    clock.set(at_sydney("2026-12-01 06:00"))
    await add(sessions, clock, mission, shift("2026-12-01 06:00", "2026-12-01 07:00", "Early officer"))
    await add(sessions, clock, mission, shift("2026-12-01 07:00", "2026-12-05 07:00", "Long officer"))
    await add(sessions, clock, mission, shift("2026-12-05 07:00", "2026-12-09 07:00", "Next officer"))
    assert (await flag(sessions, clock)).flagged == 0
    clock.set(at_sydney("2026-12-01 06:10"))
    async with sessions() as session:
        early = await session.scalar(select(DutyShift).where(DutyShift.officer_name == "Early officer"))
        assert early is not None
    # The gap starts now, well before the next hourly run: told by the removal itself.
    async with transaction(sessions) as session:
        await roster.remove_shift(
            session=session, clock=clock, actor_id=None, mission_id=mission, shift_id=early.id, watch=WATCH
        )
    [message] = await told(sessions)
    assert message.recipient == WATCH.to and "2026-12-01 06:10" in message.body
    async with sessions() as session:
        [gap] = await roster.open_gaps(session=session)
    assert (gap.starts_at, gap.ends_at, gap.flagged_at) == (clock.now(), at_sydney("2026-12-01 07:00"), clock.now())
    # The hourly run knows it already.
    assert (await flag(sessions, clock)).flagged == 0


async def test_a_mission_put_live_with_a_gap_is_flagged_at_once(sessions: Sessions, clock: FrozenClock) -> None:
    mission = await sydney_mission(sessions)
    async with transaction(sessions) as session:
        found = await session.get(Mission, mission)
        assert found is not None
        found.live = False
    clock.set(at_sydney("2026-12-01 06:00"))
    await add(sessions, clock, mission, shift("2026-12-01 06:00", "2026-12-03 06:00", "Long officer"))
    async with transaction(sessions) as session:
        await directory.set_live_watched(
            session=session, clock=clock, actor_id=None, code="au-sydney", live=True, watch=WATCH
        )
    [message] = await told(sessions)
    # Covered for two days, then nobody: told now, two days ahead.
    assert "2026-12-03 06:00" in message.body
    async with sessions() as session:
        [gap] = await roster.open_gaps(session=session)
    assert gap.starts_at == at_sydney("2026-12-03 06:00") and gap.flagged_at == clock.now()
