"""video.jitter: a video frame goes to the decoder at its marker packet, not one frame later.

The unit tests feed hand-built RTP packets (with `_data` set, as aiortc's receiver sets it) to
`MarkerJitterBuffer` and to aiortc's stock `JitterBuffer`; the property tests compare the two on random
streams; the pinned-internals tests fail if aiortc changes what `use_marker_release` relies on, and drive
aiortc's real receiver; an end-to-end test links two real aiortc peers on loopback and checks every frame
arrives, in order, the last one too (with the stock buffer the last one never does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass
from fractions import Fraction

import aiortc
import av
import numpy as np
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCCertificate,
    RTCDtlsTransport,
    RTCIceGatherer,
    RTCIceTransport,
    RTCPeerConnection,
    RTCRtpReceiver,
    VideoStreamTrack,
)
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import RemoteStreamTrack, TimestampMapper
from aiortc.rtp import RtpPacket
from hypothesis import given, settings
from hypothesis import strategies as st

from video import jitter
from video.jitter import AIORTC_VERSION, MarkerJitterBuffer, use_marker_release, use_marker_release_on

WAIT = 20.0  # seconds; every wait below is bounded by it
FRAME_TICKS = 3000  # RTP timestamp step of one frame at 30 fps (90 kHz clock)


def rtp(seq: int, ts: int, marker: bool = False, data: bytes | None = None) -> RtpPacket:
    """An RTP packet as the receiver hands it to the jitter buffer: depayloaded data in `_data`."""
    payload = data if data is not None else f"{seq & 0xFFFF}@{ts};".encode()
    packet = RtpPacket(
        payload_type=96, marker=int(marker), sequence_number=seq & 0xFFFF, timestamp=ts & 0xFFFFFFFF, payload=payload
    )
    packet._data = payload  # type: ignore[attr-defined]
    return packet


def data(*packets: RtpPacket) -> bytes:
    return b"".join(p.payload for p in packets)


def frame_of(result: tuple[bool, JitterFrame | None]) -> tuple[bytes, int] | None:
    pli, frame = result
    assert not pli
    return None if frame is None else (frame.data, frame.timestamp)


def marker_buffer() -> MarkerJitterBuffer:
    return MarkerJitterBuffer(capacity=512, is_video=True)  # as aiortc's receiver builds its video buffer


def stock_buffer() -> JitterBuffer:
    return JitterBuffer(capacity=512, is_video=True)


# --- The buffer, packet by packet ----------------------------------------------------------------------------


def test_a_frame_is_released_at_its_marker_packet_where_the_stock_buffer_waits_for_the_next_frame() -> None:
    a = [rtp(10, 1000), rtp(11, 1000), rtp(12, 1000, marker=True)]
    b0 = rtp(13, 1000 + FRAME_TICKS)
    marker, stock = marker_buffer(), stock_buffer()
    assert [frame_of(marker.add(p)) for p in a] == [None, None, (data(*a), 1000)]
    assert [frame_of(stock.add(p)) for p in a] == [None, None, None]
    assert frame_of(stock.add(b0)) == (data(*a), 1000)  # one frame interval later
    assert frame_of(marker.add(b0)) is None  # already released: never twice


def test_frames_are_released_in_order_each_at_its_marker() -> None:
    frames = [[rtp(100 + 2 * f, f * FRAME_TICKS), rtp(101 + 2 * f, f * FRAME_TICKS, marker=True)] for f in range(4)]
    buffer = marker_buffer()
    released = [frame_of(buffer.add(p)) for frame in frames for p in frame]
    expected: list[tuple[bytes, int] | None] = []
    for f, frame in enumerate(frames):
        expected += [None, (data(*frame), f * FRAME_TICKS)]
    assert released == expected


def test_packets_reordered_within_a_frame_are_put_back_in_sequence_order() -> None:
    first = rtp(10, 0, marker=True)
    b = [rtp(11, FRAME_TICKS), rtp(12, FRAME_TICKS), rtp(13, FRAME_TICKS, marker=True)]
    buffer = marker_buffer()
    assert frame_of(buffer.add(first)) == (data(first), 0)
    assert frame_of(buffer.add(b[2])) is None  # the marker first: the frame is not complete
    assert frame_of(buffer.add(b[0])) is None
    assert frame_of(buffer.add(b[1])) == (data(*b), FRAME_TICKS)


def test_a_gap_holds_the_frame_until_the_missing_packet_arrives_then_later_frames_follow_one_per_packet() -> None:
    a = [rtp(20, 0), rtp(21, 0), rtp(22, 0, marker=True)]
    b = [rtp(23, FRAME_TICKS, marker=True)]
    c = [rtp(24, 2 * FRAME_TICKS), rtp(25, 2 * FRAME_TICKS, marker=True)]
    buffer = marker_buffer()
    assert frame_of(buffer.add(a[0])) is None
    assert frame_of(buffer.add(a[2])) is None  # 21 is missing: never an incomplete frame
    assert frame_of(buffer.add(b[0])) is None  # b is complete, but behind a: order is kept
    # The retransmitted 21 completes a and b at once; `add` returns one frame, the oldest.
    assert frame_of(buffer.add(a[1])) == (data(*a), 0)
    # b waits in the buffer for the next `add` (the next packet), as in the stock buffer.
    assert frame_of(buffer.add(c[0])) == (data(*b), FRAME_TICKS)
    assert frame_of(buffer.add(c[1])) == (data(*c), 2 * FRAME_TICKS)


def test_with_on_extra_frame_the_frames_completed_by_one_packet_all_come_out_at_it_in_order() -> None:
    a = [rtp(20, 0), rtp(21, 0), rtp(22, 0, marker=True)]
    b = [rtp(23, FRAME_TICKS, marker=True)]
    c = [rtp(24, 2 * FRAME_TICKS, marker=True)]
    extra: list[tuple[int, int]] = []
    buffer = MarkerJitterBuffer(
        capacity=512, is_video=True, on_extra_frame=lambda f, p: extra.append((f.timestamp, p.sequence_number))
    )
    for p in [a[0], a[2], *b, *c]:
        assert frame_of(buffer.add(p)) is None
    # 21 completes a, b and c: a and b go to on_extra_frame, oldest first, and c, the newest, is returned —
    # aiortc's receiver queues it for the decoder after the call, so after them.
    assert frame_of(buffer.add(a[1])) == (data(*c), 2 * FRAME_TICKS)
    assert extra == [(0, 21), (FRAME_TICKS, 21)]
    d = rtp(25, 3 * FRAME_TICKS, marker=True)
    assert frame_of(buffer.add(d)) == (data(d), 3 * FRAME_TICKS)  # and then one at a time again
    assert len(extra) == 2


def test_one_frame_per_add_keeps_the_delay_of_a_retransmission_for_good_while_frames_are_one_packet_each() -> None:
    # Frame k is the one packet k; packet 10 is retransmitted 5 packets late. With one frame per `add` (the stock
    # buffer, or ours without on_extra_frame) every later frame then comes out 5 frames late (the stock one 6),
    # for as long as each frame is one packet; with on_extra_frame each comes out at its own packet again.
    arrivals = [*range(10), *range(11, 16), 10, *range(16, 60)]

    def lag(buffer: JitterBuffer) -> list[int]:
        out: list[int] = []
        for seq in arrivals:
            _pli, frame = buffer.add(rtp(seq, seq * FRAME_TICKS, marker=True))
            if frame is not None:
                out.append(seq - frame.timestamp // FRAME_TICKS)
        return out

    assert lag(stock_buffer())[-40:] == [6] * 40
    assert lag(marker_buffer())[-40:] == [5] * 40
    assert lag(MarkerJitterBuffer(capacity=512, is_video=True, on_extra_frame=lambda _f, _p: None))[-40:] == [0] * 40


def test_sequence_numbers_wrap_around_at_65535() -> None:
    a = [rtp(65534, 7), rtp(65535, 7), rtp(65536, 7, marker=True)]  # 65536 is sent as 0
    b = [rtp(1, 7 + FRAME_TICKS), rtp(2, 7 + FRAME_TICKS, marker=True)]
    assert a[2].sequence_number == 0
    buffer = marker_buffer()
    assert [frame_of(buffer.add(p)) for p in a + b] == [None, None, (data(*a), 7), None, (data(*b), 7 + FRAME_TICKS)]
    buffer = marker_buffer()
    released = [frame_of(buffer.add(p)) for p in [a[0], a[2], b[1], a[1], b[0]]]
    assert released == [None, None, None, (data(*a), 7), (data(*b), 7 + FRAME_TICKS)]


def test_at_the_very_start_the_first_packet_received_is_the_origin_as_in_the_stock_buffer() -> None:
    # Nothing says a packet came before the first one received: an earlier packet of the same frame, arriving
    # after it, is dropped as too late, and the frame goes out without it (the decoder's failure then asks the
    # sender for a keyframe). The stock buffer does the same, only one frame later.
    a = [rtp(80, 0), rtp(81, 0), rtp(82, 0, marker=True)]
    b0 = rtp(83, FRAME_TICKS)
    marker, stock = marker_buffer(), stock_buffer()
    assert [frame_of(marker.add(p)) for p in [a[1], a[0], a[2], b0]] == [None, None, (data(a[1], a[2]), 0), None]
    assert [frame_of(stock.add(p)) for p in [a[1], a[0], a[2], b0]] == [None, None, None, (data(a[1], a[2]), 0)]


def test_rtp_timestamps_wrap_around_too() -> None:
    a = rtp(5, 0xFFFFFFFF - 100, marker=True)
    b = rtp(6, 0xFFFFFFFF - 100 + FRAME_TICKS, marker=True)
    buffer = marker_buffer()
    assert frame_of(buffer.add(a)) == (data(a), 0xFFFFFFFF - 100)
    assert frame_of(buffer.add(b)) == (data(b), (0xFFFFFFFF - 100 + FRAME_TICKS) & 0xFFFFFFFF)


def test_a_frame_without_a_marker_is_still_released_at_the_timestamp_change() -> None:
    a = [rtp(30, 0), rtp(31, 0)]  # a sender that never sets the marker bit
    b = [rtp(32, FRAME_TICKS), rtp(33, FRAME_TICKS, marker=True)]
    c = [rtp(34, 2 * FRAME_TICKS)]
    marker, stock = marker_buffer(), stock_buffer()
    assert [frame_of(marker.add(p)) for p in a + b] == [None, None, (data(*a), 0), (data(*b), FRAME_TICKS)]
    assert [frame_of(stock.add(p)) for p in a + b + c] == [None, None, (data(*a), 0), None, (data(*b), FRAME_TICKS)]


def test_a_lost_marker_packet_holds_its_frame_until_it_is_retransmitted() -> None:
    a = [rtp(40, 0), rtp(41, 0), rtp(42, 0, marker=True)]
    b = [rtp(43, FRAME_TICKS), rtp(44, FRAME_TICKS, marker=True)]
    buffer = marker_buffer()
    for p in [a[0], a[1], *b]:  # 42 is lost: neither a (incomplete) nor b (behind a) may go
        assert frame_of(buffer.add(p)) is None
    assert frame_of(buffer.add(a[2])) == (data(*a), 0)
    assert frame_of(buffer.add(rtp(45, 2 * FRAME_TICKS))) == (data(*b), FRAME_TICKS)


def test_a_frame_whose_marker_packet_never_comes_is_dropped_by_the_stock_overflow_with_a_picture_loss() -> None:
    buffer = MarkerJitterBuffer(capacity=16, is_video=True)
    lost = [rtp(50, 0), rtp(51, 0)]  # 52, its marker packet, never comes
    for p in lost:
        assert frame_of(buffer.add(p)) is None
    released: list[tuple[bool, int | None]] = []
    for f in range(1, 20):
        pli, frame = buffer.add(rtp(52 + f, f * FRAME_TICKS, marker=True))
        released.append((pli, None if frame is None else frame.timestamp))
    # Held until the buffer is full, then the stock overflow drops the incomplete frame and asks for a keyframe;
    # after it every frame is released at its marker again.
    first_out = next(i for i, (_pli, ts) in enumerate(released) if ts is not None)
    assert released[first_out][0] is True
    timestamps = [ts for _pli, ts in released if ts is not None]
    assert timestamps == sorted(timestamps) and 0 not in timestamps
    assert all(ts is not None and not pli for pli, ts in released[first_out + 3 :])


def test_a_duplicate_of_a_released_packet_is_not_released_again_a_very_late_one_resets_with_a_picture_loss() -> None:
    buffer = marker_buffer()
    a = rtp(60, 0, marker=True)
    assert frame_of(buffer.add(a)) == (data(a), 0)
    assert frame_of(buffer.add(rtp(60, 0, marker=True))) is None
    pli, frame = buffer.add(rtp(60 - 150, 5 * FRAME_TICKS, marker=True))  # the stock misorder limit is 100
    assert pli is True and frame is not None and frame.timestamp == 5 * FRAME_TICKS


def test_with_prefetch_the_stock_extraction_is_kept() -> None:
    packets = [rtp(70 + i, i * 960, marker=i % 3 == 0) for i in range(20)]
    ours = MarkerJitterBuffer(capacity=16, prefetch=4)
    stock = JitterBuffer(capacity=16, prefetch=4)
    assert [frame_of(ours.add(p)) for p in packets] == [frame_of(stock.add(p)) for p in packets]


# --- Random streams, against the stock buffer -----------------------------------------------------------------


@dataclass
class Stream:
    """Frames of packets in sequence order, and the order in which their packets arrive (indexes, repeats)."""

    packets: list[RtpPacket]
    frame_of_packet: list[int]
    markers: list[bool]
    arrivals: list[int]


def build_stream(
    first_seq: int,
    first_ts: int,
    sizes: list[int],
    markers: list[bool],
    delays: list[int],
    lost: Collection[int] = (),
    repeated: Collection[int] = (),
) -> Stream:
    packets: list[RtpPacket] = []
    frame_of_packet: list[int] = []
    for f, size in enumerate(sizes):
        for j in range(size):
            seq = first_seq + len(packets)
            packets.append(rtp(seq, first_ts + f * FRAME_TICKS, marker=markers[f] and j == size - 1))
            frame_of_packet.append(f)
    # A delayed packet arrives `delay` places late (a reordering, or a retransmission); packet 0 comes first;
    # a lost one never comes; a repeated one comes again up to 20 places later.
    keyed = [(i + delays[i % len(delays)] if i else -1, 0, i) for i in range(len(packets)) if i not in lost or i == 0]
    keyed += [(key + 1 + i % 20, 1, i) for key, _, i in list(keyed) if i in repeated]
    return Stream(packets, frame_of_packet, markers, [i for _key, _repeat, i in sorted(keyed)])


Released = list[tuple[int, int, bytes]]  # (the add that released it, frame number, data)


def run(buffer: JitterBuffer, stream: Stream) -> Released:
    """Feed the stream, then as many one-packet frames as it has frames.

    These fillers are the next packets of a live stream: they let frames queued behind one another (one frame
    per `add`) come out, so what has not come out by then never would."""
    frame_at_ts = {p.timestamp: stream.frame_of_packet[i] for i, p in enumerate(stream.packets)}
    last = stream.packets[-1]
    fillers = [
        rtp(last.sequence_number + 1 + k, last.timestamp + (k + 1) * FRAME_TICKS, marker=True)
        for k in range(len(stream.markers) + 1)
    ]
    for k, p in enumerate(fillers):
        frame_at_ts[p.timestamp] = len(stream.markers) + k
    released: Released = []
    n = 0
    if isinstance(buffer, MarkerJitterBuffer) and buffer.on_extra_frame is not None:
        buffer.on_extra_frame = lambda frame, _packet: released.append((n, frame_at_ts[frame.timestamp], frame.data))
    for n, packet in enumerate([stream.packets[i] for i in stream.arrivals] + fillers):
        pli, frame = buffer.add(packet)
        assert not pli  # no overflow, no reset: these streams stay within the stock limits
        if frame is not None:
            released.append((n, frame_at_ts[frame.timestamp], frame.data))
    return [r for r in released if r[1] < len(stream.markers)]


def frame_packets(stream: Stream) -> list[range]:
    """Each frame's packet indexes."""
    starts = [i for i, f in enumerate(stream.frame_of_packet) if i == 0 or stream.frame_of_packet[i - 1] != f]
    return [range(start, end) for start, end in zip(starts, [*starts[1:], len(stream.packets)], strict=True)]


