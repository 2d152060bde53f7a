"""Need to know on protocol's calendar, rooms and target, and on follow-up's and triage's lists: a reader outside a
request's reach sees a seat as taken but not whose, and lists hold only what the reader reaches. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from cases.models import Case
from majlis.clock import FrozenClock
from majlis.db import transaction
from scheduler.models import Appointment, Slot
from tests.audience_day.arrange import booked_day
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import national_id
from tests.web.test_personal_data import views

Sessions = async_sessionmaker[AsyncSession]
NAMES = ("سارة", "منيرة")


async def test_protocols_pages_show_whose_seat_it_is_only_within_reach(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    day = await booked_day(sessions, clock, 2)
    async with transaction(sessions) as session:
        for booked, name in zip(day, NAMES, strict=True):
            await session.execute(update(Case).where(Case.id == booked.case_id).values(applicant_name=name))
        room_id = await session.scalar(select(Slot.room_id).join(Appointment, Appointment.slot_id == Slot.id).limit(1))
    # A request waiting past its 30 days: on the target page.
    late = await new_case(sessions, clock, applicant_national_id=national_id(7))
    auditor = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor2")
    await ready(sessions, clock, auditor.id, late)
    async with transaction(sessions) as session:
        await session.execute(
            update(Case).where(Case.tracking_number == late).values(submitted_at=clock.now() - timedelta(days=40))
        )
    protocol = await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    pages = ("/protocol", f"/protocol/rooms/{room_id}?day=2026-11-29", "/protocol/target")

    await sign_in(client, "admin")
    calendar, room, target = [await (await client.get(path, params={"lang": "en"})).text() for path in pages]
    for page in (calendar, room):
        assert not any(b.tracking_number in page for b in day) and not any(name in page for name in NAMES)
        assert page.count("Seat taken") == 2
    assert "2 of" in calendar  # the seats still count as booked
    assert late not in target and "Not shown" in target
    assert late not in calendar  # nor offered to be placed by hand
    assert await views(sessions) == []

    await sign_in(client, "protocol")
    calendar, room, target = [await (await client.get(path, params={"lang": "en"})).text() for path in pages]
    for page in (calendar, room):
        assert all(b.tracking_number in page for b in day) and all(name in page for name in NAMES)
        assert "Seat taken" not in page
    assert late in target and late in calendar
    logged = {(staff, case, via) for staff, case, via in await views(sessions)}
    late_id = (await _case_ids(sessions, late))[0]
    assert logged == {
        *((protocol.id, b.case_id, "GET /protocol") for b in day),
        *((protocol.id, b.case_id, "GET /protocol/rooms/{room_id}") for b in day),
        (protocol.id, late_id, "GET /protocol/target"),
    }


async def _case_ids(sessions: Sessions, *numbers: str) -> list[int]:
    async with sessions() as session:
        found = {c.tracking_number: c.id for c in await session.scalars(select(Case))}
    return [found[n] for n in numbers]
