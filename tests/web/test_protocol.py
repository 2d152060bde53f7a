"""Protocol staff's pages: rooms, templates, busy calendar import (file and address), allocation, feeds."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestServer
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.app import create_app
from majlis.clock import FrozenClock
from notify.models import OutboxMessage
from priority.models import ChangeReason, ManualChange
from scheduler import by_hand as manual
from scheduler.allocation import Mode, SeatRule
from scheduler.models import AudienceSession, Slot
from tests.conftest import make_settings, start_client
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.priority.test_triage import new_case, ready
from tests.scheduler.test_changes import waiting_today
from tests.scheduler.test_runs import IDS
from tests.web.notices_seen import shown_once
from web.i18n import Catalogs
from web.keys import SESSIONS

Sessions = async_sessionmaker[AsyncSession]

BUSY = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:meeting-1\r
DTSTAMP:20261120T000000Z\r
DTSTART;TZID=Asia/Riyadh:20261129T103000\r
DTEND;TZID=Asia/Riyadh:20261129T110000\r
SUMMARY:Council meeting\r
END:VEVENT\r
END:VCALENDAR\r
"""


async def protocol_client(client: Client, sessions: Sessions, clock: FrozenClock) -> str:
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    return await csrf_token(client, "/protocol/rooms")


async def add_hall_and_template(client: Client, token: str) -> None:
    added = await client.post(
        "/protocol/rooms",
        data={
            "branch": "riyadh",
            "name": "قاعة المجلس",
            "room_kind": "audience_hall",
            "capacity": "40",
            "wheelchair_access": "1",
            "equipment": "",
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert added.status == 303
    room_id = added.headers["Location"].rsplit("/", 1)[-1]
    template = await client.post(
        "/protocol/templates",
        data={
            "name": "المجلس الأسبوعي",
            "weekday": "6",
            "starts": "10:00",
            "ends": "12:00",
            "slot_minutes": "8",
            "capacity": "1",
            "mode": "in_person",
            "rooms": room_id,
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert template.status == 303, await template.text()


async def test_protocol_builds_the_calendar_and_allocates(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, number)
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AudienceSession)) == 12

    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", BUSY, filename="official.ics", content_type="text/calendar")
    imported = await client.post("/protocol/busy", data=form, allow_redirects=False)
    assert imported.status == 303  # a refresh never imports twice; the calendar says what was read
    assert "notice-done" in await (await client.get(imported.headers["Location"])).text()
    async with sessions() as session:
        blocked = await session.scalar(select(func.count()).select_from(Slot).where(Slot.blocked_by.is_not(None)))
    assert blocked == 5  # the 8-minute slots from 10:24 to 10:56 all overlap 10:30–11:00
    run = await client.post("/protocol/allocate", data={"csrf_token": token})
    assert run.status == 200
    # The week grid shows a week from Sunday: the request is placed on Sunday 29 November, next week.
    week = await (await client.get("/protocol?week=2026-11-29")).text()
    assert number in week


async def test_a_bad_calendar_file_is_refused_and_nothing_changes(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    good = FormData()
    good.add_field("csrf_token", token)
    good.add_field("file", BUSY, filename="official.ics", content_type="text/calendar")
    assert (await client.post("/protocol/busy", data=good)).status == 200
    form = FormData()
    form.add_field("csrf_token", token)
    form.add_field("file", b"this is not a calendar", filename="x.ics", content_type="text/calendar")
    refused = await client.post("/protocol/busy", data=form)
    assert refused.status == 422
    assert "iCalendar" in await refused.text()
    async with sessions() as session:
        # The blocks of the good import stand: a bad file changes nothing.
        assert await session.scalar(select(func.count()).select_from(Slot).where(Slot.blocked_by.is_not(None))) == 5


@pytest.fixture
async def calendar_server() -> AsyncIterator[TestServer]:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=BUSY, content_type="text/calendar")

    app = web.Application()
    app.router.add_get("/official.ics", serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def test_an_internal_address_is_refused_by_default(
    client: Client, sessions: Sessions, clock: FrozenClock, calendar_server: TestServer
) -> None:
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    url = str(calendar_server.make_url("/official.ics"))
    refused = await client.post("/protocol/busy", data={"url": url, "csrf_token": token})
    assert refused.status == 422


async def test_a_calendar_is_read_from_its_address(
    database_url: str, clock: FrozenClock, calendar_server: TestServer
) -> None:
    # Allowed here only because the test's calendar server is on loopback.
    app = create_app(make_settings(database_url, calendar_fetch_private=True), clock=clock)
    client = await start_client(app)
    sessions = client.app[SESSIONS]
    try:
        await run_import_from_address(client, sessions, clock, str(calendar_server.make_url("/official.ics")))
    finally:
        await client.close()


async def run_import_from_address(client: Client, sessions: Sessions, clock: FrozenClock, url: str) -> None:
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    imported = await client.post("/protocol/busy", data={"url": url, "csrf_token": token})
    assert imported.status == 200
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Slot).where(Slot.blocked_by.is_not(None))) == 5


async def test_feeds_need_their_token_and_read_back_as_icalendar(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    actor = (await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")).id
    number = await new_case(sessions, clock, applicant_national_id=IDS[0])
    await ready(sessions, clock, actor, number)
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    await client.post("/protocol/allocate", data={"csrf_token": token})
    page = await (await client.get("/protocol")).text()
    feed = re.search(r'id="official-feed">[^<]*(/feeds/official\.ics\?token=[A-Za-z0-9_-]+)<', page)
    assert feed
    good = await client.get(feed.group(1))
    assert good.status == 200 and good.content_type == "text/calendar"
    parsed = Calendar.from_ical(await good.read())
    events = [c for c in parsed.walk("VEVENT")]
    assert len(events) == 1 and number in str(events[0]["SUMMARY"])
    assert (await client.get("/feeds/official.ics?token=forged")).status == 404
    assert (await client.get("/feeds/rooms/1.ics?" + feed.group(1).split("?")[1])).status == 404  # not this scope


async def test_template_errors_are_named(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    token = await protocol_client(client, sessions, clock)
    refused = await client.post(
        "/protocol/templates",
        data={
            "name": "",
            "weekday": "4",
            "starts": "10:00",
            "ends": "12:00",
            "slot_minutes": "7",
            "capacity": "1",
            "mode": "in_person",
            "csrf_token": token,
        },
    )
    assert refused.status == 422
    html = await refused.text()
    for field in ("name", "weekday", "slot_minutes", "rooms"):
        assert f'id="{field}-error"' in html, field


async def test_rooms_and_templates_can_be_taken_out_of_use(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await protocol_client(client, sessions, clock)
    await add_hall_and_template(client, token)
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(AudienceSession))
    stopped = await client.post(
        "/protocol/templates/1/active", data={"active": "0", "csrf_token": token}, allow_redirects=False
    )
    assert stopped.status == 303
    taken_out = await client.post(
        "/protocol/rooms/1/active", data={"active": "0", "csrf_token": token}, allow_redirects=False
    )
    assert taken_out.status == 303
    # A room out of use cannot be given to a new template.
    refused = await client.post(
        "/protocol/templates",
        data={
            "name": "الثاني",
            "weekday": "0",
            "starts": "10:00",
            "ends": "11:00",
            "slot_minutes": "10",
            "capacity": "1",
            "mode": "in_person",
            "rooms": "1",
            "csrf_token": token,
        },
    )
    assert refused.status == 422 and 'id="rooms-error"' in await refused.text()
    # Its only room is out of use, so the template cannot resume until the room is back.
    blocked = await client.post("/protocol/templates/1/active", data={"active": "1", "csrf_token": token})
    assert blocked.status == 422
    room_back = await client.post(
        "/protocol/rooms/1/active", data={"active": "1", "csrf_token": token}, allow_redirects=False
    )
    await shown_once(client, room_back, "أُعيدت الغرفة إلى الاستخدام.")
    resumed = await client.post(
        "/protocol/templates/1/active", data={"active": "1", "csrf_token": token}, allow_redirects=False
    )
    assert resumed.status == 303
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AudienceSession)) == before


async def test_protocol_places_a_request_today_on_the_officials_directive(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    slots, number = await waiting_today(sessions, clock, 20)
    token = await protocol_client(client, sessions, clock)
    page = await (await client.get("/protocol")).text()
    assert 'action="/protocol/place"' in page and f'<option value="{number}">' in page
    assert 'name="directive"' in page
    catalogs = Catalogs()
    form = {
        "csrf_token": token,
        "tracking_number": number,
        "to_slot": str(slots["hall"]),
        "change_reason": "health_or_safety",
        "change_text": "حالة عاجلة",
    }
    # Without the directive: refused, naming the three days' rule in the reader's language.
    soon = await client.post("/protocol/place", data=form)
    assert soon.status == 422
    assert catalogs.gettext("ar", manual.SEAT_RULE_MESSAGES[SeatRule.NOTICE]) in await soon.text()
    # With it, a room of the wrong kind is still refused, naming that rule.
    video = await client.post("/protocol/place", data={**form, "to_slot": str(slots["women"]), "directive": "1"})
    assert video.status == 422
    assert catalogs.gettext("ar", manual.MODE_MESSAGES[Mode.VIDEO]) in await video.text()
    placed = await client.post("/protocol/place", data={**form, "directive": "1", "change_reason": ""})
    html = await placed.text()
    assert placed.status == 200 and "notice-done" in html  # after the 303, the calendar with the notice
    assert "بتوجيه من المسؤول" in html
    async with sessions() as session:
        record = await session.scalar(select(ManualChange))
        calls = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "voice")))
    assert (
        record is not None and record.reason is ChangeReason.OFFICIAL_DIRECTIVE and record.reason_text == "حالة عاجلة"
    )
    assert len(calls) == 1
