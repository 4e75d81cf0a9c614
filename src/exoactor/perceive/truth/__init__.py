"""Rendered clips with known 3D truth, for real accuracy tests of the perceive stage.

A parametric human body (Anny: Apache-2.0 code, CC0 assets, ``pip install anny``) walks along
+x past a 3/4 view, or stands facing a camera that looks down and raises its arms
(:func:`frontal_pitched_config`); each frame is rasterised with a known pinhole camera into
an ``.mp4``; the body's true joints are saved beside it. Running
:func:`~exoactor.perceive.perceive_video` on the video and scoring its joints with
:func:`score_motion` measures the whole stage, detector included.

Conventions: world frame z up, ground at z = 0, the hip centre of the first frame above the
origin, the body facing +x at the start (the perceive stage's own convention); metres,
seconds, ``fps`` beside every time series. Modules: :mod:`.body` (Anny and its joint table),
:mod:`.walk` (the gait), :mod:`.raster` (the renderer), :mod:`.clip` (clip and truth files),
:mod:`.score` (the comparison).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["TruthClip", "TruthClipConfig", "TruthScore", "frontal_pitched_config", "lean_config",
           "lift_config", "load_truth", "make_truth_clip", "score_motion", "sit_down_config"]

_LAZY = {
    "TruthClip": "exoactor.perceive.truth.clip",
    "TruthClipConfig": "exoactor.perceive.truth.clip",
    "load_truth": "exoactor.perceive.truth.clip",
    "frontal_pitched_config": "exoactor.perceive.truth.clip",
    "make_truth_clip": "exoactor.perceive.truth.clip",
    "sit_down_config": "exoactor.perceive.truth.clip",
    "lean_config": "exoactor.perceive.truth.clip",
    "lift_config": "exoactor.perceive.truth.clip",
    "TruthScore": "exoactor.perceive.truth.score",
    "score_motion": "exoactor.perceive.truth.score",
}

if TYPE_CHECKING:
    from exoactor.perceive.truth.clip import (
        TruthClip,
        TruthClipConfig,
        frontal_pitched_config,
        lean_config,
        lift_config,
        load_truth,
        make_truth_clip,
        sit_down_config,
    )
    from exoactor.perceive.truth.score import TruthScore, score_motion


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'exoactor.perceive.truth' has no attribute '{name}'")
