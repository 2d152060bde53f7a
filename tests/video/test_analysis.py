"""video.analysis on synthetic pictures and sounds, and on one real face photo (tests/video/data/face.jpg)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from majlis.i18n import shipped_catalogs
from video.analysis import (
    FROZEN_CHANGE,
    OUT_OF_FOCUS_SHARPNESS,
    PROBLEMS,
    PROBLEMS_TO_MEN,
    CheckJudge,
    FrameReading,
    LiveMonitor,
    Verdict,
    face_centred,
    problem_text,
    read_frame,
)

Image = npt.NDArray[np.uint8]
FACE_JPEG = Path(__file__).parent / "data" / "face.jpg"
RATE = 48_000
CHUNK = 960  # 20 ms, as aiortc delivers audio


# --- Pictures -------------------------------------------------------------------------------------------------------
@functools.cache
def _face(width: int, height: int) -> Image:
    photo = cv2.imread(str(FACE_JPEG))
    assert photo is not None, FACE_JPEG
    return np.asarray(cv2.resize(photo, (width, height), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)


def face(width: int = 640, height: int = 480) -> Image:
    return _face(width, height).copy()


def noisy(image: Image, rng: np.random.Generator, sigma: float = 2.0) -> Image:
    """Sensor-like noise: every frame of a live camera differs a little from the last."""
    return np.clip(image + rng.normal(0, sigma, image.shape), 0, 255).astype(np.uint8)


def checkerboard(width: int = 640, height: int = 480, square: int = 40) -> Image:
    ys, xs = np.indices((height, width))
    grey = (((ys // square + xs // square) % 2) * 200 + 20).astype(np.uint8)
    return np.asarray(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), dtype=np.uint8)


def text(width: int = 640, height: int = 480) -> Image:
    page = np.full((height, width, 3), 230, np.uint8)
    for line in range(height // 40):
        cv2.putText(page, f"Majlis audience {line}", (20, 40 + 40 * line), cv2.FONT_HERSHEY_SIMPLEX, 1, (20, 20, 20), 2)
    return page


def room(width: int = 640, height: int = 480) -> Image:
    """A plain room without anyone: a lit wall, a door, a table."""
    wall = np.tile(np.linspace(110, 170, width, dtype=np.float64), (height, 1))
    scene = cv2.cvtColor(wall.astype(np.uint8), cv2.COLOR_GRAY2BGR)
    cv2.rectangle(scene, (60, 80), (200, 440), (40, 70, 110), -1)
    cv2.circle(scene, (185, 270), 8, (30, 160, 200), -1)
    cv2.rectangle(scene, (300, 330), (620, 480), (60, 40, 30), -1)
    cv2.rectangle(scene, (380, 60), (560, 200), (200, 180, 140), 4)
    return np.asarray(scene, dtype=np.uint8)


def blurred(image: Image, sigma: float = 4.0) -> Image:
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def on_canvas(image: Image, width: int, height: int, x: int, y: int) -> Image:
    canvas = np.full((height, width, 3), 120, np.uint8)
    canvas[y : y + image.shape[0], x : x + image.shape[1]] = image
    return canvas


# --- Sounds ---------------------------------------------------------------------------------------------------------
def tone(peak_dbfs: float, seconds: float, frequency: float = 440.0) -> npt.NDArray[np.int16]:
    """A sine whose peak is `peak_dbfs` (its RMS is 3 dB lower), as int16; beyond full scale it clips."""
    t = np.arange(round(seconds * RATE)) / RATE
    wave = 10 ** (peak_dbfs / 20) * np.sin(2 * np.pi * frequency * t) * 32768
    return np.clip(np.round(wave), -32768, 32767).astype(np.int16)


def feed_audio(judge: CheckJudge, samples: npt.NDArray[np.generic], start: float = 0.0) -> None:
    for i in range(0, samples.shape[-1], CHUNK):
        judge.add_audio(samples[..., i : i + CHUNK], RATE, start + i / RATE)


def feed_video(judge: CheckJudge, frame: Callable[[int], Image], seconds: float, fps: float = 30.0) -> None:
    for i in range(round(seconds * fps)):
        judge.add_video(frame(i), i / fps)


def check(
    frame: Callable[[int], Image] | None,
    audio: npt.NDArray[np.generic] | None,
    *,
    seconds: float = 2.0,
    fps: float = 30.0,
    face_every: int = 5,
) -> Verdict:
    judge = CheckJudge(face_every=face_every)
    if frame is not None:
        feed_video(judge, frame, seconds, fps)
    if audio is not None:
        feed_audio(judge, audio)
    return judge.verdict(duration=seconds)


def live(picture: Image, seed: int = 0, count: int = 4) -> Callable[[int], Image]:
    """A live camera looking at `picture`: a few noisy frames in turn (noise for every frame would slow the tests).

    `count` is prime to 3 and 5, so the frames the monitor and the judge look at are not all the same one."""
    rng = np.random.default_rng(seed)
    frames = [noisy(picture, rng) for _ in range(count)]
    return lambda i: frames[i % count]


@functools.cache
def live_face() -> Callable[[int], Image]:
    return live(_face(640, 480))


GOOD_TONE = tone(-20, 2.0)


# --- Problems -------------------------------------------------------------------------------------------------------
def test_every_problem_has_arabic_and_english_text() -> None:
    assert set(PROBLEMS) == {
        "too_dark",
        "overexposed",
        "out_of_focus",
        "black",
        "frozen",
        "no_face",
        "face_off_centre",
        "low_frame_rate",
        "low_resolution",
        "no_video",
        "mic_silent",
        "mic_too_quiet",
        "mic_clipping",
        "no_audio",
    }
    assert set(PROBLEMS_TO_MEN) == set(PROBLEMS)
    catalogs = shipped_catalogs()
    for code in PROBLEMS:
        for to_men in (False, True):
            arabic = problem_text(catalogs, "ar", code, to_men=to_men)
            english = problem_text(catalogs, "en", code, to_men=to_men)
            assert re.search("[\u0600-\u06ff]", arabic) and not re.search("[A-Za-z]", arabic), (code, to_men)
            assert english.isascii() and english[0].isupper() and english.endswith("."), (code, to_men)
        # Said to women (the plain message) and to men (its context), the Arabic differs: it asks the reader to act.
        assert problem_text(catalogs, "ar", code) != problem_text(catalogs, "ar", code, to_men=True), code
        men_context, men_english = PROBLEMS_TO_MEN[code]
        assert men_context == "men's room"
        assert men_english == PROBLEMS[code] or code == "no_face", code  # the same English but "his whole face"
    assert problem_text(catalogs, "ar", "too_dark") == "الصورة مظلمة جداً؛ أضيئي الغرفة أو وجّهي الضوء نحو الوجه."
    masculine = problem_text(catalogs, "ar", "too_dark", to_men=True)
    assert masculine == "الصورة مظلمة جداً؛ أضئ الغرفة أو وجّه الضوء نحو الوجه."
    assert "her whole face" in problem_text(catalogs, "en", "no_face")
    assert "his whole face" in problem_text(catalogs, "en", "no_face", to_men=True)


# --- One frame ------------------------------------------------------------------------------------------------------
def test_read_frame_measures_light_and_returns_a_thumbnail_for_the_next_frame() -> None:
    grey = np.full((480, 640, 3), 100, np.uint8)
    reading, thumbnail = read_frame(grey)
    assert reading == FrameReading(
        width=640,
        height=480,
        brightness=100.0,
        overexposed_share=0.0,
        sharpness=0.0,
        black=False,
        change=None,
        face=None,
    )
    assert thumbnail.dtype == np.float32 and thumbnail.shape == (48, 64)
    same, _ = read_frame(grey, previous_thumbnail=thumbnail)
    assert same.change == 0.0
    brighter, _ = read_frame(np.full((480, 640, 3), 110, np.uint8), previous_thumbnail=thumbnail)
    assert brighter.change == pytest.approx(10.0)

    window = np.full((480, 640, 3), 90, np.uint8)
    window[:, :200] = 255  # a bright window over 31 % of the picture
    assert read_frame(window)[0].overexposed_share == pytest.approx(200 / 640)


def test_black_is_a_covered_lens_not_a_dark_room() -> None:
    rng = np.random.default_rng(1)
    assert read_frame(noisy(np.full((480, 640, 3), 5, np.uint8), rng))[0].black
    dark_room = (face() * 0.2).astype(np.uint8)
    reading = read_frame(dark_room)[0]
    assert reading.brightness < 50 and not reading.black


def test_sharpness_tells_focused_from_blurred_whatever_the_resolution() -> None:
    for sharp in (face(), checkerboard(), text()):
        assert read_frame(sharp)[0].sharpness > 2 * OUT_OF_FOCUS_SHARPNESS
        assert read_frame(blurred(sharp, 6))[0].sharpness < OUT_OF_FOCUS_SHARPNESS
    small = read_frame(checkerboard(640, 480, 40))[0].sharpness
    large = read_frame(checkerboard(1280, 960, 80))[0].sharpness
    assert 0.75 < small / large < 1.33


def test_read_frame_refuses_what_is_not_a_picture() -> None:
    with pytest.raises(ValueError, match="uint8"):
        read_frame(np.zeros((480, 640, 3), np.float32))
    with pytest.raises(ValueError, match="BGR"):
        read_frame(np.zeros((480, 640, 4), np.uint8))


def test_the_face_in_the_photo_is_found_and_centred() -> None:
    reading = read_frame(face(), find_face=True)[0]
    assert reading.face is not None
    _, _, w, h = reading.face
    assert 120 < w < 260 and 0.8 < w / h < 1.25
    assert face_centred(reading.face, 640, 480)
    assert read_frame(face(), find_face=False)[0].face is None


def test_a_face_at_the_edge_is_found_but_off_centre() -> None:
    picture = on_canvas(face(), 1280, 720, 640, 120)
    reading = read_frame(picture, find_face=True)[0]
    assert reading.face is not None
    assert reading.face[0] > 640  # in frame pixels, not the analysis picture's
    assert not face_centred(reading.face, 1280, 720)


def test_a_plain_room_has_no_face() -> None:
    assert read_frame(room(), find_face=True)[0].face is None
    assert read_frame(text(), find_face=True)[0].face is None


def test_face_centred_tolerances() -> None:
    assert face_centred((270, 150, 100, 100), 640, 480)  # the middle
    assert face_centred((270, 50, 100, 100), 640, 480)  # eyes high, as in a head-and-shoulders picture
    assert face_centred((180, 150, 100, 100), 640, 480)  # leaning a little
    assert not face_centred((40, 150, 100, 100), 640, 480)  # at the left edge
    assert not face_centred((500, 150, 100, 100), 640, 480)  # at the right edge
    assert not face_centred((270, 0, 100, 60), 640, 480)  # forehead cut off
    assert not face_centred((270, 330, 100, 100), 640, 480)  # at the bottom


# --- The pre-call check ---------------------------------------------------------------------------------------------
def test_a_good_room_passes_with_a_snapshot_of_the_face() -> None:
    judge = CheckJudge()
    feed_video(judge, live_face(), seconds=4.0)
    feed_audio(judge, tone(-20, 4.0))
    verdict = judge.verdict(duration=4.0)

    assert verdict.passed and verdict.problems == [], verdict.measures
    measures = verdict.measures
    assert json.loads(json.dumps(measures, allow_nan=False)) == measures
    assert measures["frames"] == 120 and measures["fps"] == 30.0
    assert (measures["width"], measures["height"]) == (640, 480)
    assert measures["faces_looked_for"] == 24 and measures["face_seen_share"] == 1.0
    assert measures["audio_peak_dbfs"] == pytest.approx(-20.0, abs=0.1)
    assert measures["audio_rms_dbfs"] == pytest.approx(-23.0, abs=0.1)
    assert measures["clipped_share"] == 0.0
    assert verdict.snapshot_jpeg is not None and verdict.snapshot_jpeg[:2] == b"\xff\xd8"
    snapshot = cv2.imdecode(np.frombuffer(verdict.snapshot_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert snapshot is not None and snapshot.shape == (480, 640, 3)
    assert read_frame(np.asarray(snapshot, dtype=np.uint8), find_face=True)[0].face is not None


def test_the_snapshot_is_at_most_640_wide_and_prefers_a_frame_with_a_face() -> None:
    judge = CheckJudge(face_every=1)
    judge.add_video(face(1280, 960), 0.0)
    for i in range(1, 4):
        judge.add_video(room(1280, 960), i / 30)
    snapshot_jpeg = judge.verdict(duration=0.2).snapshot_jpeg
    assert snapshot_jpeg is not None
    snapshot = np.asarray(cv2.imdecode(np.frombuffer(snapshot_jpeg, np.uint8), cv2.IMREAD_COLOR), dtype=np.uint8)
    assert snapshot.shape == (480, 640, 3)
    assert read_frame(snapshot, find_face=True)[0].face is not None


def test_nothing_arriving_is_no_video_and_no_audio() -> None:
    verdict = CheckJudge().verdict(duration=3.0)
    assert not verdict.passed
    assert verdict.problems == ["no_video", "no_audio"]
    assert verdict.snapshot_jpeg is None
    assert json.loads(json.dumps(verdict.measures, allow_nan=False)) == verdict.measures


def bright_window() -> Image:
    picture = face()
    picture[:, :200] = 255  # a window beside the person, 31 % of the picture
    return picture


@pytest.mark.parametrize(
    ("scene", "problems"),
    [
        pytest.param(lambda: np.full((480, 640, 3), 4, np.uint8), ["black"], id="black"),
        pytest.param(lambda: (face() * 0.2).astype(np.uint8), ["too_dark"], id="too_dark"),
        pytest.param(
            lambda: np.clip(face().astype(np.int16) + 110, 0, 255).astype(np.uint8), ["overexposed"], id="overexposed"
        ),
        pytest.param(bright_window, ["overexposed"], id="bright_window"),
        pytest.param(lambda: blurred(face(), 5), ["out_of_focus"], id="out_of_focus"),
        pytest.param(room, ["no_face"], id="no_face"),
        pytest.param(lambda: on_canvas(face(), 1280, 720, 640, 120), ["face_off_centre"], id="face_at_the_edge"),
        pytest.param(lambda: face(320, 240), ["low_resolution"], id="low_resolution"),
    ],
)
def test_each_picture_problem_fails_the_check(scene: Callable[[], Image], problems: list[str]) -> None:
    verdict = check(live(scene(), seed=2), GOOD_TONE, seconds=1.0, face_every=5)
    assert not verdict.passed
    assert verdict.problems == problems, verdict.measures


def test_a_frozen_picture_fails_but_a_still_and_live_one_does_not() -> None:
    frozen = check(lambda _: _face(640, 480), GOOD_TONE, seconds=3.0, face_every=15)
    assert frozen.problems == ["frozen"]
    assert frozen.measures["frozen_seconds"] == pytest.approx(2.97)
    # Frozen for under two seconds, then the picture moves again.
    camera = live_face()
    moving = check(lambda i: _face(640, 480) if i < 50 else camera(i), GOOD_TONE, seconds=3.0, face_every=15)
    assert moving.passed, moving.problems


def test_a_low_frame_rate_fails_the_check() -> None:
    verdict = check(live_face(), GOOD_TONE, seconds=2.0, fps=10.0)
    assert verdict.problems == ["low_frame_rate"]
    assert verdict.measures["fps"] == 10.0


def test_problems_come_most_important_first() -> None:
    verdict = check(live(np.zeros((240, 320, 3), np.uint8), seed=4), None, seconds=1.0, fps=10.0)
    assert verdict.problems == ["no_audio", "black", "low_resolution", "low_frame_rate"]


@pytest.mark.parametrize(
    ("audio", "problems"),
    [
        pytest.param(np.zeros(RATE * 2, np.int16), ["mic_silent"], id="digital_silence"),
        pytest.param(np.random.default_rng(5).integers(-20, 21, RATE * 2).astype(np.int16), ["mic_silent"], id="hiss"),
        pytest.param(tone(-52, 2.0), ["mic_too_quiet"], id="quiet"),
        pytest.param(tone(+6, 2.0), ["mic_clipping"], id="clipped"),
        pytest.param(tone(-20, 2.0), [], id="good"),
        pytest.param(tone(-20, 2.0).astype(np.float32) / 32768, [], id="float"),
        pytest.param(np.repeat(tone(-20, 2.0), 2).reshape(1, -1), [], id="stereo_interleaved"),
    ],
)
def test_microphone_problems(audio: npt.NDArray[np.generic], problems: list[str]) -> None:
    verdict = check(live_face(), audio, seconds=2.0, face_every=15)
    assert verdict.problems == problems, verdict.measures
    assert json.loads(json.dumps(verdict.measures, allow_nan=False)) == verdict.measures


def test_speech_with_pauses_is_judged_on_its_loud_part() -> None:
    speech = tone(-20, 2.0)
    speech[: int(RATE * 1.4)] = 0  # 70 % silence between words
    verdict = check(live_face(), speech, seconds=2.0, face_every=15)
    assert verdict.passed, verdict.measures
    assert verdict.measures["audio_loud_rms_dbfs"] == pytest.approx(-23.0, abs=0.2)
    assert verdict.measures["audio_rms_dbfs"] == pytest.approx(-28.2, abs=0.2)


def test_digital_silence_reads_as_the_floor_not_minus_infinity() -> None:
    verdict = check(live_face(), np.zeros(RATE, np.int16), seconds=1.0, face_every=15)
    assert verdict.measures["audio_peak_dbfs"] == -120.0 and verdict.measures["audio_rms_dbfs"] == -120.0


# --- The live monitor -----------------------------------------------------------------------------------------------
def play(monitor: LiveMonitor, frame: Callable[[int], Image], start: float, end: float, fps: float = 30.0) -> float:
    """Adds frames at `fps` from `start` up to `end`; returns the last frame's time."""
    at = start
    i = 0
    while start + i / fps <= end + 1e-9:
        at = start + i / fps
        monitor.add(frame(i), at)
        i += 1
    return at


