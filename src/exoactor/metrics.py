"""Tracking metrics: pure functions on arrays (no I/O), shared by the tracker, tests and reports.

All series are time-major and sampled at the control rate. Errors are measured against the
clean reference (before any test noise or drift correction) at the same clip time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from exoactor.rotations import quat_apply_inverse, wrap_angle, yaw


def foot_skate_mm(foot_pos_w: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """Horizontal foot travel [mm] over each frame a foot is in contact at both ends (of
    a human's or a robot's feet).

    Args:
        foot_pos_w: ``(T, 2, 3)`` foot positions in world [m].
        contact: ``(T, 2)`` bool.

    Returns:
        ``(N,)`` travel per contact frame [mm] (N = frame pairs in contact, both feet).
    """
    pos = np.asarray(foot_pos_w)
    c = np.asarray(contact, dtype=bool)
    if len(pos) < 2:
        return np.zeros(0)
    step = np.linalg.norm(np.diff(pos[..., :2], axis=0), axis=-1)
    both = c[1:] & c[:-1]
    return 1000.0 * step[both]


def joint_error_rad(joint_pos: np.ndarray, ref_joint_pos: np.ndarray) -> np.ndarray:
    """``(T,)`` mean over joints of ``|q - q_ref|`` [rad] from ``(T, n)`` angles [rad]."""
    return np.abs(np.asarray(joint_pos) - np.asarray(ref_joint_pos)).mean(axis=-1)


def body_pos_b(body_pos_w: np.ndarray, root_pos_w: np.ndarray,
               root_quat_w: np.ndarray) -> np.ndarray:
    """Body positions relative to the pelvis, in the pelvis frame.

    Args:
        body_pos_w: ``(T, B, 3)`` body positions in world [m].
        root_pos_w: ``(T, 3)`` pelvis positions in world [m].
        root_quat_w: ``(T, 4)`` pelvis orientations in world, wxyz.

    Returns:
        ``(T, B, 3)`` [m].
    """
    rel = np.asarray(body_pos_w) - np.asarray(root_pos_w)[:, None, :]
    out = np.empty_like(rel)
    for t in range(rel.shape[0]):
        out[t] = quat_apply_inverse(root_quat_w[t], rel[t])
    return out


def body_error_mm(body_pos: np.ndarray, ref_body_pos: np.ndarray) -> np.ndarray:
    """``(T,)`` mean over bodies of the Euclidean position error [mm] of ``(T, B, 3)`` [m]."""
    return 1000.0 * np.linalg.norm(np.asarray(body_pos) - np.asarray(ref_body_pos),
                                   axis=-1).mean(axis=-1)


def root_xy_error_m(root_pos_w: np.ndarray, ref_root_pos_w: np.ndarray) -> np.ndarray:
    """``(T,)`` horizontal distance between pelvis and reference pelvis [m]."""
    d = np.asarray(root_pos_w)[..., :2] - np.asarray(ref_root_pos_w)[..., :2]
    return np.linalg.norm(d, axis=-1)


def yaw_error_deg(root_quat_w: np.ndarray, ref_root_quat_w: np.ndarray) -> np.ndarray:
    """``(T,)`` absolute heading difference [deg] of ``(T, 4)`` wxyz orientations, in [0, 180]."""
    return np.degrees(np.abs(wrap_angle(yaw(root_quat_w) - yaw(ref_root_quat_w))))


def real_time_factor(sim_time_s: float, wall_time_s: float) -> float:
    """Simulated seconds per wall-clock second."""
    return float(sim_time_s / wall_time_s) if wall_time_s > 0 else float("inf")


@dataclass(frozen=True)
class TrackingMetrics:
    """Summary of one tracked motion (``metrics.json``). SI units unless the name says ``_mm``.

    Attributes:
        fell: the fall criterion fired (robot judged against the reference).
        fall_time_s: clip time of the fall [s], or None.
        success: no fall and the global key-body position error stayed under the threshold
            for the whole clip.
        mean_joint_error_rad: mean over clip steps and joints of ``|q - q_ref|`` [rad].
        max_joint_error_rad: max over clip steps of the per-step joint mean [rad].
        max_single_joint_error_rad: max over clip steps and joints [rad].
        key_body_error_mm: mean over clip steps and key bodies of the position error in the
            pelvis frame [mm].
        global_body_error_max_m: max over clip steps of the mean world-frame key-body error [m].
        root_xy_error_end_m: pelvis xy error at the end of the clip [m].
        root_xy_error_mean_m: its mean over the clip [m].
        yaw_error_end_deg: heading error at the end of the clip [deg].
        yaw_error_mean_deg: its mean over the clip [deg].
        mean_abs_joint_vel_rad_s: mean over clip steps and joints of ``|dq|`` [rad/s].
        real_time_factor: simulated seconds per wall second of the whole loop.
        clip_duration_s: duration of the tracked clip (after dropping glitched frames) [s].
        evaluated_s: clip time covered by the metrics (shorter after a fall) [s].
        dropped_frames: glitched leading frames the streamer dropped.
        dropped_reasons: why each was dropped.
        extras: further named figures (drift-correction internals, safety counters).
        root_xy_error_settled_m: pelvis xy error at the end of the run, after the reference
            has held its end position for the streamer's hold and return time (1.5 s by
            default), NaN after a fall or a run cut short [m]. Where the robot *ends up*;
            ``root_xy_error_end_m`` stays the clip-end figure.
    """

    fell: bool
    fall_time_s: float | None
    success: bool
    mean_joint_error_rad: float
    max_joint_error_rad: float
    max_single_joint_error_rad: float
    key_body_error_mm: float
    global_body_error_max_m: float
    root_xy_error_end_m: float
    root_xy_error_mean_m: float
    yaw_error_end_deg: float
    yaw_error_mean_deg: float
    mean_abs_joint_vel_rad_s: float
    real_time_factor: float
    clip_duration_s: float
    evaluated_s: float
    dropped_frames: int = 0
    dropped_reasons: tuple[str, ...] = ()
    extras: dict[str, float] = field(default_factory=dict)
    root_xy_error_settled_m: float = float("nan")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["dropped_reasons"] = list(self.dropped_reasons)
        return out


def tracking_metrics(*, joint_pos: np.ndarray, ref_joint_pos: np.ndarray, joint_vel: np.ndarray,
                     root_pos_w: np.ndarray, root_quat_w: np.ndarray, ref_root_pos_w: np.ndarray,
                     ref_root_quat_w: np.ndarray, body_pos_w: np.ndarray,
                     ref_body_pos_w: np.ndarray, fell: bool, fall_time_s: float | None,
                     real_time_factor: float, clip_duration_s: float, evaluated_s: float,
                     success_body_error_m: float = 0.5, dropped_frames: int = 0,
                     dropped_reasons: tuple[str, ...] = (),
                     extras: dict[str, float] | None = None,
                     root_xy_error_settled_m: float = float("nan")) -> TrackingMetrics:
    """Summarise the clip steps of a run into :class:`TrackingMetrics`.

    Args:
        joint_pos, ref_joint_pos, joint_vel: ``(T, n)`` robot / reference angles [rad] and
            robot joint velocities [rad/s].
        root_pos_w, ref_root_pos_w: ``(T, 3)`` pelvis positions in world [m].
        root_quat_w, ref_root_quat_w: ``(T, 4)`` pelvis orientations, wxyz.
        body_pos_w, ref_body_pos_w: ``(T, B, 3)`` key-body positions in world [m].
        success_body_error_m: largest mean global key-body error a success allows [m].
        root_xy_error_settled_m: the settled xy error, measured by the caller after the clip
            (see :class:`TrackingMetrics`) [m].
        (the rest as in :class:`TrackingMetrics`.)
    """
    if len(joint_pos) == 0:
        nan = float("nan")
        return TrackingMetrics(fell, fall_time_s, False, nan, nan, nan, nan, nan, nan, nan, nan,
                               nan, nan, real_time_factor, clip_duration_s, 0.0, dropped_frames,
                               tuple(dropped_reasons), dict(extras or {}),
                               float(root_xy_error_settled_m))
    jerr = joint_error_rad(joint_pos, ref_joint_pos)
    b_robot = body_pos_b(body_pos_w, root_pos_w, root_quat_w)
    b_ref = body_pos_b(ref_body_pos_w, ref_root_pos_w, ref_root_quat_w)
    kb = body_error_mm(b_robot, b_ref)
    glob = body_error_mm(body_pos_w, ref_body_pos_w) / 1000.0
    xy = root_xy_error_m(root_pos_w, ref_root_pos_w)
    yw = yaw_error_deg(root_quat_w, ref_root_quat_w)
    success = (not fell) and float(glob.max()) <= success_body_error_m
    return TrackingMetrics(
        fell=bool(fell), fall_time_s=fall_time_s, success=bool(success),
        mean_joint_error_rad=float(jerr.mean()), max_joint_error_rad=float(jerr.max()),
        max_single_joint_error_rad=float(np.abs(joint_pos - ref_joint_pos).max()),
        key_body_error_mm=float(kb.mean()), global_body_error_max_m=float(glob.max()),
        root_xy_error_end_m=float(xy[-1]), root_xy_error_mean_m=float(xy.mean()),
        yaw_error_end_deg=float(yw[-1]), yaw_error_mean_deg=float(yw.mean()),
        mean_abs_joint_vel_rad_s=float(np.abs(joint_vel).mean()),
        real_time_factor=float(real_time_factor), clip_duration_s=float(clip_duration_s),
        evaluated_s=float(evaluated_s), dropped_frames=int(dropped_frames),
        dropped_reasons=tuple(dropped_reasons), extras=dict(extras or {}),
        root_xy_error_settled_m=float(root_xy_error_settled_m))
