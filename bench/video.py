"""Video bridge benchmark: glass-to-glass latency through the server's bridge, beside a direct aiortc pair.

    .venv/bin/python -m bench.video [--seconds 10] [--warmup 2] [--capacity-seconds 6] [--max-calls 8]
                                    [--bridge-process [--encoding-endpoints] [--endpoints-nice 19]]
                                    [--quiet 25] [--attempts 3] [--skip-capacity] [--json]

The sender is a 640×480, 30 fps picture paced on the wall clock (aiortc's own
`next_timestamp`) whose top 64 rows carry a 24-bit frame counter as blocks of
24×32 px, black or white, with the same bits inverted in a second row as a
check; the rest of the picture is a textured scene panning 4 px a frame, so the
VP8 encoder has real work. "Glass" on the send side is the moment the track's
`recv` returns the frame to aiortc, which then encodes it; on the receive side
it is the moment `recv` on the received track returns the decoded frame, whose
counter is read back from its Y plane (block means thresholded, both rows must
agree). Latency is the difference, per frame; the first `--warmup` seconds of
each run (keyframe, bitrate ramp) are not counted.

Four configurations, one after the other in the same run and for the same time,
one video direction each:

- direct, stock: sender pc → receiver pc, aiortc's stock jitter buffer (a frame
  is released when the first packet of the next frame arrives);
- direct, marker: the same with the marker-bit release
  (`video.jitter.use_marker_release_on`) on the receiver;
- bridge, stock: sender pc → `BridgedCall` "room" → the encoded frames
  forwarded (video/forwarding.py: with the monitor off, as here, the bridge
  decodes and encodes no picture) → `BridgedCall` "official" → receiver pc,
  stock buffers everywhere;
- bridge, marker: the same with the marker-bit release in the bridge
  (`marker_release=True`) and in the receiver pc.

The direct pairs are the references: what two aiortc endpoints cost by
themselves. The bridge's share is the difference. Every peer and the bridge
share this one process (and the machine's cores); CPU is the process's CPU time
(all threads: aiortc decodes in a thread per receiver and encodes in the
default executor) over the measured window, per call, also split by thread.

Capacity: N concurrent bridged calls (N = 1, 2, … until a stream delivers fewer
than 28 fps, or `--max-calls`), each with video both ways as in an audience,
the bridge's marker release and live quality monitor on (as in production).
The calls of a level stay open into the next. The endpoints (two encodes and
two decodes a call besides the bridge's two and two) run in the same process as
the bridge and on the same cores: "everything on one machine", which understates
what a machine that only runs the bridge carries.

`--bridge-process` measures the levels again as "bridge alone, cheap endpoints":
the bridge stays in this process, the endpoints move to a child process, and they
no longer encode. Before the first call the child encodes, once, a loop of
`LOOP_FRAMES` pictures (the same picture as above, its counter running 1…320)
with aiortc's own `Vp8Encoder` (libvpx, realtime, `cpu-used -6`, CBR at a fixed
`LOOP_BITRATE`), i.e. the bitstream aiortc's sender would produce, and each
sending track then returns these as `av.Packet`s, which aiortc's `RTCRtpSender`
only packetizes (`Vp8Encoder.pack`: the packet's bytes, its pts and time_base)
instead of encoding. The receiving endpoints still decode every frame (about
0.6 ms each) to read the counter back, so the child costs a little CPU on the
shared cores, but the bridge process does the whole of the bridge's work and
nothing else. Its latencies leave out the sender's encode (about 3 ms) and
executor hop, so they are lower than the other tables' by that much.
`--encoding-endpoints` keeps the child's endpoints encoding every frame instead
(the earlier split measurement). `--endpoints-nice 19` lowers the child's priority,
so that on the shared cores the bridge's threads run first and the endpoints take
what is left: closer still to a machine that runs only the bridge, though the
endpoints' own delays then count in the latency.

To tell what limits the bridge, each window also records how long its threads
waited runnable for a core (the kernel's schedstat: the cores were full) and how
long a thread that sleeps 5 ms over and over waits for the GIL on waking.

The machine may be shared: every window also measures the CPU the other
processes took (/proc/stat), and a window in which they took more than
`--quiet` % of a core is measured again, up to `--attempts` windows, keeping the
quietest. For the diagnosis each window records the event loop's lag (how late
a 5 ms sleep wakes), CPU by thread, and the most that waited at once in the
receivers (jitter-buffer packets, frames for the decoder thread, decoded frames
unread) and in the process's UDP sockets (bytes unread, datagrams dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import platform
import queue
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import aiortc
import av
import numpy as np
import numpy.typing as npt
from aiortc import (
    MediaStreamTrack,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.codecs.vpx import Vp8Decoder, Vp8Encoder, vp8_depayload
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import VIDEO_TIME_BASE, MediaStreamError

WIDTH, HEIGHT = 640, 480
FPS_FLOOR = 28.0
BITS = 24
BLOCK_W, BLOCK_H = 24, 32
X0 = 32  # the counter's blocks span x 32…608
BLACK, WHITE = 16, 235
PAN_PX = 4  # the scene moves this many pixels a frame
PERIOD_PX = 640  # …and repeats after this many
CONNECT_SECONDS = 20.0  # from the offer to the first frame read back
CLOSE_SECONDS = 5.0  # each close is bounded by it
AIM_P50_MS = 15.0
# Issue 17's aims: the forwarding bridge adds at most 3 ms at p50, and the bridge alone carries 8 calls at 28 fps.
AIM_ADDED_MS = 3.0
AIM_CALLS = 8
# The cheap endpoints' pre-encoded loop: two periods of the pan (160 frames each), so the picture moves on
# smoothly across the loop's end, 10.7 s at 30 fps; and the bitrate it is encoded at. aiortc's sender starts at
# 500 kbps and follows the receiver's estimate up ~8 % a second (to 1.5 Mbps); 1 Mbps is where a call of
# these runs spends most of its life.
LOOP_FRAMES = 2 * PERIOD_PX // PAN_PX
LOOP_BITRATE = 1_000_000

Array = npt.NDArray[np.uint8]


# --- the picture --------------------------------------------------------------------------


def _scene() -> tuple[Array, Array, Array]:
    """A textured scene twice as wide as the picture and periodic, luma and chroma, deterministic."""
    rng = np.random.default_rng(20261124)
    x = np.arange(WIDTH + PERIOD_PX, dtype=np.float32)[None, :]
    y = np.arange(HEIGHT, dtype=np.float32)[:, None]
    noise = rng.normal(0, 8, (HEIGHT, PERIOD_PX)).astype(np.float32)
    luma = (
        128
        + 45 * np.sin(2 * np.pi * x / 160) * np.cos(2 * np.pi * y / 120)
        + 25 * np.sin(2 * np.pi * (x + y) / 64)
        + np.concatenate([noise, noise[:, :WIDTH]], axis=1)
    )
    cx = np.arange((WIDTH + PERIOD_PX) // 2, dtype=np.float32)[None, :]
    cy = np.arange(HEIGHT // 2, dtype=np.float32)[:, None]
    u = 128 + 40 * np.sin(2 * np.pi * cx / 80) * np.sin(2 * np.pi * cy / 60)
    v = 128 + 40 * np.cos(2 * np.pi * (cx - cy) / 40)

    def clip(a: npt.NDArray[np.float32]) -> Array:
        return np.clip(a, 16, 240).astype(np.uint8)

    return clip(luma), clip(u), clip(v)


SCENE = _scene()
SHIFTS = np.arange(BITS, dtype=np.int64)


def draw(count: int, offset: int) -> Array:
    """One yuv420p picture (rows: Y, then U and V side by side as PyAV lays them out) with `count` in it."""
    luma, u, v = SCENE
    picture = np.empty((HEIGHT * 3 // 2, WIDTH), dtype=np.uint8)
    picture[:HEIGHT] = luma[:, offset : offset + WIDTH]
    chroma = picture[HEIGHT:].reshape(2, HEIGHT // 2, WIDTH // 2)
    chroma[0] = u[:, offset // 2 : offset // 2 + WIDTH // 2]
    chroma[1] = v[:, offset // 2 : offset // 2 + WIDTH // 2]
    bits = (count >> SHIFTS) & 1
    row = np.repeat(np.where(bits == 1, WHITE, BLACK).astype(np.uint8), BLOCK_W)
    picture[0:BLOCK_H, :] = BLACK
    picture[0:BLOCK_H, X0 : X0 + BITS * BLOCK_W] = row
    picture[BLOCK_H : 2 * BLOCK_H, :] = BLACK
    picture[BLOCK_H : 2 * BLOCK_H, X0 : X0 + BITS * BLOCK_W] = WHITE + BLACK - row
    chroma[:, :BLOCK_H, :] = 128  # grey blocks: the counter's rows carry no colour
    return picture


def _bits(luma: Array, top: int) -> npt.NDArray[np.bool_]:
    band = luma[top + 6 : top + BLOCK_H - 6, X0 : X0 + BITS * BLOCK_W].reshape(BLOCK_H - 12, BITS, BLOCK_W)
    means = band[:, :, 5 : BLOCK_W - 5].mean(axis=(0, 2))
    return means > (WHITE + BLACK) / 2  # type: ignore[no-any-return]


def read(frame: av.VideoFrame) -> int | None:
    """The counter in a decoded frame, or None if its two rows disagree (a damaged picture)."""
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)[: 2 * BLOCK_H, :WIDTH]
    bits, check = _bits(luma, 0), _bits(luma, BLOCK_H)
    if np.any(bits == check):
        return None
    return int((bits.astype(np.int64) << SHIFTS).sum())


# --- one stream: what was sent, what arrived ---------------------------------------------


@dataclass
class Stream:
    """One video direction: the send time of every counter and the first arrival of each."""

    sent: dict[int, float] = field(default_factory=dict)
    arrived: dict[int, float] = field(default_factory=dict)
    damaged: int = 0  # frames whose counter could not be read
    repeated: int = 0  # frames whose counter had arrived already
    first_frame: asyncio.Event = field(default_factory=asyncio.Event)
    # A pre-encoded loop repeats its pictures: the counter in a picture is mapped to the last frame sent with it.
    alias: dict[int, int] | None = None

    def receive(self, frame: av.VideoFrame, now: float) -> None:
        count = read(frame)
        if count is not None and self.alias is not None:
            count = self.alias.get(count)
        if count is None or count not in self.sent:
            self.damaged += 1
            return
        if count in self.arrived:
            self.repeated += 1
            return
        self.arrived[count] = now
        self.first_frame.set()


@dataclass
class Figures:
    frames: int
    sent: int
    fps: float
    p50_ms: float
    p95_ms: float
    max_ms: float

    @classmethod
    def of(cls, stream: Stream, start: float, end: float) -> Figures:
        window = [(c, t) for c, t in stream.arrived.items() if start <= t < end]
        latencies = sorted((t - stream.sent[c]) * 1000 for c, t in window)
        sent = sum(1 for t in stream.sent.values() if start <= t < end)
        return cls(
            frames=len(window),
            sent=sent,
            fps=len(window) / (end - start),
            p50_ms=quantile(latencies, 0.5),
            p95_ms=quantile(latencies, 0.95),
            max_ms=latencies[-1] if latencies else math.nan,
        )


def quantile(data: list[float], q: float) -> float:
    if not data:
        return math.nan
    return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))]


class CounterPicture(VideoStreamTrack):
    """640×480 at 30 fps with the frame counter drawn in; notes when each frame goes to the encoder."""

    def __init__(self, stream: Stream) -> None:
        super().__init__()
        self.stream = stream
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        self.count += 1
        frame = av.VideoFrame.from_ndarray(draw(self.count, (self.count * PAN_PX) % PERIOD_PX), format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        self.stream.sent[self.count] = time.perf_counter()
        return frame


@dataclass
class EncodedLoop:
    """VP8 frames encoded once, sent over and over by the cheap endpoints; frame i shows counter i + 1."""

    frames: list[bytes]
    encode_seconds: float


def encode_loop(frames: int = LOOP_FRAMES, bitrate: int = LOOP_BITRATE) -> EncodedLoop:
    """The loop, encoded by aiortc's own `Vp8Encoder` (the settings and bitstream of aiortc's sender).

    Looping without breaking the decoders: a P frame refers to the pictures before it, so jumping from the last
    frame back to the first only works if the first is a keyframe, and it is: the loop is one keyframe and then
    P frames, and each pass starts with that keyframe again (as if the sender had been asked for one every
    10.7 s). A keyframe is also the only answer the cheap sender has to a picture-loss request (PLI) from the
    bridge: `CheapPicture` restarts the loop there, as a browser would send a keyframe at once. The counter in
    the picture repeats with the loop, so the receiving side maps it to the last frame sent with that picture
    (`Stream.alias`). That is exact while a frame arrives before its picture is sent again: within 10.7 s, or,
    after a PLI restarted the loop at picture 1, before the loop reaches its picture once more (a restart is
    counted in `Level.keyframes_requested`; only an overloaded bridge asks for one).
    """
    encoder = Vp8Encoder()
    encoder.target_bitrate = bitrate
    started = time.perf_counter()
    encoded = []
    for n in range(1, frames + 1):
        frame = av.VideoFrame.from_ndarray(draw(n, ((n - 1) * PAN_PX) % PERIOD_PX), format="yuv420p")
        frame.pts, frame.time_base = (n - 1) * 3000, VIDEO_TIME_BASE
        payloads, _ = encoder.encode(frame, force_keyframe=n == 1)
        encoded.append(b"".join(vp8_depayload(p) for p in payloads))
    # VP8's frame tag (RFC 6386 9.1): bit 0 of the first byte is 0 for a keyframe.
    assert encoded[0][0] & 1 == 0, "the loop must start with a keyframe"
    assert all(data[0] & 1 for data in encoded[1:]), "one keyframe a loop, at its start"
    return EncodedLoop(frames=encoded, encode_seconds=time.perf_counter() - started)


class CheapPicture(MediaStreamTrack):
    """The pre-encoded loop as `av.Packet`s at 30 fps: aiortc's sender packetizes them and encodes nothing.

    aiortc's `RTCRtpSender` hands a track's `av.Packet` to `Vp8Encoder.pack`, which splits `bytes(packet)` into
    RTP payloads and takes the RTP timestamp from `packet.pts` and `packet.time_base`: each packet is stamped on
    the wall clock like a live frame (aiortc's own `next_timestamp`), so timestamps rise across the loop's end.
    """

    kind = "video"

    def __init__(self, stream: Stream, loop: EncodedLoop) -> None:
        super().__init__()
        self.stream = stream
        self.loop = loop
        self.clock = VideoStreamTrack()  # only for its pacing
        self.count = 0  # frames sent: the stream's counter
        self.index = 0  # the next frame of the loop
        self.sender: RTCRtpSender | None = None
        self.keyframes_requested = 0
        stream.alias = {}

    def _keyframe_requested(self) -> bool:
        """A PLI or FIR from the receiver sets the sender's private flag, which only its encode path clears."""
        attribute = "_RTCRtpSender__force_keyframe"
        if self.sender is None or not getattr(self.sender, attribute, False):
            return False
        setattr(self.sender, attribute, False)
        return True

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        pts, time_base = await self.clock.next_timestamp()
        if self._keyframe_requested() and self.index != 0:
            self.keyframes_requested += 1
            self.index = 0
        packet = av.Packet(self.loop.frames[self.index])
        packet.pts, packet.time_base = pts, time_base
        self.count += 1
        assert self.stream.alias is not None
        self.stream.alias[self.index + 1] = self.count
        self.index = (self.index + 1) % len(self.loop.frames)
        self.stream.sent[self.count] = time.perf_counter()
        return packet

    def stop(self) -> None:
        super().stop()
        self.clock.stop()


# --- peers ----------------------------------------------------------------------------------


Side = Literal["official", "room"]


class Answerer(Protocol):
    async def answer(self, side: Side, offer_sdp: str) -> str: ...

    async def close(self) -> None: ...


Release = Callable[[RTCPeerConnection], None]


class Hangs:
    """Closes that did not finish within CLOSE_SECONDS, by what was being closed."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def close(self, what: str, closing: Awaitable[None]) -> None:
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await closing
        except TimeoutError:
            self.seen.append(what)
            print(f"  ! {what}: close did not finish within {CLOSE_SECONDS:.0f} s", file=sys.stderr)


class Endpoint:
    """One side's peer connection: optionally sends a counter picture (encoded live, or the pre-encoded `loop`),
    optionally reads one back."""

    def __init__(
        self, send: Stream | None, receive: Stream | None, release: Release | None, loop: EncodedLoop | None = None
    ) -> None:
        self.pc = RTCPeerConnection()
        self.tasks: set[asyncio.Task[None]] = set()
        self.receive_into = receive
        self.cheap: CheapPicture | None = None
        if send is not None:
            direction = "sendrecv" if receive is not None else "sendonly"
            if loop is None:
                self.pc.addTransceiver(CounterPicture(send), direction=direction)
            else:
                self.cheap = CheapPicture(send, loop)
                self.cheap.sender = self.pc.addTransceiver(self.cheap, direction=direction).sender
        elif receive is not None:
            self.pc.addTransceiver("video", direction="recvonly")
        if release is not None:
            release(self.pc)  # before any remote description, so before any packet

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if self.receive_into is not None and track.kind == "video":
                task = asyncio.ensure_future(self._read(track, self.receive_into))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _read(track: MediaStreamTrack, stream: Stream) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                now = time.perf_counter()
                if isinstance(frame, av.VideoFrame):
                    stream.receive(frame, now)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())  # gathers every candidate
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    async def answer(self, offer_sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    async def close(self, hangs: Hangs, what: str) -> None:
        await hangs.close(what, self.pc.close())
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def marker_release() -> Release:
    from video.jitter import use_marker_release_on

    return use_marker_release_on


def new_bridge(marker: bool, monitor: bool, audience_id: int) -> Answerer:
    from video.bridge import BridgedCall

    return BridgedCall(audience_id=audience_id, marker_release=marker, monitor=monitor)


async def first_frames(streams: list[Stream], what: str) -> None:
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            for stream in streams:
                await stream.first_frame.wait()
    except TimeoutError:
        raise RuntimeError(f"{what}: no frame read back within {CONNECT_SECONDS:.0f} s") from None


class Call:
    """One call: a direct pair, or two endpoints through a BridgedCall; one or both directions."""

    def __init__(
        self,
        bridged: bool,
        marker: bool,
        both_ways: bool,
        monitor: bool,
        audience_id: int,
        bridge: Callable[[int], Answerer] | None = None,
        loop: EncodedLoop | None = None,
    ) -> None:
        self.room_to_official = Stream()
        self.official_to_room: Stream | None = Stream() if both_ways else None
        release = marker_release() if marker else None
        self.room = Endpoint(self.room_to_official, self.official_to_room, release, loop)
        self.official = Endpoint(self.official_to_room, self.room_to_official, release, loop)
        if bridge is None:
            self.bridge = new_bridge(marker, monitor, audience_id) if bridged else None
        else:
            self.bridge = bridge(audience_id)
        self.label = f"call {audience_id}"

    def receivers(self) -> dict[str, list[RTCRtpReceiver]]:
        """The video receivers of the endpoints and, in this process, of the bridge (its private `_peers`)."""
        peers = getattr(self.bridge, "_peers", {})
        return {
            "endpoints": [*self.room.pc.getReceivers(), *self.official.pc.getReceivers()],
            "bridge": [r for pc in peers.values() for r in pc.getReceivers() if r.track and r.track.kind == "video"],
        }

    @property
    def streams(self) -> list[Stream]:
        return [self.room_to_official] + ([self.official_to_room] if self.official_to_room is not None else [])

    @property
    def keyframes_requested(self) -> int:
        """Loop restarts the cheap senders made for a picture-loss request."""
        return sum(e.cheap.keyframes_requested for e in (self.room, self.official) if e.cheap is not None)

    async def open(self) -> None:
        if self.bridge is None:
            await self.room.accept(await self.official.answer(await self.room.offer()))
        else:
            await self.room.accept(await self.bridge.answer("room", await self.room.offer()))
            await self.official.accept(await self.bridge.answer("official", await self.official.offer()))
        await first_frames(self.streams, self.label)

    async def close(self, hangs: Hangs) -> None:
        await self.room.close(hangs, f"{self.label} room pc")
        await self.official.close(hangs, f"{self.label} official pc")
        if self.bridge is not None:
            await hangs.close(f"{self.label} BridgedCall", self.bridge.close())


# --- the four configurations ------------------------------------------------------------


CONFIGS = (
    ("direct-stock", "direct pair, stock jitter buffer", False, False),
    ("direct-marker", "direct pair, marker-bit release", False, True),
    ("bridge-stock", "bridge, stock jitter buffer", True, False),
    ("bridge-marker", "bridge, marker-bit release", True, True),
)


@dataclass
class Window:
    """One measured window: its bounds (perf_counter) and where this process's CPU went in it."""

    start: float
    end: float
    cpu_pct: float  # this process, % of one core
    threads_pct: dict[str, float]  # the same by thread: the event loop, aiortc's decoders, the encoding executor
    others_pct: float  # the other processes on the machine, % of one core
    lag_p50_ms: float  # how late a 5 ms sleep of the event loop wakes up
    lag_p95_ms: float
    endpoints_pct: float = math.nan  # with --bridge-process: the endpoints' process, % of one core
    attempts: int = 1  # windows measured before this one was kept (see `quietest`)
    # Time this process's threads were ready to run but waited for a core (the kernel's schedstat), by thread
    # kind as `threads_pct`, % of the window: the cores were full.
    runqueue_pct: dict[str, float] = field(default_factory=dict)
    # A thread that sleeps 5 ms over and over: how late it wakes (p95), and on average how long of that it
    # waited for the GIL (its lateness less its own wait for a core; ~0.1 ms in an idle process).
    wake_p95_ms: float = math.nan
    gil_wait_ms: float = math.nan
    # The most frames seen waiting at once, sampled every 100 ms: encoded frames queued for a receiver's decoder
    # thread ("… to decode") and decoded frames not yet read from its track ("… decoded unread").
    backlog: dict[str, int] = field(default_factory=dict)


def _thread_seconds() -> dict[int, float]:
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def _runqueue_seconds(task: str = "/proc/self/task") -> dict[int, float]:
    """Per thread, the seconds it has waited runnable for a core (the second field of schedstat)."""
    waits = {}
    for tid in os.listdir(task):
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open(f"{task}/{tid}/schedstat") as stat:
                waits[int(tid)] = int(stat.read().split()[1]) / 1e9
    return waits


class GilProbe:
    """A thread sleeping `TICK` over and over; waking, it needs a core and then the GIL. Its lateness less its
    own time in the run queue is, on average, its wait for the GIL: how contended the GIL is."""

    TICK = 0.005

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.lateness: list[float] = []
        self.runqueue = 0.0
        self.thread = threading.Thread(target=self._run, name="gil-probe", daemon=True)

    @staticmethod
    def _waited() -> float:
        try:
            with open("/proc/thread-self/schedstat") as stat:
                return int(stat.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return math.nan

    def _run(self) -> None:
        waited = self._waited()
        while not self.stopping.is_set():
            before = time.perf_counter()
            time.sleep(self.TICK)
            self.lateness.append(time.perf_counter() - before - self.TICK)
        self.runqueue = self._waited() - waited

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> tuple[float, float]:
        """Wake lateness p95 and mean GIL wait, in ms."""
        self.stopping.set()
        self.thread.join(1.0)
        if self.thread.is_alive() or not self.lateness:
            return math.nan, math.nan
        lateness = sorted(self.lateness)
        gil = max(0.0, (sum(lateness) - self.runqueue) / len(lateness))
        return quantile(lateness, 0.95) * 1000, gil * 1000


def _thread_kind(tid: int, names: dict[int, str]) -> str:
    name = names.get(tid, "")
    if tid == os.getpid():
        return "event loop"
    if name.endswith("-decoder"):
        return "decoders"
    if name.startswith("asyncio_"):
        return "encoders"  # the default executor: aiortc's senders encode there
    if name == "gil-probe":
        return "probe"
    return "other"


def _machine_busy() -> float:
    """Seconds of CPU the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:8]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


Receivers = Callable[[], dict[str, list[RTCRtpReceiver]]]


def depths(receiver: RTCRtpReceiver) -> tuple[int, int, int]:
    """What waits in an aiortc receiver (its private parts): RTP packets in its jitter buffer, encoded frames for
    its decoder thread, decoded frames on its track not yet read."""
    buffer = getattr(receiver, "_RTCRtpReceiver__jitter_buffer", None)
    packets = getattr(buffer, "_packets", None) or []
    waiting = getattr(receiver, "_RTCRtpReceiver__decoder_queue", None)
    decoded = getattr(getattr(receiver, "_track", None), "_queue", None)
    return (
        sum(1 for p in packets if p is not None),
        waiting.qsize() if isinstance(waiting, queue.Queue) else 0,
        decoded.qsize() if isinstance(decoded, asyncio.Queue) else 0,
    )


def udp_state() -> tuple[int, int]:
    """Bytes waiting to be read in this process's UDP sockets, and the datagrams they dropped (buffer full)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/self/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    queued = drops = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(path) as table:
            for line in table.read().splitlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    queued += int(fields[4].split(":")[1], 16)
                    drops += int(fields[12])
    return queued, drops


class Probe:
    """Measures a window: process CPU (all threads), CPU by thread, other processes, event-loop lag, backlogs."""

    TICK = 0.005
    SAMPLE_EVERY = 20  # ticks: the receivers' queues are looked at every 100 ms

    def __init__(self, receivers: Receivers | None = None, process: str = "process") -> None:
        self.process = process
        self.lags: list[float] = []
        self.task: asyncio.Task[None] | None = None
        self.receivers = receivers
        self.backlog: dict[str, int] = {}

    def _sample(self) -> None:
        queued, _ = udp_state()
        what = f"{self.process} UDP bytes unread"
        self.backlog[what] = max(self.backlog.get(what, 0), queued)
        if self.receivers is None:
            return
        for where, receivers in self.receivers().items():
            for receiver in receivers:
                buffered, waiting, decoded = depths(receiver)
                for what, depth in (
                    (f"{where} jitter buffer packets", buffered),
                    (f"{where} to decode", waiting),
                    (f"{where} decoded unread", decoded),
                ):
                    self.backlog[what] = max(self.backlog.get(what, 0), depth)

    async def _lag(self) -> None:
        tick = 0
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.lags.append((time.perf_counter() - before - self.TICK) * 1000)
            tick += 1
            if tick % self.SAMPLE_EVERY == 0:
                self._sample()

    def start(self) -> None:
        self.lags = []
        self.backlog = {}
        self.drops0 = udp_state()[1]
        self.task = asyncio.ensure_future(self._lag())
        self.gil = GilProbe()
        self.gil.start()
        self.threads0 = _thread_seconds()
        self.runqueue0 = _runqueue_seconds()
        self.machine0 = _machine_busy()
        self.cpu0, self.start_at = time.process_time(), time.perf_counter()

    async def stop(self) -> Window:
        cpu1, end = time.process_time(), time.perf_counter()
        machine1, threads1, runqueue1 = _machine_busy(), _thread_seconds(), _runqueue_seconds()
        wake_p95_ms, gil_wait_ms = self.gil.stop()
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        self.backlog[f"{self.process} UDP datagrams dropped"] = udp_state()[1] - self.drops0
        wall = end - self.start_at
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}
        by_kind: dict[str, float] = {}
        for tid, seconds in threads1.items():
            kind = _thread_kind(tid, names)
            by_kind[kind] = by_kind.get(kind, 0.0) + 100 * (seconds - self.threads0.get(tid, 0.0)) / wall
        waiting: dict[str, float] = {}
        for tid, seconds in runqueue1.items():
            kind = _thread_kind(tid, names)
            waiting[kind] = waiting.get(kind, 0.0) + 100 * (seconds - self.runqueue0.get(tid, 0.0)) / wall
        cpu = 100 * (cpu1 - self.cpu0) / wall
        lags = sorted(self.lags)
        return Window(
            start=self.start_at,
            end=end,
            cpu_pct=cpu,
            threads_pct={k: round(v, 1) for k, v in sorted(by_kind.items())},
            others_pct=max(0.0, 100 * (machine1 - self.machine0) / wall - cpu),
            lag_p50_ms=quantile(lags, 0.5),
            lag_p95_ms=quantile(lags, 0.95),
            backlog=dict(sorted(self.backlog.items())),
            runqueue_pct={k: round(v, 1) for k, v in sorted(waiting.items())},
            wake_p95_ms=wake_p95_ms,
            gil_wait_ms=gil_wait_ms,
        )

    async def measure(self, seconds: float) -> Window:
        self.start()
        await asyncio.sleep(seconds)
        return await self.stop()


@dataclass
class Plan:
    seconds: float  # one measured window
    warmup: float
    attempts: int
    quiet_pct: float


def plan(args: argparse.Namespace, seconds: float) -> Plan:
    return Plan(seconds=seconds, warmup=args.warmup, attempts=args.attempts, quiet_pct=args.quiet)


async def quietest(measure: Callable[[float], Awaitable[Window]], plan: Plan) -> Window:
    """A window in which other processes used at most `quiet_pct` of a core, or the quietest of `attempts`.

    The machine is shared: another session's test suite taking a core halfway through a window would
    be measured as the bridge's latency. The windows are consecutive; the calls go on in between.
    """
    best: Window | None = None
    for attempt in range(1, plan.attempts + 1):
        window = await measure(plan.seconds)
        window.attempts = attempt
        if best is None or window.others_pct < best.others_pct:
            best = window
        if window.others_pct <= plan.quiet_pct:
            break
        print(f"    (other processes took {window.others_pct:.0f} % of a core: measuring again)", file=sys.stderr)
    assert best is not None
    return best


@dataclass
class Result:
    key: str
    label: str
    figures: Figures | None = None
    window: Window | None = None
    damaged: int = 0
    error: str = ""


async def measure_config(key: str, label: str, bridged: bool, marker: bool, plan: Plan, hangs: Hangs) -> Result:
    result = Result(key, label)
    try:
        call = Call(bridged=bridged, marker=marker, both_ways=False, monitor=False, audience_id=1)
    except ImportError as error:
        result.error = f"not available: {error}"
        return result
    try:
        await call.open()
        await asyncio.sleep(plan.warmup)
        window = await quietest(Probe(call.receivers).measure, plan)
        result.figures = Figures.of(call.room_to_official, window.start, window.end)
        result.window = window
        result.damaged = call.room_to_official.damaged
    except Exception as error:  # a failed configuration is reported, the others still run
        result.error = f"{type(error).__name__}: {error}"
    finally:
        await call.close(hangs)
    return result


def receivers_of(calls: list[Call]) -> dict[str, list[RTCRtpReceiver]]:
    found: dict[str, list[RTCRtpReceiver]] = {}
    for call in calls:
        for where, receivers in call.receivers().items():
            found.setdefault(where, []).extend(receivers)
    return found


# --- capacity -------------------------------------------------------------------------------


@dataclass
class Level:
    calls: int
    fps_min: float
    fps_median: float
    p50_ms: float  # median over the streams of each stream's p50
    p50_worst_ms: float
    p95_worst_ms: float
    damaged: int
    window: Window  # measured in the bridge's process
    per_direction: dict[str, list[float]] = field(default_factory=dict)  # fps of each stream
    repeated: int = 0  # frames decoded twice with the same counter (none expected)
    keyframes_requested: int = 0  # cheap endpoints: loop restarts for a PLI, all calls so far

    @property
    def holds(self) -> bool:
        return self.fps_min >= FPS_FLOOR


def level_of(calls: list[Call], window: Window) -> Level:
    per_direction: dict[str, list[Figures]] = {"room→official": [], "official→room": []}
    damaged = 0
    for call in calls:
        per_direction["room→official"].append(Figures.of(call.room_to_official, window.start, window.end))
        if call.official_to_room is not None:
            per_direction["official→room"].append(Figures.of(call.official_to_room, window.start, window.end))
        damaged += sum(s.damaged for s in call.streams)
    every = [f for figures in per_direction.values() for f in figures]
    repeated = sum(s.repeated for call in calls for s in call.streams)
    return Level(
        calls=len(calls),
        fps_min=min(f.fps for f in every),
        fps_median=statistics.median(f.fps for f in every),
        p50_ms=statistics.median(f.p50_ms for f in every),
        p50_worst_ms=max(f.p50_ms for f in every),
        p95_worst_ms=max(f.p95_ms for f in every),
        damaged=damaged,
        window=window,
        per_direction={d: [round(f.fps, 1) for f in figures] for d, figures in per_direction.items()},
        repeated=repeated,
        keyframes_requested=sum(call.keyframes_requested for call in calls),
    )


async def capacity(
    max_calls: int,
    plan: Plan,
    hangs: Hangs,
    measure: Callable[[float], Awaitable[Window]] | None = None,
    bridge: Callable[[int], Answerer] | None = None,
    calls: list[Call] | None = None,
    loop: EncodedLoop | None = None,
) -> list[Level]:
    """Adds one bridged call at a time; measures every open call after each. `measure`: in the bridge's process;
    `loop`: the endpoints send it (cheap endpoints) instead of encoding."""
    calls = [] if calls is None else calls
    levels: list[Level] = []
    try:
        for n in range(1, max_calls + 1):
            call = Call(
                bridged=True, marker=True, both_ways=True, monitor=True, audience_id=n, bridge=bridge, loop=loop
            )
            calls.append(call)
            await call.open()
            await asyncio.sleep(plan.warmup)
            window = await quietest(measure or Probe(lambda: receivers_of(calls)).measure, plan)
            level = level_of(calls, window)
            levels.append(level)
            print(
                f"  {n} bridged call(s): fps min {level.fps_min:.1f} median {level.fps_median:.1f}, "
                f"p50 {level.p50_ms:.1f} ms (worst stream {level.p50_worst_ms:.1f}), CPU {window.cpu_pct:.0f} % "
                f"{window.threads_pct}, loop lag p95 {window.lag_p95_ms:.1f} ms, others {window.others_pct:.0f} %, "
                f"endpoints {window.endpoints_pct:.0f} %, waiting for a core {window.runqueue_pct}, GIL wait "
                f"{window.gil_wait_ms:.2f} ms (wake p95 {window.wake_p95_ms:.1f} ms), "
                f"waiting at most {window.backlog}, "
                f"unreadable {level.damaged}, repeated {level.repeated}, keyframes on request "
                f"{level.keyframes_requested}",
                file=sys.stderr,
            )
            if not level.holds:
                break
    except Exception as error:
        print(f"  ! capacity stopped: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        for call in calls:
            await call.close(hangs)
    return levels


# --- --bridge-process: the endpoints in a child process, the bridge here -------------------


async def receive(conn: multiprocessing.connection.Connection, peer: multiprocessing.process.BaseProcess | None) -> Any:
    """The next message on a pipe, waiting in the event loop; RuntimeError if `peer` (the other end) has died."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    loop.add_reader(conn.fileno(), ready.set)
    try:
        while not conn.poll():
            if peer is not None and not peer.is_alive():
                raise RuntimeError(f"the endpoints' process ended (exit code {peer.exitcode})")
            ready.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await ready.wait()
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv()


class Remote:
    """The bridge's side of the pipe to the endpoints' process: answers offers, measures windows here."""

    def __init__(self, conn: multiprocessing.connection.Connection, peer: multiprocessing.process.BaseProcess) -> None:
        self.conn = conn
        self.peer = peer
        self.bridges: dict[int, Answerer] = {}

    def receivers(self) -> dict[str, list[RTCRtpReceiver]]:
        peers = [pc for bridge in self.bridges.values() for pc in getattr(bridge, "_peers", {}).values()]
        return {"bridge": [r for pc in peers for r in pc.getReceivers() if r.track and r.track.kind == "video"]}

    async def serve(self) -> list[Level]:
        while True:
            message = await receive(self.conn, self.peer)
            kind = message[0]
            if kind == "offer":
                _, n, side, sdp = message
                if n not in self.bridges:
                    self.bridges[n] = new_bridge(marker=True, monitor=True, audience_id=n)
                self.conn.send(("answer", await self.bridges[n].answer(side, sdp)))
            elif kind == "measure":
                window = await Probe(self.receivers, "bridge process").measure(message[1])
                self.conn.send(("window", asdict(window)))
            elif kind == "done":
                return [Level(**(level | {"window": Window(**level["window"])})) for level in message[1]]


class Link:
    """The endpoints' side of the pipe: one question at a time."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()
        self.calls: list[Call] = []

    def receivers(self) -> dict[str, list[RTCRtpReceiver]]:
        return receivers_of(self.calls)

    async def ask(self, *message: Any) -> Any:
        async with self.lock:
            self.conn.send(message)
            return (await receive(self.conn, None))[1]

    def bridge(self, audience_id: int) -> Answerer:
        return ProxyBridge(self, audience_id)

    async def measure(self, seconds: float) -> Window:
        """A window measured in the bridge's process, with this process's CPU taken out of "other processes"."""
        here = Probe(self.receivers, "endpoints process")
        here.start()
        window = Window(**await self.ask("measure", seconds))
        local = await here.stop()
        window.endpoints_pct = local.cpu_pct
        window.others_pct = max(0.0, window.others_pct - local.cpu_pct)
        window.backlog = dict(sorted((window.backlog | local.backlog).items()))
        return window


class ProxyBridge:
    """A BridgedCall of the bridge's process, seen from the endpoints' process."""

    def __init__(self, link: Link, audience_id: int) -> None:
        self.link = link
        self.audience_id = audience_id

    async def answer(self, side: Side, offer_sdp: str) -> str:
        return str(await self.link.ask("offer", self.audience_id, side, offer_sdp))

    async def close(self) -> None:
        return None  # the bridge's process closes its calls


def endpoints_process(
    conn: multiprocessing.connection.Connection, max_calls: int, plan: Plan, cheap: bool, nice: int
) -> None:
    if nice:
        os.nice(nice)  # the bridge's threads first: the endpoints take what the bridge leaves of the cores
    # The loop is encoded before the first call, so no window sees it.
    loop = encode_loop() if cheap else None
    if loop is not None:
        sizes = [len(frame) for frame in loop.frames]
        print(
            f"    encoded the loop: {len(sizes)} frames in {loop.encode_seconds:.1f} s, keyframe {sizes[0]} B, "
            f"others median {statistics.median(sizes[1:]):.0f} B "
            f"({8 * sum(sizes) / len(sizes) * 30 / 1000:.0f} kbit/s at 30 fps)",
            file=sys.stderr,
        )

    async def run() -> list[Level]:
        link = Link(conn)
        return await capacity(
            max_calls, plan, Hangs(), measure=link.measure, bridge=link.bridge, calls=link.calls, loop=loop
        )

    levels = asyncio.run(run())
    conn.send(("done", [asdict(level) for level in levels]))


async def capacity_in_child(max_calls: int, plan: Plan, hangs: Hangs, cheap: bool, nice: int = 0) -> list[Level]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=endpoints_process, args=(child, max_calls, plan, cheap, nice), daemon=True
    )
    process.start()
    remote = Remote(parent, process)
    try:
        # Per level: warm-up, windows, the call's connection, the closes at the end; the loop's encoding (~2 s).
        budget = max_calls * (plan.warmup + plan.attempts * plan.seconds + CONNECT_SECONDS + 3 * CLOSE_SECONDS) + 60
        async with asyncio.timeout(budget):
            return await remote.serve()
    finally:
        for n, bridge in remote.bridges.items():
            await hangs.close(f"call {n} BridgedCall (bridge process)", bridge.close())
        process.join(CLOSE_SECONDS)
        if process.is_alive():
            hangs.seen.append("endpoints process")
            process.kill()


# --- VP8 by itself ----------------------------------------------------------------------


def codec_times(frames: int = 150) -> dict[str, float]:
    """aiortc's own VP8 encoder and decoder on this picture, one frame at a time, p50 in ms."""
    encoder, decoder = Vp8Encoder(), Vp8Decoder()
    encode_ms: list[float] = []
    decode_ms: list[float] = []
    for n in range(1, frames + 1):
        frame = av.VideoFrame.from_ndarray(draw(n, (n * PAN_PX) % PERIOD_PX), format="yuv420p")
        frame.pts, frame.time_base = n * 3000, VIDEO_TIME_BASE
        started = time.perf_counter()
        payloads, timestamp = encoder.encode(frame)
        encode_ms.append((time.perf_counter() - started) * 1000)
        data = b"".join(vp8_depayload(p) for p in payloads)
        started = time.perf_counter()
        decoder.decode(JitterFrame(data=data, timestamp=timestamp))
        decode_ms.append((time.perf_counter() - started) * 1000)
    encode_ms, decode_ms = encode_ms[30:], decode_ms[30:]  # not the keyframe and the first frames
    return {"encode_p50_ms": statistics.median(encode_ms), "decode_p50_ms": statistics.median(decode_ms)}


# --- report ---------------------------------------------------------------------------------


def no_nan(value: Any) -> Any:
    """JSON has no NaN: not measured is null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [no_nan(v) for v in value]
    return value


def fmt(value: float, digits: int = 1) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"


def threads(window: Window) -> str:
    """CPU by thread, % of one core: event loop / decoders / encoders (/ other)."""
    t = window.threads_pct
    text = f"{t.get('event loop', 0):.0f} / {t.get('decoders', 0):.0f} / {t.get('encoders', 0):.0f}"
    return text + (f" / {t['other']:.0f}" if t.get("other", 0) >= 1 else "")


def waiting(window: Window, where: str) -> str:
    """The most frames seen waiting in `where`'s receivers: encoded (for the decoder) + decoded (unread)."""
    encoded = window.backlog.get(f"{where} to decode")
    decoded = window.backlog.get(f"{where} decoded unread")
    packets = window.backlog.get(f"{where} jitter buffer packets")
    return "–" if encoded is None else f"{packets} p, {encoded} + {decoded} f"


def config_table(results: list[Result]) -> str:
    rows = [
        "| configuration | frames | p50 ms | p95 ms | max ms | delivered fps | CPU % per call "
        "| loop / decode / encode threads % | loop lag p95 ms | other processes % | unreadable |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if r.figures is None or r.window is None:
            rows.append(f"| {r.label} | {r.error} | | | | | | | | | |")
            continue
        f, w = r.figures, r.window
        rows.append(
            f"| {r.label} | {f.frames}/{f.sent} | {fmt(f.p50_ms)} | {fmt(f.p95_ms)} | {fmt(f.max_ms)} | "
            f"{f.fps:.1f} | {w.cpu_pct:.0f} | {threads(w)} | {fmt(w.lag_p95_ms)} | {w.others_pct:.0f} | {r.damaged} |"
        )
    return "\n".join(rows)


def runqueue(window: Window) -> str:
    """How long the event loop, and all the threads together, waited runnable for a core, % of the window."""
    if not window.runqueue_pct:
        return "–"
    every = sum(v for kind, v in window.runqueue_pct.items() if kind != "probe")  # not the GIL probe's own
    return f"{window.runqueue_pct.get('event loop', 0):.0f} / {every:.0f}"


def direction_fps(level: Level, direction: str) -> str:
    """A direction's streams: the lowest and the median frame rate."""
    fps = level.per_direction.get(direction) or []
    return f"{min(fps):.1f} / {statistics.median(fps):.1f}" if fps else "–"


def udp(window: Window, process: str) -> str:
    """The most bytes waiting unread in `process`'s UDP sockets, and the datagrams the kernel dropped there."""
    unread = window.backlog.get(f"{process} UDP bytes unread")
    dropped = window.backlog.get(f"{process} UDP datagrams dropped")
    return "–" if unread is None else f"{unread / 1000:.0f} KB / {dropped}"


def capacity_table(levels: list[Level], bridge_only: bool, cheap: bool = False) -> str:
    cpu = "bridge process CPU %" if bridge_only else "process CPU %"
    endpoints = " endpoints process CPU % |" if bridge_only else ""
    rows = [
        f"| bridged calls | streams | room→official fps min / median | official→room fps min / median "
        f"| p50 ms (median stream) | p50 ms (worst) | p95 ms (worst) | {cpu} | CPU % per call "
        f"| loop / decode / encode threads % | loop lag p95 ms | waiting for a core %: loop / all threads "
        f"| GIL wait ms, mean |{endpoints} other processes % "
        f"| frames waiting, most: bridge / endpoints | {'bridge ' if bridge_only else ''}UDP unread, most / dropped "
        f"| keyframes on request | ≥ {FPS_FLOOR:.0f} fps |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |" + (" ---: |" if bridge_only else "") + " --- |",
    ]
    for level in levels:
        streams = sum(len(v) for v in level.per_direction.values())
        w = level.window
        rows.append(
            f"| {level.calls} | {streams} | {direction_fps(level, 'room→official')} | "
            f"{direction_fps(level, 'official→room')} | {fmt(level.p50_ms)} | "
            f"{fmt(level.p50_worst_ms)} | {fmt(level.p95_worst_ms)} | {w.cpu_pct:.0f} | "
            f"{w.cpu_pct / level.calls:.0f} | {threads(w)} | {fmt(w.lag_p95_ms)} | {runqueue(w)} | "
            f"{fmt(w.gil_wait_ms, 2)} | "
            + (f"{w.endpoints_pct:.0f} | " if bridge_only else "")
            + f"{w.others_pct:.0f} | {waiting(w, 'bridge')} / {waiting(w, 'endpoints')} | "
            f"{udp(w, 'bridge process' if bridge_only else 'process')} | "
            f"{level.keyframes_requested if cheap else '–'} | {'yes' if level.holds else 'no'} |"
        )
    return "\n".join(rows)


def carried(levels: list[Level]) -> int:
    held = [level.calls for level in levels if level.holds]
    return max(held) if held else 0


TOGETHER = "everything on one machine (endpoints encoding, one process)"
APART_CHEAP = "bridge alone, cheap endpoints (bridge in its own process)"
APART_ENCODING = "bridge in its own process, endpoints encoding in another"


def aims(
    results: dict[str, Result], together: list[Level] | None, apart: list[Level] | None, apart_label: str = APART_CHEAP
) -> list[str]:
    def p50(key: str) -> float:
        figures = results[key].figures if key in results else None
        return figures.p50_ms if figures is not None else math.nan

    lines = []
    bridge = p50("bridge-marker")
    added = bridge - p50("direct-marker")
    if math.isnan(bridge):
        lines.append(f"aim bridge p50 < {AIM_P50_MS:.0f} ms: not measured")
    else:
        met = "met" if bridge < AIM_P50_MS else "not met"
        lines.append(f"aim bridge (marker) p50 < {AIM_P50_MS:.0f} ms: {met} ({bridge:.1f} ms)")
    if math.isnan(added):
        lines.append(f"aim bridge adds ≤ {AIM_ADDED_MS:.0f} ms at p50 over the direct pair (marker): not measured")
    else:
        met = "met" if added <= AIM_ADDED_MS else "not met"
        lines.append(
            f"aim bridge adds ≤ {AIM_ADDED_MS:.0f} ms at p50 over the direct pair (marker): {met} ({added:+.2f} ms)"
        )
    for levels, where in ((together, TOGETHER), (apart, apart_label)):
        if levels is None:
            continue
        n = carried(levels)
        ceiling = "" if levels and not levels[-1].holds else " (the --max-calls ceiling)"
        met = "met" if n >= AIM_CALLS else "not met"
        lines.append(f"aim ≥ {AIM_CALLS} bridged calls at ≥ {FPS_FLOOR:.0f} fps, {where}: {met} ({n} carried{ceiling})")
    if together is None and apart is None:
        lines.append(f"aim ≥ {AIM_CALLS} bridged calls at ≥ {FPS_FLOOR:.0f} fps: not measured")
    return lines


def ratios(results: dict[str, Result]) -> list[str]:
    def p50(key: str) -> float:
        figures = results[key].figures if key in results else None
        return figures.p50_ms if figures is not None else math.nan

    def cpu(key: str) -> float:
        window = results[key].window if key in results else None
        return window.cpu_pct if window is not None else math.nan

    return [
        f"bridge-marker p50 − direct-marker p50: {fmt(p50('bridge-marker') - p50('direct-marker'))} ms "
        f"(the bridge's added latency, marker release)",
        f"bridge-stock p50 − bridge-marker p50: {fmt(p50('bridge-stock') - p50('bridge-marker'))} ms; "
        f"ratio {fmt(p50('bridge-stock') / p50('bridge-marker'), 2)}×",
        f"direct-stock p50 − direct-marker p50: {fmt(p50('direct-stock') - p50('direct-marker'))} ms; "
        f"ratio {fmt(p50('direct-stock') / p50('direct-marker'), 2)}×",
        f"bridge-stock p50 − direct-stock p50: {fmt(p50('bridge-stock') - p50('direct-stock'))} ms",
        f"bridge's CPU per call ≈ bridge − direct: {fmt(cpu('bridge-marker') - cpu('direct-marker'), 0)} % "
        f"(marker), {fmt(cpu('bridge-stock') - cpu('direct-stock'), 0)} % (stock), of one core",
    ]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    hangs = Hangs()
    results: dict[str, Result] = {}
    started = time.perf_counter()
    for key, label, bridged, marker in CONFIGS:
        if key not in args.configs.split(","):
            continue
        result = await measure_config(key, label, bridged, marker, plan(args, args.seconds), hangs)
        results[key] = result
        f, w = result.figures, result.window
        if f is not None and w is not None:
            print(
                f"  {label}: p50 {f.p50_ms:.1f} ms, p95 {f.p95_ms:.1f} ms, {f.fps:.1f} fps, CPU {w.cpu_pct:.0f} % "
                f"{w.threads_pct}, loop lag p95 {w.lag_p95_ms:.1f} ms, others {w.others_pct:.0f} %",
                file=sys.stderr,
            )
        else:
            print(f"  {label}: {result.error}", file=sys.stderr)
    together: list[Level] | None = None
    apart: list[Level] | None = None
    if not args.skip_capacity:
        print(f"  capacity, {TOGETHER}:", file=sys.stderr)
        together = await capacity(args.max_calls, plan(args, args.capacity_seconds), hangs)
        if args.bridge_process:
            cheap = not args.encoding_endpoints
            print(f"  capacity, {APART_CHEAP if cheap else APART_ENCODING}:", file=sys.stderr)
            try:
                apart = await capacity_in_child(
                    args.max_calls, plan(args, args.capacity_seconds), hangs, cheap, args.endpoints_nice
                )
            except (TimeoutError, RuntimeError) as error:
                print(f"  ! capacity in two processes stopped: {type(error).__name__}: {error}", file=sys.stderr)
                apart = []
    return {
        "results": results,
        "together": together,
        "apart": apart,
        "hangs": hangs.seen,
        "seconds": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per configuration")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds not counted after each start")
    parser.add_argument("--capacity-seconds", type=float, default=6.0, help="measured seconds per capacity level")
    parser.add_argument("--max-calls", type=int, default=8)
    parser.add_argument("--configs", default=",".join(key for key, *_ in CONFIGS))
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument(
        "--quiet", type=float, default=25.0, help="%% of a core other processes may take in a kept window"
    )
    parser.add_argument("--attempts", type=int, default=3, help="windows tried for a quiet one, at most")
    parser.add_argument(
        "--bridge-process",
        action="store_true",
        help="capacity also with the bridge alone in this process, the endpoints in a child sending a pre-encoded loop",
    )
    parser.add_argument(
        "--encoding-endpoints",
        action="store_true",
        help="with --bridge-process: the child's endpoints encode every frame instead of sending the loop",
    )
    parser.add_argument(
        "--endpoints-nice",
        type=int,
        default=0,
        help="with --bridge-process: the child's niceness (19: the bridge's threads get a core first)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = parser.parse_args()

    codec = codec_times()
    outcome = asyncio.run(run(args))
    results: dict[str, Result] = outcome["results"]
    together: list[Level] | None = outcome["together"]
    apart: list[Level] | None = outcome["apart"]
    cheap = not args.encoding_endpoints
    apart_label = APART_CHEAP if cheap else APART_ENCODING
    if args.endpoints_nice:
        apart_label += f", endpoints at nice {args.endpoints_nice}"
    header = (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"aiortc {aiortc.__version__}, PyAV {av.__version__}, {WIDTH}×{HEIGHT} at 30 fps, "
        f"{args.seconds:.0f} s measured per configuration and {args.capacity_seconds:.0f} s per capacity level, "
        f"each after {args.warmup:.0f} s of warm-up"
    )
    if args.json:

        def levels_json(levels: list[Level] | None) -> list[dict[str, Any]] | None:
            return None if levels is None else [asdict(level) | {"holds": level.holds} for level in levels]

        print(
            json.dumps(
                no_nan(
                    {
                        "header": header,
                        "codec": codec,
                        "configurations": {k: asdict(r) for k, r in results.items()},
                        "capacity_one_process": levels_json(together),
                        "capacity_bridge_process": levels_json(apart),
                        "capacity_bridge_process_endpoints": "cheap" if cheap else "encoding",
                        "aims": aims(results, together, apart, apart_label),
                        "hangs": outcome["hangs"],
                        "wall_seconds": outcome["seconds"],
                    }
                ),
                indent=2,
                ensure_ascii=False,
                allow_nan=False,
            )
        )
        return
    print(header)
    print(
        f"aiortc's VP8 on this picture, one frame at a time, nothing else in the process: "
        f"encode p50 {codec['encode_p50_ms']:.1f} ms, decode p50 {codec['decode_p50_ms']:.1f} ms\n"
    )
    print("One call at a time, one direction, every peer and the bridge in this process:\n")
    print(config_table(list(results.values())))
    print()
    for line in ratios(results):
        print(line)
    if together is not None:
        print(
            f"\nCapacity, {TOGETHER}: bridged calls with video both ways, marker release, monitor on; "
            "the endpoints encode and decode every frame in the bridge's process:\n"
        )
        print(capacity_table(together, bridge_only=False))
    if apart is not None:
        if cheap:
            print(
                f"\nCapacity, {apart_label}: the same calls; the endpoints, in a child process, send a pre-encoded "
                f"loop of {LOOP_FRAMES} VP8 frames at {LOOP_BITRATE // 1000} kbit/s (packetized only) and decode "
                "what they receive; CPU, threads and loop lag are the bridge process's:\n"
            )
        else:
            print(
                f"\nCapacity, {apart_label}: the same calls; the endpoints, encoding every frame, in a child "
                "process; CPU, threads and loop lag are the bridge process's:\n"
            )
        print(capacity_table(apart, bridge_only=True, cheap=cheap))
    print()
    for line in aims(results, together, apart, apart_label):
        print(line)
    print(f"hangs on close: {', '.join(outcome['hangs']) or 'none'}; wall time {outcome['seconds']:.0f} s")


if __name__ == "__main__":
    main()