def complete(stream: Stream) -> Released:
    """What a marker-releasing buffer must deliver, each frame at the packet that completes it: every packet of
    the frame and of the frames before it have arrived, and it has a marker or the next frame's first packet
    has arrived (after the stream, the first filler's)."""
    at: dict[int, int] = {}
    for n, i in enumerate(stream.arrivals):
        at.setdefault(i, n)
    at[len(stream.packets)] = len(stream.arrivals)
    released: Released = []
    ready = 0
    for f, own in enumerate(frame_packets(stream)):
        if any(i not in at for i in own):
            break
        ready = max(ready, *(at[i] for i in own))
        if stream.markers[f] or own.stop in at:
            ended = ready if stream.markers[f] else max(ready, at[own.stop])
            released.append((ended, f, b"".join(stream.packets[i].payload for i in own)))
    return released


def compare(stream: Stream) -> None:
    expected = complete(stream)
    fed = run(MarkerJitterBuffer(capacity=512, is_video=True, on_extra_frame=lambda _f, _p: None), stream)
    plain = run(marker_buffer(), stream)
    stock = run(stock_buffer(), stream)
    # Fed to the decoder as aiortc's receiver is by use_marker_release: every complete frame, whole, in order,
    # once, at the packet that completes it; nothing else.
    assert fed == expected
    # One frame per add: the same frames, none sooner.
    assert [(f, d) for _n, f, d in plain] == [(f, d) for _n, f, d in expected]
    assert all(n >= ready for (n, _f, _d), (ready, _g, _e) in zip(plain, expected, strict=True))
    # The stock buffer releases the same frames (or fewer: not one whose next frame's first packet is lost),
    # with the same data, and never sooner than either.
    assert [(f, d) for _n, f, d in stock] == [(f, d) for _n, f, d in plain[: len(stock)]]
    assert all(n <= stock_n for (n, _f, _d), (stock_n, _g, _e) in zip(plain, stock, strict=False))


