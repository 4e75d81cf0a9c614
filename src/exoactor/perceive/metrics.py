"""Perception metrics: pure functions on arrays, and the summary written to
``perceive_metrics.json``.

Conventions: world frame z up [m]; pixel errors against the backend's own 2D detections
(there is no ground truth in a plain video); contact metrics over frames where a foot is in
contact (consecutive pairs for skate).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from exoactor.metrics import foot_skate_mm as motion_foot_skate_mm
from exoactor.perceive.camera import project
from exoactor.perceive.contacts import foot_points
from exoactor.perceive.filtering import bone_index_pairs, bone_lengths


def reprojection_errors_px(joints_c: np.ndarray, K: np.ndarray, kp_px: np.ndarray,
                           mask: np.ndarray) -> np.ndarray:
    """Distances [px] between projected ``(T, J, 3)`` camera-frame landmarks and ``(T, J, 2)``
    detections, flattened over the ``(T, J)`` bool ``mask``."""
    err = np.linalg.norm(project(joints_c, K) - kp_px, axis=-1)
    return err[mask & np.isfinite(err)]


def bone_length_variation_pct(joints: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(B,)`` coefficient of variation [%] of each :data:`~exoactor.skeleton.BODY_BONES`
    length over the ``valid`` frames of ``(T, 33, 3)`` landmarks."""
    lengths = bone_lengths(joints[valid], bone_index_pairs(extra=False))
    if len(lengths) < 2:
        return np.zeros(lengths.shape[1])
    return 100.0 * lengths.std(0) / np.maximum(lengths.mean(0), 1e-9)


