"""A tracking run's record into its artefacts: the :class:`~exoactor.formats.Rollout` and the
:class:`~exoactor.metrics.TrackingMetrics`.

The record is :attr:`exoactor.control.loop.TrackingLoop.rec` (one list entry per control step:
``t``, ``qpos``, ``qvel``, ``torque``, ``target``, ``ref_dof``, ``ref_pos``, ``ref_quat``,
``clip_t``, ``body``, ``ref_body``). ``track`` and the physics filter both summarise their runs
here, so that their metrics mean the same thing.
"""

from __future__ import annotations

import numpy as np

from exoactor.control.reference import GlitchReport
from exoactor.control.sim import Simulation
from exoactor.formats.motion import Rollout
from exoactor.metrics import TrackingMetrics, root_xy_error_m, tracking_metrics


def rollout_from_record(rec: dict[str, list], robot: str, fps: float, source: str) -> Rollout:
    """The record as a :class:`Rollout` of ``robot`` at the control rate ``fps`` [Hz]."""
    return Rollout(robot=robot, fps=fps, time_s=np.array(rec["t"]), qpos=np.array(rec["qpos"]),
                   qvel=np.array(rec["qvel"]), torque=np.array(rec["torque"]),
                   target=np.array(rec["target"]), ref_dof_pos=np.array(rec["ref_dof"]),
                   ref_root_pos=np.array(rec["ref_pos"]), ref_root_quat=np.array(rec["ref_quat"]),
                   ref_time_s=np.array(rec["clip_t"]), source=source)


def clip_steps(clip_t: np.ndarray, duration_s: float, fall_time_s: float | None) -> np.ndarray:
    """Indices of the record's steps inside the clip (``0 <= clip_t <= duration_s`` [s]) and
    before a fall (``fall_time_s`` [s], None: no fall): the steps the metrics measure."""
    clip_t = np.asarray(clip_t, dtype=float)
    in_clip = (clip_t >= -1e-9) & (clip_t <= duration_s + 1e-9)
    if fall_time_s is not None:
        in_clip &= clip_t <= fall_time_s + 1e-9
    return np.flatnonzero(in_clip)


def metrics_from_record(rec: dict[str, list], sim: Simulation, duration_s: float, end_s: float,
                        fall_time_s: float | None, glitches: GlitchReport,
                        real_time_factor: float, success_body_error_m: float,
                        extras: dict[str, float]) -> TrackingMetrics:
    """Metrics of the record's steps inside the clip (``0 <= clip_t <= duration_s`` [s], and
    before a fall), plus the settled xy error at the last step when the run reached ``end_s``
    (the end of the hold and return after the clip) [s] without falling."""
    clip_t = np.array(rec["clip_t"])
    settled = float("nan")
    if fall_time_s is None and len(clip_t) and clip_t[-1] >= end_s - 1e-9:
        settled = float(root_xy_error_m(rec["qpos"][-1][:3], rec["ref_pos"][-1]))
    sel = clip_steps(clip_t, duration_s, fall_time_s)
    qpos = np.array(rec["qpos"])[sel]
    qvel = np.array(rec["qvel"])[sel]
    return tracking_metrics(
        joint_pos=qpos[:, sim.body_qpos], ref_joint_pos=np.array(rec["ref_dof"])[sel],
        joint_vel=qvel[:, sim.body_dof], root_pos_w=qpos[:, 0:3], root_quat_w=qpos[:, 3:7],
        ref_root_pos_w=np.array(rec["ref_pos"])[sel], ref_root_quat_w=np.array(rec["ref_quat"])[sel],
        body_pos_w=np.array(rec["body"])[sel], ref_body_pos_w=np.array(rec["ref_body"])[sel],
        fell=fall_time_s is not None, fall_time_s=fall_time_s, real_time_factor=real_time_factor,
        clip_duration_s=duration_s,
        evaluated_s=float(clip_t[sel[-1]] - max(clip_t[sel[0]], 0.0)) if len(sel) else 0.0,
        success_body_error_m=success_body_error_m,
        dropped_frames=glitches.dropped_frames, dropped_reasons=glitches.reasons, extras=extras,
        root_xy_error_settled_m=settled)
