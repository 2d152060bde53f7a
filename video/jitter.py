"""Hand a received video frame to the decoder as soon as its last packet is in (the RTP marker bit).

Why: aiortc's stock `JitterBuffer` only knows a video frame is over when the first
packet of the *next* frame arrives (its RTP timestamp differs). Every received
frame therefore waits one frame interval in the buffer — 33 ms at 30 fps, 66 ms
at 15 fps — before it is even decoded, and the last frame before a pause (a
sender gone quiet, a static screen sent at a low rate) is not shown until the
pause ends. The sender already says where a frame ends: the RTP marker bit is
set on the last packet of each video frame (RFC 7741 for VP8, RFC 6184 for
H.264, and aiortc's own `RTCRtpSender` sets it). `MarkerJitterBuffer` releases a
frame at that packet, provided all of the frame's packets are in.

What is kept from the stock buffer: the constructor and the `add` contract, the
misorder, overflow and picture-loss (PLI) handling (the base class's `add` does
all of it), and the timestamp change as the end of a frame whose marker never
came (a sender that never sets it).

One frame per `add`: `add` returns at most one frame, and aiortc's receiver
decodes only what it returns. When one packet completes several frames at once
(a retransmitted packet fills a gap behind which later frames were already
complete), the stock buffer returns the oldest and keeps the others, one coming
out per later `add`, i.e. per later packet. While each later frame brings a
single packet (small frames: low resolution, a still picture, the low bitrate a
lossy link is throttled to), that backlog never shrinks: every retransmission
adds its delay to the picture for good. So `use_marker_release` gives the
buffer `on_extra_frame`, which puts the older complete frames straight into the
receiver's decoder queue, in order, exactly as the receiver itself would, and
`add` returns the newest, which the receiver queues after them.

This relies on aiortc's private internals (the receiver's name-mangled jitter
buffer, decoder queue, decoder thread, codecs and timestamp mapper, and the
buffer's `_remove_frame`, `_origin`, `_packets`), so the installer refuses any
aiortc other than `AIORTC_VERSION` and the stock buffer stays;
tests/video/test_jitter.py fails if those internals change.
"""

from __future__ import annotations

import logging
import queue
import weakref
from collections.abc import Callable

import aiortc
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import TimestampMapper
from aiortc.rtp import RtpPacket

log = logging.getLogger(__name__)

AIORTC_VERSION = "1.16.0"
"""The only aiortc version whose private internals `use_marker_release` is known to fit."""

# RTCRtpReceiver's private attributes, name-mangled.
_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_KIND = "_RTCRtpReceiver__kind"
_CODECS = "_RTCRtpReceiver__codecs"
_DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"
_TIMESTAMP_MAPPER = "_RTCRtpReceiver__timestamp_mapper"
_warned: set[str] = set()