def foot_skate_mm(joints_w: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Horizontal travel [mm] of each foot's centre (mid heel-toe) between consecutive frames
    that are both in contact, flattened over both feet."""
    return motion_foot_skate_mm(foot_points(joints_w).mean(2), contact)


def contact_height_mm(joints_w: np.ndarray, contact: np.ndarray,
                      support_w: np.ndarray) -> np.ndarray:
    """Signed height [mm] of each contact foot's lowest point above its support (negative:
    penetration), flattened over contact frames of both feet."""
    sole = foot_points(joints_w)[..., 2].min(-1)
    return 1000.0 * (sole - support_w)[contact]


def _stats(x: np.ndarray, fn: str) -> float | None:
    if x.size == 0:
        return None
    return float(getattr(np, fn)(x)) if fn != "p95" else float(np.percentile(x, 95))


@dataclass(frozen=True)
class PerceiveMetrics:
    """Summary of one perceived clip (``perceive_metrics.json``). SI units unless the name
    says ``_mm``, ``_px``, ``_ms`` or ``_pct``.

    Attributes:
        video: the input video.
        frames: output frames (constant rate).
        fps: output frame rate [Hz].
        duration_s: clip length [s].
        variable_frame_rate: the source had a variable frame rate (resampled).
        detection_rate: fraction of frames where the actor was detected.
        interpolated_frames: undetected frames inside the clip (interpolated).
        held_frames: undetected frames at the start or end (nearest pose held).
        longest_gap_s: longest run of undetected frames [s].
        identity: actor selection and gate counts of the tracker.
        left_right_repairs: frames whose left/right labels were mirrored.
        reprojection_error_px_median: median over detected frames and visible landmarks of
            the distance between the final skeleton's projection and the detections [px].
        reprojection_error_px_p90: its 90th percentile [px].
        bone_length_variation_pct_mean: mean over body bones of the length's coefficient of
            variation over detected frames [%].
        bone_length_variation_pct_max: the largest one [%].
        stature_m: the stature the skeleton is scaled to [m] (the known one, or the adult
            prior combined with the bones').
        camera: intrinsics, estimated pitch and roll, background motion, static verdict.
        support_levels_m: heights the actor stood on above the ground [m] (0 = ground).
        contact_fraction: fraction of frames with the left / right foot in contact.
        foot_skate_mm_per_frame: mean horizontal travel of a contact foot per frame [mm].
        foot_skate_before_lock_mm_per_frame: the same before foot locking [mm].
        foot_lock_shift_mm: mean distance foot locking moved a contact ankle [mm].
        contact_height_error_mm_mean_abs: mean |sole height - support| at contacts [mm].
        contact_height_error_mm_p95: its 95th percentile [mm].
        penetration_max_mm: deepest contact sole below its support [mm] (>= 0).
        float_max_mm: highest contact sole above its support [mm] (>= 0).
        hands: per-hand detection rate and the backend's handedness-label agreement.
        ms_per_frame: compute per output frame by step [ms].
        seconds_per_video_second: compute per second of video, by step group.
        config: the resolved stage configuration.
        artefacts: clip artefacts found and handled (start cut, repeated frames, resampling,
            camera rotation; :mod:`exoactor.perceive.artefacts`), None when the scan is off.
        stature_measured_m: the stature the pose model's bone lengths alone imply [m]
            (MediaPipe's are close to one template: 1.63-1.65 m for rendered bodies of
            1.21-1.99 m, so the prior decides ``stature_m``).
        leg_depth: the leg-depth choice (:mod:`exoactor.perceive.leg_depth`): frames with a
            flipped bone, flips per bone, and the centre of mass's largest distance ahead of
            the feet in stance frames before and after [m].
        flat_feet: the planted feet levelled (:mod:`exoactor.perceive.flat_feet`): frames
            per foot (left, right), and the median and largest sole pitch they had [deg].
    """

    video: str
    frames: int
    fps: float
    duration_s: float
    variable_frame_rate: bool
    detection_rate: float
    interpolated_frames: int
    held_frames: int
    longest_gap_s: float
    identity: dict[str, Any]
    left_right_repairs: int
    reprojection_error_px_median: float | None
    reprojection_error_px_p90: float | None
    bone_length_variation_pct_mean: float
    bone_length_variation_pct_max: float
    stature_m: float
    camera: dict[str, Any]
    support_levels_m: list[float]
    contact_fraction: list[float]
    foot_skate_mm_per_frame: float | None
    foot_skate_before_lock_mm_per_frame: float | None
    foot_lock_shift_mm: float | None
    contact_height_error_mm_mean_abs: float | None
    contact_height_error_mm_p95: float | None
    penetration_max_mm: float | None
    float_max_mm: float | None
    hands: dict[str, Any] | None
    ms_per_frame: dict[str, float]
    seconds_per_video_second: dict[str, float]
    config: dict[str, Any] = field(default_factory=dict)
    artefacts: dict[str, Any] | None = None
    stature_measured_m: float | None = None
    leg_depth: dict[str, Any] | None = None
    flat_feet: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MAIN_JOINTS: tuple[int, ...] = (11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
"""Shoulders, elbows, wrists, hips, knees and ankles of BODY_33: the joints scored against
ground truth (the ones every body model shares)."""


def _rigid(src: np.ndarray, dst: np.ndarray, scale: bool = False
           ) -> tuple[np.ndarray, float, np.ndarray]:
    """Rotation, scale and translation best mapping ``(N, 3)`` ``src`` onto ``dst``
    (Umeyama / Procrustes)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    U, S, Vt = np.linalg.svd(b.T @ a)
    D = np.eye(3)
    D[2, 2] = np.sign(np.linalg.det(U @ Vt))
    R = U @ D @ Vt
    s = float((S * np.diag(D)).sum() / (a ** 2).sum()) if scale else 1.0
    return R, s, mu_d - s * R @ mu_s


def mpjpe_mm(pred: np.ndarray, truth: np.ndarray, joints: tuple[int, ...] = MAIN_JOINTS,
             root: tuple[int, int] = (23, 24)) -> float:
    """Mean per-joint error [mm] after aligning each frame's hip centres."""
    p = pred[:, joints] - pred[:, list(root)].mean(1, keepdims=True)
    t = truth[:, joints] - truth[:, list(root)].mean(1, keepdims=True)
    return float(1000 * np.linalg.norm(p - t, axis=-1).mean())


def pa_mpjpe_mm(pred: np.ndarray, truth: np.ndarray,
                joints: tuple[int, ...] = MAIN_JOINTS) -> float:
    """Mean per-joint error [mm] after a per-frame similarity (Procrustes) alignment."""
    errs = []
    for p, t in zip(pred[:, joints], truth[:, joints], strict=True):
        R, s, x = _rigid(p, t, scale=True)
        errs.append(np.linalg.norm(s * p @ R.T + x - t, axis=-1).mean())
    return float(1000 * np.mean(errs))


def w_mpjpe_mm(pred: np.ndarray, truth: np.ndarray, align_frames: int | None = 2,
               joints: tuple[int, ...] = MAIN_JOINTS) -> float:
    """World-frame mean per-joint error [mm] after one rigid alignment of the whole clip,
    fitted on its first ``align_frames`` frames (W2-MPJPE of WHAM/GVHMR) or on all frames
    (None: WA-MPJPE)."""
    n = len(pred) if align_frames is None else align_frames
    R, _, x = _rigid(pred[:n, joints].reshape(-1, 3), truth[:n, joints].reshape(-1, 3))
    aligned = pred[:, joints] @ R.T + x
    return float(1000 * np.linalg.norm(aligned - truth[:, joints], axis=-1).mean())


def per_joint_error_mm(pred: np.ndarray, truth: np.ndarray, joints: tuple[int, ...] = MAIN_JOINTS,
                       root: tuple[int, int] = (23, 24), debias: bool = False) -> np.ndarray:
    """``(len(joints),)`` mean over frames of each joint's error [mm] after aligning each
    frame's hip centres (the terms of :func:`mpjpe_mm`).

    With ``debias``, each joint's mean hip-relative offset over the clip is removed first: what
    remains is the error beyond a constant difference of joint definition (MediaPipe's hip
    landmarks against anatomical hip joint centres, say), an optimistic bound.
    """
    p = pred[:, joints] - pred[:, list(root)].mean(1, keepdims=True)
    t = truth[:, joints] - truth[:, list(root)].mean(1, keepdims=True)
    d = p - t
    if debias:
        d = d - d.mean(0)
    return 1000 * np.linalg.norm(d, axis=-1).mean(0)
