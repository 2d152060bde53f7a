"""The calendar over JSON, for protocol staff: rooms, templates, busy times, allocation, moves, cancellations."""

from __future__ import annotations

from openapi_spec_validator import validate
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock
from notify.models import OutboxMessage
from priority.models import ChangeReason, ManualChange
from scheduler import by_hand as manual
from scheduler.allocation import SeatRule
from tests.factories import Client, make_staff, sign_in
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import waiting_today
from tests.scheduler.test_runs import IDS
from tests.web.test_protocol import BUSY
from web.i18n import Catalogs

Sessions = async_sessionmaker[AsyncSession]


async def protocol_headers(client: Client, sessions: Sessions, clock: FrozenClock) -> dict[str, str]:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    token = (await (await client.get("/api/v1/session")).json())["csrf_token"]
    return {"X-CSRF-Token": token}


async def test_the_calendar_through_the_api(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    auditor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    numbers = [await new_case(sessions, clock, applicant_national_id=i) for i in IDS[:2]]
    for number in numbers:
        await ready(sessions, clock, auditor, number)
    headers = await protocol_headers(client, sessions, clock)

    room = await client.post(
        "/api/v1/calendar/rooms",
        headers=headers,
        json={
            "branch": "riyadh",
            "name": "قاعة المجلس",
            "kind": "audience_hall",
            "capacity": 40,
            "wheelchair_access": True,
        },
    )
    assert room.status == 201
    room_id = (await room.json())["id"]
    template = await client.post(
        "/api/v1/calendar/templates",
        headers=headers,
        json={
            "name": "المجلس الأسبوعي",
            "weekday": 6,
            "starts": "10:00",
            "ends": "12:00",
            "slot_minutes": 8,
            "capacity": 1,
            "mode": "in_person",
            "rooms": [room_id],
        },
    )
    assert template.status == 201 and (await template.json())["new_sessions"] == 12

    busy = await client.post("/api/v1/calendar/busy", headers={**headers, "Content-Type": "text/calendar"}, data=BUSY)
    assert await busy.json() == {"busy_times": 1, "blocked_slots": 5}
    garbage = await client.post("/api/v1/calendar/busy", headers=headers, data=b"not a calendar")
    assert garbage.status == 422 and (await garbage.json())["fields"][0]["code"] == "not_icalendar"

    run = await (await client.post("/api/v1/calendar/allocate", headers=headers)).json()
    assert run["placed"] == 2 and run["still_waiting"] == 0
    sessions_out = await (
        await client.get("/api/v1/calendar/sessions", params={"from": "2026-11-29", "to": "2026-11-30"})
    ).json()
    assert len(sessions_out) == 1
    booked = [(slot["id"], a) for slot in sessions_out[0]["slots"] for a in slot["appointments"]]
    assert sorted(a["tracking_number"] for _, a in booked) == sorted(numbers)
    free = next(slot["id"] for slot in sessions_out[0]["slots"] if not slot["appointments"] and not slot["blocked_by"])

    unjustified = await client.post(
        f"/api/v1/calendar/appointments/{booked[0][1]['id']}/move",
        headers=headers,
        json={"to_slot": free, "change_reason": "", "change_text": ""},
    )
    assert unjustified.status == 422
    moved = await client.post(
        f"/api/v1/calendar/appointments/{booked[0][1]['id']}/move",
        headers=headers,
        json={"to_slot": free, "change_reason": "new_information", "change_text": "بطلب المستفيد"},
    )
    assert moved.status == 200

    cancelled = await client.post(
        f"/api/v1/calendar/sessions/{sessions_out[0]['id']}/cancel", headers=headers, json={"reason": "ارتباط رسمي"}
    )
    assert (await cancelled.json())["placed"] == 2  # both placed again, in the next week's session
    again = await client.post(
        f"/api/v1/calendar/sessions/{sessions_out[0]['id']}/cancel", headers=headers, json={"reason": "مرة أخرى"}
    )
    assert again.status == 409 and (await again.json())["error"] == "session_cancelled"

    holiday = await client.post("/api/v1/calendar/holidays", headers=headers, json={"day": "2026-12-20", "name": "عيد"})
    assert holiday.status == 201
    target = await (await client.get("/api/v1/calendar/target")).json()
    assert target["extra_slots_per_week"] == 0 and target["at_risk"] == []


async def test_bad_calendar_input_names_each_field(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    headers = await protocol_headers(client, sessions, clock)
    refused = await client.post(
        "/api/v1/calendar/templates",
        headers=headers,
        json={
            "name": "x",
            "weekday": 4,
            "starts": "10:00",
            "ends": "12:00",
            "slot_minutes": 7,
            "mode": "in_person",
            "rooms": [],
        },
    )
    assert refused.status == 422
    assert {f["field"] for f in (await refused.json())["fields"]} == {"weekday", "slot_minutes", "rooms"}
    shape = await client.post("/api/v1/calendar/rooms", headers=headers, json={"branch": "riyadh", "capacity": "many"})
    assert {f["field"] for f in (await shape.json())["fields"]} >= {"name", "kind", "capacity"}


async def test_the_calendar_api_is_in_the_openapi_document(client: Client) -> None:
    document = await (await client.get("/openapi.json")).json()
    validate(document)
    assert "/api/v1/calendar/allocate" in document["paths"]
    assert "AudienceSessionOut" in document["components"]["schemas"]


async def test_placing_and_moving_on_the_officials_directive(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    slots, number = await waiting_today(sessions, clock, 30)
    headers = await protocol_headers(client, sessions, clock)
    body = {"tracking_number": number, "to_slot": slots["hall"], "change_reason": "legal_deadline", "change_text": "x"}
    catalogs = Catalogs()

    soon = await client.post("/api/v1/calendar/placements", headers=headers, json=body)
    refusal = await soon.json()
    assert soon.status == 409 and refusal["error"] == "notice"
    english = manual.SEAT_RULE_MESSAGES[SeatRule.NOTICE]
    assert refusal["messages"] == {"en": english, "ar": catalogs.gettext("ar", english)}
    assert refusal["messages"]["ar"] != english
    womens = await client.post(
        "/api/v1/calendar/placements", headers=headers, json={**body, "to_slot": slots["women"], "directive": True}
    )
    assert womens.status == 409 and (await womens.json())["error"] == "mode"
    unknown = await client.post(
        "/api/v1/calendar/placements", headers=headers, json={**body, "tracking_number": "26-999999-9"}
    )
    assert unknown.status == 422 and [f["field"] for f in (await unknown.json())["fields"]] == ["tracking_number"]

    placed = await client.post(
        "/api/v1/calendar/placements", headers=headers, json={**body, "directive": True, "change_reason": ""}
    )
    assert placed.status == 201, await placed.text()
    appointment = await placed.json()
    assert appointment["tracking_number"] == number and "directive" in appointment["explanation"]
    moved = await client.post(
        f"/api/v1/calendar/appointments/{appointment['id']}/move",
        headers=headers,
        json={"to_slot": slots["later"], "directive": True, "change_text": "بتوجيه من معاليه"},
    )
    assert moved.status == 200, await moved.text()
    async with sessions() as session:
        reasons = list(await session.scalars(select(ManualChange.reason).order_by(ManualChange.id)))
        calls = list(await session.scalars(select(OutboxMessage.purpose).where(OutboxMessage.channel == "voice")))
    assert reasons == [ChangeReason.OFFICIAL_DIRECTIVE, ChangeReason.OFFICIAL_DIRECTIVE]
    # One call per appointment; the first one's, not yet made, is withdrawn by the move.
    assert calls == [f"confirm:{appointment['id']}:voice", f"confirm:{(await moved.json())['id']}:voice"]
    document = await (await client.get("/openapi.json")).json()
    assert "/api/v1/calendar/placements" in document["paths"]
