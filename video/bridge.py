"""The server's media bridge: a video audience's media through aiortc, room → server → official and back.

Used where the direct browser-to-browser path cannot be taken (a room behind a network
that blocks peer-to-peer, a direct path that failed to connect) or where the server
must see the frames (live quality warnings, a recording the applicant consented to).

Each side has its own peer connection with the server. Its picture is forwarded as
encoded VP8 frames (video/forwarding.py): never decoded and encoded again, and a
keyframe request from the other side's browser is passed on to this side's. The picture
is decoded only for the live quality monitor (never encoded: that was most of the cost),
which looks at a few thumbnails a second; without the monitor nothing is decoded. The
recording muxes the encoded frames as they are (video/forwarding_record.py). Sound is
decoded and encoded again (Opus costs little), fanned out through aiortc's `MediaRelay`
to *taps*. Taps and encoded sources outlive the peer connection they read from: when a
side rebuilds its connection (a reload, a network change) they are fed from its new
receivers, so the other side's connection and the recording go on.

Sound is forwarded through unbuffered relay subscriptions: the encoder towards the other
side always takes the newest frame, so a slow moment drops a frame rather than adding
delay to every frame after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

import numpy as np
import numpy.typing as npt
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, VideoFrame

from majlis.errors import N_
from video.analysis import LiveMonitor
from video.forwarding import (
    EncodedSource,
    EncodedTap,
    forward_on,
    pass_keyframe_requests,
    prefer_vp8,
)
from video.forwarding_record import EncodedRecorder
from video.jitter import use_marker_release_on

log = logging.getLogger(__name__)

Side = Literal["official", "room"]
SIDES: tuple[Side, Side] = ("official", "room")
KINDS = ("audio", "video")
VIDEO_CLOCK = 90_000
# How often the monitor's verdict is read, and the thumbnail it analyses (brightness, change and
# blackness are averages: a 160×120 picture gives the same figures at a fraction of the cost).
QUALITY_EVERY = 0.5
QUALITY_HOLD = 1.5
THUMBNAIL = (160, 120)
# The monitor looks at this many pictures a second (thumbnails: the costly part after decoding). The frames
# between are decoded all the same, and only for it: a VP8 inter frame decodes only on top of every frame before
# it, and keyframes alone cannot tell "frozen", since two keyframes of one still picture differ by the encoder's
# quality more than a moving head does between frames (measured with aiortc's encoder, whose CBR keeps refining
# a still picture and which restarts with a keyframe at every bitrate change).
MONITOR_LOOKS_PER_SECOND = 6.0
CLOSE_TIMEOUT = 5.0
# A buffered tap (sound for a consumer that wants every frame) keeps at most this many frames.
TAP_BUFFER = 150

QualityReport = Callable[[Side, list[str]], Awaitable[None]]


def other_side(side: Side) -> Side:
    return "room" if side == "official" else "official"


class BridgeRefused(Exception):
    """The bridge cannot take this; `code` names why, `message` says it (an English message id, in the catalogs)."""

    TEXTS: ClassVar[dict[str, str]] = {
        "bridge_full": N_("The server is carrying as many bridged calls as it may."),
        "bad_sdp": N_("The session description (SDP) does not parse."),
        "bridge_closed": N_("This bridged call has ended."),
    }

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = self.TEXTS[code]


class Tap(MediaStreamTrack):
    """One consumer of one side's audio or video, fed from whichever connection that side has now.

    A reader task per source moves its frames into the tap: switching sources cancels the old
    reader, which is the one reliable way to stop waiting on a relay proxy whose source is gone.
    Frames are re-stamped on the tap's own clock: a new connection's frames start again at
    zero, and an encoder or recorder that saw time go backwards would stall or refuse them.
    """

    def __init__(self, kind: str, *, buffered: bool) -> None:
        super().__init__()
        self.kind = kind
        self.buffered = buffered
        # Buffered taps want every frame, but not without limit: one that falls behind by more than a few
        # seconds loses the oldest frames rather than the process's memory.
        self._queue: asyncio.Queue[AudioFrame | VideoFrame | None] = asyncio.Queue(maxsize=TAP_BUFFER)
        self._latest: AudioFrame | VideoFrame | None = None
        self._ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._started: float | None = None
        self._last_pts = -1
        self._samples = 0

    def feed(self, source: MediaStreamTrack) -> None:
        """Reads from `source` from now on (the previous source, if any, is let go)."""
        self._let_go()
        if self.readyState != "live":
            source.stop()
            return
        self._reader = asyncio.create_task(self._read(source))

    def _let_go(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def _read(self, source: MediaStreamTrack) -> None:
        try:
            while True:
                frame = cast("AudioFrame | VideoFrame", await source.recv())
                if self.buffered:
                    if self._queue.full():
                        self._queue.get_nowait()
                    self._queue.put_nowait(frame)
                else:
                    self._latest = frame
                    self._ready.set()
        except MediaStreamError:
            pass  # that connection ended; the side's next connection feeds the tap again
        finally:
            source.stop()

    async def recv(self) -> AudioFrame | VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self.buffered:
            frame = await self._queue.get()
        else:
            await self._ready.wait()
            self._ready.clear()
            frame, self._latest = self._latest, None
        if frame is None or self.readyState != "live":
            raise MediaStreamError
        return self._restamp(frame)

    def _restamp(self, frame: AudioFrame | VideoFrame) -> AudioFrame | VideoFrame:
        if self.buffered:
            # The relay hands one frame object to every consumer, and a forwarding encoder may be reading its
            # timestamp in its thread right now: a second consumer stamps a copy, never the shared frame.
            frame = _copy(frame)
        if isinstance(frame, AudioFrame):
            frame.pts = self._samples
            frame.time_base = Fraction(1, frame.sample_rate)
            self._samples += frame.samples
            return frame
        now = time.monotonic()
        if self._started is None:
            self._started = now
        pts = max(int((now - self._started) * VIDEO_CLOCK), self._last_pts + 1)
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = Fraction(1, VIDEO_CLOCK)
        return frame

    def stop(self) -> None:
        super().stop()
        self._let_go()
        # Wake a consumer waiting for a frame: it sees the tap ended.
        self._latest = None
        self._ready.set()
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)


def _copy(frame: AudioFrame | VideoFrame) -> AudioFrame | VideoFrame:
    if isinstance(frame, AudioFrame):
        copied = AudioFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name, layout=frame.layout.name)
        copied.sample_rate = frame.sample_rate
        return copied
    return VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")


@dataclass(eq=False)
class _Direction:
    """What one side sends: its current tracks, the taps reading them, its encoded frames, its picture's health."""

    tracks: dict[str, MediaStreamTrack] = field(default_factory=dict)
    taps: dict[str, list[Tap]] = field(default_factory=lambda: {"audio": [], "video": []})
    encoded: dict[str, EncodedSource] = field(default_factory=lambda: {k: EncodedSource(k) for k in KINDS})
    monitor: LiveMonitor | None = None
    watching: asyncio.Task[None] | None = None
    seen_video: bool = False
    problems: list[str] = field(default_factory=list)
    candidate: list[str] = field(default_factory=list)
    candidate_since: float = 0.0


