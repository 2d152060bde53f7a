"""The bridge forwards encoded frames: the official gets the room's VP8 frames byte for byte; keyframe requests pass."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, VideoStreamTrack

from tests.video.test_aiortc_link import eventually
from video.bridge import BridgedCall, BridgeRefused
from video.forwarding import EncodedSource, forward_on, is_keyframe, picture_size

WAIT = 20.0
LOOP = 300  # frames: ten seconds at 30 fps, longer than the test, so no keyframe comes from the loop's restart


def encoded_loop(count: int = LOOP) -> list[bytes]:
    """A moving 160×120 picture encoded once with libvpx: a keyframe, then inter frames only."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 160, 120, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    encoder.gop_size = 10_000
    frames: list[bytes] = []
    for index in range(count):
        picture = np.full((120, 160, 3), 90, dtype=np.uint8)
        picture[40:80, index % 120 : index % 120 + 40] = 250
        frame = av.VideoFrame.from_ndarray(picture, format="bgr24")
        frame.pts = index
        frames.extend(bytes(packet) for packet in encoder.encode(frame))
    frames.extend(bytes(packet) for packet in encoder.encode(None))
    return frames


class EncodedCamera(MediaStreamTrack):
    """A room that sends pre-encoded frames; a keyframe request (PLI) to its sender starts the loop over."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self.frames = frames
        self.clock = VideoStreamTrack()  # only for its pacing and timestamps
        self.sender: RTCRtpSender | None = None
        self.index = 0
        self.sent: list[bytes] = []
        self.keyframes_requested = 0

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        pts, time_base = await self.clock.next_timestamp()
        flag = "_RTCRtpSender__force_keyframe"  # set by the sender on a PLI; only its encode path clears it
        if self.sender is not None and getattr(self.sender, flag, False):
            setattr(self.sender, flag, False)
            self.keyframes_requested += 1
            self.index = 0
        data = self.frames[self.index % len(self.frames)]
        self.index += 1
        self.sent.append(data)
        packet = av.Packet(data)
        packet.pts, packet.time_base = pts, time_base
        return packet

    def stop(self) -> None:
        super().stop()
        self.clock.stop()


async def test_the_official_gets_the_rooms_frames_as_sent_and_a_keyframe_when_it_asks() -> None:
    call = BridgedCall(1, monitor=False)
    camera = EncodedCamera(encoded_loop())
    room, official = RTCPeerConnection(), RTCPeerConnection()
    received = EncodedSource("video")  # what the official's receiver completes, taken before any decoding
    got: list[bytes] = []
    received.on_frame = lambda data, _keyframe: got.append(data)
    official_receivers: list[RTCRtpReceiver] = []

    def take(receiver: RTCRtpReceiver, kind: str) -> None:
        if kind == "video":
            received.take(receiver, decode=lambda _data: False)
            official_receivers.append(receiver)

    try:
        forward_on(official, take)
        official.addTransceiver("video", direction="recvonly")
        await official.setLocalDescription(await official.createOffer())
        answer = await call.answer("official", official.localDescription.sdp)
        await official.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

        camera.sender = room.addTrack(camera)
        await room.setLocalDescription(await room.createOffer())
        answer = await call.answer("room", room.localDescription.sdp)
        await room.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

        await eventually(lambda: len(got) >= 60, "60 frames at the official", WAIT)
        # The official starts at a keyframe (the bridge asked the room for one when the official's tap began),
        # and every frame after it is one the room sent, byte for byte: nothing was decoded and encoded again.
        assert is_keyframe(got[0]) and picture_size(got[0]) == (160, 120)
        start = camera.sent.index(got[0])
        assert got == camera.sent[start : start + len(got)]

        # The official's browser lost its picture and asks for a keyframe: the room's sender is asked for one.
        requested, keyframes = camera.keyframes_requested, sum(is_keyframe(data) for data in got)
        received.request_keyframe()
        await eventually(lambda: camera.keyframes_requested > requested, "the request passed on to the room", WAIT)
        await eventually(lambda: sum(is_keyframe(d) for d in got) > keyframes, "a keyframe at the official", WAIT)
        assert official_receivers
    finally:
        await call.close()
        await room.close()
        await official.close()
        camera.stop()


async def test_a_browser_offering_no_vp8_is_refused() -> None:
    call = BridgedCall(1, monitor=False)
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        capabilities = RTCRtpSender.getCapabilities("video")
        transceiver.setCodecPreferences([c for c in capabilities.codecs if c.mimeType == "video/H264"])
        await pc.setLocalDescription(await pc.createOffer())
        with pytest.raises(BridgeRefused) as refused:
            await call.answer("official", pc.localDescription.sdp)
        assert refused.value.code == "bad_sdp"
        assert not call.connected("official")
    finally:
        await call.close()
        await pc.close()
