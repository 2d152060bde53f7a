"""A bridged call's media as encoded frames: taken from one side's receiver, handed to the other side's sender.

Why: decoding each side's VP8 picture and encoding it again for the other side cost most of the
bridge's CPU (a VP8 encode per frame per direction), which held one process to 3 calls. aiortc's
`RTCRtpSender` takes `av.Packet`s from its track and only packetizes them, so the bridge hands
the other side the frames exactly as they came.

Where the frames are taken: aiortc's receiver puts each frame its jitter buffer completes (at the
marker packet, with video/jitter.py's `MarkerJitterBuffer`) into its decoder queue. An
`_Intercept` in place of that queue gives every frame to the side's `EncodedSource`, and lets
through to the decoder only the frames someone wants decoded: for video, every frame while the
live monitor watches and none otherwise (an inter frame decodes only on top of the frames before
it), for audio, every frame (the other side's sound is still decoded and encoded: Opus is cheap,
and aiortc's audio sender needs frames).

Keyframes: a VP8 inter frame decodes only on top of every frame since the last keyframe. So a
consumer that starts late (a side that reconnected, the recorder) or lost frames (it fell
behind) waits for the next keyframe and asks the source for one; a receiver's keyframe request
(PLI or FIR, which aiortc's sender takes as a request to its encoder) is passed to the source
the same way. The request is an RTCP PLI sent by the source's receiver.

This relies on aiortc's private receiver internals (its decoder queue, jitter buffer and codec
table), like video/jitter.py, and only on the aiortc version that module names.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
import weakref
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver
from aiortc.jitterbuffer import JitterFrame
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger(__name__)

VIDEO_CODEC = "video/VP8"
CLOCKS = {"video": 90_000, "audio": 48_000}
# A consumer more than this many frames behind (about a second of video) is cut back to the next keyframe:
# the frames it would still send are old news, and memory stays bounded.
BACKLOG = 30
# Keyframe requests passed to a source at most this often: a browser whose receiver lost many packets asks
# again with every one, and each keyframe is ten times the size of another frame.
KEYFRAME_REQUEST_GAP = 0.25
# A new connection's first frame is stamped one frame interval after the last one of the connection before.
_GAP = {"video": 3_000, "audio": 960}

_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
_CODECS = "_RTCRtpReceiver__codecs"


def is_keyframe(data: bytes) -> bool:
    """Whether a VP8 frame is a keyframe (RFC 6386 §9.1: bit 0 of the frame tag is 0)."""
    return len(data) >= 10 and data[0] & 0x01 == 0 and data[3:6] == b"\x9d\x01\x2a"


def picture_size(data: bytes) -> tuple[int, int] | None:
    """The width and height a VP8 keyframe states, or None for another frame."""
    if not is_keyframe(data):
        return None
    return int.from_bytes(data[6:8], "little") & 0x3FFF, int.from_bytes(data[8:10], "little") & 0x3FFF


class EncodedTap(MediaStreamTrack):
    """One consumer of a side's encoded frames (a sender, the recorder): `recv` returns `av.Packet`s in order.

    A video tap starts at a keyframe and, after falling `BACKLOG` frames behind, starts again at the next one.
    Timestamps are the source's, continuous across that side's reconnections.
    """

    def __init__(self, source: EncodedSource) -> None:
        super().__init__()
        self.kind = source.kind
        self._source = source
        self._queue: asyncio.Queue[av.Packet[Any] | None] = asyncio.Queue()
        self._needs_keyframe = source.kind == "video"
        self.frames = 0

    def offer(self, data: bytes, pts: int, keyframe: bool) -> None:
        if self.readyState != "live":
            return
        if self._needs_keyframe:
            if not keyframe:
                return
            self._needs_keyframe = False
        if self._queue.qsize() >= BACKLOG:
            self._drain()
            if self.kind == "video":
                self._needs_keyframe = True
                self._source.request_keyframe()
                return
        packet = av.Packet(data)
        packet.pts = packet.dts = pts
        packet.time_base = Fraction(1, CLOCKS[self.kind])
        self._queue.put_nowait(packet)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    def request_keyframe(self) -> None:
        """The consumer lost its picture (a PLI from its receiver): the source is asked for a keyframe."""
        self._source.request_keyframe()

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        if packet is None or self.readyState != "live":
            raise MediaStreamError
        self.frames += 1
        return packet

    def stop(self) -> None:
        super().stop()
        self._source.remove(self)
        self._drain()
        self._queue.put_nowait(None)


class EncodedSource:
    """One side's audio or video as encoded frames, across that side's connections, fanned out to taps."""

    def __init__(self, kind: str, *, on_frame: Callable[[bytes, bool], None] | None = None) -> None:
        self.kind = kind
        self._taps: list[EncodedTap] = []
        self._receiver: RTCRtpReceiver | None = None
        self._offset = 0
        self._last_pts = -_GAP[kind]
        self._rebase = True
        self._last_request = -KEYFRAME_REQUEST_GAP
        self._requests: set[asyncio.Task[None]] = set()
        # Told of every frame (its data, whether a keyframe), e.g. the live monitor's frame count.
        self.on_frame = on_frame
        self.keyframes_requested = 0

    def tap(self) -> EncodedTap:
        tap = EncodedTap(self)
        self._taps.append(tap)
        if self.kind == "video":
            self.request_keyframe()  # a new consumer can start only at a keyframe
        return tap

    def remove(self, tap: EncodedTap) -> None:
        if tap in self._taps:
            self._taps.remove(tap)

    @property
    def receiver(self) -> RTCRtpReceiver | None:
        """The receiver whose frames are taken now."""
        return self._receiver

    def take(self, receiver: RTCRtpReceiver, *, decode: Callable[[bytes], bool]) -> bool:
        """Reads this side's frames from `receiver` from now on; False if its internals are not as expected.

        Call it before the receiver starts (in the connection's synchronous "track" handler, or before
        `setRemoteDescription`), and before video/jitter.py's `use_marker_release`, which feeds the queue
        put in place here. `decode(data)` says whether a frame also goes to the receiver's decoder.
        """
        current = getattr(receiver, _DECODER_QUEUE, None)
        if isinstance(current, _Intercept):
            return True
        if type(current) is not queue.Queue or getattr(receiver, _DECODER_THREAD, True) is not None:
            log.warning("bridge: aiortc's receiver is not built as expected; its frames cannot be forwarded")
            return False
        setattr(receiver, _DECODER_QUEUE, _Intercept(self, receiver, decode))
        self._receiver = receiver
        self._rebase = True
        return True

    def frame(self, data: bytes, timestamp: int) -> bool:
        """A frame the current receiver completed; its timestamp is mapped to start at 0 per receiver."""
        if self._rebase:
            self._offset = self._last_pts + _GAP[self.kind] - timestamp
            self._rebase = False
        pts = max(timestamp + self._offset, self._last_pts + 1)
        self._last_pts = pts
        keyframe = self.kind == "video" and is_keyframe(data)
        if self.on_frame is not None:
            self.on_frame(data, keyframe)
        for tap in list(self._taps):
            tap.offer(data, pts, keyframe)
        return keyframe

    def request_keyframe(self) -> None:
        """Asks the side's sender for a keyframe (an RTCP PLI from its receiver), at most every KEYFRAME_REQUEST_GAP."""
        receiver = self._receiver
        now = time.monotonic()
        if self.kind != "video" or receiver is None or now - self._last_request < KEYFRAME_REQUEST_GAP:
            return
        sources = receiver.getSynchronizationSources()
        if not sources:
            return  # nothing received yet: its first frame is a keyframe anyway
        self._last_request = now
        self.keyframes_requested += 1
        task = asyncio.create_task(receiver._send_rtcp_pli(sources[-1].source))
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    def let_go(self, receiver: RTCRtpReceiver) -> None:
        """Stops asking `receiver` for keyframes if it is the one read now (a newer one may have replaced it)."""
        if receiver is self._receiver:
            self._receiver = None

    def close(self) -> None:
        self._receiver = None
        for tap in list(self._taps):
            tap.stop()
        for task in self._requests:
            task.cancel()


