"""The shared helpers (signals, rotations' yaw helpers, media) on small known cases."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.rotations import circular_mean, heading_frame, matrix_yaw, yaw, yaw_matrix, yaw_quat
from exoactor.signals import drop_short_runs, fill_gaps, fill_short_gaps, runs, smoothstep


def test_runs_drop_and_fill() -> None:
    m = np.array([1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert runs(m) == [(0, 2), (4, 5), (6, 9)]
    assert runs(np.zeros(3, bool)) == []
    assert drop_short_runs(m, 2).astype(int).tolist() == [1, 1, 0, 0, 0, 0, 1, 1, 1]
    assert fill_short_gaps(m, 1).astype(int).tolist() == [1, 1, 0, 0, 1, 1, 1, 1, 1]
    assert fill_short_gaps(m, 2).astype(int).tolist() == [1] * 9
    assert drop_short_runs(np.ones(2, bool), 5, keep_whole=True).all()
    assert not drop_short_runs(np.ones(2, bool), 5).any()
    ends = np.array([0, 1, 1, 0], bool)
    assert fill_short_gaps(ends, 5).tolist() == ends.tolist()  # gaps at the ends stay


def test_fill_gaps_interpolates_and_holds_the_ends() -> None:
    v = np.array([np.nan, 1.0, np.nan, 3.0, np.nan])
    out = fill_gaps(v, np.isfinite(v))
    np.testing.assert_allclose(out, [1.0, 1.0, 2.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="valid frame"):
        fill_gaps(v, np.zeros(5, bool))


def test_smoothstep() -> None:
    np.testing.assert_allclose(smoothstep(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])),
                               [0.0, 0.0, 0.5, 1.0, 1.0])


def test_yaw_helpers_agree_with_quaternions() -> None:
    a = np.array([-3.0, -0.4, 0.0, 1.2, 3.1])
    R = yaw_matrix(a)
    assert R.shape == (5, 3, 3)
    np.testing.assert_allclose(matrix_yaw(R), a, atol=1e-12)
    np.testing.assert_allclose(yaw(yaw_quat(a)), a, atol=1e-12)
    v_w = np.array([1.0, 0.0])
    np.testing.assert_allclose(heading_frame(np.pi / 2).T @ v_w, [0.0, -1.0], atol=1e-12)
    assert circular_mean(np.array([np.pi - 0.1, -np.pi + 0.1])) == pytest.approx(np.pi, abs=1e-9)


def test_write_h264_crops_odd_sizes(tmp_path) -> None:
    from exoactor.imagine.video.clip import probe
    from exoactor.media import resize_image, write_h264

    frames = [np.full((31, 41, 3), 10 * k, np.uint8) for k in range(5)]
    info = probe(write_h264(frames, 10.0, tmp_path / "c.mp4"))
    assert (info.width_px, info.height_px, info.num_frames) == (40, 30, 5)
    assert resize_image(frames[0], 20, 10).shape == (10, 20, 3)
