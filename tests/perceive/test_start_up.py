"""The body model's start-up: the first frames of a track are as steady as the rest.

A fresh video-mode MediaPipe graph crops its first frames from the person detector's box and
settles over ~5 frames; the depth of the landmarks moves while it does. At the start of the
demo's window of the sample clip (a woman walking past, seen from her side) the hip line
turned 20 deg in the first 4 frames (the shoulder line 10 deg) while she walks straight on:
robot frames the tracker then had to drop. Priming the graph on the next frames, backwards,
removes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.perceive.backends.mediapipe import MediaPipeBackend
from exoactor.perceive.config import MediaPipeConfig, PerceiveConfig
from exoactor.perceive.video import open_video, select_frames
from exoactor.runner import DEMO_WINDOW_S
from exoactor.skeleton import BODY_33

_FRAMES = 10


def _hip_yaw_deg(sample_clip: Path, prime_frames: int) -> np.ndarray:
    """Heading of the hip line (left minus right) in the camera's x-z plane [deg] over the
    first frames of the demo's window, straight from the backend."""
    video = open_video(sample_clip)
    first = round(DEMO_WINDOW_S[0] * video.nominal_fps)
    idx = list(range(first, first + _FRAMES))
    view = select_frames(video, idx, [k / video.nominal_fps for k in range(_FRAMES)])
    backend = MediaPipeBackend(MediaPipeConfig(prime_frames=prime_frames), stage=PerceiveConfig())
    obs = backend.estimate(view, hands=False)
    assert obs.detected.all()
    d = obs.kp_rel_c[:, BODY_33.index("left_hip")] - obs.kp_rel_c[:, BODY_33.index("right_hip")]
    return np.degrees(np.arctan2(d[:, 2], d[:, 0]))


@pytest.fixture(scope="module")
def yaw(sample_clip: Path) -> dict[int, np.ndarray]:
    return {k: _hip_yaw_deg(sample_clip, k) for k in (0, MediaPipeConfig().prime_frames)}


def test_first_frames_of_a_track_do_not_turn(yaw: dict[int, np.ndarray]) -> None:
    primed = yaw[MediaPipeConfig().prime_frames]
    # she walks straight on, seen from the side: the hip line stays put over 1/3 s
    assert np.ptp(primed[:_FRAMES]) < 5.0, primed.round(1)
    assert np.abs(np.diff(primed)).max() < 3.0, primed.round(1)


def test_the_unprimed_graph_turns_at_the_start(yaw: dict[int, np.ndarray]) -> None:
    """Positive control: without priming the start-up transient is there (what the test
    above guards against)."""
    fresh = yaw[0]
    assert np.ptp(fresh[:5]) > 10.0, fresh.round(1)
    # and it settles where the primed graph starts
    assert abs(fresh[6:].mean() - yaw[MediaPipeConfig().prime_frames][6:].mean()) < 5.0
