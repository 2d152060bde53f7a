"""Video signalling benchmark: concurrent audiences on one `/ws/video` server, beside a bare WebSocket echo.

    .venv/bin/python -m bench.video_signalling [--levels 250,500,1000,2000] [--seconds 10]
                                               [--targets bare,majlis,across] [--sdp-bytes 5500]

Each audience is two WebSockets, the official and the room, doing what the pages
do: join, the official's call, an offer of a browser's size relayed to the room,
the answer relayed back, then a heartbeat from each side every 2 s. The load grows level by level
(the audiences of a level stay open into the next) and at each level the
heartbeats are timed for `--seconds`. A message's latency is from its send to
the answer it causes: `joined`, the call, the relayed offer or answer arriving at
the other side, `heartbeat_ack`. A level holds when no message failed and the p99 is
under 50 ms.

Every server runs in a process of its own (this module with --bare-server or
--majlis-server); this process only makes the load. The reference, a bare
aiohttp handler that echoes every frame, shows what the machine and the load
generator cost by themselves. The Majlis server is the real app (create_app:
middleware, the hub, token checks on every message) on a SQLite database seeded
with one video audience per pair. `across` is two Majlis processes on one PostgreSQL database: every official's
socket on the first (the signalling home, started first), every room's on the second, so each room's message
crosses processes through LISTEN/NOTIFY on its way to the hub and back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from tests.postgres_server import PostgresServer, free_port

TARGETS = ("bare", "majlis", "across")
LABELS = {
    "bare": "bare aiohttp WebSocket echo",
    "majlis": "Majlis /ws/video (hub, tokens, SQLite record)",
    "across": "Majlis across 2 processes (PostgreSQL; officials on one, rooms on the other)",
}
SECRET = secrets.token_hex(32)  # the server gets it on its command line
HEARTBEAT_SECONDS = 2.0
P99_LIMIT_MS = 50.0
READY_SECONDS = 60.0
ANSWER_TIMEOUT_SECONDS = 10.0
# Opened and closed before the first level, not counted: the server's first queries and connections.
WARMUP_AUDIENCES = 20
# Audiences opening at the same moment: pages join as staff open them, not all in one instant.
OPENING_AT_ONCE = 10


def browser_sdp(kind: str, size: int) -> str:
    """An SDP shaped like a browser's (audio and video, many codecs, candidates), about `size` bytes."""
    lines = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS stream",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:Xk3f",
        "a=ice-pwd:0123456789abcdefghijklmn",
        "a=fingerprint:sha-256 " + ":".join(f"{i:02X}" for i in range(32)),
        f"a=setup:{'actpass' if kind == 'offer' else 'active'}",
        "a=mid:0",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 100 101 102 103 104 105 106 107",
        "c=IN IP4 0.0.0.0",
        "a=mid:1",
    ]
    payload = 96
    while sum(len(line) + 2 for line in lines) < size:
        lines.append(f"a=rtpmap:{payload} VP8/90000")
        lines.append(f"a=rtcp-fb:{payload} goog-remb")
        lines.append(f"a=rtcp-fb:{payload} transport-cc")
        lines.append(f"a=fmtp:{payload + 1} apt={payload}")
        lines.append(f"a=candidate:{payload} 1 udp 2122260223 192.168.1.{payload % 250} {50000 + payload} typ host")
        payload += 1
    return "\r\n".join(lines) + "\r\n"


# --- servers -------------------------------------------------------------------------------


async def _echo(request: web.Request) -> web.WebSocketResponse:
    socket = web.WebSocketResponse(max_msg_size=1024 * 1024)
    await socket.prepare(request)
    async for message in socket:
        if message.type is aiohttp.WSMsgType.TEXT:
            await socket.send_str(message.data)
    return socket


