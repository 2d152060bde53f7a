"""Templates, dated sessions 12 weeks ahead, holidays and busy blocks, on both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import RIYADH, FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from scheduler import calendar
from scheduler.busy import BusyInterval
from scheduler.models import AudienceSession, Slot
from tests.rooms.test_rooms import add_room

Sessions = async_sessionmaker[AsyncSession]
SUNDAY, TUESDAY, FRIDAY = 6, 1, 4


def template(room_ids: tuple[int, ...], **overrides: str) -> calendar.TemplateInput:
    values = {
        "name": "المجلس الأسبوعي",
        "weekday": str(SUNDAY),
        "starts": "10:00",
        "ends": "12:00",
        "slot_minutes": "8",
        "capacity": "1",
        "mode": "in_person",
    }
    values.update(overrides)
    # The hours as typed; a test of hours outside the working day confirms them as protocol would.
    return calendar.TemplateInput(room_ids=room_ids, outside_hours_confirmed=True, **values)


async def add(sessions: Sessions, clock: FrozenClock, data: calendar.TemplateInput) -> int:
    async with transaction(sessions) as session:
        return (await calendar.add_template(session=session, clock=clock, actor_id=None, data=data)).id


async def test_a_sunday_audience_in_eight_minute_slots(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall", capacity="40")
    await add(sessions, clock, template((hall.id,), slot_minutes="8", starts="10:00", ends="12:00"))
    async with transaction(sessions) as session:
        made = await calendar.generate_sessions(session=session, clock=clock)
    assert made == 12  # twelve Sundays ahead
    async with transaction(sessions) as session:
        assert await calendar.generate_sessions(session=session, clock=clock) == 0  # nothing twice
    async with sessions() as session:
        first = await session.scalar(select(AudienceSession).order_by(AudienceSession.starts_at))
        assert first is not None
        slots = await calendar.slots_of(session=session, session_ids={first.id})
    assert first.day == date(2026, 11, 29) and first.starts_at == datetime(2026, 11, 29, 10, tzinfo=RIYADH)
    assert len(slots) == 15  # 120 minutes / 8
    assert slots[-1].ends_at == datetime(2026, 11, 29, 12, tzinfo=RIYADH)


async def test_a_video_block_links_two_womens_rooms_in_turn(sessions: Sessions, clock: FrozenClock) -> None:
    riyadh_room = await add_room(sessions, clock, name="نسائي الرياض")
    jeddah_room = await add_room(sessions, clock, branch="jeddah", name="نسائي جدة")
    await add(
        sessions,
        clock,
        template(
            (riyadh_room.id, jeddah_room.id),
            weekday=str(TUESDAY),
            starts="11:00",
            ends="12:00",
            slot_minutes="10",
            mode="video",
        ),
    )
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=1)
    async with sessions() as session:
        slots = list(await session.scalars(select(Slot).order_by(Slot.starts_at)))
    assert [s.room_id for s in slots] == [riyadh_room.id, jeddah_room.id] * 3


async def test_holidays_are_skipped(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall")
    await add(sessions, clock, template((hall.id,)))
    async with transaction(sessions) as session:
        await calendar.add_holiday(session=session, clock=clock, actor_id=None, day=date(2026, 12, 6), name="يوم وطني")
        await calendar.generate_sessions(session=session, clock=clock, weeks=3)
    async with sessions() as session:
        days = list(await session.scalars(select(AudienceSession.day).order_by(AudienceSession.day)))
    assert days == [date(2026, 11, 29), date(2026, 12, 13)]


async def test_bad_templates_are_refused_and_nothing_is_saved(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall")
    video = await add_room(sessions, clock, name="نسائي")
    await add(sessions, clock, template((hall.id,)))
    cases = {
        "weekday": template((hall.id,), weekday=str(FRIDAY)),
        "slot_minutes": template((hall.id,), weekday="0", slot_minutes="7"),
        "starts": template((hall.id,), starts="11:00", ends="13:00"),  # overlaps Sunday 10–12
        "rooms": template((video.id,), weekday="0"),  # a video room for an in-person audience
        "ends": template((hall.id,), weekday="0", starts="12:00", ends="10:00"),
    }
    for field, data in cases.items():
        with pytest.raises(InvalidInput) as caught:
            await add(sessions, clock, data)
        assert field in {e.field for e in caught.value.errors}, field
    async with sessions() as session:
        assert len(await calendar.templates(session=session)) == 1


async def test_busy_times_block_slots_and_a_reimport_replaces_them(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall")
    await add(sessions, clock, template((hall.id,)))
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=2)
    meeting = BusyInterval(
        datetime(2026, 11, 29, 10, 30, tzinfo=RIYADH), datetime(2026, 11, 29, 11, tzinfo=RIYADH), "اجتماع", "m-1"
    )
    async with transaction(sessions) as session:
        assert await calendar.block_busy_slots(session=session, clock=clock, busy=[meeting]) == 5  # 10:24 … 10:56
    moved = BusyInterval(meeting.starts_at + timedelta(days=7), meeting.ends_at + timedelta(days=7), "اجتماع", "m-1")
    async with transaction(sessions) as session:
        assert await calendar.block_busy_slots(session=session, clock=clock, busy=[moved]) == 5
    async with sessions() as session:
        blocked_days = set(await session.scalars(select(func.date(Slot.starts_at)).where(Slot.blocked_by.is_not(None))))
    assert len(blocked_days) == 1


async def test_an_extra_session_and_a_holiday_taken_back(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall")
    await add(sessions, clock, template((hall.id,)))
    extra = template((hall.id,), name="جلسة إضافية", starts="13:00", ends="14:00", slot_minutes="10")
    async with transaction(sessions) as session:
        dated = await calendar.add_extra_session(
            session=session, clock=clock, actor_id=None, day="2026-12-02", data=extra
        )
    assert dated.template_id is None and dated.note == "جلسة إضافية"
    cases = {
        "day": ("2026-11-22", extra),  # a Sunday, but in the past
        "starts": ("2026-12-02", extra),  # overlaps the extra session just added
        "weekday": ("2026-12-04", extra),  # a Friday
    }
    for field, (day, data) in cases.items():
        with pytest.raises(InvalidInput) as caught:
            async with transaction(sessions) as session:
                await calendar.add_extra_session(session=session, clock=clock, actor_id=None, day=day, data=data)
        assert field in {e.field for e in caught.value.errors}, field

    async with transaction(sessions) as session:
        await calendar.add_holiday(session=session, clock=clock, actor_id=None, day=date(2026, 12, 6), name="عيد")
        await calendar.generate_sessions(session=session, clock=clock, weeks=3)
        await calendar.remove_holiday(session=session, clock=clock, actor_id=None, day=date(2026, 12, 6))
        await calendar.generate_sessions(session=session, clock=clock, weeks=3)
    async with sessions() as session:
        days = list(await session.scalars(select(AudienceSession.day).where(AudienceSession.template_id.is_not(None))))
    assert date(2026, 12, 6) in days


async def test_two_generations_at_once_make_each_session_once(sessions: Sessions, clock: FrozenClock) -> None:
    import asyncio

    hall = await add_room(sessions, clock, name="قاعة المجلس", kind="audience_hall")
    await add(sessions, clock, template((hall.id,)))

    async def generate() -> int:
        async with transaction(sessions) as session:
            return await calendar.generate_sessions(session=session, clock=clock, weeks=4)

    made = await asyncio.gather(generate(), generate())
    assert sum(made) == 4
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AudienceSession)) == 4
