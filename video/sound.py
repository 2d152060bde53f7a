"""Judging a microphone's samples with numpy: level, silence, clipping (the pre-call check's sound).

Apart from video.analysis, which judges the picture, so each stays one thing.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

# Audio, in dBFS relative to full scale (a sample of ±1.0, or ±32768 for int16; RMS is the plain sample RMS, so a
# full-scale sine reads −3 dBFS). A live microphone's noise floor is around −70 to −50 dBFS peak-to-peak in a quiet
# room; a peak under −60 dBFS over the whole check is a muted or dead microphone (or digital silence).
SILENT_PEAK_DBFS = -60.0
# Speech picked up well sits at −30 to −15 dBFS RMS; under −45 over the loud part the other side hears a whisper
# under the noise even after automatic gain.
QUIET_RMS_DBFS = -45.0
# The loud part: the loudest quarter of 20 ms blocks, so pauses between words do not count as quiet.
LOUD_BLOCK_SECONDS = 0.02
LOUD_SHARE = 0.25
# Clipping: more than 0.5 % of samples at or beyond 99 % of full scale is audible distortion, not a stray peak.
CLIP_LEVEL = 0.99
CLIPPED_SHARE = 0.005
# Digital silence has no logarithm; it is reported as this floor (int16's smallest step is −90 dBFS).
DBFS_FLOOR = -120.0


def _as_unit_float(samples: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    """Samples of any layout, flattened, as floats where ±1.0 is full scale."""
    array = np.asarray(samples)
    kind = array.dtype.kind
    if kind == "i":
        full = -float(np.iinfo(array.dtype).min)
        return array.reshape(-1).astype(np.float64) / full
    if kind == "u":  # unsigned PCM (u8) is offset by half its range
        full = float(np.iinfo(array.dtype).max + 1) / 2
        return (array.reshape(-1).astype(np.float64) - full) / full
    if kind == "f":
        return array.reshape(-1).astype(np.float64)
    raise ValueError(f"audio samples must be integers or floats, not {array.dtype}")


def _dbfs(level: float) -> float:
    if level <= 0:
        return DBFS_FLOOR
    return max(DBFS_FLOOR, 20 * math.log10(level))


class SoundMeter:
    """Accumulates a check's microphone samples; `judge` adds the sound's measures and problems."""

    def __init__(self) -> None:
        self._samples = 0
        self._sum_squares = 0.0
        self._peak = 0.0
        self._clipped = 0
        self._block_powers: list[npt.NDArray[np.float64]] = []

    def add(self, samples: npt.NDArray[np.generic], sample_rate: int) -> None:
        """Add one chunk: int16 (interleaved if stereo, so a 20 ms block is then 10 ms of each channel) or float."""
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        values = _as_unit_float(samples)
        if values.size == 0:
            return
        magnitudes = np.abs(values)
        self._samples += values.size
        self._peak = max(self._peak, float(magnitudes.max()))
        self._clipped += int(np.count_nonzero(magnitudes >= CLIP_LEVEL))
        squares = values * values
        self._sum_squares += float(squares.sum())
        block = max(1, round(sample_rate * LOUD_BLOCK_SECONDS))
        whole = squares.size // block
        powers = [squares[: whole * block].reshape(whole, block).mean(axis=1)] if whole else []
        rest = squares[whole * block :]
        if rest.size and (rest.size * 2 >= block or not whole):
            powers.append(np.asarray([rest.mean()], dtype=np.float64))
        self._block_powers.extend(powers)

    def judge(self, problems: set[str], measures: dict[str, float | int | str | None]) -> None:
        measures.update(
            audio_samples=self._samples,
            audio_rms_dbfs=None,
            audio_loud_rms_dbfs=None,
            audio_peak_dbfs=None,
            clipped_share=None,
        )
        if self._samples == 0:
            problems.add("no_audio")
            return
        powers = np.sort(np.concatenate(self._block_powers))
        loud = powers[-max(1, math.ceil(powers.size * LOUD_SHARE)) :]
        loud_rms_dbfs = _dbfs(math.sqrt(float(loud.mean())))
        peak_dbfs = _dbfs(self._peak)
        clipped_share = self._clipped / self._samples
        measures.update(
            audio_rms_dbfs=round(_dbfs(math.sqrt(self._sum_squares / self._samples)), 1),
            audio_loud_rms_dbfs=round(loud_rms_dbfs, 1),
            audio_peak_dbfs=round(peak_dbfs, 1),
            clipped_share=round(clipped_share, 4),
        )
        if peak_dbfs < SILENT_PEAK_DBFS:
            problems.add("mic_silent")
            return
        if loud_rms_dbfs < QUIET_RMS_DBFS:
            problems.add("mic_too_quiet")
        if clipped_share > CLIPPED_SHARE:
            problems.add("mic_clipping")