class _Intercept(queue.Queue[Any]):
    """The receiver's decoder queue: every frame to the source, to the decoder only those `decode` picks.

    `put` is called on the event loop (by the receiver's packet handler and video/jitter.py's extra-frame
    feed); the decoder thread only `get`s.
    """

    def __init__(self, source: EncodedSource, receiver: RTCRtpReceiver, decode: Callable[[bytes], bool]) -> None:
        super().__init__()
        self._source = source
        # Weakly: the receiver holds this queue.
        self._receiver = weakref.ref(receiver)
        self._decode = decode

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stopping its decoder thread
            receiver = self._receiver()
            if receiver is not None:
                self._source.let_go(receiver)
            super().put(item, block, timeout)
            return
        _codec, frame = item
        assert isinstance(frame, JitterFrame)
        if self._source.receiver is not self._receiver():
            return  # a connection already replaced: its last frames would interleave with the new one's
        self._source.frame(frame.data, frame.timestamp)
        if self._decode(frame.data):
            super().put(item, block, timeout)


def prefer_vp8(transceiver: RTCRtpTransceiver) -> bool:
    """Leaves VP8 (and its retransmission format) as a video transceiver's only codec; False if it was not offered.

    Called between `setRemoteDescription` and `createAnswer`: both sides of a bridged call must send the
    codec the other side's sender packetizes, and every WebRTC browser offers VP8.
    """
    codecs = transceiver._codecs
    vp8 = [c for c in codecs if c.mimeType.lower() == VIDEO_CODEC.lower()]
    if not vp8:
        return False
    types = {c.payloadType for c in vp8}
    rtx = [c for c in codecs if c.mimeType.lower() == "video/rtx" and c.parameters.get("apt") in types]
    transceiver._codecs = vp8 + rtx
    return True


def pass_keyframe_requests(sender: RTCRtpSender, tap: EncodedTap) -> None:
    """A PLI or FIR that reaches `sender` from its receiver asks `tap`'s source for a keyframe.

    aiortc's sender takes such a request as "force the encoder's next frame to be a keyframe" (its
    `_send_keyframe`); a sender of pre-encoded packets has no encoder, so the request goes to the source.
    """
    sender._send_keyframe = tap.request_keyframe  # type: ignore[method-assign]


def forward_on(pc: RTCPeerConnection, take: Callable[[RTCRtpReceiver, str], None]) -> None:
    """Calls `take(receiver, kind)` for every audio and video receiver `pc` creates, before its first packet.

    Register it before video/jitter.py's `use_marker_release_on` (handlers run in the order registered).
    """

    owner = weakref.ref(pc)  # pc holds the handler: no reference cycle through it

    def on_track(track: MediaStreamTrack) -> None:
        current = owner()
        if current is None:
            return
        for transceiver in current.getTransceivers():
            if transceiver.receiver.track is track and track.kind in CLOCKS:
                take(transceiver.receiver, track.kind)

    pc.on("track", on_track)
