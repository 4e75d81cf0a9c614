"""Resampling to the perception rate keeps the clip's duration (a 16 fps clip must not play
1.9x fast), and a clip already at the rate is copied untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.imagine.video.clip import conform_clip, probe, read_frames, resample_indices
from exoactor.media import write_h264


@pytest.mark.parametrize("n,fps_in,fps_out", [(81, 16.0, 30.0), (49, 8.0, 30.0), (121, 24.0, 30.0),
                                              (150, 30.0, 30.0), (300, 60.0, 30.0), (9, 16.0, 50.0)])
def test_indices_keep_duration_and_order(n: int, fps_in: float, fps_out: float) -> None:
    idx = resample_indices(n, fps_in, fps_out)
    assert len(idx) / fps_out == pytest.approx(n / fps_in, abs=0.5 / fps_out)
    assert idx[0] == 0 and idx[-1] <= n - 1 and np.all(np.diff(idx) >= 0)
    # each output frame shows the source frame nearest its time; past the last source
    # frame's time, the last frame (still on screen until n / fps_in)
    t_out = np.arange(len(idx)) / fps_out
    inside = t_out <= (n - 1) / fps_in
    assert np.all(np.abs(idx / fps_in - t_out)[inside] <= 0.5 / fps_in + 1e-9)
    assert np.all(idx[~inside] == n - 1) and np.all(t_out < n / fps_in)


def test_round_trip_30_50_30_is_identity() -> None:
    up = resample_indices(90, 30.0, 50.0)
    down = resample_indices(len(up), 50.0, 30.0)
    assert np.array_equal(up[down], np.arange(90))


def _ramp(n: int, size: int = 32) -> np.ndarray:
    """Frames whose brightness encodes their index (0, 8, 16, ...)."""
    return np.stack([np.full((size, size, 3), 8 * i, np.uint8) for i in range(n)])


def test_16fps_clip_becomes_30fps_with_the_same_duration(tmp_path: Path) -> None:
    src = write_h264(_ramp(32), 16.0, tmp_path / "native.mp4")  # 2 s at 16 fps
    out = conform_clip(src, tmp_path / "video.mp4", 30.0)
    info = probe(out.path)
    assert (info.fps, info.num_frames) == (30.0, 60) and not out.copied
    assert info.duration_s == pytest.approx(2.0) and out.source_fps == 16.0
    frames, _ = read_frames(out.path)
    shown = np.round(frames[:, 16, 16, 0] / 8.0).astype(int)
    assert np.array_equal(shown, resample_indices(32, 16.0, 30.0))


def test_true_fps_overrides_a_wrong_container(tmp_path: Path) -> None:
    src = write_h264(_ramp(16), 30.0, tmp_path / "native.mp4")  # says 30, really 8 fps
    out = conform_clip(src, tmp_path / "video.mp4", 30.0, source_fps=8.0)
    assert out.num_frames == 60 and out.duration_s == pytest.approx(2.0)


def test_clip_at_the_rate_is_copied(short_clip: Path, tmp_path: Path) -> None:
    out = conform_clip(short_clip, tmp_path / "video.mp4", 30.0)
    assert out.copied and out.path.read_bytes() == short_clip.read_bytes()


def test_real_16fps_clip(clip_16fps: Path, tmp_path: Path) -> None:
    src = probe(clip_16fps)
    assert src.fps == 16.0
    out = conform_clip(clip_16fps, tmp_path / "video.mp4", 30.0)
    assert out.duration_s == pytest.approx(src.duration_s, abs=1 / 30)
