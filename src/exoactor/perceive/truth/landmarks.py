"""Which landmark error costs what: a pose backend that swaps named landmarks for the truth.

On a rendered clip (:mod:`exoactor.perceive.truth`) the error of a perceived quantity (a seat's
height, a joint angle) is the sum of what the detector gets wrong (its 2D landmarks, its 3D
lift) and what the stage does with it (the skeleton fit, the grounding). To attribute it,
the ``truth-landmarks`` backend runs an inner backend (MediaPipe by default) and replaces
the landmarks it names with the rendered body's: the 2D ones (``kp_px``) by the true joints
projected through the clip's camera, the 3D ones (``kp_rel_c``, relative to the hip centre,
camera axes) by the true joints relative to the true hips. Everything after the backend runs
as for any clip, so "seat error with the hips' 2D true" is one perceive run.

The truth's joints are anatomical joint centres (:data:`~exoactor.perceive.truth.body.JOINT_SOURCES`),
MediaPipe's are its own definition: a swap replaces both the detector's error and the
difference of definitions.

A plugin (it registers on import, not from :mod:`exoactor.perceive.backends`): import this
module, then ``PerceiveConfig(backend="truth-landmarks", backend_options={"truth_path": ...,
"joints_px": [...], "joints_rel_c": [...]})``. ``benchmarks/scene_truth.py --true-2d/--true-3d``
does so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from exoactor.errors import ExoActorError
from exoactor.perceive.backend import PoseBackend, PoseObservations, pose_backends
from exoactor.perceive.camera import project
from exoactor.perceive.grounding import transform
from exoactor.perceive.video import Frame, VideoSource
from exoactor.skeleton import BODY_33

BACKEND_NAME = "truth-landmarks"
_HIPS = [BODY_33.index("left_hip"), BODY_33.index("right_hip")]


class TruthLandmarksConfig(BaseModel):
    """Settings of the ``truth-landmarks`` backend."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    truth_path: str = ""
    """The rendered clip's ``_truth.npz`` (:func:`~exoactor.perceive.truth.make_truth_clip`);
    required: building the backend without one raises."""
    joints_px: tuple[str, ...] = ()
    """BODY_33 names whose 2D landmarks become the projected truth."""
    joints_rel_c: tuple[str, ...] = ()
    """BODY_33 names whose hip-relative 3D landmarks become the truth's."""
    inner: str = "mediapipe"
    """The backend that observes the clip (registry name)."""
    inner_options: dict[str, Any] = Field(default_factory=dict)
    """Its settings."""

    @field_validator("joints_px", "joints_rel_c")
    @classmethod
    def _known(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in names if n not in BODY_33]
        if bad:
            raise ValueError(f"unknown landmark names {bad}; use BODY_33 names (e.g. "
                             "left_hip, right_knee)")
        return names


def truth_frames(times_s: np.ndarray, fps: float, frames: int) -> np.ndarray:
    """``(S,)`` index of the rendered frame shown at each presentation time.

    Raises:
        ExoActorError: a time lies outside the rendered clip (not the clip of this truth).
    """
    idx = np.rint(np.asarray(times_s, float) * fps).astype(int)
    if len(idx) and (idx.min() < 0 or idx.max() >= frames):
        raise ExoActorError(f"observation times {float(np.min(times_s)):.3f}-"
                            f"{float(np.max(times_s)):.3f} s fall outside the rendered clip "
                            f"({frames} frames at {fps:g} Hz): is the truth file this video's?")
    return idx


def swap_landmarks(obs: PoseObservations, joints_w: np.ndarray, T_c_w: np.ndarray,
                   K: np.ndarray, fps: float, joints_px: tuple[str, ...] = (),
                   joints_rel_c: tuple[str, ...] = ()) -> PoseObservations:
    """``obs`` with the named landmarks replaced by the truth in the detected frames.

    Args:
        obs: the inner backend's observations.
        joints_w: ``(T, 33, 3)`` true BODY_33 points, world [m] (NaN: none; kept as observed).
        T_c_w: ``(4, 4)`` world -> camera.
        K: ``(3, 3)`` intrinsics [px].
        fps: the rendered frame rate [Hz].
        joints_px: names whose 2D landmarks become the projected truth.
        joints_rel_c: names whose hip-relative 3D landmarks (camera axes) become the truth's.
    """
    idx = truth_frames(obs.times_s, fps, len(joints_w))
    truth_c = transform(T_c_w, np.asarray(joints_w, float)[idx])  # (S, 33, 3)
    det = np.asarray(obs.detected, bool)
    kp_px, kp_rel = obs.kp_px.copy(), obs.kp_rel_c.copy()
    for j in (BODY_33.index(n) for n in joints_px):
        px = project(truth_c[:, j], K)
        ok = det & np.isfinite(px).all(-1)
        kp_px[ok, j] = px[ok]
    rel = truth_c - truth_c[:, _HIPS].mean(1, keepdims=True)
    for j in (BODY_33.index(n) for n in joints_rel_c):
        ok = det & np.isfinite(rel[:, j]).all(-1)
        kp_rel[ok, j] = rel[ok, j]
    return replace(obs, kp_px=kp_px, kp_rel_c=kp_rel,
                   notes=dict(obs.notes, truth_swapped={"px": list(joints_px),
                                                        "rel_c": list(joints_rel_c)}))


@pose_backends.register(BACKEND_NAME)
class TruthLandmarksBackend(PoseBackend):
    """The inner backend's observations with the configured landmarks taken from the truth."""

    Config = TruthLandmarksConfig

    def __init__(self, config: TruthLandmarksConfig, **context: Any) -> None:
        self.config = config
        if not config.truth_path or not Path(config.truth_path).is_file():
            raise ExoActorError(f"truth-landmarks: no truth file '{config.truth_path}': set "
                                "backend_options.truth_path to a rendered clip's _truth.npz "
                                "(exoactor.perceive.truth.make_truth_clip)")
        self.inner = pose_backends.build(config.inner, config.inner_options, **context)

    def warm_up(self, hands: bool = True) -> None:
        self.inner.warm_up(hands)

    def close(self) -> None:
        self.inner.close()

    def estimate(self, video: VideoSource, *, person: int | None = None, hands: bool = True,
                 frame_sink: Callable[[Frame], None] | None = None) -> PoseObservations:
        from exoactor.perceive.truth.clip import load_truth

        clip = load_truth(self.config.truth_path)
        obs = self.inner.estimate(video, person=person, hands=hands, frame_sink=frame_sink)
        return swap_landmarks(obs, clip.joints_w, clip.T_c_w, clip.K, clip.fps,
                              self.config.joints_px, self.config.joints_rel_c)
