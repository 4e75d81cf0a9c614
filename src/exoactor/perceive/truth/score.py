"""Scores of a perceived motion against known truth: MPJPE, PA-MPJPE, W2-MPJPE, WA-MPJPE.

Definitions (all means over frames and the scored joints, in mm; :mod:`exoactor.perceive.metrics`):

* **MPJPE**: each frame translated so that the hip centres coincide; no rotation, so errors
  of the world frame's heading count.
* **MPJPE (debiased)**: the same after removing each joint's mean offset over the clip
  (constant differences of joint definition; optimistic).
* **PA-MPJPE**: each frame aligned by a similarity (Procrustes: rotation, scale,
  translation); pose only.
* **W2-MPJPE**: world frame; one rigid alignment of the whole clip fitted on its first two
  frames (WHAM / GVHMR), so drift of the trajectory and scale errors count.
* **WA-MPJPE**: world frame; one rigid alignment fitted on all frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.perceive.metrics import MAIN_JOINTS, mpjpe_mm, pa_mpjpe_mm, per_joint_error_mm, w_mpjpe_mm
from exoactor.skeleton import BODY_33


@dataclass(frozen=True)
class TruthScore:
    """Errors of one perceived motion against its truth [mm].

    Attributes:
        frames: frames compared.
        joints: BODY_33 names scored.
        mpjpe_mm: hip-centred error per frame.
        mpjpe_debiased_mm: the same after removing each joint's mean offset.
        pa_mpjpe_mm: after a per-frame similarity alignment.
        w2_mpjpe_mm: world frame, aligned on the first two frames.
        wa_mpjpe_mm: world frame, aligned on the whole clip.
        per_joint_mpjpe_mm: hip-centred error of each scored joint.
        per_joint_offset_mm: length of each joint's mean hip-centred offset (a difference of
            definition when large and steady).
        root_path_m: length of the true hip-centre path [m] (the scale of the world errors).
    """

    frames: int
    joints: tuple[str, ...]
    mpjpe_mm: float
    mpjpe_debiased_mm: float
    pa_mpjpe_mm: float
    w2_mpjpe_mm: float
    wa_mpjpe_mm: float
    per_joint_mpjpe_mm: dict[str, float]
    per_joint_offset_mm: dict[str, float]
    root_path_m: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_motion(pred_w: np.ndarray, truth_w: np.ndarray, joints: tuple[int, ...] = MAIN_JOINTS,
                 source: str = "<memory>") -> TruthScore:
    """Score ``(T, 33, 3)`` perceived BODY_33 points against ``(T, 33, 3)`` true ones (world
    frames of the same convention, see :mod:`exoactor.perceive.truth.clip`) [m].

    Raises:
        InvalidMotionFile: the frame counts differ, or a scored joint is not finite.
    """
    if pred_w.shape[0] != truth_w.shape[0]:
        raise InvalidMotionFile(source, "joints", f"has {pred_w.shape[0]} frames, the truth "
                                f"{truth_w.shape[0]}; perceive the clip at its own frame rate")
    for name, x in (("joints", pred_w), ("truth joints", truth_w)):
        bad = ~np.isfinite(x[:, joints]).all((1, 2))
        if bad.any():
            raise InvalidMotionFile(source, name, "is not finite on a scored joint",
                                    int(np.flatnonzero(bad)[0]))
    names = tuple(BODY_33[j] for j in joints)
    per = per_joint_error_mm(pred_w, truth_w, joints)
    hips = truth_w[:, [23, 24]].mean(1)
    p = pred_w[:, joints] - pred_w[:, [23, 24]].mean(1, keepdims=True)
    t = truth_w[:, joints] - truth_w[:, [23, 24]].mean(1, keepdims=True)
    offset = 1000 * np.linalg.norm((p - t).mean(0), axis=-1)
    return TruthScore(
        frames=int(pred_w.shape[0]), joints=names, mpjpe_mm=mpjpe_mm(pred_w, truth_w, joints),
        mpjpe_debiased_mm=float(per_joint_error_mm(pred_w, truth_w, joints, debias=True).mean()),
        pa_mpjpe_mm=pa_mpjpe_mm(pred_w, truth_w, joints),
        w2_mpjpe_mm=w_mpjpe_mm(pred_w, truth_w, 2, joints),
        wa_mpjpe_mm=w_mpjpe_mm(pred_w, truth_w, None, joints),
        per_joint_mpjpe_mm={n: round(float(e), 1) for n, e in zip(names, per, strict=True)},
        per_joint_offset_mm={n: round(float(e), 1) for n, e in zip(names, offset, strict=True)},
        root_path_m=float(np.linalg.norm(np.diff(hips, axis=0), axis=-1).sum()))