class BridgedCall:
    """One audience's media through the server: a peer connection per side, each side's media relayed to the other."""

    def __init__(
        self,
        audience_id: int,
        *,
        marker_release: bool = True,
        monitor: bool = True,
        ice_servers: Sequence[RTCIceServer] = (),
        on_quality: QualityReport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.audience_id = audience_id
        self._marker_release = marker_release
        self._monitor = monitor
        self._ice_servers = list(ice_servers)
        self._on_quality = on_quality
        self._now = monotonic
        self._relay = MediaRelay()
        self._peers: dict[Side, RTCPeerConnection] = {}
        self._from: dict[Side, _Direction] = {side: _Direction() for side in SIDES}
        self._lock = asyncio.Lock()
        self._closed = False
        self._recorder: EncodedRecorder | None = None
        self.recording_path: Path | None = None
        self._quality_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # What each side's current connection is sent (a sender stops its track when its connection
        # closes, so every new connection gets taps of its own).
        self._forwarded: dict[Side, dict[str, Tap | EncodedTap]] = {side: {} for side in SIDES}
        for side in SIDES:
            if monitor:
                self._from[side].monitor = LiveMonitor()
                self._from[side].encoded["video"].on_frame = self._counter(self._from[side])
        if monitor:
            self._quality_task = asyncio.create_task(self._report_quality())

    @property
    def closed(self) -> bool:
        return self._closed

    def connected(self, side: Side) -> bool:
        pc = self._peers.get(side)
        return pc is not None and pc.connectionState == "connected"

    async def answer(self, side: Side, offer_sdp: str) -> str:
        """The server's answer to a side's offer, taken on a fresh peer connection that replaces its previous one."""
        async with self._lock:
            if self._closed:
                raise BridgeRefused("bridge_closed")
            await self._drop_peer(side)
            pc = RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers))
            # Before the marker release, which feeds the decoder queue put in place here.
            forward_on(pc, lambda receiver, kind: self._take_receiver(side, receiver, kind))
            if self._marker_release:
                use_marker_release_on(pc)
            self._peers[side] = pc

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                if self._peers.get(side) is pc:
                    self._take_track(side, track)

            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
                if not any(t.kind in KINDS for t in pc.getTransceivers()):
                    raise ValueError("the offer has neither audio nor video")
                for transceiver in pc.getTransceivers():
                    if transceiver.kind == "video" and not prefer_vp8(transceiver):
                        raise ValueError("the offer has no VP8, the codec the bridge forwards")
                    # aiortc types the sender's track as always present; before addTrack it is None.
                    if transceiver.kind in KINDS and cast("MediaStreamTrack | None", transceiver.sender.track) is None:
                        track = self._forward_to(side, transceiver.kind)
                        sender = pc.addTrack(track)
                        if isinstance(track, EncodedTap):
                            pass_keyframe_requests(sender, track)
                await pc.setLocalDescription(await pc.createAnswer())
            except (ValueError, AssertionError, TypeError) as exc:
                log.info("bridge %s: the %s's offer was refused: %s", self.audience_id, side, exc)
                await self._drop_peer(side)
                raise BridgeRefused("bad_sdp") from None
            description = pc.localDescription
            assert description is not None
            return str(description.sdp)

    def _forward_to(self, side: Side, kind: str) -> Tap | EncodedTap:
        """A new tap of the other side's `kind` for `side`'s new connection, fed at once if that side is sending.

        The picture as encoded frames (the tap asks the other side for a keyframe to start on), the sound decoded.
        """
        source = self._from[other_side(side)]
        previous = self._forwarded[side].get(kind)
        if previous is not None:
            if isinstance(previous, Tap):
                with contextlib.suppress(ValueError):
                    source.taps[kind].remove(previous)
            previous.stop()
        if kind == "video":
            encoded = source.encoded[kind].tap()
            self._forwarded[side][kind] = encoded
            return encoded
        tap = Tap(kind, buffered=False)
        self._forwarded[side][kind] = tap
        source.taps[kind].append(tap)
        if kind in source.tracks:
            tap.feed(self._relay.subscribe(source.tracks[kind], buffered=False))
        return tap

    def _take_receiver(self, side: Side, receiver: RTCRtpReceiver, kind: str) -> None:
        """Takes the encoded frames of `side`'s new receiver; the sound is decoded, the picture only for the monitor."""
        decode = _always if kind == "audio" or self._monitor else _never
        self._from[side].encoded[kind].take(receiver, decode=decode)

    def _counter(self, direction: _Direction) -> Callable[[bytes, bool], None]:
        monitor = direction.monitor
        assert monitor is not None

        def count(_data: bytes, _keyframe: bool) -> None:
            monitor.count(self._now())

        return count

    async def add_ice(self, side: Side, candidate: dict[str, Any] | None) -> None:
        """A trickled candidate of a side's connection (the browser sends them after its offer)."""
        pc = self._peers.get(side)
        if pc is None:
            return
        if candidate is None or not candidate.get("candidate"):
            # The end of the side's candidates: without it aioice never concludes that none of them works.
            with contextlib.suppress(Exception):
                await pc.addIceCandidate(None)
            return
        text = str(candidate["candidate"]).removeprefix("candidate:")
        try:
            found = candidate_from_sdp(text)
        except (AssertionError, ValueError, IndexError):
            return  # not one aiortc can use (the browser's own extensions); the others are enough
        found.sdpMid = candidate.get("sdpMid")
        found.sdpMLineIndex = candidate.get("sdpMLineIndex")
        with contextlib.suppress(Exception):
            await pc.addIceCandidate(found)

    def _take_track(self, side: Side, track: MediaStreamTrack) -> None:
        if track.kind not in KINDS:
            return
        direction = self._from[side]
        previous = direction.tracks.get(track.kind)
        direction.tracks[track.kind] = track
        if previous is not None and previous is not track:
            previous.stop()
        for tap in direction.taps[track.kind]:
            tap.feed(self._relay.subscribe(track, buffered=tap.buffered))
        if track.kind == "video" and direction.monitor is not None:
            if direction.watching is not None:
                direction.watching.cancel()
            direction.watching = asyncio.create_task(
                self._watch(side, self._relay.subscribe(track, buffered=False), direction.monitor)
            )

    async def _watch(self, side: Side, track: MediaStreamTrack, monitor: LiveMonitor) -> None:
        """Feeds the side's picture, as small thumbnails a few times a second, to its monitor until the connection ends.

        The monitor counts the frames themselves as they are forwarded (`_counter`).
        """
        looked = -math.inf
        try:
            while True:
                frame = cast(VideoFrame, await track.recv())
                now = self._now()
                if now - looked < 1 / MONITOR_LOOKS_PER_SECOND:
                    continue
                looked = now
                small = frame.reformat(width=THUMBNAIL[0], height=THUMBNAIL[1], format="bgr24")
                thumbnail = cast("npt.NDArray[np.uint8]", small.to_ndarray())
                monitor.look(thumbnail, now)
                self._from[side].seen_video = True
        except MediaStreamError:
            pass
        finally:
            track.stop()

    async def _report_quality(self) -> None:
        # Stopped by an event, not cancelled: a report in hand (the hub writes it to the record) is finished
        # rather than cut off halfway through its transaction.
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(QUALITY_EVERY):
                    await self._stopping.wait()
            if self._stopping.is_set():
                return
            for side in SIDES:
                direction = self._from[side]
                if direction.monitor is None or not direction.seen_video:
                    continue  # nothing to judge before the first frame: connecting is the hub's business
                now = self._now()
                problems = direction.monitor.problems(now)
                if problems != direction.candidate:
                    direction.candidate, direction.candidate_since = problems, now
                # A change is reported once it has held for QUALITY_HOLD: a reading flickering at a threshold
                # would otherwise flood the official's console and the record.
                if problems != direction.problems and now - direction.candidate_since >= QUALITY_HOLD:
                    direction.problems = problems
                    if self._on_quality is not None:
                        try:
                            await self._on_quality(side, list(problems))
                        except Exception:
                            log.exception("bridge %s: the quality report failed", self.audience_id)

    def problems(self, side: Side) -> list[str]:
        """What is wrong now with the picture `side` sends, as last reported."""
        return list(self._from[side].problems)

    def tap(self, side: Side, kind: str) -> Tap:
        """A buffered tap of the sound `side` sends (every frame, in order), fed across that side's reconnections."""
        if kind not in ("audio",):
            raise ValueError("the picture is forwarded encoded: take it with encoded_tap")
        tap = Tap(kind, buffered=True)
        direction = self._from[side]
        direction.taps[kind].append(tap)
        if kind in direction.tracks:
            tap.feed(self._relay.subscribe(direction.tracks[kind], buffered=True))
        return tap

    def encoded_tap(self, side: Side, kind: str) -> EncodedTap:
        """What `side` sends as encoded frames (`av.Packet`s, the picture from a keyframe), across reconnections."""
        return self._from[side].encoded[kind].tap()

    def untap(self, tap: Tap) -> None:
        for direction in self._from.values():
            with contextlib.suppress(ValueError):
                direction.taps[tap.kind].remove(tap)
        tap.stop()

    # --- recording -------------------------------------------------------------------

    def is_recording(self) -> bool:
        return self._recorder is not None

    async def start_recording(self, path: Path) -> None:
        """Records the room's picture and sound and the official's sound into `path` (Matroska) until stopped.

        The caller has checked the settings allow it and the applicant consented. The frames are written
        as they came (VP8 and Opus), from the room's next keyframe on.
        """
        if self._recorder is not None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        recorder = EncodedRecorder(
            path,
            self.encoded_tap("room", "video"),
            [self.encoded_tap("room", "audio"), self.encoded_tap("official", "audio")],
        )
        recorder.start()
        self._recorder, self.recording_path = recorder, path

    async def stop_recording(self) -> None:
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        try:
            await recorder.stop()
        except Exception:
            log.exception("bridge %s: the recording could not be closed cleanly", self.audience_id)

    # --- ending -------------------------------------------------------------------

    async def drop(self, side: Side) -> None:
        """A side vanished: its connection and tracks are released; the call waits for it to come back."""
        async with self._lock:
            await self._drop_peer(side)

    async def _drop_peer(self, side: Side) -> None:
        pc = self._peers.pop(side, None)
        direction = self._from[side]
        if direction.watching is not None:
            direction.watching.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await direction.watching
            direction.watching = None
        for track in direction.tracks.values():
            track.stop()
        direction.tracks.clear()
        for kind, tap in self._forwarded[side].items():
            if isinstance(tap, Tap):
                with contextlib.suppress(ValueError):
                    self._from[other_side(side)].taps[kind].remove(tap)
            tap.stop()
        self._forwarded[side].clear()
        if pc is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await pc.close()
            except TimeoutError:
                log.warning("bridge %s: the %s's connection did not close in time", self.audience_id, side)

    async def close(self) -> None:
        """Ends the bridged call: recording stopped and written, both connections closed, every task ended."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopping.set()
            if self._quality_task is not None:
                try:
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await self._quality_task
                except TimeoutError:
                    log.warning("bridge %s: the quality report did not finish in time", self.audience_id)
            await self.stop_recording()
            for side in SIDES:
                await self._drop_peer(side)
                for taps in self._from[side].taps.values():
                    for tap in taps:
                        tap.stop()
                for source in self._from[side].encoded.values():
                    source.close()


def _always(_data: bytes) -> bool:
    return True


def _never(_data: bytes) -> bool:
    return False


class MediaBridge:
    """The bridged calls of one server process, at most `max_calls` at once.

    Each costs little CPU (frames are forwarded, not encoded again; sound is): the cap keeps every call at full
    frame rate, and is set from the figures of bench/video.py.
    """

    def __init__(
        self,
        *,
        max_calls: int,
        marker_release: bool = True,
        monitor: bool = True,
        ice_servers: Sequence[RTCIceServer] = (),
        on_quality: Callable[[int, Side, list[str]], Awaitable[None]] | None = None,
    ) -> None:
        self.max_calls = max_calls
        self._marker_release = marker_release
        self._monitor = monitor
        self._ice_servers = list(ice_servers)
        # Set after construction by whoever listens (the hub), which is built with the bridge.
        self.on_quality = on_quality
        self.calls: dict[int, BridgedCall] = {}

    def load(self) -> int:
        """Calls carried, a recording one counted twice (its recorder encodes the room's picture once more)."""
        return len(self.calls) + sum(1 for call in self.calls.values() if call.is_recording())

    def has_room(self, *, places: int = 1) -> bool:
        return self.load() + places <= self.max_calls

    def get(self, audience_id: int) -> BridgedCall | None:
        return self.calls.get(audience_id)

    def open(self, audience_id: int) -> BridgedCall:
        """The audience's bridged call, opened now if it has none; BridgeRefused("bridge_full") over the cap."""
        call = self.calls.get(audience_id)
        if call is not None:
            return call
        if not self.has_room():
            raise BridgeRefused("bridge_full")

        async def report(side: Side, problems: list[str]) -> None:
            if self.on_quality is not None:
                await self.on_quality(audience_id, side, problems)

        call = BridgedCall(
            audience_id,
            marker_release=self._marker_release,
            monitor=self._monitor,
            ice_servers=self._ice_servers,
            on_quality=report,
        )
        self.calls[audience_id] = call
        return call

    async def close_call(self, audience_id: int) -> None:
        call = self.calls.pop(audience_id, None)
        if call is not None:
            await call.close()

    async def close(self) -> None:
        for audience_id in list(self.calls):
            await self.close_call(audience_id)
