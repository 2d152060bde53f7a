"""A video audience across two real `majlis serve` processes: the official's socket on one, the room's on the other.

Real aiortc peers on both sides do what the pages do (join, call, offer and answer, heartbeats saying whether
frames arrive): their offers and answers cross from one process to the other through PostgreSQL LISTEN/NOTIFY,
and frames flow both ways; an official's console on each process sees the call. Then the signalling home is
killed (SIGKILL): the other process becomes the home, the sides rejoin there, and the call is rebuilt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import timedelta

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from accounts.roles import Role
from majlis.clock import FrozenClock, SystemClock, riyadh
from majlis.db import transaction
from tests.conftest import TEST_SECRET
from tests.factories import make_staff
from tests.scale.conftest import ServedProcess, Start
from tests.scale.test_room_check_runs import sign_in
from tests.video.arrange import SUNDAY, token, video_audiences
from tests.video.test_aiortc_link import TOKENS, Side, kinds
from video import service as video

WAIT = 30.0
ENV = {"MAJLIS_JOBS_ENABLED": "false", "MAJLIS_SECRET_KEY": TEST_SECRET}

Sessions = async_sessionmaker[AsyncSession]


class Page(Side):
    """One side's page, its socket on the given process; its token valid for the next hour of real time."""

    def __init__(self, http: aiohttp.ClientSession, role: str, audience_id: int) -> None:
        super().__init__(http, role, audience_id)  # type: ignore[arg-type]  # ws_connect(path) alike
        self.token = token(TOKENS, audience_id, role, expires_at=SystemClock().now() + timedelta(hours=1))


async def eventually(check: object, what: str, wait: float = WAIT, logs: tuple[ServedProcess, ...] = ()) -> None:
    assert callable(check)
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            tails = "\n".join(p.log_text()[-3000:] for p in logs)
            raise AssertionError(f"waited {wait:.0f} s for {what}\n{tails}")
        await asyncio.sleep(0.05)


async def move_to_today(sessions: Sessions) -> None:
    """The arranged audiences are on a Sunday of the test clock; the served processes live in real time."""
    days = (riyadh(SystemClock().now()).date() - SUNDAY.date()).days
    shift = "make_interval(days => CAST(:days AS integer))"
    async with transaction(sessions) as session:
        await session.execute(
            text(
                f"UPDATE audience_sessions SET day = day + CAST(:days AS integer), starts_at = starts_at + {shift},"
                f" ends_at = ends_at + {shift}"
            ),
            {"days": days},
        )
        await session.execute(
            text(f"UPDATE slots SET starts_at = starts_at + {shift}, ends_at = ends_at + {shift}"), {"days": days}
        )


class Console:
    """An official's console socket on one process: the latest state it was told of each audience."""

    def __init__(self) -> None:
        self.states: dict[int, str] = {}
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self, http: aiohttp.ClientSession, base: str) -> None:
        self.socket = await http.ws_connect(base + "/ws/consoles")
        self.reader = asyncio.create_task(self._read(self.socket))

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in socket:
            message = json.loads(frame.data)
            if message["type"] == "queue":
                self.states.update({a["audience_id"]: a["state"] for a in message["audiences"]})

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def recorded(sessions: Sessions, audience_id: int) -> list[str]:
    async with sessions() as session:
        return [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]


async def test_official_on_one_process_and_room_on_the_other_connect_and_survive_the_home_dying(
    majlis_processes: Start, sessions: Sessions, clock: FrozenClock
) -> None:
    [audience_id, _other] = await video_audiences(sessions, clock)
    await move_to_today(sessions)
    await make_staff(sessions, clock, Role.OFFICIAL, "official")
    first, second = await majlis_processes(count=2, env=ENV)
    logs = (first, second)
    consoles = [Console(), Console()]
    async with (
        aiohttp.ClientSession(base_url=first.url) as on_first,
        aiohttp.ClientSession(base_url=second.url) as on_second,
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as staff,
    ):
        official = Page(on_first, "official", audience_id)
        room = Page(on_second, "room", audience_id)
        try:
            # One signed-in browser, a console on each process (cookies are the host's, as behind a proxy).
            await sign_in(staff, first.url, "official", sessions)
            for console, process in zip(consoles, (first, second), strict=True):
                await console.open(staff, process.url)
            await eventually(lambda: all(c.states.get(audience_id) for c in consoles), "the consoles' queue", logs=logs)
            await room.open()
            await room.send("state", room_state="present")
            await official.open()
            assert any(m["type"] == "joined" and m["peer_present"] for m in official.received)
            await eventually(lambda: "peer_joined" in kinds(room), "the room hears the official", logs=logs)
            await official.send("call")
            await eventually(lambda: "call" in kinds(room), "the room is called", logs=logs)
            await official.new_connection()
            await official.offer()
            await eventually(lambda: official.frames > 30 and room.frames > 30, "frames both ways", logs=logs)
            deadline = time.monotonic() + WAIT
            while "connected" not in await recorded(sessions, audience_id):
                assert time.monotonic() < deadline, "waited for the record of the connection"
                await asyncio.sleep(0.1)
            await eventually(
                lambda: all(c.states.get(audience_id) == "in_call" for c in consoles),
                "both consoles show the call",
                logs=logs,
            )

            # The signalling home is killed: the other process takes over, closing its sockets (the dead one's
            # closed with it); each page opens a new socket (here: both on the survivor) and rejoins.
            [home] = [p for p in (first, second) if "is the signalling home" in p.log_text()]
            survivor = second if home is first else first
            home.kill()
            both_closed = [p.ws for p in (official, room)]
            await eventually(
                lambda: all(ws is not None and ws.closed for ws in both_closed), "sockets closed", logs=logs
            )
            await official.drop()
            await room.drop()
            on_survivor = on_second if survivor is second else on_first
            official = Page(on_survivor, "official", audience_id)
            room = Page(on_survivor, "room", audience_id)
            await eventually_open(room, logs)
            await eventually_open(official, logs)
            await eventually(lambda: "reconnect" in kinds(official), "the rebuild is asked for", logs=logs)
            await eventually(lambda: official.frames > 30 and room.frames > 30, "frames again", logs=(survivor,))
            await official.send("end", reason="done")
            await eventually(lambda: "ended" in kinds(room), "the room hears the end", logs=(survivor,))
        finally:
            await official.close()
            await room.close()
            for console in consoles:
                await console.close()
    events = await recorded(sessions, audience_id)
    assert events[:2] == ["started", "connected"] and events[-1] == "ended", events
    assert "reconnecting" in events and "reconnected" in events, events


async def eventually_open(page: Page, logs: tuple[ServedProcess, ...]) -> None:
    """Opens the page's socket; while the new home is being chosen a join may go unanswered: tried again."""
    deadline = time.monotonic() + WAIT
    while True:
        page.received.clear()
        with contextlib.suppress(AssertionError, TimeoutError):
            await asyncio.wait_for(page.open(), 3.0)
            return
        with contextlib.suppress(Exception):
            await page.drop()
        if time.monotonic() > deadline:
            raise AssertionError("could not rejoin:\n" + "\n".join(p.log_text()[-3000:] for p in logs))
