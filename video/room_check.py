"""The server's side of a room's pre-call check: a few seconds of its camera and microphone, judged.

The room's browser offers camera and microphone (sendonly, its ICE candidates
gathered into the offer: no trickle); an aiortc peer answers (its own candidates
in the answer), receives the tracks for `seconds` from the first frame and feeds
each frame to video.analysis.CheckJudge. The peer connection is closed whatever
happens, then the verdict goes to `runs.done` (which stores it). Everything
is bounded: a browser that never connects gets a "no video"/"no audio" verdict
after `connect_timeout + seconds`.

The check's state (running, done, failed) is kept by `runs`, in the database in
the app (video.room_check_runs), so that the page's polls are answered by any
process; what this object keeps is only what cannot leave the process: the
running checks' peer connections and tasks, and so the per-process limit.

RoomChecks is a long-lived resource (one per app, closed on shutdown); it holds
no state at module level. No aiohttp here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import SessionDescription

from majlis.errors import N_
from majlis.i18n import NP_
from video.analysis import CheckJudge, Verdict
from video.ice import ice_servers_from_settings

log = logging.getLogger(__name__)

MAX_SDP_CHARS = 60_000
# Seconds a room's browser has to connect once answered (and the server to make its answer).
CONNECT_TIMEOUT = 10.0
# RTP timestamps are 32-bit and start anywhere: a frame's media time is counted from the first frame, modulo.
_RTP_WRAP = 2**32
# Frames received but not yet judged, at most (three seconds of video).
_BACKLOG = 90

# English message ids (the Arabic is in the catalogs); the web layer says them in the reader's language.
REFUSALS: dict[str, str] = {
    "busy": N_("Too many checks are running on the server. Wait a little and try again."),
    "room_busy": N_("A check of this room is already running."),
    "bad_sdp": N_("The connection description (SDP) is not valid."),
    "no_video": N_("The connection description sends no camera picture."),
    "closed": N_("The server is shutting down."),
}
# Those that ask the reader to act, as asked of the men of a men's room (the plain Arabic asks women).
REFUSALS_TO_MEN: dict[str, tuple[str, str]] = {
    "busy": NP_("men's room", "Too many checks are running on the server. Wait a little and try again."),
}


class CheckRefused(Exception):
    """A check that cannot start; `code` is one of REFUSALS, `message` its text to translate.

    `message_to_men` is the message with its context when a men's room is told it otherwise, or None.
    """

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = REFUSALS[code]
        self.message_to_men = REFUSALS_TO_MEN.get(code)


@dataclass(frozen=True)
class StartedCheck:
    """The check's id (what the page asks about) and the server's answer to the room's offer."""

    id: str
    answer_sdp: str


class CheckRuns(Protocol):
    """Where a check's state is kept for the page's polls (video.room_check_runs.StoredCheckRuns in the app)."""

    async def started(self, *, check_id: str, room_id: int, by_id: int | None) -> None:
        """The check is answered and running; may refuse it (CheckRefused "room_busy": run elsewhere)."""

    async def done(self, *, check_id: str, room_id: int, by_id: int | None, verdict: Verdict) -> int | None:
        """Stores the verdict; gives the stored record's id, or None."""

    async def failed(self, *, check_id: str) -> None:
        """The check ended without a verdict (an error, or the server shutting down)."""


@dataclass(eq=False)
class CheckState:
    """One check this process runs: its peer and task, and its state here (runs has it for other processes)."""

    id: str
    room_id: int
    by_id: int | None
    state: Literal["running", "done", "failed"] = "running"
    record_id: int | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    pc: RTCPeerConnection | None = field(default=None, repr=False)


PeerFactory = Callable[[RTCConfiguration], RTCPeerConnection]


def _check_offer(sdp: object) -> str:
    """The offer, if it parses and sends video (raises CheckRefused otherwise)."""
    if not isinstance(sdp, str) or not sdp.startswith("v=0") or len(sdp) > MAX_SDP_CHARS:
        raise CheckRefused("bad_sdp")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser raises whatever the bad line makes it raise
        raise CheckRefused("bad_sdp") from exc
    if not parsed.media:
        raise CheckRefused("bad_sdp")
    if not any(m.kind == "video" and m.direction in (None, "sendonly", "sendrecv") for m in parsed.media):
        raise CheckRefused("no_video")
    return sdp


