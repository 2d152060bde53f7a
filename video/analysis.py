"""Judging camera frames with OpenCV (the microphone's samples: video.sound).

Two users: the pre-call check (`CheckJudge`), which listens to a room's camera
and microphone for a few seconds and says whether the audience can start, and
the live monitor of a bridged call (`LiveMonitor`), which sees every frame of
one direction of a call and says what is wrong with the picture now.

Everything here is pure computation on numpy arrays: frames are BGR uint8
arrays (PyAV's `frame.to_ndarray(format="bgr24")`), audio is int16 (interleaved
when stereo) or float samples (`frame.to_ndarray()`). Time is passed in by the
caller as monotonic seconds and never read here, so tests can play any timing.
`CheckJudge` hands the sound to a `video.sound.SoundMeter` and joins both verdicts.

Nothing here is safe to share between threads except the functions; a
`CheckJudge` or `LiveMonitor` belongs to one task (or one thread) at a time.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import cv2
import cv2.data
import numpy as np
import numpy.typing as npt

from majlis.errors import N_
from majlis.i18n import NP_, Catalogs
from video.sound import SoundMeter

Face = tuple[int, int, int, int]
Thumbnail = npt.NDArray[np.float32]

# --- What is wrong, in the order of importance --------------------------------------------------------------------
# The order of this dict is the order problems are listed in (most important first): nothing at all arriving, then
# what makes the person unseeable or unheard, then what makes them poorly seen or heard, then what merely degrades.
# English message ids; the Arabic is in the catalogs. Arabic asks the reader in the feminine (the plain message: the
# staff of the women's rooms, the women's section) or in the masculine (PROBLEMS_TO_MEN, the context "men's room":
# the men who run the men's rooms); `problem_text` says one as it is said to either.
PROBLEMS: dict[str, str] = {
    "no_video": N_(
        "No picture is arriving from the camera; check that the camera is connected and that the browser may use it."
    ),
    "no_audio": N_(
        "No sound is arriving from the microphone; check that it is connected and that the browser may use it."
    ),
    "black": N_(
        "The picture is black; check that the camera's cover is open and that no other program is using the camera."
    ),
    "mic_silent": N_(
        "The microphone is silent; check that it is not muted and that it is the one chosen in the browser."
    ),
    "frozen": N_("The picture is frozen; restart the camera or reload the page."),
    "too_dark": N_("The picture is too dark; light the room or turn the light towards the face."),
    "overexposed": N_(
        "The picture is too bright; dim the light or turn the camera away from the window and direct light."
    ),
    "no_face": N_(
        "No face can be seen; make sure the person in front of the camera faces it and her whole face is in view."
    ),
    "mic_too_quiet": N_("The microphone is too quiet; bring it closer to the speaker or raise its level."),
    "face_off_centre": N_("The face is not in the middle of the picture; move the camera or the chair until it is."),
    "out_of_focus": N_("The picture is blurred; wipe the camera's lens and check its focus."),
    "mic_clipping": N_(
        "The microphone is so loud that the sound distorts; move it a little further away or lower its level."
    ),
    "low_resolution": N_("The picture's resolution is too low; use a better camera or check the internet connection."),
    "low_frame_rate": N_(
        "The picture is jerky (too few frames a second); close other programs and check the internet connection."
    ),
}
# The same English (but "his whole face": the man in front of a men's room's camera), in the context "men's room".
PROBLEMS_TO_MEN: dict[str, tuple[str, str]] = {
    "no_video": NP_(
        "men's room",
        "No picture is arriving from the camera; check that the camera is connected and that the browser may use it.",
    ),
    "no_audio": NP_(
        "men's room",
        "No sound is arriving from the microphone; check that it is connected and that the browser may use it.",
    ),
    "black": NP_(
        "men's room",
        "The picture is black; check that the camera's cover is open and that no other program is using the camera.",
    ),
    "mic_silent": NP_(
        "men's room",
        "The microphone is silent; check that it is not muted and that it is the one chosen in the browser.",
    ),
    "frozen": NP_("men's room", "The picture is frozen; restart the camera or reload the page."),
    "too_dark": NP_("men's room", "The picture is too dark; light the room or turn the light towards the face."),
    "overexposed": NP_(
        "men's room",
        "The picture is too bright; dim the light or turn the camera away from the window and direct light.",
    ),
    "no_face": NP_(
        "men's room",
        "No face can be seen; make sure the person in front of the camera faces it and his whole face is in view.",
    ),
    "mic_too_quiet": NP_(
        "men's room", "The microphone is too quiet; bring it closer to the speaker or raise its level."
    ),
    "face_off_centre": NP_(
        "men's room", "The face is not in the middle of the picture; move the camera or the chair until it is."
    ),
    "out_of_focus": NP_("men's room", "The picture is blurred; wipe the camera's lens and check its focus."),
    "mic_clipping": NP_(
        "men's room",
        "The microphone is so loud that the sound distorts; move it a little further away or lower its level.",
    ),
    "low_resolution": NP_(
        "men's room", "The picture's resolution is too low; use a better camera or check the internet connection."
    ),
    "low_frame_rate": NP_(
        "men's room",
        "The picture is jerky (too few frames a second); close other programs and check the internet connection.",
    ),
}


def problem_text(catalogs: Catalogs, language: str, code: str, *, to_men: bool = False) -> str:
    """What the problem `code` is and how to fix it, in the language, asked of women or (to_men) of men."""
    if to_men:
        return catalogs.pgettext(language, *PROBLEMS_TO_MEN[code])
    return catalogs.gettext(language, PROBLEMS[code])


_RANK = {code: rank for rank, code in enumerate(PROBLEMS)}

# --- Thresholds -----------------------------------------------------------------------------------------------------
# Luma is BT.601 (cv2.COLOR_BGR2GRAY), 0–255.

# Below a mean luma of 50 a webcam's picture is murky: faces lose their features and the camera's gain adds noise.
# A normally lit room reads 90–150.
TOO_DARK_LUMA = 50.0
# Above a mean of 215 the whole picture is washed out; or a quarter of it is burnt white (a window or a lamp behind
# the person), which makes the camera's auto-exposure darken the face.
OVEREXPOSED_MEAN_LUMA = 215.0
OVEREXPOSED_LEVEL = 250
OVEREXPOSED_SHARE = 0.25
# A covered lens or a camera held by another program gives a nearly uniform picture near black. Std < 8 tells it
# from a merely dark room, which still has some structure.
BLACK_MEAN_LUMA = 16.0
BLACK_STD_LUMA = 8.0

# Sharpness is measured on the grey picture scaled to this width, so a 1280 px and a 640 px picture of one scene
# score alike (the Laplacian of a downscaled picture sees the same edges).
ANALYSIS_WIDTH = 320
# Variance of the Laplacian at ANALYSIS_WIDTH. Calibrated on synthetic pictures at 640×480 (tests/video/data/face.jpg
# upscaled, a checkerboard, printed text): the face photo scores ~300 sharp, ~150 after a Gaussian blur of σ 1 px,
# ~50–70 at σ 2, ~20–40 at σ 3 (the higher figures with sensor-like noise added, which raises the score by ~20);
# the checkerboard and text score thousands sharp and fall under 60 only at σ 3–5. So 50 flags a picture softer than
# a σ ≈ 2 px blur at 640 px: visibly smeared, while a plain but focused room with a face stays well above it.
OUT_OF_FOCUS_SHARPNESS = 50.0

# Change between pictures is the mean absolute difference of small grey thumbnails (0–255 scale). The check's
# thumbnail averages 10×10 blocks of a 640 px picture (the live one 2×2 samples), so sensor noise shrinks; but a
# decoded VP8 picture of a still scene may not change at all, so "no change" alone never means frozen: it must last
# FROZEN_SECONDS (the live monitor's `frozen_after`). Change is measured against the last picture that differed
# (not just the previous one), so a slow movement adds up until it counts. 0.05 is ~150 levels summed over the
# 3,072 thumbnail pixels: a head moving by a pixel or two at 640 px, while an identical frame scores 0.
THUMBNAIL_SIZE = (64, 48)  # width, height
FROZEN_CHANGE = 0.05
FROZEN_SECONDS = 2.0

# 360 lines is the least at which an official sees a face's expression when the room's picture fills her screen;
# it is what browsers send as "360p". Width ≥ 480 accepts a 4:3 camera (480×360) as well as 16:9 (640×360): both
# have the lines that matter; anything narrower is a portrait phone or a thumbnail-sized stream.
MIN_WIDTH = 480
MIN_HEIGHT = 360
# Below 15 frames a second speech and lips visibly fall out of step and movement judders.
MIN_CHECK_FPS = 15.0

# The face: the Haar cascade runs on the equalised grey picture at ANALYSIS_WIDTH. Faces smaller than 30 px there
# (under ~9 % of the picture's width) are not the person sitting in front of the camera, and skipping the small
# scales is most of the cascade's cost. The scale step stays at OpenCV's 1.1: 1.2 halves the cost but misses a face
# 45 px wide at the analysis width (a person at the side of a 1280 px picture), which would fail the check.
# A search costs ~25–30 ms of CPU at any frame size (it runs at ANALYSIS_WIDTH; ~15 ms wall on OpenCV's two
# threads of a 2-core machine), so the check looks only at every `face_every`-th frame (5: ~6 searches a second).
FACE_MIN_SIZE = 30
FACE_SCALE_FACTOR = 1.1
FACE_MIN_NEIGHBOURS = 5
# "no_face" when a face was seen in fewer than half the frames looked at: the cascade misses some frames of a real
# face (a turned head, a blink, motion blur), so one miss must not fail the check.
FACE_SEEN_SHARE = 0.5
# "face_off_centre" when fewer than half the frames with a face had it roughly centred (see face_centred).
FACE_CENTRED_SHARE = 0.5
# Horizontally the face's centre must lie in the middle 40 % of the picture (±20 % of the width from the middle):
# the official's screen may crop a 16:9 picture to 4:3 (12.5 % off each side), and a face at the edge is then cut.
FACE_CENTRE_X_TOLERANCE = 0.2
# Vertically a head-and-shoulders picture has the eyes about a third down, so the face's centre sits above the
# middle: accept 20–70 % of the height; higher is a cut forehead, lower a camera looking down on the person.
FACE_CENTRE_Y_RANGE = (0.2, 0.7)


SNAPSHOT_MAX_WIDTH = 640
SNAPSHOT_QUALITY = 80


# --- One frame ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrameReading:
    width: int
    height: int
    brightness: float  # mean luma 0–255
    overexposed_share: float  # share of pixels at or above OVEREXPOSED_LEVEL luma
    sharpness: float  # variance of the Laplacian of the grey image scaled to ANALYSIS_WIDTH
    black: bool  # nearly uniform and near black
    change: float | None  # mean absolute difference from the previous thumbnail (None for the first)
    face: Face | None  # x, y, w, h in frame pixels, when looked for and found


# The cascade is loaded lazily, once per thread. The classifier's model is immutable, but detectMultiScale keeps the
# picture being searched inside the object (its feature evaluator) and OpenCV releases the GIL while it runs, so one
# object shared by executor threads would race; a thread-local copy costs one ~1 MB load per thread.
_local = threading.local()


def _face_cascade() -> cv2.CascadeClassifier:
    cascade: cv2.CascadeClassifier | None = getattr(_local, "cascade", None)
    if cascade is None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"the face cascade could not be loaded from {path}")
        _local.cascade = cascade
    return cascade


def _grey(bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if bgr.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, not {bgr.dtype}")
    if bgr.ndim == 2:
        return bgr
    if bgr.ndim == 3 and bgr.shape[2] == 3:
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    raise ValueError(f"frames must be BGR (h, w, 3) or grey (h, w), not {bgr.shape}")


def _mean_std(image: npt.NDArray[np.uint8]) -> tuple[float, float]:
    mean, std = cv2.meanStdDev(image)
    return float(mean[0][0]), float(std[0][0])


def _change(thumbnail: Thumbnail, previous: Thumbnail | None) -> float | None:
    if previous is None or previous.shape != thumbnail.shape:
        return None
    return float(cv2.norm(thumbnail, previous, cv2.NORM_L1)) / thumbnail.size


def read_frame(
    bgr: npt.NDArray[np.uint8], *, previous_thumbnail: Thumbnail | None = None, find_face: bool = False
) -> tuple[FrameReading, Thumbnail]:
    """Measure one frame; returns the reading and this frame's thumbnail, to pass as previous_thumbnail next time."""
    grey = _grey(bgr)
    height, width = grey.shape
    if width == 0 or height == 0:
        raise ValueError("empty frame")
    brightness, spread = _mean_std(grey)
    overexposed_share = np.count_nonzero(grey >= OVEREXPOSED_LEVEL) / grey.size

    scale = ANALYSIS_WIDTH / width
    small_height = max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = np.asarray(cv2.resize(grey, (ANALYSIS_WIDTH, small_height), interpolation=interpolation), dtype=np.uint8)
    _, laplacian_std = cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_32F))
    sharpness = float(laplacian_std[0][0]) ** 2

    thumbnail = np.asarray(cv2.resize(small, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA), dtype=np.float32)
    face = _find_face(small, scale, width, height) if find_face else None
    reading = FrameReading(
        width=width,
        height=height,
        brightness=brightness,
        overexposed_share=float(overexposed_share),
        sharpness=sharpness,
        black=brightness < BLACK_MEAN_LUMA and spread < BLACK_STD_LUMA,
        change=_change(thumbnail, previous_thumbnail),
        face=face,
    )
    return reading, thumbnail


