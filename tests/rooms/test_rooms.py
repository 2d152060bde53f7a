"""Rooms and rosters on both databases: women's rooms are run by women of the women's section."""

from __future__ import annotations

from datetime import date, time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from rooms import service as rooms
from rooms.models import Room
from tests.factories import make_staff

Sessions = async_sessionmaker[AsyncSession]


async def add_room(sessions: Sessions, clock: FrozenClock, actor: int | None = None, **overrides: object) -> Room:
    values: dict[str, object] = {
        "branch": "riyadh",
        "name": "غرفة الاتصال المرئي ١",
        "kind": "women_video",
        "capacity": "2",
        "wheelchair_access": True,
        "equipment": "شاشة\nكاميرا\nطاولة مستديرة",
    }
    values.update(overrides)
    async with transaction(sessions) as session:
        return await rooms.add_room(session=session, clock=clock, actor_id=actor, **values)  # type: ignore[arg-type]


async def test_rooms_are_added_with_their_kind_and_equipment(sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock)
    async with sessions() as session:
        listed = await rooms.rooms(session=session)
        seats = await rooms.branches(session=session)
    assert [(r.name, r.kind.value, r.wheelchair_access) for r in listed] == [(room.name, "women_video", True)]
    assert {b.code: b.is_official_seat for b in seats} == {"riyadh": True, "jeddah": False}


async def test_bad_rooms_are_refused_naming_each_field(sessions: Sessions, clock: FrozenClock) -> None:
    await add_room(sessions, clock)
    with pytest.raises(InvalidInput) as caught:
        await add_room(sessions, clock, branch="dammam", kind="ballroom", capacity="0")
    assert {e.field for e in caught.value.errors} == {"branch", "room_kind", "capacity"}
    with pytest.raises(InvalidInput) as caught:
        await add_room(sessions, clock)
    assert [e.code for e in caught.value.errors] == ["taken"]


async def test_womens_rooms_are_run_by_women_of_the_womens_section(sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock)
    woman = await make_staff(sessions, clock, Role.WOMEN_SECTION, "huda")
    man = await make_staff(sessions, clock, Role.PROTOCOL, "fahad")
    day = date(2026, 12, 1)
    async with transaction(sessions) as session:
        await rooms.put_on_duty(
            session=session,
            clock=clock,
            actor_id=None,
            room_id=room.id,
            staff_id=woman.id,
            day=day,
            starts=time(8),
            ends=time(16),
        )
    with pytest.raises(InvalidInput) as caught:
        async with transaction(sessions) as session:
            await rooms.put_on_duty(
                session=session,
                clock=clock,
                actor_id=None,
                room_id=room.id,
                staff_id=man.id,
                day=day,
                starts=time(8),
                ends=time(16),
            )
    assert [e.code for e in caught.value.errors] == ["not_women_section"]
    async with sessions() as session:
        roster = await rooms.roster_for_day(session=session, day=day)
    assert [(r.room_id, r.staff_id) for r in roster] == [(room.id, woman.id)]


async def put_on_roster(sessions: Sessions, clock: FrozenClock, room_id: int, staff_id: int, day: date) -> None:
    """Puts a member of staff on a room's roster for the working day, 08:00–16:00."""
    async with transaction(sessions) as session:
        await rooms.put_on_duty(
            session=session,
            clock=clock,
            actor_id=None,
            room_id=room_id,
            staff_id=staff_id,
            day=day,
            starts=time(8),
            ends=time(16),
        )


async def test_mens_video_rooms_are_run_by_men_of_the_protocol_staff(sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock, name="غرفة الاتصال المرئي للرجال", kind="men_video")
    man = await make_staff(sessions, clock, Role.PROTOCOL, "fahad")
    protocol_woman = await make_staff(sessions, clock, Role.PROTOCOL, "reem", gender="female")
    section_woman = await make_staff(sessions, clock, Role.WOMEN_SECTION, "huda")
    desk_man = await make_staff(sessions, clock, Role.INTAKE_DESK, "saad")
    day = date(2026, 12, 1)
    for refused in (protocol_woman, section_woman, desk_man):
        with pytest.raises(InvalidInput) as caught:
            await put_on_roster(sessions, clock, room.id, refused.id, day)
        assert [e.code for e in caught.value.errors] == ["not_men_room_staff"], refused.username
    await put_on_roster(sessions, clock, room.id, man.id, day)
    async with sessions() as session:
        roster = await rooms.roster_for_day(session=session, day=day)
    assert [(r.room_id, r.staff_id) for r in roster] == [(room.id, man.id)]