class _Window:
    """One track's reading window: it opens at the track's first frame and lasts `seconds`."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self.opened_at: float | None = None
        self.closed_at: float | None = None
        self.frames = 0
        self._first_pts: int | None = None

    def media_time(self, frame: av.VideoFrame | av.AudioFrame) -> float:
        """Seconds since this track's first frame by the sender's timestamps (unaffected by our own delays)."""
        now = self._monotonic()
        if self.opened_at is None:
            self.opened_at = now
        self.frames += 1
        if frame.pts is None or frame.time_base is None:
            return now - self.opened_at
        if self._first_pts is None:
            self._first_pts = frame.pts
        return float(((frame.pts - self._first_pts) % _RTP_WRAP) * frame.time_base)

    def elapsed(self) -> float:
        if self.opened_at is None:
            return 0.0
        return (self.closed_at if self.closed_at is not None else self._monotonic()) - self.opened_at


def _judge_video(judge: CheckJudge, frame: av.VideoFrame, at: float) -> None:
    judge.add_video(np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8), at)


class RoomChecks:
    """Pre-call checks of rooms: at most `max_concurrent` at once, one per room."""

    def __init__(
        self,
        *,
        runs: CheckRuns,
        seconds: float,
        max_concurrent: int,
        ice_servers: Sequence[Mapping[str, str | list[str]]] = (),
        connect_timeout: float = CONNECT_TIMEOUT,
        monotonic: Callable[[], float] = time.monotonic,
        peer_factory: PeerFactory = lambda configuration: RTCPeerConnection(configuration=configuration),
        face_every: int = 5,
    ) -> None:
        self._runs = runs
        self.seconds = seconds
        self.max_concurrent = max_concurrent
        self.connect_timeout = connect_timeout
        self._configuration = RTCConfiguration(iceServers=ice_servers_from_settings(ice_servers))
        self._monotonic = monotonic
        self._peer_factory = peer_factory
        self._face_every = face_every
        self._running: dict[int, CheckState] = {}  # by room
        self._closed = False

    def running(self) -> int:
        return len(self._running)

    def get(self, check_id: str) -> CheckState | None:
        """A check running in this process (another process's checks are in `runs` only)."""
        return next((check for check in self._running.values() if check.id == check_id), None)

    async def start(self, *, room_id: int, offer_sdp: object, by_id: int | None = None) -> StartedCheck:
        """Answers the room's offer and starts judging what arrives; refuses (CheckRefused) when it cannot."""
        offer = _check_offer(offer_sdp)
        if self._closed:
            raise CheckRefused("closed")
        if room_id in self._running:
            raise CheckRefused("room_busy")
        if len(self._running) >= self.max_concurrent:
            raise CheckRefused("busy")
        # Taken before the first await: two offers arriving together cannot both pass the limits.
        check = CheckState(id="c" + secrets.token_hex(12), room_id=room_id, by_id=by_id)
        self._running[room_id] = check
        pc = self._peer_factory(self._configuration)
        # Known before the first await, so a shutdown meanwhile (close()) closes it too.
        check.pc = pc
        tracks: list[MediaStreamTrack] = []
        pc.on("track", tracks.append)
        try:
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            except Exception as exc:  # aiortc refuses an offer it cannot use with various errors
                raise CheckRefused("bad_sdp") from exc
            async with asyncio.timeout(self.connect_timeout):
                # aiortc gathers its candidates into the answer before this returns.
                await pc.setLocalDescription(await pc.createAnswer())
            if self._closed:
                raise CheckRefused("closed")
            # Written before the answer goes back, so the page's first poll finds it on any process.
            await self._runs.started(check_id=check.id, room_id=room_id, by_id=by_id)
        except BaseException:
            self._running.pop(room_id, None)
            check.pc = None
            await pc.close()
            raise
        answer = pc.localDescription.sdp
        check.task = asyncio.get_running_loop().create_task(self._run(check, pc, tracks), name=f"room-check-{check.id}")
        return StartedCheck(id=check.id, answer_sdp=answer)

    async def _run(self, check: CheckState, pc: RTCPeerConnection, tracks: list[MediaStreamTrack]) -> None:
        judge = CheckJudge(face_every=self._face_every)
        # The judge's work runs in a thread (OpenCV, face detection), one call at a time.
        judging = asyncio.Lock()
        windows = {kind: _Window(self._monotonic) for kind in ("video", "audio")}
        try:
            try:
                async with asyncio.timeout(self.connect_timeout + self.seconds):
                    async with asyncio.TaskGroup() as group:
                        for track in tracks:
                            if track.kind in windows:
                                name = f"room-check-{check.id}-{track.kind}"
                                group.create_task(
                                    self._read(track, windows[track.kind], judge, judging, name),
                                    name=name,
                                )
            except TimeoutError:
                pass  # what arrived so far is judged; nothing at all is "no video" / "no audio"
            finally:
                await pc.close()
                check.pc = None
            for window in windows.values():
                if window.closed_at is None and window.opened_at is not None:
                    window.closed_at = self._monotonic()
            duration = windows["video"].elapsed() or windows["audio"].elapsed() or self.seconds
            async with judging:
                verdict = await asyncio.to_thread(judge.verdict, duration=duration)
            check.record_id = await self._runs.done(
                room_id=check.room_id, check_id=check.id, by_id=check.by_id, verdict=verdict
            )
            check.state = "done"
        except asyncio.CancelledError:
            check.state = "failed"  # close() tells runs, after every task has stopped
            raise
        except Exception:
            log.exception("room check %s of room %s failed", check.id, check.room_id)
            check.state = "failed"
            await self._failed(check)
        finally:
            self._running.pop(check.room_id, None)

    async def _failed(self, check: CheckState) -> None:
        """Tells runs; a failure to tell it is logged (the run then reads as failed once it is stale)."""
        try:
            await self._runs.failed(check_id=check.id)
        except Exception:
            log.exception("room check %s: its failure could not be recorded", check.id)

    async def _read(
        self, track: MediaStreamTrack, window: _Window, judge: CheckJudge, judging: asyncio.Lock, name: str
    ) -> None:
        """Receives the track for its window and judges every frame received in it.

        Receiving does not wait for judging (a queue between them), so the frame rate is what arrived even when
        the judge falls behind; the queue is bounded, so a stalled judge holds up receiving rather than memory.
        """
        queue: asyncio.Queue[tuple[av.VideoFrame | av.AudioFrame, float] | None] = asyncio.Queue(maxsize=_BACKLOG)

        async def judge_queued() -> None:
            while (item := await queue.get()) is not None:
                frame, at = item
                async with judging:
                    if isinstance(frame, av.VideoFrame):
                        await asyncio.to_thread(_judge_video, judge, frame, at)
                    else:
                        await asyncio.to_thread(judge.add_audio, frame.to_ndarray(), frame.sample_rate, at)

        worker = asyncio.get_running_loop().create_task(judge_queued(), name=f"{name}-judge")
        try:
            with contextlib.suppress(MediaStreamError, TimeoutError):
                while True:
                    left = None if window.opened_at is None else self.seconds - (self._monotonic() - window.opened_at)
                    if left is not None and left <= 0:
                        break
                    # Frames that stop coming do not hold the window open.
                    async with asyncio.timeout(left):
                        frame = await track.recv()
                    if isinstance(frame, av.VideoFrame | av.AudioFrame):
                        at = window.media_time(frame)
                        await queue.put((frame, at))
            window.closed_at = self._monotonic()
            await queue.put(None)
            await worker
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def close(self) -> None:
        """Stops every running check (their peer connections close; no verdict is stored, the runs fail)."""
        self._closed = True
        running = list(self._running.values())
        tasks = [c.task for c in running if c.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A task cancelled before its first step never ran its own cleanup.
        for check in running:
            if check.state == "running":
                check.state = "failed"
            if check.state == "failed":
                await self._failed(check)
            if check.pc is not None:
                await check.pc.close()
        self._running.clear()