def _find_face(small: npt.NDArray[np.uint8], scale: float, width: int, height: int) -> Face | None:
    found = _face_cascade().detectMultiScale(
        cv2.equalizeHist(small),
        scaleFactor=FACE_SCALE_FACTOR,
        minNeighbors=FACE_MIN_NEIGHBOURS,
        minSize=(FACE_MIN_SIZE, FACE_MIN_SIZE),
    )
    if len(found) == 0:
        return None
    x, y, w, h = max((tuple(int(v) for v in rect) for rect in found), key=lambda r: r[2] * r[3])
    left, top = min(width - 1, round(x / scale)), min(height - 1, round(y / scale))
    return left, top, min(width - left, round(w / scale)), min(height - top, round(h / scale))


def face_centred(face: Face, width: int, height: int) -> bool:
    """Whether the face's centre lies where a well-framed face's does (see FACE_CENTRE_X_TOLERANCE and _Y_RANGE)."""
    if width <= 0 or height <= 0:
        raise ValueError("the picture must have a size")
    x, y, w, h = face
    across = (x + w / 2) / width
    down = (y + h / 2) / height
    low, high = FACE_CENTRE_Y_RANGE
    return abs(across - 0.5) <= FACE_CENTRE_X_TOLERANCE and low <= down <= high


