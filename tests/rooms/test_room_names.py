"""A room's names after it was added (rooms.service.rename_room), on both databases: checked as when it was added,
audited, and read by the messages an applicant writing in English gets."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from majlis.errors import InvalidInput
from notify.models import OutboxMessage
from rooms import service as rooms
from rooms.models import Room
from scheduler import calendar
from tests.factories import make_staff
from tests.priority.test_triage import new_case, ready
from tests.rooms.test_rooms import add_room
from tests.scheduler.test_calendar import add, template
from tests.scheduler.test_runs import IDS, run

Sessions = async_sessionmaker[AsyncSession]
HALL = "قاعة المجلس"
OTHER = "غرفة الاتصال المرئي ١"


async def rename(sessions: Sessions, clock: FrozenClock, room_id: int, name: str, name_en: str) -> Room:
    async with transaction(sessions) as session:
        return await rooms.rename_room(
            session=session, clock=clock, actor_id=None, room_id=room_id, name=name, name_en=name_en
        )


async def test_a_room_is_renamed_in_both_languages_and_the_change_audited(
    sessions: Sessions, clock: FrozenClock
) -> None:
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    room = await add_room(sessions, clock, name=HALL, kind="audience_hall", capacity="40")
    async with transaction(sessions) as session:
        await rooms.rename_room(
            session=session,
            clock=clock,
            actor_id=protocol.id,
            room_id=room.id,
            name=f"  {HALL}   الكبرى ",
            name_en="  Majlis   hall ",
        )
    async with sessions() as session:
        saved = await session.get_one(Room, room.id)
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "room.rename"))
    assert (saved.name, saved.name_en) == (f"{HALL} الكبرى", "Majlis hall")
    assert (saved.name_in("en"), saved.name_in("ar")) == ("Majlis hall", f"{HALL} الكبرى")
    assert entry is not None and (entry.actor_id, entry.target_id) == (protocol.id, str(room.id))
    assert entry.details == {
        "from": {"name": HALL, "name_en": ""},
        "to": {"name": f"{HALL} الكبرى", "name_en": "Majlis hall"},
    }
    # The English name taken away: English readers get the Arabic one again; keeping its own name is no clash.
    again = await rename(sessions, clock, room.id, f"{HALL} الكبرى", "")
    assert again.name_in("en") == f"{HALL} الكبرى"


async def test_a_bad_or_taken_name_is_refused_naming_the_field_and_nothing_changes(
    sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock, name=HALL, kind="audience_hall", capacity="40")
    await add_room(sessions, clock, name=OTHER)
    elsewhere = await add_room(sessions, clock, name=OTHER, branch="jeddah")
    refusals = {
        ("  ", "Hall"): [("name", "missing")],
        ("x" * 121, "y" * 121): [("name", "too_long"), ("name_en", "too_long")],
        (f" {OTHER} ", "Video room"): [("name", "taken")],
    }
    for (name, name_en), expected in refusals.items():
        with pytest.raises(InvalidInput) as caught:
            await rename(sessions, clock, room.id, name, name_en)
        assert [(e.field, e.code) for e in caught.value.errors] == expected, name
    with pytest.raises(InvalidInput) as caught:
        await rename(sessions, clock, 9999, HALL, "")
    assert [e.field for e in caught.value.errors] == ["room"]
    async with sessions() as session:
        saved = await session.get_one(Room, room.id)
        audited = list(await session.scalars(select(AuditEntry.id).where(AuditEntry.action == "room.rename")))
    assert (saved.name, saved.name_en, audited) == (HALL, "", [])
    # The same name in another centre is not a clash.
    assert (await rename(sessions, clock, elsewhere.id, OTHER, "Video room 1")).name_en == "Video room 1"


async def test_an_english_sms_names_the_renamed_room_in_english(sessions: Sessions, clock: FrozenClock) -> None:
    hall = await add_room(sessions, clock, name=HALL, kind="audience_hall", capacity="40")
    await add(sessions, clock, template((hall.id,)))
    await rename(sessions, clock, hall.id, HALL, "The Majlis hall")
    async with transaction(sessions) as session:
        await calendar.generate_sessions(session=session, clock=clock, weeks=2)
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    english = await new_case(sessions, clock, applicant_language="en", applicant_national_id=IDS[0])
    arabic = await new_case(sessions, clock, applicant_national_id=IDS[1])
    for number in (english, arabic):
        await ready(sessions, clock, auditor, number)
    assert (await run(sessions, clock)).placed == 2
    async with sessions() as session:
        sms = {
            m.purpose: m.body
            for m in await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
            if m.purpose.startswith("scheduled:")
        }
    bodies = sorted(sms.values(), key=lambda body: english in body, reverse=True)
    assert english in bodies[0] and "The Majlis hall" in bodies[0] and HALL not in bodies[0]
    assert arabic in bodies[1] and HALL in bodies[1] and "Majlis hall" not in bodies[1]