@settings(max_examples=400, deadline=None)
@given(
    first_seq=st.integers(0, 0xFFFF),
    first_ts=st.integers(0, 0xFFFFFFFF),
    frames=st.lists(st.tuples(st.integers(1, 6), st.integers(0, 9).map(lambda x: x != 0)), min_size=1, max_size=40),
    delays=st.lists(st.one_of(st.just(0), st.integers(0, 3), st.integers(0, 30)), min_size=1, max_size=60),
    lost=st.sets(st.integers(1, 239), max_size=2),
    repeated=st.sets(st.integers(0, 239), max_size=5),
)
def test_on_random_streams_every_complete_frame_is_released_when_complete_and_never_later_than_by_the_stock_buffer(
    first_seq: int, first_ts: int, frames: list[tuple[int, bool]], delays: list[int], lost: set[int], repeated: set[int]
) -> None:
    sizes = [size for size, _marker in frames]
    markers = [marker for _size, marker in frames]
    compare(build_stream(first_seq, first_ts, sizes, markers, delays, lost, repeated))


def test_a_long_stream_wrapping_its_sequence_numbers_twice() -> None:
    rng = random.Random(20261124)  # noqa: S311 - a reproducible test stream, not a secret
    frames = 20_000
    sizes = [rng.choice([1, 1, 2, 3, 4, 8, 12]) for _ in range(frames)]
    markers = [rng.random() < 0.97 for _ in range(frames)]
    delays = [0 if rng.random() < 0.9 else rng.randint(1, 40) for _ in range(5003)]
    stream = build_stream(65_000, 0xFFFF0000, sizes, markers, delays, repeated={i * 7 for i in range(5000)})
    assert 65_000 + len(stream.packets) > 2 * 65_536  # from 65,000: past 0 twice
    compare(stream)


