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
from tests.web.referring import department, refer
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
    # The calendar's week is the booked day's (the grid shows a week from Sunday).
    pages = ("/protocol?week=2026-11-29", f"/protocol/rooms/{room_id}?day=2026-11-29", "/protocol/target")

    await sign_in(client, "admin")
    calendar, room, target = [await (await client.get(path, params={"lang": "en"})).text() for path in pages]
    for page in (calendar, room):
        assert not any(b.tracking_number in page for b in day) and not any(name in page for name in NAMES)
        assert page.count("Seat taken") == 2
    # (The two "Seat taken" cards are the seats still counted as booked, their requests out of reach.)
    assert late not in target and "Not shown" in target
    assert late not in calendar  # nor offered to be placed by hand
    assert await api_numbers(client) == ({""}, {""})
    assert await views(sessions) == []

    await sign_in(client, "protocol")
    calendar, room, target = [await (await client.get(path, params={"lang": "en"})).text() for path in pages]
    for page in (calendar, room):
        assert all(b.tracking_number in page for b in day) and "Seat taken" not in page
    # The week grid's cards name the request by its number (a name is one click away); the room's day names them.
    assert all(name in room for name in NAMES)
    assert late in target and late in calendar
    assert await api_numbers(client) == ({b.tracking_number for b in day}, {late})
    logged = {(staff, case, via) for staff, case, via in await views(sessions)}
    late_id = (await _case_ids(sessions, late))[0]
    assert logged == {
        *((protocol.id, b.case_id, "GET /protocol") for b in day),
        *((protocol.id, b.case_id, "GET /protocol/rooms/{room_id}") for b in day),
        (protocol.id, late_id, "GET /protocol/target"),
        *((protocol.id, b.case_id, "GET /api/v1/calendar/sessions") for b in day),
        (protocol.id, late_id, "GET /api/v1/calendar/target"),
    }


async def api_numbers(client: Client) -> tuple[set[str], set[str]]:
    """The tracking numbers the calendar API gives for the booked seats and the late requests."""
    found = await (await client.get("/api/v1/calendar/sessions")).json()
    seats = {a["tracking_number"] for s in found for slot in s["slots"] for a in slot["appointments"]}
    target = await (await client.get("/api/v1/calendar/target")).json()
    return seats, {r["tracking_number"] for r in target["at_risk"]}


async def _case_ids(sessions: Sessions, *numbers: str) -> list[int]:
    async with sessions() as session:
        found = {c.tracking_number: c.id for c in await session.scalars(select(Case))}
    return [found[n] for n in numbers]


async def test_followup_and_triage_lists_hold_only_what_the_reader_reaches(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    auditor = await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    follow_up = await make_staff(sessions, clock, Role.FOLLOW_UP, "followup")
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    await department(sessions, "health", "وزارة الصحة", "Ministry of Health")
    [referred] = await refer(sessions, clock, "health", tracking_number=await new_case(sessions, clock))
    # A confidential request referred too: not the follow-up team's to read.
    secret = await new_case(sessions, clock, applicant_national_id=national_id(2))
    await ready(
        sessions,
        clock,
        auditor.id,
        secret,
        category="security",
        urgency="critical",
        route="written_referral",
        departments="health",
    )
    # Two requests awaiting an audience from one applicant: the queue, and each other's likely duplicate.
    waiting = [await new_case(sessions, clock, applicant_national_id=national_id(3)) for _ in range(2)]
    for number in waiting:
        await ready(sessions, clock, auditor.id, number)

    async def lists() -> tuple[set[str], set[str], set[str], int, set[str]]:
        page = await (await client.get("/followup")).text()
        api = await (await client.get("/api/v1/followup")).json()
        numbers = {referred.tracking_number, secret}
        queue = await client.get("/api/v1/triage/queue")
        duplicates = await client.get(f"/api/v1/triage/{waiting[0]}/duplicates")
        return (
            {n for n in numbers if n in page},
            {item["tracking_number"] for item in api.get("items", [])},
            {place["tracking_number"] for place in await queue.json()} if queue.status == 200 else set(),
            duplicates.status,
            {d["tracking_number"] for d in await duplicates.json()} if duplicates.status == 200 else set(),
        )

    await sign_in(client, "admin")
    assert await lists() == (set(), set(), set(), 404, set())
    assert await views(sessions) == []

    await sign_in(client, "followup")
    page, api, _, _, _ = await lists()
    assert page == api == {referred.tracking_number}
    assert (await (await client.get("/api/v1/followup")).json())["counts"]["items"] == 1
    await sign_in(client, "auditor")
    _, _, queue, status, duplicates = await lists()
    assert set(waiting) <= queue and status == 200 and waiting[1] in duplicates
    logged = {(staff, via) for staff, _, via in await views(sessions)}
    assert {
        (follow_up.id, "GET /followup"),
        (follow_up.id, "GET /api/v1/followup"),
        (auditor.id, "GET /api/v1/triage/queue"),
        (auditor.id, "GET /api/v1/triage/{tracking_number}/duplicates"),
    } <= logged
