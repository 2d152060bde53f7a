"""`/ws/consoles`: staff only; every open console gets a snapshot, then the rooms' states as they change."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from aiohttp import (
    ClientSession,
    ClientWebSocketResponse,
    CookieJar,
    WSCloseCode,
    WSMsgType,
    WSServerHandshakeError,
    web,
)
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts import account_changes
from accounts import service as accounts
from accounts.roles import Role
from majlis.clock import FrozenClock
from majlis.db import transaction
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_staff, sign_in
from tests.video.arrange import token, video_audiences
from video.tokens import VideoTokens
from web import video_ws

Sessions = async_sessionmaker[AsyncSession]
Client = TestClient[web.Request, web.Application]
TOKENS = VideoTokens(secret=TEST_SECRET)
WAIT = 10.0


async def rooms_update(socket: ClientWebSocketResponse, state: str) -> dict[str, Any]:
    """The next `rooms` message showing a room in `state` (bounded wait)."""
    async with asyncio.timeout(WAIT):
        while True:
            message = await socket.receive_json()
            if message["type"] == "rooms" and any(r["state"] == state for r in message["rooms"]):
                return dict(message)


async def test_every_console_sees_the_rooms_change(client: Client, sessions: Sessions, clock: FrozenClock) -> None:
    first, _second = await video_audiences(sessions, clock)
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "noura")
    await sign_in(client, "official")
    # A second browser, the room's staff, on the same server.
    other = ClientSession(cookie_jar=CookieJar(unsafe=True, treat_as_secure_origin=[str(client.make_url("/"))]))
    try:
        page = await other.get(client.make_url("/login"))
        match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', await page.text())
        assert match
        signed = await other.post(
            client.make_url("/login"),
            data={"username": "noura", "password": PASSWORD, "csrf_token": match.group(1)},
            allow_redirects=False,
        )
        assert signed.status == 303
        consoles = [await client.ws_connect("/ws/consoles"), await other.ws_connect(client.make_url("/ws/consoles"))]
        for console in consoles:
            snapshot = [await asyncio.wait_for(console.receive_json(), WAIT) for _ in range(2)]
            assert [m["type"] for m in snapshot] == ["rooms", "queue"]
            assert snapshot[0]["rooms"][0]["state"] == "offline" and snapshot[0]["rooms"][0]["audience_id"] == first
            assert snapshot[1]["audiences"][0]["audience_id"] == first
        room = await client.ws_connect("/ws/video")
        await room.send_str(json.dumps({"type": "join", "token": token(TOKENS, first, "room")}))
        await room.send_str(json.dumps({"type": "state", "token": token(TOKENS, first, "room"), "room_state": "ready"}))
        for console in consoles:
            update = await rooms_update(console, "ready")
            assert update["rooms"][0]["audience_id"] == first
        await room.close()
        for console in consoles:
            await rooms_update(console, "offline")
            await console.close()
    finally:
        await other.close()


async def test_consoles_are_for_staff_of_the_video_audiences(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    await make_staff(sessions, clock, Role.AUDIT_DESK, "auditor")
    anonymous = await client.get("/ws/consoles", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/login")
    await sign_in(client, "auditor")
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/consoles")
    assert refused.value.status == 403


async def test_a_console_closes_once_its_account_is_deactivated(
    client: Client, sessions: Sessions, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(video_ws, "CONSOLE_SESSION_RECHECK_SECONDS", 0.05)
    await make_staff(sessions, clock, Role.ADMINISTRATOR, "admin")
    official = await make_staff(sessions, clock, Role.OFFICIAL, "official")
    await sign_in(client, "official")
    console = await client.ws_connect("/ws/consoles")
    await asyncio.sleep(0.3)  # several checks while the session still signs him in: the console stays open
    assert not console.closed
    async with transaction(sessions) as session:
        admin = await accounts.user_by_username(session=session, username="admin")
        assert admin is not None
        await account_changes.set_active(
            session=session, clock=clock, actor_id=admin.id, user_id=official.id, active=False
        )
    async with asyncio.timeout(WAIT):
        while (await console.receive()).type not in (WSMsgType.CLOSE, WSMsgType.CLOSED):
            pass
    assert console.close_code == WSCloseCode.POLICY_VIOLATION
