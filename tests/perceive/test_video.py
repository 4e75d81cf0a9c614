"""Video reading: the constant-rate view and the errors for unreadable inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.perceive.errors import VideoError
from exoactor.perceive.video import constant_rate_view, iter_frames, open_video


def test_constant_clip_maps_one_to_one() -> None:
    v = constant_rate_view(np.arange(10) / 30.0, 30.0)
    assert not v.variable and v.fps == 30.0 and v.frame_index.tolist() == list(range(10))


def test_variable_clip_is_resampled_by_nearest_frame() -> None:
    times = np.array([0.0, 0.045, 0.09, 0.1, 0.145, 0.19, 0.2])
    v = constant_rate_view(times, 22.0)
    assert v.variable
    assert v.fps == pytest.approx(1 / 0.045)
    picked = times[v.frame_index]
    grid = np.arange(v.num_frames) / v.fps
    assert np.all(np.abs(picked - grid) <= 0.5 / v.fps + 1e-9)


def test_single_frame_uses_the_declared_rate() -> None:
    v = constant_rate_view(np.zeros(1), 25.0)
    assert v.fps == 25.0 and v.frame_index.tolist() == [0]


def test_vfr_file_timestamps_are_read(clips: dict[str, Path]) -> None:
    times = np.array([f.time_s for f in iter_frames(open_video(clips["vfr"]))])
    assert constant_rate_view(times).variable
    assert not constant_rate_view(np.array([f.time_s for f in iter_frames(
        open_video(clips["short"]))])).variable


@pytest.mark.parametrize(("name", "match"), [("text", "not a readable video"),
                                              ("empty", "no decodable frame")])
def test_unreadable_inputs(clips: dict[str, Path], name: str, match: str) -> None:
    with pytest.raises(VideoError, match=match):
        open_video(clips[name])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file"):
        open_video(tmp_path / "nope.mp4")


def test_portrait_metadata(clips: dict[str, Path]) -> None:
    v = open_video(clips["portrait"])
    assert v.portrait and (v.width_px, v.height_px) == (360, 716)


def test_prefetched_keeps_order_raises_where_the_decoder_failed_and_stops() -> None:
    """Background decoding: the frames in order, the decoder's error at its frame, and no
    thread left running after an early stop."""
    import threading

    from exoactor.perceive.video import Frame, prefetched

    def frames(n: int, fail_at: int | None = None):
        for k in range(n):
            if k == fail_at:
                raise VideoError(f"frame {k} is damaged")
            yield Frame(index=k, time_s=k / 30, rgb=np.full((2, 2, 3), k, np.uint8))

    assert [f.index for f in prefetched(frames(20), depth=3)] == list(range(20))
    seen = []
    with pytest.raises(VideoError, match="frame 7"):
        for f in prefetched(frames(20, fail_at=7), depth=2):
            seen.append(f.index)
    assert seen == list(range(7))
    it = prefetched(frames(1000), depth=2)
    assert next(it).index == 0
    it.close()
    assert not any(t.name == "exoactor-decode" for t in threading.enumerate())
