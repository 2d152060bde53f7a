"""The pre-call check with a real aiortc client peer: the room's side sends pictures and a tone, the server judges.

No database here: `Done`, the checks' runs, collects their states and verdicts. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import AudioStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

from majlis.i18n import shipped_catalogs
from video.analysis import Verdict
from video.room_check import CheckRefused, RoomChecks, StartedCheck

FACE = Path(__file__).parent / "data" / "face.jpg"
WAIT = 30.0  # seconds; every wait below is bounded by it
SAMPLE_RATE = 48_000
Picture = npt.NDArray[np.uint8]


def face_picture() -> Picture:
    """The face photo on a 640×480 picture: what a room's camera shows with the applicant seated."""
    face = cv2.imread(str(FACE))
    assert face is not None, f"cannot read {FACE}"
    return np.asarray(cv2.resize(face, (640, 480), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


class Camera(VideoStreamTrack):
    """A picture that shakes by a few pixels each frame, as a held or breathing subject does (so it is not frozen)."""

    def __init__(self, picture: Picture) -> None:
        super().__init__()
        self._picture = picture
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self._count += 1
        shift = (-3, 0, 3, 0)[self._count % 4]
        frame = av.VideoFrame.from_ndarray(np.roll(self._picture, shift, axis=1), format="bgr24")
        frame.pts, frame.time_base = pts, Fraction(time_base)
        return frame


class Tone(AudioStreamTrack):
    """A 440 Hz sine peaking at −20 dBFS: 48 kHz, s16, mono, 20 ms frames in real time."""

    def __init__(self, amplitude: float = 0.1) -> None:
        super().__init__()
        self._amplitude = amplitude
        self._sent = 0
        self._began: float | None = None

    async def recv(self) -> av.AudioFrame:
        samples = SAMPLE_RATE // 50
        if self._began is None:
            self._began = time.monotonic()
        else:
            await asyncio.sleep(self._began + self._sent / SAMPLE_RATE - time.monotonic())
        t = (np.arange(samples) + self._sent) / SAMPLE_RATE
        wave = np.round(self._amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._sent
        frame.time_base = Fraction(1, SAMPLE_RATE)
        self._sent += samples
        return frame


@dataclass
class Done:
    """The checks' runs (video.room_check.CheckRuns) in memory: each check's state and verdict, by check id."""

    verdicts: dict[str, Verdict] = field(default_factory=dict)
    by: dict[str, int | None] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def started(self, *, check_id: str, room_id: int, by_id: int | None) -> None:
        self.states[check_id] = "running"

    async def done(self, *, room_id: int, check_id: str, by_id: int | None, verdict: Verdict) -> int | None:
        self.verdicts[check_id] = verdict
        self.by[check_id] = by_id
        self.states[check_id] = "done"
        self.arrived.set()
        return len(self.verdicts)

    async def failed(self, *, check_id: str) -> None:
        self.states[check_id] = "failed"

    async def wait_for(self, check_id: str) -> Verdict:
        async with asyncio.timeout(WAIT):
            while check_id not in self.verdicts:
                self.arrived.clear()
                await self.arrived.wait()
        return self.verdicts[check_id]


class PeerRecorder:
    """The server's peer connections as RoomChecks makes them, so a test can see they are closed."""

    def __init__(self) -> None:
        self.made: list[RTCPeerConnection] = []

    def __call__(self, configuration: RTCConfiguration) -> RTCPeerConnection:
        pc = RTCPeerConnection(configuration=configuration)
        self.made.append(pc)
        return pc


@pytest.fixture
def done() -> Done:
    return Done()


@pytest.fixture
def peers() -> PeerRecorder:
    return PeerRecorder()


@pytest.fixture
async def checks(done: Done, peers: PeerRecorder) -> AsyncIterator[RoomChecks]:
    room_checks = RoomChecks(runs=done, seconds=3.0, max_concurrent=2, connect_timeout=10.0, peer_factory=peers)
    yield room_checks
    await room_checks.close()


async def room_offer(pc: RTCPeerConnection, *, video: bool = True, audio: bool = True, picture: Picture) -> str:
    """What the room's page does: camera and microphone sendonly, every candidate gathered into the offer."""
    if video:
        pc.addTransceiver(Camera(picture), direction="sendonly")
    if audio:
        pc.addTransceiver(Tone(), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def run_check(checks: RoomChecks, done: Done, picture: Picture, room_id: int = 1) -> tuple[StartedCheck, Verdict]:
    room = RTCPeerConnection()
    try:
        started = await checks.start(room_id=room_id, offer_sdp=await room_offer(room, picture=picture), by_id=7)
        await room.setRemoteDescription(RTCSessionDescription(sdp=started.answer_sdp, type="answer"))
        return started, await done.wait_for(started.id)
    finally:
        await room.close()


def check_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("room-check-")]


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"waited {WAIT:.0f} s for {what}"
        await asyncio.sleep(0.05)


async def test_a_seated_face_in_a_lit_room_with_a_tone_passes(
    checks: RoomChecks, done: Done, peers: PeerRecorder
) -> None:
    started, verdict = await run_check(checks, done, face_picture())
    assert verdict.passed, (verdict.problems, verdict.measures)
    assert (verdict.measures["width"], verdict.measures["height"]) == (640, 480)
    fps = verdict.measures["fps"]
    assert isinstance(fps, float) and fps >= 15
    loud = verdict.measures["audio_loud_rms_dbfs"]
    assert isinstance(loud, float) and -26 < loud < -20  # a sine peaking at −20 dBFS has its RMS at −23
    assert verdict.snapshot_jpeg is not None and verdict.snapshot_jpeg.startswith(b"\xff\xd8")
    assert done.by[started.id] == 7
    assert done.states[started.id] == "done" and checks.get(started.id) is None  # no longer running here
    # Released: no task of the check left, the server's peer connection closed, the room free again.
    await until(lambda: not check_tasks(), "the check's tasks ended")
    assert [pc.connectionState for pc in peers.made] == ["closed"]
    assert checks.running() == 0


async def test_a_dark_room_is_too_dark(checks: RoomChecks, done: Done) -> None:
    dark = np.asarray(face_picture() * 0.15, dtype=np.uint8)
    _started, verdict = await run_check(checks, done, dark)
    assert not verdict.passed
    assert "too_dark" in verdict.problems
    assert "no_audio" not in verdict.problems and "no_video" not in verdict.problems


async def test_a_room_that_never_connects_gets_no_video_and_no_audio_in_bounded_time(
    done: Done, peers: PeerRecorder
) -> None:
    checks = RoomChecks(runs=done, seconds=1.0, max_concurrent=1, connect_timeout=1.0, peer_factory=peers)
    room = RTCPeerConnection()
    try:
        offer = await room_offer(room, picture=face_picture())
        started = await checks.start(room_id=1, offer_sdp=offer)
        # The room never takes the answer: nothing arrives; the server gives up after connect_timeout + seconds.
        begun = time.monotonic()
        verdict = await done.wait_for(started.id)
        assert time.monotonic() - begun < 5
        assert verdict.problems == ["no_video", "no_audio"] and not verdict.passed
        assert peers.made[0].connectionState == "closed"
    finally:
        await room.close()
        await checks.close()


def says_it_in_arabic(message: str) -> bool:
    """Whether the English message id has an Arabic translation in the shipped catalogs."""
    arabic = shipped_catalogs().gettext("ar", message)
    return bool(message) and arabic != message and any("\u0600" <= c <= "\u06ff" for c in arabic)


async def test_refusals_say_why_in_arabic_and_english(checks: RoomChecks, done: Done, peers: PeerRecorder) -> None:
    for bad in ("", "hello", "v=0\r\n", None, "v=0\r\n" + "a" * 70_000):
        with pytest.raises(CheckRefused) as refused:
            await checks.start(room_id=1, offer_sdp=bad)
        assert refused.value.code == "bad_sdp" and says_it_in_arabic(refused.value.message)
    audio_only = RTCPeerConnection()
    try:
        offer = await room_offer(audio_only, video=False, picture=face_picture())
        with pytest.raises(CheckRefused) as refused:
            await checks.start(room_id=1, offer_sdp=offer)
        assert refused.value.code == "no_video"
        assert refused.value.message == "The connection description sends no camera picture."
        assert says_it_in_arabic(refused.value.message)
    finally:
        await audio_only.close()
    # An offer that parses but lacks what a peer needs (no ICE credentials, no fingerprint) is refused too.
    bare = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
    with pytest.raises(CheckRefused) as refused:
        await checks.start(room_id=1, offer_sdp=bare + "a=rtpmap:96 VP8/90000\r\na=sendonly\r\n")
    assert refused.value.code == "bad_sdp"
    assert checks.running() == 0 and not check_tasks()
    assert all(pc.connectionState == "closed" for pc in peers.made)
    assert not done.verdicts


async def test_one_check_per_room_and_at_most_max_concurrent(checks: RoomChecks, done: Done) -> None:
    rooms = [RTCPeerConnection() for _ in range(4)]
    try:
        offers = [await room_offer(pc, picture=face_picture()) for pc in rooms]
        first = await checks.start(room_id=1, offer_sdp=offers[0])
        running = checks.get(first.id)
        assert running is not None and running.room_id == 1 and done.states[first.id] == "running"
        with pytest.raises(CheckRefused) as refused:
            await checks.start(room_id=1, offer_sdp=offers[1])
        assert refused.value.code == "room_busy"
        await checks.start(room_id=2, offer_sdp=offers[1])
        with pytest.raises(CheckRefused) as refused:
            await checks.start(room_id=3, offer_sdp=offers[2])
        assert refused.value.code == "busy" and "انتظري" in shipped_catalogs().gettext("ar", refused.value.message)
        assert refused.value.message_to_men is not None
        assert "انتظر " in shipped_catalogs().pgettext("ar", *refused.value.message_to_men)
        assert checks.running() == 2
        await checks.close()  # shutdown: running checks stop, nothing is stored
        assert checks.running() == 0 and not check_tasks()
        assert done.states[first.id] == "failed" and checks.get(first.id) is None and not done.verdicts
        with pytest.raises(CheckRefused) as refused:
            await checks.start(room_id=4, offer_sdp=offers[3])
        assert refused.value.code == "closed"
    finally:
        for pc in rooms:
            await pc.close()
