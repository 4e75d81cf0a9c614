"""The stage on awkward inputs: no person, a single frame, a portrait video, a variable frame
rate, and the ``person`` choice (small clips cut from the sample)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.formats import HumanMotion, load_npz
from exoactor.perceive import perceive_video
from exoactor.perceive.errors import NoPersonFound, VideoError


@pytest.mark.parametrize("name", ["text", "empty"])
def test_not_a_video_and_empty_video(clips: dict[str, Path], fast_config, tmp_path: Path,
                                     name: str) -> None:
    with pytest.raises(VideoError):
        perceive_video(clips[name], tmp_path / "h.npz", fast_config)
    assert not (tmp_path / "h.npz").exists()


def test_no_person(clips: dict[str, Path], fast_config, tmp_path: Path) -> None:
    with pytest.raises(NoPersonFound, match="no person was detected"):
        perceive_video(clips["noise"], tmp_path / "h.npz", fast_config)


def test_asking_for_a_person_who_is_not_there(clips: dict[str, Path], fast_config,
                                              tmp_path: Path) -> None:
    cfg = fast_config.model_copy(update={"person": 3})
    with pytest.raises(NoPersonFound, match=r"--person 3 .*Use --person 0\.\."):
        perceive_video(clips["single"], tmp_path / "h.npz", cfg)


def test_single_frame(clips: dict[str, Path], fast_config, tmp_path: Path) -> None:
    r = perceive_video(clips["single"], tmp_path / "h.npz", fast_config)
    m = load_npz(r.motion_path, expect=HumanMotion)
    assert m.num_frames == 1 and m.valid.all()
    assert m.joints[0, :, 2].max() > 1.0  # a standing person, feet near z = 0
    assert abs(m.joints[0, :, 2].min()) < 0.15


def test_portrait_video(clips: dict[str, Path], fast_config, tmp_path: Path) -> None:
    r = perceive_video(clips["portrait"], tmp_path / "h.npz", fast_config)
    assert r.metrics.detection_rate > 0.9
    assert r.metrics.camera["image_size_px"] == [360, 716]
    assert r.metrics.reprojection_error_px_median < 8.0


def test_variable_frame_rate_is_resampled(clips: dict[str, Path], fast_config,
                                          tmp_path: Path) -> None:
    from exoactor.perceive.config import ArtefactConfig

    plain = fast_config.model_copy(update={"artefacts": ArtefactConfig(enabled=False)})
    r = perceive_video(clips["vfr"], tmp_path / "h.npz", plain)
    assert r.metrics.variable_frame_rate
    assert r.motion.fps == pytest.approx(1 / 0.045, rel=0.01)
    # 20 source frames over 0.645 s at ~22 fps -> 15 output frames
    assert r.motion.num_frames == 15
    assert np.isfinite(r.motion.joints).all()
    # with the artefact handling (default), the ~22 Hz samples are resampled in motion space
    # to the container's 28 Hz (>= 25): every source frame is used, none is repeated
    r = perceive_video(clips["vfr"], tmp_path / "h2.npz", fast_config)
    assert r.metrics.variable_frame_rate
    assert r.metrics.artefacts["resampled"]["to_hz"] == pytest.approx(r.motion.fps)
    assert r.motion.fps >= 25.0 and r.motion.num_frames == int(0.645 * r.motion.fps) + 1
    assert np.isfinite(r.motion.joints).all()
