"""Protocol renames a room on the rooms page (POST, then 303 with a notice) and over JSON, on both databases;
a refused name shows the rooms again with the error beside the field and nothing saved."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.models import AuditEntry
from accounts.roles import Role
from majlis.clock import FrozenClock
from rooms.models import Room
from tests.factories import Client, csrf_token, make_staff, sign_in
from tests.rooms.test_rooms import add_room
from tests.web.test_calendar_api import protocol_headers

Sessions = async_sessionmaker[AsyncSession]
HALL = "قاعة المجلس"
OTHER = "غرفة الاتصال المرئي ١"


async def _names(sessions: Sessions, room_id: int) -> tuple[str, str]:
    async with sessions() as session:
        room = await session.get_one(Room, room_id)
        return room.name, room.name_en


async def test_protocol_renames_a_room_on_the_rooms_page(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    room = await add_room(sessions, clock, name=HALL, kind="audience_hall", capacity="40")
    await add_room(sessions, clock, name=OTHER)
    await make_staff(sessions, clock, Role.PROTOCOL, "protocol")
    await sign_in(client, "protocol")
    token = await csrf_token(client, "/protocol/rooms")
    page = await (await client.get("/protocol/rooms")).text()
    assert f'action="/protocol/rooms/{room.id}/name"' in page and f'id="name_en-{room.id}"' in page

    # Refused: the other room's name and a too long English name, each beside its field; nothing saved.
    refused = await client.post(
        f"/protocol/rooms/{room.id}/name",
        data={"csrf_token": token, "name": OTHER, "name_en": "x" * 121},
        allow_redirects=False,
    )
    page = await refused.text()
    assert refused.status == 422
    assert page.count('<details class="rename" open>') == 1  # the refused form alone is shown open
    assert re.search(rf'id="name-{room.id}-error" role="alert">[^<]+</p>', page)
    assert re.search(rf'id="name_en-{room.id}-error" role="alert">[^<]+</p>', page)
    assert f'value="{"x" * 121}"' in page  # what was typed stays in the field
    assert await _names(sessions, room.id) == (HALL, "")

    saved = await client.post(
        f"/protocol/rooms/{room.id}/name",
        data={"csrf_token": token, "name": HALL, "name_en": " Majlis  hall "},
        allow_redirects=False,
    )
    assert saved.status == 303 and saved.headers["Location"] == "/protocol/rooms"
    assert await _names(sessions, room.id) == (HALL, "Majlis hall")
    english = await (await client.get("/protocol/rooms", headers={"Accept-Language": "en"})).text()
    assert 'class="notice notice-done" role="status"' in english and "Majlis hall" in english
    again = await (await client.get("/protocol/rooms")).text()
    assert "notice-done" not in again  # shown once

    missing = await client.post("/protocol/rooms/9999/name", data={"csrf_token": token, "name": HALL})
    assert missing.status == 404


async def test_other_roles_cannot_rename_a_room(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock, name=HALL, kind="audience_hall", capacity="40")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "huda")
    await sign_in(client, "huda")
    token = await csrf_token(client, f"/protocol/rooms/{room.id}")
    response = await client.post(f"/protocol/rooms/{room.id}/name", data={"csrf_token": token, "name": "x"})
    assert response.status == 403 and await _names(sessions, room.id) == (HALL, "")


async def test_a_room_is_renamed_over_json(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    room = await add_room(sessions, clock, name=HALL, kind="audience_hall", capacity="40")
    await add_room(sessions, clock, name=OTHER)
    headers = await protocol_headers(client, sessions, clock)
    path = f"/api/v1/calendar/rooms/{room.id}/name"

    taken = await client.post(path, headers=headers, json={"name": OTHER, "name_en": "Hall"})
    body = await taken.json()
    assert taken.status == 422 and [(f["field"], f["code"]) for f in body["fields"]] == [("name", "taken")]
    assert set(body["fields"][0]["messages"]) == {"ar", "en"}
    assert (await client.post("/api/v1/calendar/rooms/9999/name", headers=headers, json={"name": HALL})).status == 404

    renamed = await client.post(path, headers=headers, json={"name": HALL, "name_en": "Majlis hall"})
    assert renamed.status == 200 and (await renamed.json())["name_en"] == "Majlis hall"
    listed = await (await client.get("/api/v1/calendar/rooms")).json()
    assert {(r["name"], r["name_en"]) for r in listed} == {(HALL, "Majlis hall"), (OTHER, "")}
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == str(room.id))))
    assert actions.count("room.rename") == 1