# --- aiortc's receiver: the internals this relies on -----------------------------------------------------------


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jitter, "_warned", set())


@contextlib.asynccontextmanager
async def dtls_transport() -> AsyncIterator[RTCDtlsTransport]:
    """A real, unstarted DTLS transport: enough for a receiver to be built, started and stopped."""
    ice = RTCIceTransport(RTCIceGatherer())
    dtls = RTCDtlsTransport(ice, [RTCCertificate.generateCertificate()])
    try:
        yield dtls
    finally:
        await dtls.stop()
        await ice.stop()


def stock_of(receiver: RTCRtpReceiver) -> object:
    return getattr(receiver, "_RTCRtpReceiver__jitter_buffer")  # noqa: B009 - the name-mangled private attribute


async def test_aiortc_is_the_pinned_version_and_its_video_receiver_has_the_stock_buffer_we_replace(
    fresh_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert aiortc.__version__ == AIORTC_VERSION
    async with dtls_transport() as dtls:
        video = RTCRtpReceiver("video", dtls)
        stock = stock_of(video)
        assert type(stock) is JitterBuffer and stock.capacity == 512 and stock._is_video and not stock._prefetch
        # What the extra frames are fed through, as _handle_rtp_packet feeds the frame `add` returns.
        assert isinstance(getattr(video, "_RTCRtpReceiver__decoder_queue"), queue.Queue)  # noqa: B009
        assert getattr(video, "_RTCRtpReceiver__decoder_thread") is None  # noqa: B009 - set by receive()
        assert getattr(video, "_RTCRtpReceiver__codecs") == {}  # noqa: B009 - filled by receive()
        assert isinstance(getattr(video, "_RTCRtpReceiver__timestamp_mapper"), TimestampMapper)  # noqa: B009
        assert use_marker_release(video)
        ours = stock_of(video)
        assert type(ours) is MarkerJitterBuffer and ours.capacity == 512 and ours._is_video
        assert ours.on_extra_frame is not None
        assert use_marker_release(video) and stock_of(video) is ours  # again: nothing changes

        audio = RTCRtpReceiver("audio", dtls)
        audio_stock = stock_of(audio)
        assert not use_marker_release(audio) and stock_of(audio) is audio_stock
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, STOCK_KEPT + "the receiver's kind is 'audio', not 'video'")
    ]