ExtraFrameSink = Callable[[JitterFrame, RtpPacket], None]
"""Takes a complete frame that `add` cannot return (it returns one), and the packet whose `add` completed it."""


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's `JitterBuffer` that releases a video frame at its marker packet instead of one frame later.

    A frame is released as soon as it is complete: its packets are contiguous in sequence number from the
    buffer's origin, share one RTP timestamp, and the last one carries the marker bit. A timestamp change still
    ends a frame whose marker packet never came (the stock rule). A gap holds the frame, and every later one,
    until the missing packet arrives or the stock overflow handling drops it. Frames leave in sequence order,
    each once: releasing removes its packets, and a late copy of a removed packet is dropped by the base
    class's misorder check.

    When one `add` completes several frames: without `on_extra_frame`, the oldest is returned and each later
    `add` returns the next (the stock behaviour); with it, all but the newest go to `on_extra_frame`, oldest
    first, during the call, and the newest is returned — so a caller that queues the returned frame after the
    call keeps them in order.

    With `prefetch` (an audio setting) the stock extraction is used unchanged.
    """

    def __init__(
        self, capacity: int, prefetch: int = 0, is_video: bool = False, *, on_extra_frame: ExtraFrameSink | None = None
    ) -> None:
        super().__init__(capacity=capacity, prefetch=prefetch, is_video=is_video)
        self.on_extra_frame = on_extra_frame

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        pli_flag, frame = super().add(packet)
        if frame is not None and self.on_extra_frame is not None and not self._prefetch:
            while (later := self._remove_frame(packet.sequence_number)) is not None:
                self.on_extra_frame(frame, packet)
                frame = later
        return pli_flag, frame

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        if self._prefetch or self._origin is None:
            return super()._remove_frame(sequence_number)
        packets: list[RtpPacket] = []
        timestamp: int | None = None
        for count in range(self._capacity):
            packet = self._packets[(self._origin + count) % self._capacity]
            if packet is None:
                return None  # a gap: nothing after it is known to be complete
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                # The stock rule: the next frame began, so this one (without a marker) is over.
                return self._release(packets, timestamp)
            packets.append(packet)
            if packet.marker:
                return self._release(packets, timestamp)
        return None

    def _release(self, packets: list[RtpPacket], timestamp: int) -> JitterFrame:
        self.remove(len(packets))
        return JitterFrame(data=b"".join(p._data for p in packets), timestamp=timestamp)  # type: ignore[attr-defined]


def _refuse(reason: str) -> bool:
    if reason not in _warned:
        _warned.add(reason)
        log.warning("video frames keep aiortc's stock jitter buffer (one frame interval later): %s", reason)
    return False


def _decoder_feed(receiver: RTCRtpReceiver) -> ExtraFrameSink | None:
    """What `RTCRtpReceiver._handle_rtp_packet` does with the frame `add` returns, for the frames it cannot."""
    codecs = getattr(receiver, _CODECS, None)
    decoder_queue = getattr(receiver, _DECODER_QUEUE, None)
    mapper = getattr(receiver, _TIMESTAMP_MAPPER, None)
    if not (
        isinstance(codecs, dict)
        and isinstance(decoder_queue, queue.Queue)
        and isinstance(mapper, TimestampMapper)
        and hasattr(receiver, _DECODER_THREAD)
    ):
        return None
    owner = weakref.ref(receiver)  # the receiver holds the buffer, which holds this: no reference cycle

    def feed(frame: JitterFrame, packet: RtpPacket) -> None:
        current = owner()
        codec = codecs.get(packet.payload_type)  # after RTX unwrapping, as the receiver looks it up
        if current is None or codec is None or not getattr(current, _DECODER_THREAD, None):
            return  # the receiver drops a frame when its decoder is gone: so do we
        frame.timestamp = mapper.map(frame.timestamp)
        decoder_queue.put((codec, frame))

    return feed


def use_marker_release(receiver: RTCRtpReceiver) -> bool:
    """Put a `MarkerJitterBuffer` in place of a video receiver's stock jitter buffer; True if it is in place.

    Only done while the stock buffer is untouched (no packet added yet), so no packet is lost or released
    twice; call it before the first RTP packet reaches the receiver (see `use_marker_release_on`). Calling it
    again on the same receiver is harmless. False — after a warning logged once per reason — when aiortc is
    another version, or its receiver is not built as expected, or the receiver is not a video one: the stock
    buffer is then left as it was and still works, only one frame interval later.
    """
    version = getattr(aiortc, "__version__", None)
    if version != AIORTC_VERSION:
        return _refuse(f"aiortc {version} is not the {AIORTC_VERSION} whose internals this fits")
    kind = getattr(receiver, _KIND, None)
    if kind != "video":
        return _refuse(f"the receiver's kind is {kind!r}, not 'video'")
    buffer = getattr(receiver, _BUFFER, None)
    if isinstance(buffer, MarkerJitterBuffer):
        return True
    if type(buffer) is not JitterBuffer:
        return _refuse(f"the receiver's {_BUFFER} is a {type(buffer).__name__}, not a JitterBuffer")
    for name in ("_capacity", "_origin", "_packets", "_prefetch", "_is_video"):
        if not hasattr(buffer, name):
            return _refuse(f"aiortc's JitterBuffer has no {name}")
    if buffer._origin is not None or any(p is not None for p in buffer._packets):
        return _refuse("the receiver's jitter buffer already holds packets")
    if buffer._prefetch or not buffer._is_video:
        return _refuse("the receiver's jitter buffer is not set up for video")
    feed = _decoder_feed(receiver)
    if feed is None:
        return _refuse("the receiver has no decoder queue, codecs or timestamp mapper where expected")
    setattr(receiver, _BUFFER, MarkerJitterBuffer(capacity=buffer.capacity, is_video=True, on_extra_frame=feed))
    return True


def use_marker_release_on(pc: RTCPeerConnection) -> None:
    """Release video frames at their marker packet on every video receiver of `pc`, present and future.

    Call it before `setRemoteDescription`. aiortc creates a receiver with its transceiver (at `addTrack` /
    `addTransceiver`, or when a remote description brings a new media section), emits "track" synchronously
    inside `setRemoteDescription`, and only then schedules the connection task that starts the receiver
    (`RTCRtpReceiver.receive` registers it with the transport); no RTP packet can reach a receiver before that.
    So the receivers there now are handled here, and each new one in the (synchronous) "track" handler, both
    before their first packet. Audio receivers keep the stock buffer, which they need for its prefetch.
    """
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            use_marker_release(transceiver.receiver)
    owner = weakref.ref(pc)  # pc holds the handler: no reference cycle through it

    def on_track(track: MediaStreamTrack) -> None:
        current = owner()
        if current is None or track.kind != "video":
            return
        for transceiver in current.getTransceivers():
            if transceiver.kind == "video" and transceiver.receiver.track is track:
                use_marker_release(transceiver.receiver)

    pc.on("track", on_track)
