"""Two real aiortc peers, the room and the official, linked through the real `/ws/video` endpoint.

They do what the pages do: the official calls and offers, the room answers, both
send heartbeats saying whether frames arrive, and on `reconnect` each builds a
new peer connection (aiortc has no ICE restart). aiortc puts its candidates in
the SDP (no trickle ICE) and gathers host candidates only: loopback is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from fractions import Fraction
from typing import Any

import av
import numpy as np
from aiohttp import ClientWebSocketResponse, WSMsgType, web
from aiohttp.test_utils import TestClient
from aiortc import (
    MediaStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from majlis.clock import FrozenClock
from tests.conftest import TEST_SECRET
from tests.video.arrange import token, video_audiences
from video import service as video
from video.models import VideoState
from video.tokens import VideoTokens

Sessions = async_sessionmaker[AsyncSession]
Client = TestClient[web.Request, web.Application]
TOKENS = VideoTokens(secret=TEST_SECRET)
WAIT = 20.0  # seconds; every wait below is bounded by it


class SmallPicture(VideoStreamTrack):
    """A 160×120 picture whose shade changes every frame: cheap to encode, and really moving."""

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self._count += 1
        picture = np.full((120, 160, 3), self._count % 256, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts, frame.time_base = pts, Fraction(time_base)
        return frame


async def eventually(check: Callable[[], bool], what: str, wait: float = WAIT) -> None:
    deadline = time.monotonic() + wait
    while not check():
        assert time.monotonic() < deadline, f"waited {wait:.0f} s for {what}"
        await asyncio.sleep(0.05)


class Side:
    """One side's page: its WebSocket, its current peer connection and the frames it has received."""

    def __init__(self, client: Client, role: str, audience_id: int) -> None:
        self.client = client
        self.role = role
        self.token = token(TOKENS, audience_id, role)
        self.frames = 0
        self.last_frame_at = 0.0
        self.received: list[dict[str, Any]] = []
        self.pc: RTCPeerConnection | None = None
        self.ws: ClientWebSocketResponse | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, kind: str, **fields: object) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps({"type": kind, "token": self.token, **fields}))

    async def open(self) -> None:
        self.ws = await self.client.ws_connect("/ws/video")
        self._spawn(self._read(self.ws))
        await self.send("join")
        await eventually(lambda: any(m["type"] == "joined" for m in self.received), f"{self.role} joined")
        self._spawn(self._beat(self.ws))

    def media(self) -> bool:
        return asyncio.get_running_loop().time() - self.last_frame_at < 1.0

    async def _beat(self, ws: ClientWebSocketResponse) -> None:
        while not ws.closed:
            with contextlib.suppress(ConnectionError):
                await self.send("heartbeat", media=self.media())
            await asyncio.sleep(0.5)

    async def _read(self, ws: ClientWebSocketResponse) -> None:
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            self.received.append(message)
            if message["type"] == "reconnect":
                await self.new_connection()
                if self.role == "official":
                    await self.offer()
            elif message["type"] == "offer":
                await self.new_connection()
                assert self.pc is not None
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="offer"))
                await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self.send("answer", sdp=self.pc.localDescription.sdp)
            elif message["type"] == "answer" and self.pc is not None:
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=message["sdp"], type="answer"))

    async def new_connection(self) -> None:
        await self.close_connection()
        pc = RTCPeerConnection()
        pc.addTrack(SmallPicture())  # a closed sender stops its track: each connection has its own

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._spawn(self._count(track))

        self.pc = pc

    async def _count(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                self.frames += 1
                self.last_frame_at = asyncio.get_running_loop().time()

    async def offer(self) -> None:
        assert self.pc is not None
        await self.pc.setLocalDescription(await self.pc.createOffer())  # gathers every candidate into the SDP
        await self.send("offer", sdp=self.pc.localDescription.sdp)

    async def close_connection(self) -> None:
        if self.pc is not None:
            pc, self.pc = self.pc, None
            await pc.close()

    async def drop(self) -> None:
        """The page goes away: its peer connection and its WebSocket close."""
        await self.close_connection()
        if self.ws is not None:
            await self.ws.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def close(self) -> None:
        await self.drop()


def kinds(side: Side) -> list[str]:
    return [m["type"] for m in side.received]


async def test_the_room_and_the_official_see_each_other_and_rebuild_after_a_drop(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    audience_id, _next = await video_audiences(sessions, clock)
    official = Side(client, "official", audience_id)
    room = Side(client, "room", audience_id)
    try:
        await room.open()
        await room.send("state", room_state="ready")
        await official.open()
        await official.send("call")
        await eventually(lambda: "call" in kinds(room), "the room is called")
        await official.new_connection()
        await official.offer()
        await eventually(lambda: official.frames > 30 and room.frames > 30, "frames both ways")

        # The room's page drops (peer connection and socket) and comes back: rebuilt through `reconnect`.
        await room.drop()
        await eventually(lambda: "peer_left" in kinds(official), "the official hears the room left")
        frames_before = official.frames
        room.received.clear()
        await room.open()
        await eventually(lambda: "reconnect" in kinds(room) and "reconnect" in kinds(official), "reconnect to both")
        await eventually(lambda: official.frames > frames_before + 30 and room.frames > 30, "frames again")

        async def recorded() -> list[str]:
            async with sessions() as session:
                return [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]

        deadline = time.monotonic() + WAIT
        while "reconnected" not in await recorded():
            assert time.monotonic() < deadline, "waited for the record of the reconnection"
            await asyncio.sleep(0.1)
        clock.advance(timedelta(minutes=9))  # the audience's length, on the record's clock
        await official.send("end", reason="done")
        await eventually(lambda: "ended" in kinds(room), "the room hears the end")
    finally:
        await official.close()
        await room.close()
    async with sessions() as session:
        audience = await video.get_audience(session=session, audience_id=audience_id)
        events = [e.kind.value for e in await video.events(session=session, audience_id=audience_id)]
    assert events == ["started", "connected", "reconnecting", "reconnected", "ended"]
    assert audience is not None and audience.state is VideoState.ENDED and audience.reconnections == 1
    assert audience.started_at is not None and audience.ended_at is not None and audience.ended_by == "official"
    assert audience.ended_at - audience.started_at == timedelta(minutes=9)
    assert audience.connected_seconds >= 1


async def test_a_wrong_token_is_refused_and_the_call_goes_on(
    client: Client, sessions: Sessions, clock: FrozenClock
) -> None:
    audience_id, other_id = await video_audiences(sessions, clock)
    official = Side(client, "official", audience_id)
    room = Side(client, "room", audience_id)
    try:
        await room.open()
        await official.open()
        await official.send("call")
        await official.new_connection()
        await official.offer()
        await eventually(lambda: official.frames > 10 and room.frames > 10, "frames both ways")
        forged = VideoTokens(secret="another-secret-that-is-long-enough-0123456789")
        intruder = await client.ws_connect("/ws/video")
        try:
            for bad in (
                token(forged, audience_id, "room"),
                token(TOKENS, other_id, "room") + "x",
            ):
                await intruder.send_str(json.dumps({"type": "join", "token": bad}))
                answer = await asyncio.wait_for(intruder.receive_json(), WAIT)
                assert answer["type"] == "error" and answer["code"] == "token_invalid"
            # Joined to another audience, it cannot speak into this one.
            await intruder.send_str(json.dumps({"type": "join", "token": token(TOKENS, other_id, "room")}))
            assert (await asyncio.wait_for(intruder.receive_json(), WAIT))["type"] == "joined"
            sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
            await intruder.send_str(json.dumps({"type": "offer", "token": room.token, "sdp": sdp}))
            assert (await asyncio.wait_for(intruder.receive_json(), WAIT))["code"] == "wrong_audience"
        finally:
            await intruder.close()
        frames = room.frames
        await eventually(lambda: room.frames > frames + 10, "the call goes on")
        assert "error" not in kinds(room) and "error" not in kinds(official)
    finally:
        await official.close()
        await room.close()