async def test_the_installer_refuses_another_aiortc_or_a_used_or_missing_buffer_and_warns_once(
    fresh_warnings: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with dtls_transport() as dtls:
        receivers = [RTCRtpReceiver("video", dtls) for _ in range(6)]
        with monkeypatch.context() as patch:
            patch.setattr(aiortc, "__version__", "1.17.0")
            assert not use_marker_release(receivers[0]) and not use_marker_release(receivers[1])
        used = stock_of(receivers[2])
        assert isinstance(used, JitterBuffer)
        used.add(rtp(1, 0))
        assert not use_marker_release(receivers[2]) and stock_of(receivers[2]) is used
        delattr(receivers[3], "_RTCRtpReceiver__jitter_buffer")
        assert not use_marker_release(receivers[3])
        delattr(receivers[4], "_RTCRtpReceiver__decoder_queue")
        assert not use_marker_release(receivers[4])
        assert use_marker_release(receivers[5])
        assert all(type(stock_of(r)) is JitterBuffer for r in [*receivers[:3], receivers[4]])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # another aiortc (once for two receivers), a used buffer, no buffer, no decoder queue
    assert len(warnings) == 4
    assert "1.17.0" in warnings[0] and "already holds packets" in warnings[1] and "NoneType" in warnings[2]
    assert "decoder queue" in warnings[3]


DecoderQueue = queue.Queue[tuple[RTCRtpCodecParameters, JitterFrame]]
STOCK_KEPT = "video frames keep aiortc's stock jitter buffer (one frame interval later): "


async def test_each_refusal_is_logged_in_full_and_neither_raises_nor_touches_the_receiver(
    fresh_warnings: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with dtls_transport() as dtls:
        with monkeypatch.context() as patch:
            patch.delattr(aiortc, "__version__")
            assert not use_marker_release(RTCRtpReceiver("video", dtls))
        no_kind, other_buffer, old_buffer, emptied, not_video, no_codecs, no_mapper = (
            RTCRtpReceiver("video", dtls) for _ in range(7)
        )
        delattr(no_kind, "_RTCRtpReceiver__kind")
        setattr(other_buffer, "_RTCRtpReceiver__jitter_buffer", [])  # noqa: B010 - the name-mangled attribute
        delattr(stock_of(old_buffer), "_prefetch")  # as if aiortc renamed it
        seen = stock_of(emptied)
        assert isinstance(seen, JitterBuffer)
        seen.add(rtp(1, 0))  # a buffer that has seen a packet, though it holds none now
        seen.remove(1)
        setattr(not_video, "_RTCRtpReceiver__jitter_buffer", JitterBuffer(capacity=128))  # noqa: B010
        delattr(no_codecs, "_RTCRtpReceiver__codecs")
        delattr(no_mapper, "_RTCRtpReceiver__timestamp_mapper")
        refused = [no_kind, other_buffer, old_buffer, emptied, not_video, no_codecs, no_mapper]
        before = [stock_of(r) if hasattr(r, "_RTCRtpReceiver__jitter_buffer") else None for r in refused]
        assert [use_marker_release(r) for r in refused] == [False] * len(refused)
        assert [stock_of(r) for r in refused] == before
    assert [r.getMessage() for r in caplog.records] == [
        STOCK_KEPT + reason
        for reason in (
            "aiortc None is not the 1.16.0 whose internals this fits",
            "the receiver's kind is None, not 'video'",
            "the receiver's _RTCRtpReceiver__jitter_buffer is a list, not a JitterBuffer",
            "aiortc's JitterBuffer has no _prefetch",
            "the receiver's jitter buffer already holds packets",
            "the receiver's jitter buffer is not set up for video",
            "the receiver has no decoder queue, codecs or timestamp mapper where expected",  # once for both
        )
    ]


async def test_an_extra_frame_goes_to_the_decoder_only_for_a_negotiated_codec_while_the_decoder_runs() -> None:
    async with dtls_transport() as dtls:
        receiver = RTCRtpReceiver("video", dtls)
        assert use_marker_release(receiver)
        buffer = stock_of(receiver)
        assert isinstance(buffer, MarkerJitterBuffer) and buffer.on_extra_frame is not None
        decoder_queue: DecoderQueue = getattr(receiver, "_RTCRtpReceiver__decoder_queue")  # noqa: B009
        buffer.on_extra_frame(JitterFrame(data=b"x", timestamp=0), rtp(1, 0))
        assert decoder_queue.empty()  # not started: no decoder, no codec
        # What receive() sets up, without a thread that would empty the queue under the test's feet.
        setattr(receiver, "_RTCRtpReceiver__decoder_thread", threading.Thread(target=lambda: None))  # noqa: B010
        buffer.on_extra_frame(JitterFrame(data=b"x", timestamp=0), rtp(1, 0))
        assert decoder_queue.empty()  # payload type 96 is not negotiated
        getattr(receiver, "_RTCRtpReceiver__codecs")[96] = VP8  # noqa: B009
        buffer.on_extra_frame(JitterFrame(data=b"x", timestamp=0), rtp(1, 0))
        codec, frame = decoder_queue.get_nowait()
        assert codec is VP8 and frame.data == b"x"


def test_our_buffer_has_the_stock_buffers_defaults() -> None:
    ours, stock = MarkerJitterBuffer(capacity=16), JitterBuffer(capacity=16)
    assert (ours._prefetch, ours._is_video, ours.on_extra_frame) == (stock._prefetch, stock._is_video, None)


def vp8_frames(count: int) -> list[tuple[list[bytes], int]]:
    """`count` 320×240 frames encoded by aiortc's own VP8 encoder: (RTP payloads, RTP timestamp)."""
    encoder = Vp8Encoder()
    encoded = []
    for n in range(count):
        picture = np.random.default_rng(n).integers(0, 256, (240, 320, 3), dtype=np.uint8)  # noise: big frames
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts, frame.time_base = n * FRAME_TICKS, Fraction(1, 90_000)
        encoded.append(encoder.encode(frame))
    return encoded


VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)
Calls = list[tuple[RtpPacket, JitterFrame | None]]


@contextlib.asynccontextmanager
async def started_receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[RTCRtpReceiver, Calls]]:
    """A real video receiver with our buffer, started for VP8 (its decoder thread running) as RTCPeerConnection
    starts it; gives it and the (packet, returned frame) of every `add`. Stopped after, its decoder thread ended."""
    async with dtls_transport() as dtls:
        receiver = RTCRtpReceiver("video", dtls)
        assert use_marker_release(receiver)
        buffer = stock_of(receiver)
        assert isinstance(buffer, MarkerJitterBuffer)
        calls: Calls = []
        add = buffer.add

        def spy(packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
            pli, frame = add(packet)
            calls.append((packet, frame))
            return pli, frame

        monkeypatch.setattr(buffer, "add", spy)
        track = RemoteStreamTrack(kind="video")
        receiver._track = track  # what RTCPeerConnection.setRemoteDescription does before starting the receiver
        await receiver.receive(RTCRtpReceiveParameters(codecs=[VP8]))
        try:
            yield receiver, calls
        finally:
            await receiver.stop()
            await asyncio.wait_for(until_ended(track), WAIT)  # the decoder thread's last word has been heard


async def until_ended(track: MediaStreamTrack) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()


def vp8_packets(count: int, first_seq: int = 1000) -> list[list[RtpPacket]]:
    """`count` frames as aiortc's sender sends them: VP8 payloads, the marker on each frame's last packet."""
    frames: list[list[RtpPacket]] = []
    seq = first_seq
    for payloads, timestamp in vp8_frames(count):
        assert len(payloads) > 1  # so that "at the marker packet" means something
        frames.append([])
        for i, payload in enumerate(payloads):
            packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=timestamp, ssrc=1234)
            packet.payload, packet.marker = payload, int(i == len(payloads) - 1)
            frames[-1].append(packet)
            seq += 1
    return frames