# --- The pre-call check ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    passed: bool
    problems: list[str]  # codes in PROBLEMS, most important first
    measures: dict[str, float | int | str | None]  # JSON-safe
    snapshot_jpeg: bytes | None  # JPEG of a representative frame, at most SNAPSHOT_MAX_WIDTH wide


def _median(values: list[float]) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))


class CheckJudge:
    """Accumulates a few seconds of one room's camera and microphone, then gives the verdict of the pre-call check.

    A picture that is black, too dark or too bright is reported as such alone: its face and focus cannot be judged
    until the light is fixed. The resolution is the last frame's, since a WebRTC sender starts small and raises its
    resolution as the bandwidth estimate grows during the first seconds.
    """

    def __init__(self, *, face_every: int = 5) -> None:
        if face_every < 1:
            raise ValueError("face_every must be at least 1")
        self._face_every = face_every
        self._frames = 0
        self._width = 0
        self._height = 0
        self._brightness: list[float] = []
        self._overexposed: list[float] = []
        self._sharpness: list[float] = []
        self._blacks = 0
        self._previous: Thumbnail | None = None
        self._reference: Thumbnail | None = None
        self._still_since = 0.0
        self._longest_still = 0.0
        self._looked = 0
        self._seen = 0
        self._centred = 0
        self._snapshot: npt.NDArray[np.uint8] | None = None
        self._snapshot_rank = -1
        self._sound = SoundMeter()

    def add_video(self, bgr: npt.NDArray[np.uint8], at: float) -> FrameReading:
        look = self._frames % self._face_every == 0
        reading, thumbnail = read_frame(bgr, previous_thumbnail=self._previous, find_face=look)
        self._frames += 1
        self._previous = thumbnail
        self._width, self._height = reading.width, reading.height
        self._brightness.append(reading.brightness)
        self._overexposed.append(reading.overexposed_share)
        self._sharpness.append(reading.sharpness)
        self._blacks += reading.black

        moved = _change(thumbnail, self._reference)
        if moved is None or moved >= FROZEN_CHANGE:
            self._reference = thumbnail
            self._still_since = at
        else:
            self._longest_still = max(self._longest_still, at - self._still_since)

        rank = 0
        if look:
            self._looked += 1
            if reading.face is not None:
                self._seen += 1
                rank = 1
                if face_centred(reading.face, reading.width, reading.height):
                    self._centred += 1
                    rank = 2
        if rank >= self._snapshot_rank:  # the best kind of frame, the latest of its kind (after the sender's ramp-up)
            self._snapshot = _snapshot_copy(bgr)
            self._snapshot_rank = rank
        return reading

    def add_audio(self, samples: npt.NDArray[np.generic], sample_rate: int, at: float) -> None:
        """Add one chunk: int16 (interleaved if stereo, so a 20 ms block is then 10 ms of each channel) or float."""
        self._sound.add(samples, sample_rate)

    def verdict(self, *, duration: float) -> Verdict:
        """The check's verdict after listening for `duration` seconds (fps is frames / duration)."""
        if duration <= 0:
            raise ValueError("duration must be positive")
        problems: set[str] = set()
        measures: dict[str, float | int | str | None] = {
            "duration": round(duration, 2),
            "frames": self._frames,
            "fps": round(self._frames / duration, 1),
            "width": None,
            "height": None,
            "brightness": None,
            "overexposed_share": None,
            "sharpness": None,
            "black_share": None,
            "frozen_seconds": None,
            "faces_looked_for": self._looked,
            "face_seen_share": None,
            "face_centred_share": None,
        }
        if self._frames == 0:
            problems.add("no_video")
        else:
            self._judge_video(problems, measures, duration)
        self._sound.judge(problems, measures)

        snapshot = None
        if self._snapshot is not None:
            ok, encoded = cv2.imencode(".jpg", self._snapshot, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
            snapshot = encoded.tobytes() if ok else None
        ordered = sorted(problems, key=_RANK.__getitem__)
        return Verdict(passed=not ordered, problems=ordered, measures=measures, snapshot_jpeg=snapshot)

    def _judge_video(self, problems: set[str], measures: dict[str, float | int | str | None], duration: float) -> None:
        brightness = _median(self._brightness)
        overexposed = _median(self._overexposed)
        sharpness = _median(self._sharpness)
        black_share = self._blacks / self._frames
        measures.update(
            width=self._width,
            height=self._height,
            brightness=round(brightness, 1),
            overexposed_share=round(overexposed, 4),
            sharpness=round(sharpness, 1),
            black_share=round(black_share, 3),
            frozen_seconds=round(self._longest_still, 2),
        )
        if self._looked:
            measures["face_seen_share"] = round(self._seen / self._looked, 3)
        if self._seen:
            measures["face_centred_share"] = round(self._centred / self._seen, 3)

        if self._width < MIN_WIDTH or self._height < MIN_HEIGHT:
            problems.add("low_resolution")
        if self._frames / duration < MIN_CHECK_FPS:
            problems.add("low_frame_rate")
        if black_share >= 0.5:
            problems.add("black")  # a black picture is also still: "frozen" would only repeat it
            return
        if self._longest_still >= FROZEN_SECONDS:
            problems.add("frozen")
        if brightness < TOO_DARK_LUMA:
            problems.add("too_dark")
            return
        if brightness > OVEREXPOSED_MEAN_LUMA or overexposed > OVEREXPOSED_SHARE:
            problems.add("overexposed")
            return
        if sharpness < OUT_OF_FOCUS_SHARPNESS:
            problems.add("out_of_focus")
        if self._looked:
            if self._seen / self._looked < FACE_SEEN_SHARE:
                problems.add("no_face")
            if self._seen and self._centred / self._seen < FACE_CENTRED_SHARE:
                problems.add("face_off_centre")


def _snapshot_copy(bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    height, width = bgr.shape[:2]
    if width <= SNAPSHOT_MAX_WIDTH:
        return bgr.copy()
    size = (SNAPSHOT_MAX_WIDTH, max(1, round(height * SNAPSHOT_MAX_WIDTH / width)))
    return np.asarray(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


# --- The live monitor -----------------------------------------------------------------------------------------------
# The live thumbnail samples the picture on a grid twice the thumbnail's size (nearest pixel: it reads 12,288 pixels
# whatever the resolution) and averages 2×2 of those. An area average of the whole picture would cost ~2 ms at 1080p
# (resize's general path for non-integer ratios), nearest sampling ~0.02 ms. Sampled pixels keep more sensor noise,
# which only makes a live camera's picture look more alive; identical frames still give identical thumbnails.
_LIVE_SAMPLE_SIZE = (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2)


def _live_thumbnail(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(f"frames must be uint8 BGR (h, w, 3) or grey (h, w), not {frame.dtype} {frame.shape}")
    sampled = cv2.resize(frame, _LIVE_SAMPLE_SIZE, interpolation=cv2.INTER_NEAREST)
    if sampled.ndim == 3:
        sampled = cv2.cvtColor(sampled, cv2.COLOR_BGR2GRAY)
    return np.asarray(cv2.resize(sampled, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)


class LiveMonitor:
    """Watches one direction of a bridged call and says what is wrong with the picture now.

    `add` is called for every frame and is cheap: it counts every frame (for the frame rate) and analyses every
    `every`-th one on a 64×48 thumbnail (brightness, black, change). `problems(now)` judges the last `window` seconds;
    before any frame has arrived it says "no_video", and the frame rate is judged only once a whole window has been
    watched. `add` also takes a grey (h, w) uint8 picture: PyAV's `frame.to_ndarray(format="gray")` is the Y plane
    alone and costs far less than a BGR conversion, which at 720p costs more than all of this monitor's work.
    """

    def __init__(
        self, *, window: float = 2.0, min_fps: float = 15.0, frozen_after: float = 2.0, every: int = 3
    ) -> None:
        if window <= 0 or frozen_after <= 0 or min_fps < 0 or every < 1:
            raise ValueError("window and frozen_after must be positive, min_fps not negative, every at least 1")
        self._window = window
        self._min_fps = min_fps
        self._frozen_after = frozen_after
        self._every = every
        self._count = 0
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._times: deque[float] = deque()
        self._analysed: deque[tuple[float, float, bool]] = deque()  # at, brightness, black
        self._reference: Thumbnail | None = None
        self._changed_at = 0.0

    def add(self, bgr: npt.NDArray[np.uint8], at: float) -> None:
        self.count(at)
        analyse = self._count % self._every == 0
        self._count += 1
        if analyse:
            self.look(bgr, at)

    def count(self, at: float) -> None:
        """A frame arrived at `at` (for the frame rate), whether or not its picture is looked at."""
        if self._first_at is None:
            self._first_at = at
        self._last_at = at
        self._times.append(at)
        horizon = at - self._window
        while self._times[0] < horizon:
            self._times.popleft()

    def look(self, bgr: npt.NDArray[np.uint8], at: float) -> None:
        """Analyses one picture (brightness, black, change) without counting a frame.

        The forwarding bridge counts every frame it forwards but decodes only keyframes: it looks at those.
        """
        horizon = at - self._window
        while self._analysed and self._analysed[0][0] < horizon:
            self._analysed.popleft()
        grey = _live_thumbnail(bgr)
        brightness, spread = _mean_std(grey)
        self._analysed.append((at, brightness, brightness < BLACK_MEAN_LUMA and spread < BLACK_STD_LUMA))
        thumbnail = grey.astype(np.float32)
        moved = _change(thumbnail, self._reference)
        if moved is None or moved >= FROZEN_CHANGE:
            self._reference = thumbnail
            self._changed_at = at

    def problems(self, now: float) -> list[str]:
        """Of "no_video", "black", "frozen", "too_dark", "low_frame_rate": what holds at `now`, most important first."""
        if self._last_at is None or self._first_at is None or now - self._last_at >= self._window:
            return ["no_video"]
        horizon = now - self._window
        found: list[str] = []
        recent = [(brightness, black) for at, brightness, black in self._analysed if at >= horizon]
        if not recent and self._analysed:
            recent = [self._analysed[-1][1:]]
        black = bool(recent) and all(black for _, black in recent)
        if black:
            found.append("black")  # a black picture is also still: "frozen" would only repeat it
        else:
            if now - self._changed_at >= self._frozen_after:
                found.append("frozen")
            if recent and sum(brightness for brightness, _ in recent) / len(recent) < TOO_DARK_LUMA:
                found.append("too_dark")
        if now - self._first_at >= self._window:
            frames = sum(1 for at in self._times if horizon < at <= now)
            if frames / self._window < self._min_fps:
                found.append("low_frame_rate")
        return found
