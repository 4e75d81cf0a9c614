"""Retargeting quality metrics: pure functions on arrays, and the ``retarget_metrics.json`` record.

Conventions: world z-up with the ground at z = 0; a foot's height is its lowest sole point (the
MJCF's sole spheres); skate is measured on the foot body origin.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


def joint_limit_violations(dof_pos: np.ndarray, limits: np.ndarray, tol_rad: float = 1e-6) -> int:
    """Number of (frame, joint) entries of ``(T, n)`` angles [rad] outside ``(n, 2)`` limits."""
    q = np.asarray(dof_pos)
    return int(((q < limits[:, 0] - tol_rad) | (q > limits[:, 1] + tol_rad)).sum())


def foot_penetration_mm(sole_height_m: np.ndarray) -> float:
    """Deepest point of any sole under the ground [mm] over ``(T, 2)`` heights [m] (0 if none)."""
    h = np.asarray(sole_height_m)
    return float(1000.0 * max(0.0, -h.min())) if h.size else 0.0


def foot_float_mm(sole_height_m: np.ndarray, contact: np.ndarray) -> float:
    """Highest sole of a foot marked in contact above the ground [mm] (0 if no contact)."""
    h = np.asarray(sole_height_m)[np.asarray(contact, dtype=bool)]
    return float(1000.0 * max(0.0, h.max())) if h.size else 0.0


def self_collision_frames(clearance_m: np.ndarray, tol_m: float = 1e-3) -> int:
    """Frames whose arm clearance ``(T,)`` [m] (to the torso, pelvis, legs or the other arm) is
    below ``-tol_m``."""
    return int((np.asarray(clearance_m) < -tol_m).sum())


def position_errors_mm(pos_w: np.ndarray, ref_pos_w: np.ndarray,
                       mask: np.ndarray | None = None) -> np.ndarray:
    """Euclidean errors [mm] of ``(T, K, 3)`` positions against a reference, flattened.

    Args:
        pos_w, ref_pos_w: ``(T, K, 3)`` positions [m].
        mask: optional ``(T, K)`` bool of the entries to keep.
    """
    err = 1000.0 * np.linalg.norm(np.asarray(pos_w) - np.asarray(ref_pos_w), axis=-1)
    return err[mask] if mask is not None else err.ravel()


def median_p95(values: np.ndarray) -> dict[str, float]:
    """``{"median": ..., "p95": ..., "max": ...}`` of values (NaN when empty)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return {"median": float("nan"), "p95": float("nan"), "max": float("nan")}
    return {"median": float(np.median(v)), "p95": float(np.percentile(v, 95)),
            "max": float(v.max())}


@dataclass(frozen=True)
class RetargetMetrics:
    """``retarget_metrics.json``: quality and speed of one retargeted motion.

    Attributes:
        joint_limit_violations: (frame, joint) entries outside the MJCF limits.
        foot_skate_mm: mean horizontal foot travel per contact frame [mm].
        foot_skate_max_mm: largest single-frame travel while in contact [mm].
        foot_penetration_mm: deepest sole under the ground, any frame [mm].
        foot_float_mm: highest sole of a foot marked in contact [mm].
        self_collisions: frames where an arm penetrates the torso, pelvis, legs or the other arm
            by > 1 mm.
        keypoint_error_mm: median / p95 / max distance between the scaled human keypoints (main
            ones: correspondence weight >= 0.5) and the robot's corresponding points [mm].
        frames_per_second: output frames per second of wall time for the whole retarget call.
        ik_frames_per_second: output frames per second of the IK loop alone.
        num_frames: output frames.
        fps: output frame rate [Hz].
        contact_frames: frames with at least one foot in contact.
        fallback_frames: frames where the full QP was infeasible (joint + ground limits used).
        extras: segment scales, repair and grounding notes.
    """

    joint_limit_violations: int
    foot_skate_mm: float
    foot_skate_max_mm: float
    foot_penetration_mm: float
    foot_float_mm: float
    self_collisions: int
    keypoint_error_mm: dict[str, float]
    frames_per_second: float
    ik_frames_per_second: float
    num_frames: int
    fps: float
    contact_frames: int
    fallback_frames: int
    extras: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)