async def decoded(receiver: RTCRtpReceiver) -> av.VideoFrame:
    frame = await asyncio.wait_for(receiver.track.recv(), WAIT)
    assert isinstance(frame, av.VideoFrame) and (frame.width, frame.height) == (320, 240)
    return frame


async def test_packets_through_the_real_receiver_reach_our_buffer_and_a_frame_is_decoded_at_its_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with started_receiver(monkeypatch) as (receiver, calls):
        for frame in vp8_packets(3):
            calls.clear()
            for packet in frame:
                await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
            # Every packet went through our add; the frame came out at the marker packet, not before ...
            assert [p for p, _f in calls] == frame
            assert [f is not None for _p, f in calls] == [False] * (len(frame) - 1) + [True]
            # ... and reaches the track decoded, with no next frame sent.
            await decoded(receiver)


async def test_through_the_real_receiver_frames_completed_by_one_retransmission_are_all_decoded_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with started_receiver(monkeypatch) as (receiver, calls):
        first, *later = vp8_packets(3)
        missing = first[1]
        for packet in [p for p in first if p is not missing] + [p for frame in later for p in frame]:
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        assert all(f is None for _p, f in calls)
        await receiver._handle_rtp_packet(missing, arrival_time_ms=0)  # the retransmission
        assert calls[-1][1] is not None and calls[-1][1].timestamp == later[-1][0].timestamp  # the newest
        # All three reach the decoder now, in order, with no further packet.
        times: list[int] = []
        for _ in range(3):
            pts = (await decoded(receiver)).pts
            assert pts is not None
            times.append(pts)
        assert times == sorted(times) and len(set(times)) == 3


