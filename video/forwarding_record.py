"""A bridged call's recording: the encoded frames muxed into Matroska as they came, nothing decoded or encoded.

The room's VP8 picture and both sides' Opus sound are written as received (aiortc's
`MediaRecorder` decoded them and encoded the picture again with libx264, which cost a second
encode per recorded call). The file starts at the room's first keyframe, so its first picture
decodes; sound that came before it is not kept. Each stream keeps its source's timestamps,
converted by the muxer from the RTP clock (90 kHz video, 48 kHz Opus) to Matroska's milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from pathlib import Path
from typing import Any

import av
from aiortc.mediastreams import MediaStreamError

from video.forwarding import EncodedTap, picture_size

log = logging.getLogger(__name__)

# Opus in Matroska needs its identification header (RFC 7845 §5.1) as the codec's private data:
# version 1, 2 channels, the 312-sample pre-skip libopus uses, 48 kHz, no gain, channel mapping 0.
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, 312, 48_000, 0, 0)


class EncodedRecorder:
    """Writes one picture tap and any number of sound taps into a Matroska file until `stop`."""

    def __init__(self, path: Path, picture: EncodedTap, sounds: list[EncodedTap]) -> None:
        self.path = path
        self._picture = picture
        self._sounds = sounds
        self._container: Any = None
        self._video: Any = None
        self._audio: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.started = asyncio.Event()
        self.written = 0

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._record())]

    async def _record(self) -> None:
        try:
            first = await self._picture.recv()  # a video tap starts at a keyframe
        except MediaStreamError:
            return
        width, height = picture_size(bytes(first)) or (640, 480)
        container = av.open(str(self.path), mode="w", format="matroska")
        video = container.add_stream("vp8")
        video.width, video.height = width, height
        for _ in self._sounds:
            audio = container.add_stream("opus", rate=48_000)
            audio.codec_context.extradata = OPUS_HEAD
            self._audio.append(audio)
        self._container, self._video = container, video
        self._write(first, video)
        self.started.set()
        pairs = zip(self._sounds, self._audio, strict=True)
        self._tasks.extend(asyncio.create_task(self._copy(tap, stream)) for tap, stream in pairs)
        await self._copy(self._picture, video)

    async def _copy(self, tap: EncodedTap, stream: Any) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                self._write(await tap.recv(), stream)

    def _write(self, packet: av.Packet[Any], stream: Any) -> None:
        packet.stream = stream
        try:
            self._container.mux(packet)
            self.written += 1
        except (av.FFmpegError, ValueError) as exc:
            # A packet the muxer refuses (out of order after a reconnection) is skipped, not the recording.
            log.info("recording %s: a packet was skipped: %s", self.path.name, exc)

    async def stop(self) -> None:
        for tap in (self._picture, *self._sounds):
            tap.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._container is not None:
            self._container.close()
            self._container = None
