"""A room's pre-call check across two real `majlis serve` processes: started on one, its status polled on the other.

The room's browser is a real aiortc peer sending a face and a tone. Its cookies go to whichever process it asks
(one cookie jar for both, as a browser behind a load balancer), so the other process must answer the poll from
the database: running first, then the verdict; and a second check of the room, offered to the other process,
is refused while the first runs.
"""

from __future__ import annotations

import asyncio
import re
import time

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from accounts import sessions as staff_sessions
from accounts.roles import Role
from majlis.clock import SystemClock
from majlis.db import transaction
from tests.factories import PASSWORD, make_staff
from tests.rooms.test_rooms import add_room
from tests.scale.conftest import Start
from tests.video.test_room_check import face_picture, room_offer
from web.security import SESSION_COOKIE

WAIT = 30.0
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
# No jobs: this test is about the check; a short window keeps it quick.
ENV = {"MAJLIS_JOBS_ENABLED": "false", "MAJLIS_VIDEO_CHECK_SECONDS": "2"}

Sessions = async_sessionmaker[AsyncSession]


async def csrf_token(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as page:
        assert page.status == 200, url
        match = _CSRF.search(await page.text())
    assert match, f"no CSRF token on {url}"
    return match.group(1)


async def sign_in(http: aiohttp.ClientSession, base: str, username: str, sessions: Sessions) -> None:
    """Signs in on `base`; a second factor asked for is marked passed in the database (tests/e2e go through it)."""
    token = await csrf_token(http, base + "/login")
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    async with http.post(base + "/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303, await answer.text()
        location = answer.headers["Location"]
    if location.startswith(("/login/code", "/login/enrol")):
        cookie = http.cookie_jar.filter_cookies(URL(base)).get(SESSION_COOKIE)
        assert cookie is not None
        async with transaction(sessions) as session:
            await staff_sessions.verify_session(
                session=session, clock=SystemClock(), token=cookie.value, max_per_user=None
            )


async def test_a_check_started_on_one_process_is_polled_on_the_other(
    majlis_processes: Start, sessions: Sessions
) -> None:
    clock = SystemClock()
    room = await add_room(sessions, clock)  # type: ignore[arg-type]
    await make_staff(sessions, clock, Role.WOMEN_SECTION, "women")
    first, second = await majlis_processes(count=2, env=ENV)
    # One browser: cookies are the host's, whatever the port, as behind a proxy.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await sign_in(http, first.url, "women", sessions)
        token = await csrf_token(http, f"{first.url}/rooms/{room.id}/console")
        headers = {"X-CSRF-Token": token}
        peer = RTCPeerConnection()
        other = RTCPeerConnection()
        try:
            offer = await room_offer(peer, picture=face_picture())
            async with http.post(f"{first.url}/rooms/{room.id}/check", json={"sdp": offer}, headers=headers) as post:
                assert post.status == 200, (await post.text(), first.log_text()[-3000:])
                answer = await post.json()
            poll = f"{second.url}/rooms/{room.id}/checks/{answer['check_id']}"
            async with http.get(poll) as running:
                assert running.status == 200, second.log_text()[-3000:]
                assert await running.json() == {"check_id": answer["check_id"], "state": "running"}
            # The room is being checked on the first process: the second refuses another check of it.
            again = await room_offer(other, picture=face_picture())
            async with http.post(f"{second.url}/rooms/{room.id}/check", json={"sdp": again}, headers=headers) as busy:
                assert busy.status == 409 and (await busy.json())["error"] == "room_busy"
            await peer.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
            deadline = time.monotonic() + WAIT
            while True:
                async with http.get(poll) as polled:
                    assert polled.status == 200, await polled.text()
                    result = await polled.json()
                if result["state"] != "running":
                    break
                assert time.monotonic() < deadline, f"the check ran for more than {WAIT:.0f} s"
                await asyncio.sleep(0.2)
        finally:
            await peer.close()
            await other.close()
        assert result["state"] == "done" and result["passed"] is True, result
        assert result["measures"]["width"] == 640
        # Both processes give the same verdict, by the check's id and by the stored record's number.
        async with http.get(f"{first.url}/rooms/{room.id}/checks/{answer['check_id']}") as on_first:
            assert await on_first.json() == result
        async with http.get(f"{second.url}/rooms/{room.id}/checks/{result['record_id']}") as by_record:
            assert await by_record.json() == result
