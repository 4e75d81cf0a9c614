"""Explicit resampling of motions to another frame rate (linear joints, slerp rotations)."""

from __future__ import annotations

import numpy as np

from exoactor.formats.motion import RobotMotion
from exoactor.rotations import continuous, slerp


def sample_times(duration_s: float, fps: float) -> np.ndarray:
    """Sample times ``[0, duration]`` at ``fps``; the last sample is kept within 1e-9 s."""
    n = int(np.floor(duration_s * fps + 1e-6)) + 1
    return np.arange(n) / fps


def interp_linear(times_s: np.ndarray, values: np.ndarray, query_s: np.ndarray) -> np.ndarray:
    """Per-column linear interpolation of ``(T, ...)`` values; queries clamp to the ends."""
    flat = values.reshape(len(values), -1)
    out = np.empty((len(query_s), flat.shape[1]))
    for j in range(flat.shape[1]):
        out[:, j] = np.interp(query_s, times_s, flat[:, j])
    return out.reshape(len(query_s), *values.shape[1:])


def resample_robot_motion(motion: RobotMotion, fps: float) -> RobotMotion:
    """``motion`` resampled to ``fps`` [Hz] over the same duration.

    Root position, joints and hand joints are interpolated linearly; the root orientation by
    slerp. Resampling to the same rate returns the motion unchanged.
    """
    if abs(fps - motion.fps) < 1e-12:
        return motion
    t_in = motion.times_s
    t_out = sample_times(motion.duration_s, fps)
    quat = continuous(motion.root_quat)
    return motion.replace(
        fps=fps,
        root_pos=interp_linear(t_in, motion.root_pos, t_out),
        root_quat=slerp(t_in, quat, t_out),
        dof_pos=interp_linear(t_in, motion.dof_pos, t_out),
        hand_dof=None if motion.hand_dof is None else interp_linear(t_in, motion.hand_dof, t_out),
    )