# --- Two real peers on loopback -------------------------------------------------------------------------------

BITS = 8
BLOCK = 32


def draw_counter(n: int) -> np.ndarray:
    """A grey 320×240 picture with `n` in binary as white/black 32×32 blocks, and its complement below."""
    picture = np.full((240, 320, 3), 128, dtype=np.uint8)
    for bit in range(BITS):
        x = 16 + bit * (BLOCK + 4)
        on = (n >> bit) & 1
        picture[64 : 64 + BLOCK, x : x + BLOCK] = 255 if on else 0
        picture[144 : 144 + BLOCK, x : x + BLOCK] = 0 if on else 255
    return picture


def read_counter(frame: av.VideoFrame) -> int | None:
    """The number `draw_counter` drew, read from the middle of each block; None if a bit is unclear."""
    if (frame.width, frame.height) != (320, 240):
        return None
    grey = frame.to_ndarray(format="gray").astype(np.int32)
    n = 0
    for bit in range(BITS):
        x = 16 + bit * (BLOCK + 4) + BLOCK // 4
        top = grey[64 + BLOCK // 4 : 64 + 3 * BLOCK // 4, x : x + BLOCK // 2].mean()
        bottom = grey[144 + BLOCK // 4 : 144 + 3 * BLOCK // 4, x : x + BLOCK // 2].mean()
        if abs(top - bottom) < 100:
            return None
        n |= int(top > bottom) << bit
    return n


class CountingPicture(VideoStreamTrack):
    """Frames 1…`count` at 30 fps, each showing its number, sent once `go` is set; then nothing more."""

    def __init__(self, count: int, go: asyncio.Event) -> None:
        super().__init__()
        self._count = count
        self._sent = 0
        self._go = go
        self._forever = asyncio.Event()

    async def recv(self) -> av.VideoFrame:
        await self._go.wait()
        if self._sent == self._count:
            await self._forever.wait()  # the sender goes quiet: no next frame to push the last one out
        pts, time_base = await self.next_timestamp()
        self._sent += 1
        frame = av.VideoFrame.from_ndarray(draw_counter(self._sent), format="bgr24")
        frame.pts, frame.time_base = pts, Fraction(time_base)
        return frame


async def eventually(check: Callable[[], bool], what: str, seen: Callable[[], object] = lambda: "") -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"waited {WAIT:.0f} s for {what}; {seen()}"
        await asyncio.sleep(0.02)


@contextlib.contextmanager
def tasks() -> Iterator[set[asyncio.Task[None]]]:
    running: set[asyncio.Task[None]] = set()
    try:
        yield running
    finally:
        for task in running:
            task.cancel()


async def test_two_real_peers_every_frame_arrives_in_order_the_last_one_without_a_next_frame(
    fresh_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    count = 60
    go = asyncio.Event()
    sender, receiver = RTCPeerConnection(), RTCPeerConnection()
    received: list[int | None] = []
    tracks: list[MediaStreamTrack] = []
    use_marker_release_on(receiver)  # before its remote description: its video receiver is created by it

    async def read(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                received.append(read_counter(frame) if isinstance(frame, av.VideoFrame) else None)

    with tasks() as running:

        @receiver.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            tracks.append(track)
            running.add(asyncio.ensure_future(read(track)))

        try:
            sender.addTrack(CountingPicture(count, go))
            await sender.setLocalDescription(await sender.createOffer())
            await receiver.setRemoteDescription(sender.localDescription)
            await receiver.setLocalDescription(await receiver.createAnswer())
            await sender.setRemoteDescription(receiver.localDescription)
            await eventually(
                lambda: sender.connectionState == "connected" and receiver.connectionState == "connected", "connected"
            )
            [video] = [t.receiver for t in receiver.getTransceivers() if t.kind == "video"]
            buffer = stock_of(video)
            assert type(buffer) is MarkerJitterBuffer  # swapped while empty: before the first packet
            go.set()
            await eventually(lambda: len(received) >= count, f"{count} frames", lambda: f"received {received}")
            assert received == list(range(1, count + 1))  # in order, none skipped, the last one included
            assert buffer._origin is not None  # the packets went through our buffer
            await asyncio.sleep(0.2)
            assert len(received) == count
        finally:
            await sender.close()
            await receiver.close()
            await asyncio.gather(*running, return_exceptions=True)
    assert len(tracks) == 1
    assert not [r for r in caplog.records if r.name == "video.jitter"]  # no fallback to the stock buffer


async def test_on_a_peer_connection_the_video_receivers_already_there_are_swapped_and_audio_ones_are_not(
    fresh_warnings: None, caplog: pytest.LogCaptureFixture
) -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video")
        pc.addTransceiver("audio")
        use_marker_release_on(pc)
        kinds = {t.kind: type(stock_of(t.receiver)) for t in pc.getTransceivers()}
        assert kinds == {"video": MarkerJitterBuffer, "audio": JitterBuffer}
    finally:
        await pc.close()
    assert not caplog.records
