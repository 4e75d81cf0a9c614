"""The MediaPipe backend's warm-up: the graphs opened (and their models loaded) while the stage
scans the clip are the ones the estimate uses, and they give the same observations as graphs
opened by the estimate itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exoactor.perceive.backends.mediapipe import MediaPipeBackend
from exoactor.perceive.config import PerceiveConfig
from exoactor.perceive.video import open_video, select_frames
from exoactor.runner import DEMO_WINDOW_S

_FRAMES = 8


def _view(sample_clip: Path):  # noqa: ANN202
    video = open_video(sample_clip)
    first = round(DEMO_WINDOW_S[0] * video.nominal_fps)
    return select_frames(video, list(range(first, first + _FRAMES)),
                         [k / video.nominal_fps for k in range(_FRAMES)])


def test_warmed_up_graphs_are_used_and_change_nothing(sample_clip: Path) -> None:
    cold = MediaPipeBackend(stage=PerceiveConfig()).estimate(_view(sample_clip), hands=True)
    warm = MediaPipeBackend(stage=PerceiveConfig())
    warm.warm_up(hands=True)
    assert warm._warm is not None and warm._warm[0] is True  # opened ahead, with hands
    obs = warm.estimate(_view(sample_clip), hands=True)
    assert warm._warm is None  # consumed (and closed by the estimate)
    assert obs.detected.all()
    for key in ("kp_px", "kp_vis", "kp_rel_c", "hand_px", "hand_rel_c", "hand_score"):
        assert np.array_equal(getattr(obs, key), getattr(cold, key), equal_nan=True), key


def test_warm_graphs_for_other_settings_are_released(sample_clip: Path) -> None:
    backend = MediaPipeBackend(stage=PerceiveConfig())
    backend.warm_up(hands=True)
    obs = backend.estimate(_view(sample_clip), hands=False)  # not the warmed-up set
    assert backend._warm is None and obs.detected.all()
    backend.warm_up(hands=False)
    backend.close()  # the stage stopped before estimating
    assert backend._warm is None
