"""A reachable stop after a clip that ends mid-walk (the reference's *run-out*).

A clip cut while the person walks ends with the root moving (the demo: about 1 m/s). Streamed as
it is, the reference stops dead at its last frame; a robot walking at that speed cannot, and
overshoots by a metre or more while the reference holds. A physics filter that judges both where
the clip ended and where the robot stopped then charges the same run twice, in opposite
directions.

:func:`reachable_stop` carries such a reference on past the clip's end to a stop a walker can
reach: the root keeps the clip's final travel direction and decelerates uniformly to rest over
``T = max(P, v / a_max)`` (P: the clip's own gait period, one cycle, two steps; v: the root's
mean speed over that last cycle; ``a_max``: a deceleration bound), so it stops ``v T / 2``
further on; every joint and the pelvis height repeat the clip's last gait cycle with their
swing about the cycle's mean shrinking with the remaining speed (steps get shorter as the walker
slows), and the root keeps the last frame's orientation. A reference that ends at rest (no
periodic leg movement in its last window, or a root slower than ``min_speed_m_s`` over its last
cycle) gets no run-out: it is streamed exactly as before.

The clip itself is never changed: the run-out is sampled only after the clip's end
(:class:`~exoactor.control.reference.ReferenceStreamer`), so every figure taken at the clip's
end is against the original reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.formats.motion import RobotMotion

GAIT_PERIOD_S = (0.6, 1.6)
"""Range of gait periods searched (one cycle: two steps) [s]; also the filter's gait cycle's
(:func:`exoactor.control.filter.decisions.gait_cycle`)."""
GAIT_MIN_CORRELATION = 0.6
"""Smallest normalised autocorrelation of the legs at the period for the legs to count as
walking [-]: the clip's end here, the filter's gait cycle too."""
END_WINDOW_S = 3.0
"""The clip's last seconds searched for its final gait cycle [s]."""
LEG_WORDS = ("hip", "knee", "ankle")
"""Joint-name parts that mark a leg joint."""


@dataclass(frozen=True)
class RunOut:
    """The frames a reference is carried on by after its clip, and why.

    Attributes:
        motion: the run-out at the clip's frame rate; its frame 0 is the clip's last frame.
        speed_m_s: the root's mean speed over the clip's last gait cycle [m/s].
        direction_deg: its direction of travel in world (0: +x, counter-clockwise) [deg].
        period_s: the clip's final gait period [s].
        stop_s: time from the clip's end to the stop [s].
        stop_distance_m: distance from the clip's last root position to the stop [m].
        decel_m_s2: the uniform deceleration [m/s^2].
    """

    motion: RobotMotion
    speed_m_s: float
    direction_deg: float
    period_s: float
    stop_s: float
    stop_distance_m: float
    decel_m_s2: float

    @property
    def duration_s(self) -> float:
        """Clip time the run-out adds [s]."""
        return (self.motion.num_frames - 1) / self.motion.fps

    def summary(self) -> dict:
        """What was appended, for reports (JSON-safe)."""
        return {"appended_s": self.duration_s, "speed_m_s": self.speed_m_s,
                "direction_deg": self.direction_deg, "gait_period_s": self.period_s,
                "stop_s": self.stop_s, "stop_distance_m": self.stop_distance_m,
                "decel_m_s2": self.decel_m_s2}


def leg_joints(joint_names: tuple[str, ...]) -> np.ndarray:
    """Indices of the leg joints (hips, knees, ankles) in ``joint_names``."""
    return np.array([i for i, n in enumerate(joint_names)
                     if any(w in n.lower() for w in LEG_WORDS)], dtype=int)


def final_gait_period(legs: np.ndarray, fps: float) -> int | None:
    """The gait period of the last :data:`END_WINDOW_S` of leg joints ``legs`` ``(T, L)``
    [frames]: the lag in :data:`GAIT_PERIOD_S` with the largest normalised autocorrelation
    about the window's mean, or None when it is below :data:`GAIT_MIN_CORRELATION` (legs at
    rest, or not periodic)."""
    width = min(len(legs), int(round(END_WINDOW_S * fps)))
    x = legs[len(legs) - width:] - legs[len(legs) - width:].mean(axis=0)
    best, period = -np.inf, None
    for p in range(int(round(GAIT_PERIOD_S[0] * fps)), int(round(GAIT_PERIOD_S[1] * fps)) + 1):
        if p >= width // 2:
            break
        den = np.sqrt(np.sum(x[:-p] ** 2) * np.sum(x[p:] ** 2))
        if den <= 1e-12:
            continue
        r = float(np.sum(x[:-p] * x[p:]) / den)
        if r > best:
            best, period = r, p
    return period if best >= GAIT_MIN_CORRELATION else None


def reachable_stop(motion: RobotMotion, decel_m_s2: float, min_speed_m_s: float) -> RunOut | None:
    """The run-out of ``motion`` (see the module), or None when it ends at rest.

    Args:
        motion: the (cleaned) clip.
        decel_m_s2: deceleration bound ``a_max`` [m/s^2] (> 0).
        min_speed_m_s: the root's mean speed over the last gait cycle below which the clip
            ends at rest [m/s].
    """
    fps = float(motion.fps)
    legs = leg_joints(motion.joint_names)
    if not len(legs) or motion.num_frames < 3:
        return None
    period = final_gait_period(motion.dof_pos[:, legs], fps)
    if period is None:
        return None
    n_clip = motion.num_frames
    last = n_clip - 1
    v0 = (motion.root_pos[last, :2] - motion.root_pos[last - period, :2]) * fps / period
    speed = float(np.linalg.norm(v0))
    if speed < min_speed_m_s:
        return None
    u = v0 / speed
    stop_s = max(period / fps, speed / decel_m_s2)
    decel = speed / stop_s
    n = int(np.ceil(stop_s * fps - 1e-9))
    t = np.minimum(np.arange(n + 1) / fps, stop_s)
    travel = speed * t - 0.5 * decel * t * t
    left = 1.0 - t / stop_s  # remaining share of the speed: the swing shrinks with it
    cycle = np.arange(n_clip - period, n_clip)
    src = cycle[(np.arange(n + 1) - 1) % period]
    dof_mean = motion.dof_pos[cycle].mean(axis=0)
    z_mean = float(motion.root_pos[cycle, 2].mean())
    dof = dof_mean + left[:, None] * (motion.dof_pos[src] - dof_mean)
    pos = np.empty((n + 1, 3))
    pos[:, :2] = motion.root_pos[last, :2] + travel[:, None] * u
    pos[:, 2] = z_mean + left * (motion.root_pos[src, 2] - z_mean)
    dof[0], pos[0] = motion.dof_pos[last], motion.root_pos[last]  # continues the clip exactly
    quat = np.repeat(motion.root_quat[last:], n + 1, axis=0)
    hand = None if motion.hand_dof is None else np.repeat(motion.hand_dof[last:], n + 1, axis=0)
    out = motion.replace(root_pos=pos, root_quat=quat, dof_pos=dof, hand_dof=hand,
                         source=f"{motion.source} (run-out)")
    return RunOut(out, speed, float(np.degrees(np.arctan2(u[1], u[0]))), period / fps,
                  float(stop_s), float(travel[-1]), float(decel))