def run_bare_server(port: int) -> None:
    app = web.Application()
    app.router.add_get("/ws/video", _echo)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _seed(database_url: str, count: int) -> None:
    """`count` video audiences on one slot of today's video session (ids 1…count), by bulk inserts."""
    from sqlalchemy import inspect

    from cases import service as cases
    from cases.models import Case
    from majlis import migrate
    from majlis.clock import SystemClock
    from majlis.db import create_engine, session_factory, transaction
    from rooms import service as rooms
    from rooms.models import RoomKind
    from scheduler.models import Appointment, AppointmentState, AudienceMode, AudienceSession, SessionState, Slot
    from tests.factories import details
    from video.models import VideoAudience, VideoState

    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    sessions = session_factory(engine)
    clock = SystemClock()
    now = clock.now()
    async with transaction(sessions) as session:
        room = await rooms.add_room(
            session=session,
            clock=clock,
            actor_id=None,
            branch="riyadh",
            name="غرفة الاتصال المرئي",
            kind=RoomKind.WOMEN_VIDEO.value,
            capacity="2",
            wheelchair_access=True,
            equipment="شاشة",
        )
        base = (await cases.submit(session=session, clock=clock, details=details(), status_url="http://x/")).case
        columns = [c.key for c in inspect(Case).column_attrs if c.key not in ("id", "tracking_number")]
        audience = AudienceSession(
            template_id=None,
            day=now.date(),
            starts_at=now,
            ends_at=now + timedelta(hours=8),
            mode=AudienceMode.VIDEO,
            state=SessionState.PLANNED,
            locked=False,
            cancelled_for_holiday=False,
            note="",
        )
        session.add(audience)
        await session.flush()
        slot = Slot(
            session_id=audience.id, room_id=room.id, starts_at=now, ends_at=now + timedelta(hours=8), capacity=count
        )
        session.add(slot)
        await session.flush()
        for i in range(count):
            case = Case(**{c: getattr(base, c) for c in columns}, tracking_number=f"B{i:08d}")
            session.add(case)
            await session.flush()
            appointment = Appointment(
                case_id=case.id,
                slot_id=slot.id,
                seat=i,
                state=AppointmentState.SCHEDULED,
                placed_at=now,
                placed_by_id=None,
                explanation="",
                sequence=0,
                release_reason="",
            )
            session.add(appointment)
            await session.flush()
            session.add(
                VideoAudience(
                    id=i + 1,
                    appointment_id=appointment.id,
                    case_id=case.id,
                    room_id=room.id,
                    state=VideoState.WAITING,
                    reconnections=0,
                    connected_seconds=0,
                    directive="",
                )
            )
    await engine.dispose()


def run_majlis_server(port: int, database_url: str, count: int, secret: str) -> None:
    import logging

    from majlis.app import create_app
    from majlis.settings import load_settings

    logging.basicConfig(level=logging.WARNING)
    if count:  # the second process of `across` shares the first's database
        asyncio.run(_seed(database_url, count))
    settings = load_settings(
        {},
        environment="production",
        emergency_consular_deputy_email="deputy@mofa.example.sa",
        emergency_consular_deputy_phone="+966501234567",
        secret_key=secret,
        database_url=database_url,
        jobs_enabled=False,
        notify_backend="null",
        public_url="https://majlis.example.sa",
    )
    web.run_app(create_app(settings), host="127.0.0.1", port=port, print=None, access_log=None)


# --- load ---------------------------------------------------------------------------------


@dataclass
class Level:
    audiences: int
    latencies_ms: list[float] = field(default_factory=list)
    join_ms: list[float] = field(default_factory=list)
    # Offers and answers, relayed to the other side.
    setup_ms: list[float] = field(default_factory=list)
    failures: int = 0

    def p(self, q: float, values: list[float] | None = None) -> float:
        data = sorted(self.latencies_ms if values is None else values)
        if not data:
            return math.nan
        return data[min(len(data) - 1, math.ceil(q * len(data)) - 1)]

    @property
    def holds(self) -> bool:
        everything = self.latencies_ms + self.join_ms + self.setup_ms
        return self.failures == 0 and bool(everything) and self.p(0.99, everything) < P99_LIMIT_MS