def test_a_live_camera_has_no_problem() -> None:
    monitor = LiveMonitor()
    assert monitor.problems(0.0) == ["no_video"]
    for second in range(1, 6):
        play(monitor, live_face(), second - 1 + 1 / 30, second)
        assert monitor.problems(second) == []


def test_frozen_only_after_frozen_after_seconds() -> None:
    monitor = LiveMonitor(frozen_after=2.0)
    still = face()
    play(monitor, lambda _: still, 0.0, 1.9)
    assert monitor.problems(1.9) == []
    play(monitor, lambda _: still, 1.9 + 1 / 30, 2.5)
    assert monitor.problems(2.5) == ["frozen"]
    play(monitor, live_face(), 2.5 + 1 / 30, 2.6)  # at least one analysed frame moves
    assert monitor.problems(2.6) == []


def test_a_still_scene_moving_a_pixel_now_and_then_is_not_frozen() -> None:
    # A decoded VP8 picture of someone sitting still: no noise at all, a 1 px movement every second.
    monitor = LiveMonitor(frozen_after=2.0)
    picture = face()
    shifted = [np.roll(picture, i // 30, axis=1) for i in range(120)]
    change = read_frame(shifted[30], previous_thumbnail=read_frame(shifted[0])[1])[0].change
    assert change is not None and change >= FROZEN_CHANGE
    play(monitor, lambda i: shifted[i], 0.0, 3.9)
    assert monitor.problems(3.9) == []


def test_low_frame_rate_over_the_last_window() -> None:
    monitor = LiveMonitor(window=2.0, min_fps=15.0)
    play(monitor, live_face(), 0.0, 1.5, fps=10.0)
    assert monitor.problems(1.5) == []  # not a whole window watched yet
    play(monitor, live_face(), 1.6, 3.0, fps=10.0)
    assert monitor.problems(3.0) == ["low_frame_rate"]
    play(monitor, live_face(), 3.0 + 1 / 30, 5.0, fps=30.0)
    assert monitor.problems(5.0) == []


def test_no_video_when_no_frame_for_a_window() -> None:
    monitor = LiveMonitor(window=2.0)
    play(monitor, live_face(), 0.0, 1.0)
    assert monitor.problems(2.9) == ["low_frame_rate"]  # 3 frames in the last 2 s
    assert monitor.problems(3.0) == ["no_video"]


def test_black_and_dark_pictures_live() -> None:
    black = LiveMonitor()
    play(black, live(np.zeros((480, 640, 3), np.uint8), seed=9), 0.0, 3.0)
    assert black.problems(3.0) == ["black"]  # not also "frozen": black says it

    dark = LiveMonitor()
    play(dark, live((face() * 0.2).astype(np.uint8), seed=10), 0.0, 3.0)
    assert dark.problems(3.0) == ["too_dark"]


def test_the_live_monitor_takes_the_grey_plane_too() -> None:
    monitor = LiveMonitor()
    grey = np.asarray(cv2.cvtColor(face(), cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    play(monitor, lambda _: grey, 0.0, 2.5)
    assert monitor.problems(2.5) == ["frozen"]
