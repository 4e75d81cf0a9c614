"""The pose-backend interface and what a backend hands to the rest of the stage.

A backend turns a video into per-frame observations of **one** person (the actor): 33 body
landmarks (:data:`exoactor.skeleton.BODY_33`) in the image and as metric 3D coordinates relative
to the hip centre, and optionally 21 keypoints per hand. Everything after it (clean-up, world
grounding, contacts, hands in world, metrics) is backend-independent.

Frames: ``_px`` image pixels (x right, y down, origin at the top-left corner of the frame);
``_c`` axes of the camera (x right, y down, z forward, OpenCV convention) with the origin at the
hip centre for the body (``kp_rel_c``) and at the wrist for a hand (``hand_rel_c``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from exoactor.perceive.video import Frame, VideoSource
from exoactor.registry import Registry

NUM_BODY = 33
"""Body landmarks per frame (:data:`exoactor.skeleton.BODY_33`)."""
NUM_HAND = 21
"""Keypoints per hand (:data:`exoactor.skeleton.HAND_21`)."""


@dataclass(frozen=True, eq=False)
class PoseObservations:
    """Per-source-frame observations of the actor.

    Attributes:
        times_s: ``(S,)`` presentation time of each source frame [s].
        image_size_px: ``(width, height)`` of the frames [px].
        detected: ``(S,)`` bool, the actor was found in the frame.
        kp_px: ``(S, 33, 2)`` body landmarks in the image [px]; NaN where not detected.
        kp_vis: ``(S, 33)`` landmark visibility in [0, 1]; 0 where not detected.
        kp_rel_c: ``(S, 33, 3)`` metric body landmarks relative to the hip centre, camera
            axes [m]; NaN where not detected.
        hand_px: optional ``(S, 2, 21, 2)`` hand keypoints in the image [px] (left, right, by
            the body's wrists); NaN where not found.
        hand_rel_c: optional ``(S, 2, 21, 3)`` metric hand keypoints relative to the hand's
            wrist, camera axes [m]; NaN where not found.
        hand_score: optional ``(S, 2)`` hand confidence in [0, 1]; 0 where not found.
        step_s: seconds spent per step (``"decode"``, ``"body"``, ``"hands"``, ...).
        notes: backend facts for the metrics file (JSON-serialisable).
    """

    times_s: np.ndarray
    image_size_px: tuple[int, int]
    detected: np.ndarray
    kp_px: np.ndarray
    kp_vis: np.ndarray
    kp_rel_c: np.ndarray
    hand_px: np.ndarray | None = None
    hand_rel_c: np.ndarray | None = None
    hand_score: np.ndarray | None = None
    step_s: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def has_hands(self) -> bool:
        return self.hand_rel_c is not None

    def take(self, index: np.ndarray) -> PoseObservations:
        """Frames ``index`` (e.g. a constant-rate view's source indices) as new observations."""
        idx = np.asarray(index, dtype=int)

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx]

        return replace(self, times_s=self.times_s[idx], detected=self.detected[idx],
                       kp_px=self.kp_px[idx], kp_vis=self.kp_vis[idx],
                       kp_rel_c=self.kp_rel_c[idx], hand_px=pick(self.hand_px),
                       hand_rel_c=pick(self.hand_rel_c), hand_score=pick(self.hand_score))


def empty_observations(num_frames: int, image_size_px: tuple[int, int],
                       hands: bool) -> dict[str, np.ndarray]:
    """NaN/zero-filled arrays of the :class:`PoseObservations` fields for ``num_frames``."""
    s = num_frames
    out = {
        "detected": np.zeros(s, dtype=bool),
        "kp_px": np.full((s, NUM_BODY, 2), np.nan),
        "kp_vis": np.zeros((s, NUM_BODY)),
        "kp_rel_c": np.full((s, NUM_BODY, 3), np.nan),
    }
    if hands:
        out |= {"hand_px": np.full((s, 2, NUM_HAND, 2), np.nan),
                "hand_rel_c": np.full((s, 2, NUM_HAND, 3), np.nan),
                "hand_score": np.zeros((s, 2))}
    return out


class PoseBackend(abc.ABC):
    """Estimates the actor's body (and hands) in every frame of a video."""

    @abc.abstractmethod
    def estimate(self, video: VideoSource, *, person: int | None = None, hands: bool = True,
                 frame_sink: Callable[[Frame], None] | None = None) -> PoseObservations:
        """Observe the actor in every source frame of ``video``.

        Args:
            video: the opened video.
            person: which of the people visible when the clip starts is the actor, counted
                from the largest (0); None picks the largest.
            hands: also estimate 21 keypoints per hand.
            frame_sink: called with every decoded frame, so that other checks (the static
                camera test) need not decode the video again.

        Raises:
            NoPersonFound: nobody (or fewer than ``person + 1`` people) is visible.
        """

    def warm_up(self, hands: bool = True) -> None:  # noqa: B027 - optional hook
        """Prepare what :meth:`estimate` (with ``hands``) needs ahead of it: import the heavy
        dependencies, load the models. The stage calls it on a thread while it decodes the
        clip for its artefact scan; it must not raise (a missing dependency is reported by
        :meth:`estimate`), and it must not change what :meth:`estimate` returns."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Release what :meth:`warm_up` prepared and :meth:`estimate` did not use (the stage
        calls it when it stops before estimating)."""


pose_backends: Registry[type[PoseBackend]] = Registry(
    kind="pose backend", package="exoactor.perceive.backends", variable="pose_backends")
"""Pose backends by name, one module each in :mod:`exoactor.perceive.backends`;
``pose_backends.build(cfg.backend, cfg.backend_options, stage=cfg)`` builds one."""
