"""A session outside working hours (08:00–16:00 Riyadh) is saved only when protocol confirms it, on both databases.

The form comes back (422) with the warning and a "yes, outside working hours" box, everything typed kept and
nothing saved; ticked, it saves and redirects with a notice. The API refuses the same with 422 naming
`outside_hours_confirmed`. Hours inside the working hours need no box.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from scheduler.calendar import outside_working_hours
from scheduler.models import AudienceSession, SessionTemplate
from tests.factories import Client
from tests.web.test_calendar_api import protocol_headers
from tests.web.test_protocol import protocol_client

Sessions = async_sessionmaker[AsyncSession]
BOX = 'name="outside_hours_confirmed"'


async def _hall(client: Client, token: str) -> str:
    added = await client.post(
        "/protocol/rooms",
        data={
            "branch": "riyadh",
            "name": "قاعة المجلس",
            "room_kind": "audience_hall",
            "capacity": "40",
            "equipment": "",
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert added.status == 303
    return added.headers["Location"].rsplit("/", 1)[-1]


def _template(room_id: str, token: str, starts: str, ends: str, **extra: str) -> dict[str, str]:
    return {
        "name": "مجلس المساء",
        "weekday": "1",
        "starts": starts,
        "ends": ends,
        "slot_minutes": "10",
        "capacity": "1",
        "mode": "in_person",
        "rooms": room_id,
        "csrf_token": token,
        **extra,
    }


async def _count(sessions: Sessions, table: type[SessionTemplate] | type[AudienceSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


def test_the_working_hours_are_eight_to_four() -> None:
    from datetime import time

    assert not outside_working_hours(time(8), time(16))
    assert outside_working_hours(time(7, 50), time(9))
    assert outside_working_hours(time(15), time(16, 10))


async def test_a_template_outside_working_hours_asks_to_confirm(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await protocol_client(client, sessions, clock)
    room_id = await _hall(client, token)
    refused = await client.post("/protocol/templates", data=_template(room_id, token, "15:00", "17:00"))
    page = await refused.text()
    assert refused.status == 422
    assert await _count(sessions, SessionTemplate) == 0  # nothing saved
    assert BOX in page and "نعم، خارج أوقات الدوام" in page and "خارج أوقات الدوام" in page
    # What was typed comes back, the room still ticked, so ticking the box is all that is left to do.
    assert 'value="17:00"' in page and re.search(rf'value="{room_id}"\s+checked', page)
    saved = await client.post(
        "/protocol/templates",
        data=_template(room_id, token, "15:00", "17:00", outside_hours_confirmed="1"),
        allow_redirects=False,
    )
    assert saved.status == 303 and saved.headers["Location"] == "/protocol/templates"
    assert await _count(sessions, SessionTemplate) == 1
    shown = await (await client.get("/protocol/templates")).text()
    assert "حُفظ النموذج" in shown  # the notice, once
    assert "حُفظ النموذج" not in await (await client.get("/protocol/templates")).text()


async def test_a_template_within_working_hours_needs_no_box(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await protocol_client(client, sessions, clock)
    room_id = await _hall(client, token)
    saved = await client.post(
        "/protocol/templates", data=_template(room_id, token, "14:00", "16:00"), allow_redirects=False
    )
    assert saved.status == 303
    page = await (await client.get("/protocol/templates")).text()
    assert BOX not in page


async def test_an_extra_session_at_seven_asks_to_confirm(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    token = await protocol_client(client, sessions, clock)
    room_id = await _hall(client, token)
    before = await _count(sessions, AudienceSession)
    form = {**_template(room_id, token, "07:00", "08:00"), "day": "2026-12-01", "name": "Extra session"}
    del form["weekday"]
    refused = await client.post("/protocol/sessions/extra", data=form)
    page = await refused.text()
    assert refused.status == 422 and BOX in page
    assert 'id="extra-outside_hours_confirmed"' in page and 'value="2026-12-01"' in page
    assert await _count(sessions, AudienceSession) == before
    saved = await client.post(
        "/protocol/sessions/extra", data={**form, "outside_hours_confirmed": "1"}, allow_redirects=False
    )
    assert saved.status == 303 and saved.headers["Location"] == "/protocol"
    assert await _count(sessions, AudienceSession) == before + 1


async def test_the_api_names_the_confirmation_it_needs(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    headers = await protocol_headers(client, sessions, clock)
    room = await client.post(
        "/api/v1/calendar/rooms",
        headers=headers,
        json={"branch": "riyadh", "name": "قاعة المجلس", "kind": "audience_hall", "capacity": 40},
    )
    body = {
        "name": "مجلس الفجر",
        "weekday": 0,
        "starts": "06:00",
        "ends": "07:00",
        "slot_minutes": 10,
        "mode": "in_person",
        "rooms": [(await room.json())["id"]],
    }
    refused = await client.post("/api/v1/calendar/templates", headers=headers, json=body)
    assert refused.status == 422
    assert [f["field"] for f in (await refused.json())["fields"]] == ["outside_hours_confirmed"]
    assert await _count(sessions, SessionTemplate) == 0
    extra = {**{k: v for k, v in body.items() if k not in ("name", "weekday")}, "day": "2026-12-02"}
    refused = await client.post("/api/v1/calendar/sessions", headers=headers, json=extra)
    assert refused.status == 422
    assert [f["field"] for f in (await refused.json())["fields"]] == ["outside_hours_confirmed"]
    saved = await client.post(
        "/api/v1/calendar/templates", headers=headers, json={**body, "outside_hours_confirmed": True}
    )
    assert saved.status == 201
    saved = await client.post(
        "/api/v1/calendar/sessions", headers=headers, json={**extra, "outside_hours_confirmed": True}
    )
    assert saved.status == 201