class Side:
    """One WebSocket of one audience: sends, and matches each answer to the send that caused it."""

    def __init__(self, target: str, role: str, token: str) -> None:
        self.target = target
        self.role = role
        self.token = token
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.waiting: dict[str, list[asyncio.Future[float]]] = {}
        self.reader: asyncio.Task[None] | None = None

    def expect(self, kind: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(kind, []).append(future)
        return future

    async def read(self) -> None:
        assert self.socket is not None
        async for message in self.socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            kind = json.loads(message.data)["type"]
            queue = self.waiting.get(kind)
            if queue:
                future = queue.pop(0)
                if not future.done():
                    future.set_result(time.perf_counter())
        for queue in self.waiting.values():
            for future in queue:
                if not future.done():
                    future.set_exception(ConnectionError("closed"))

    async def send(self, kind: str, **fields: object) -> float:
        assert self.socket is not None
        started = time.perf_counter()
        await self.socket.send_str(json.dumps({"type": kind, "token": self.token, **fields}))
        return started


async def timed(side: Side, answer_side: Side, kind: str, answer: str, **fields: object) -> float:
    """Sends a message and waits for the answer it causes; the latency in milliseconds."""
    # The echo answers the sender with the same message.
    waiter = side.expect(kind) if side.target == "bare" else answer_side.expect(answer)
    started = await side.send(kind, **fields)
    arrived = await asyncio.wait_for(waiter, ANSWER_TIMEOUT_SECONDS)
    return (arrived - started) * 1000


class Audience:
    def __init__(self, target: str, number: int, tokens: tuple[str, str]) -> None:
        self.official = Side(target, "official", tokens[0])
        self.room = Side(target, "room", tokens[1])
        self.beats: list[asyncio.Task[None]] = []

    async def open(
        self, http: aiohttp.ClientSession, urls: tuple[str, str], level: Level, offer: str, answer: str
    ) -> None:
        for side, url in ((self.official, urls[0]), (self.room, urls[1])):
            side.socket = await http.ws_connect(url, max_msg_size=1024 * 1024, heartbeat=None)
            side.reader = asyncio.create_task(side.read())
            level.join_ms.append(await timed(side, side, "join", "joined"))
        # As the official's page does: the call first (the hub refuses an offer before an accepted call).
        level.setup_ms.append(await timed(self.official, self.room, "call", "call"))
        level.setup_ms.append(await timed(self.official, self.room, "offer", "offer", sdp=offer))
        level.setup_ms.append(await timed(self.room, self.official, "answer", "answer", sdp=answer))

    def start_heartbeats(self, sink: list[Level]) -> None:
        for side in (self.official, self.room):
            self.beats.append(asyncio.create_task(self._beat(side, sink)))

    async def _beat(self, side: Side, sink: list[Level]) -> None:
        await asyncio.sleep(random.uniform(0, HEARTBEAT_SECONDS))
        while True:
            level = sink[0]
            try:
                level.latencies_ms.append(await timed(side, side, "heartbeat", "heartbeat_ack", media=True))
            except (TimeoutError, ConnectionError):
                level.failures += 1
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def close(self) -> None:
        tasks = [*self.beats, *(s.reader for s in (self.official, self.room) if s.reader is not None)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for side in (self.official, self.room):
            if side.socket is not None:
                # A server too busy to answer the closing handshake must not hold up the report.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(side.socket.close(), 5)


def tokens_for(count: int) -> list[tuple[str, str]]:
    from video.tokens import VideoGrant, VideoTokens

    maker = VideoTokens(secret=SECRET)
    expires = datetime.now(UTC) + timedelta(days=1)
    return [
        (
            maker.token(VideoGrant(audience_id=i, role="official", expires_at=expires)),
            maker.token(VideoGrant(audience_id=i, role="room", expires_at=expires)),
        )
        for i in range(1, count + 1)
    ]


async def wait_ready(url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                socket = await http.ws_connect(url)
                await socket.close()
                return
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def load(
    target: str, urls: tuple[str, str], levels: list[int], seconds: float, sdp_bytes: int, keep_going: bool = False
) -> list[Level]:
    offer, answer = browser_sdp("offer", sdp_bytes), browser_sdp("answer", int(sdp_bytes * 0.7))
    tokens = tokens_for(max(levels) + WARMUP_AUDIENCES)
    done: list[Level] = []
    sink = [Level(0)]  # where heartbeats are counted now
    audiences: list[Audience] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        try:
            warmup = [Audience(target, n, tokens[n]) for n in range(max(levels), max(levels) + WARMUP_AUDIENCES)]
            for audience in warmup:
                await audience.open(http, urls, Level(0), offer, answer)
            await asyncio.gather(*(a.close() for a in warmup))
            for size in levels:
                level = Level(size)
                done.append(level)
                sink[0] = Level(size)  # heartbeats while this level opens: not counted
                gate = asyncio.Semaphore(OPENING_AT_ONCE)

                async def open_one(number: int, level: Level = level, gate: asyncio.Semaphore = gate) -> None:
                    audience = Audience(target, number, tokens[number])
                    audiences.append(audience)
                    async with gate:
                        try:
                            await audience.open(http, urls, level, offer, answer)
                        except (TimeoutError, aiohttp.ClientError, ConnectionError):
                            level.failures += 1
                            return
                    audience.start_heartbeats(sink)

                await asyncio.gather(*(open_one(n) for n in range(len(audiences), size)))
                await asyncio.sleep(HEARTBEAT_SECONDS)  # every side beating before the timed window
                sink[0] = level
                await asyncio.sleep(seconds)
                sink[0] = Level(size)
                print(
                    f"  {target}: {size} audiences, {len(level.latencies_ms)} heartbeats, "
                    f"p50 {level.p(0.5):.1f} ms, p99 {level.p(0.99):.1f} ms, "
                    f"join p99 {level.p(0.99, level.join_ms):.1f} ms, "
                    f"offer/answer p99 {level.p(0.99, level.setup_ms):.1f} ms, failures {level.failures}",
                    file=sys.stderr,
                )
                if not level.holds and not keep_going:
                    break
        finally:
            # Bounded: closing thousands of sockets has hung here (each close waits for the server's answer).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await asyncio.gather(*(a.close() for a in audiences), return_exceptions=True)
    return done


def start_server(target: str, port: int, database: str, count: int) -> subprocess.Popen[bytes]:
    kind = "bare" if target == "bare" else "majlis"
    command = [sys.executable, "-m", "bench.video_signalling", f"--{kind}-server", str(port)]
    if kind == "majlis":
        command += ["--database", database, "--count", str(count), "--secret", SECRET]
    return subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)


def run_target(
    target: str, levels: list[int], seconds: float, sdp_bytes: int, notes: list[str], keep_going: bool = False
) -> list[Level]:
    """Starts the target's servers (for `across`: a PostgreSQL server and two Majlis processes), loads them."""
    count = max(levels) + WARMUP_AUDIENCES
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = f"sqlite+aiosqlite:///{directory / 'majlis.db'}"
        if target == "across":
            postgres = PostgresServer()
            postgres.start()
            stack.callback(postgres.stop)
            database = postgres.url("postgres")
            notes.append("across: PostgreSQL (tests.postgres_server: fsync=off, synchronous_commit=off)")
        ports = [free_port() for _ in range(2 if target == "across" else 1)]
        urls = [f"http://127.0.0.1:{port}/ws/video" for port in ports]
        for index, port in enumerate(ports):
            # The first seeds the database and, started first, is the signalling home; the second joins it.
            server = start_server(target, port, database, count if index == 0 else 0)
            stack.callback(_stop, server)
            asyncio.run(wait_ready(urls[index]))
        return asyncio.run(load(target, (urls[0], urls[-1]), levels, seconds, sdp_bytes, keep_going))


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def table(results: dict[str, list[Level]]) -> str:
    rows = [
        "| server | audiences (sockets) | heartbeats timed | heartbeat p50 ms | heartbeat p99 ms | join p99 ms "
        "| offer/answer p99 ms | failures | all p99 < 50 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for target, levels in results.items():
        for level in levels:
            rows.append(
                f"| {LABELS[target]} | {level.audiences} ({2 * level.audiences}) | {len(level.latencies_ms)} | "
                f"{level.p(0.5):.1f} | {level.p(0.99):.1f} | {level.p(0.99, level.join_ms):.1f} | "
                f"{level.p(0.99, level.setup_ms):.1f} | "
                f"{level.failures} | {'yes' if level.holds else 'no'} |"
            )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="250,500,1000,2000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--sdp-bytes", type=int, default=5500)
    parser.add_argument("--keep-going", action="store_true", help="measure every level, even after one fails")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--majlis-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        run_bare_server(args.bare_server)
        return
    if args.majlis_server:
        run_majlis_server(args.majlis_server, args.database, args.count, args.secret)
        return
    levels = [int(n) for n in args.levels.split(",")]
    results: dict[str, list[Level]] = {}
    notes: list[str] = []
    for target in args.targets.split(","):
        results[target] = run_target(target, levels, args.seconds, args.sdp_bytes, notes, args.keep_going)
    print(*notes, sep="\n")
    print(
        f"{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"levels {args.levels}, {args.seconds:.0f} s of heartbeats per level, offers of {args.sdp_bytes} bytes\n"
    )
    print(table(results))


if __name__ == "__main__":
    main()
