"""The physics filter's one objective, vectorised over candidate plans.

Lexicographic in spirit, weighted in practice (weights in
:class:`~exoactor.control.filter.config.ObjectiveWeights`):

1. a fall within the horizon excludes a plan (infinite cost; :class:`.plant.Plant` decides);
2. world-frame key-body error: pelvis xy and heading against the reference along the clip, and
   the feet and hands in world;
3. joint error against the *unmodified* reference (so easing or re-shaping the motion costs);
4. smoothness of the decisions;
plus a torso-tilt excess term (a margin before the fall rule), a pelvis-speed term after the
clip (come to rest), a *clip-end* term (the pelvis pose at the step where the reference clock
reaches the clip's end, ``|dxy|^2 + 4 dyaw^2``, counted once with weight ``clip_end``: where
the robot is when the clip ends is the figure the motion is judged by) and a terminal
*stopping-point* term: at the horizon's end a robot still moving is charged for where it will
stop, ``|dxy + tau (v - v_ref)|^2 + 4 dyaw^2``.

Costs are integrated over time (per second), so horizons of different length compare.
"""

from __future__ import annotations

import numpy as np

from exoactor.rotations import wrap_angle, yaw

TILT_FREE_RAD = np.radians(15.0)
"""Torso tilt beyond the reference's that costs nothing [rad]."""


def step_cost(qpos: np.ndarray, qvel: np.ndarray, body_pos_w: np.ndarray, tilt_rad: np.ndarray,
              decisions: np.ndarray, previous_decisions: np.ndarray, table, k: int,
              joint_qpos: np.ndarray, weights, bodies: tuple[int, ...]) -> np.ndarray:
    """``(K,)`` running cost rate at reference row ``k`` [1/s].

    Args:
        qpos, qvel: ``(K, nq)``, ``(K, nv)`` robot states after the step.
        body_pos_w: ``(K, B, 3)`` key bodies in world [m].
        tilt_rad: ``(K,)`` torso tilt [rad].
        decisions, previous_decisions: ``(K, 5)`` this and the previous step's decisions.
        table: the :class:`~exoactor.control.filter.plant.ReferenceTable`.
        k: reference row the state is judged against.
        joint_qpos: qpos addresses of the body joints.
        weights: the objective weights.
        bodies: indices of the key bodies the objective weighs.
    """
    dxy = qpos[:, :2] - table.root_pos_w[k, :2]
    dyaw = wrap_angle(yaw(qpos[:, 3:7]) - yaw(table.root_quat_w[k]))
    bodies = list(bodies)
    db = body_pos_w[:, bodies] - table.body_pos_w[k, bodies]
    body = np.mean(np.sum(db * db, axis=-1), axis=-1)
    joint = np.mean(np.abs(qpos[:, joint_qpos] - table.joint_pos[k]), axis=-1)
    tilt = np.maximum(0.0, tilt_rad - table.torso_tilt_rad[k] - TILT_FREE_RAD) ** 2
    pose = np.sum(dxy * dxy, axis=-1)
    c = (weights.root_xy * pose + weights.yaw * dyaw * dyaw
         + weights.key_body * body + weights.joint * joint + weights.tilt * tilt)
    if k == clip_end_row(table):  # counted once: the caller integrates rates over dt
        c = c + weights.clip_end * (pose + 4.0 * dyaw * dyaw) / table.dt
    if table.clip_t[k] > table.duration_s:
        c = c + weights.after_clip_speed * np.sum(qvel[:, :2] ** 2, axis=-1)
    change = (decisions - previous_decisions) / _HALF_RANGE
    return c + weights.smooth * np.sum(change * change, axis=-1) / table.dt


def clip_end_row(table) -> int:
    """The reference row of the clip's end: the last step whose clip time is within the clip
    (the step ``root_xy_error_end_m`` is measured at)."""
    return int(np.searchsorted(table.clip_t, table.duration_s + 1e-9, side="right") - 1)


def terminal_cost(qpos: np.ndarray, qvel: np.ndarray, table, k: int, weights,
                  weight: float | None = None) -> np.ndarray:
    """``(K,)`` stopping-point cost at the horizon's end (reference row ``k``), weighted by
    ``weight`` (default ``weights.terminal``)."""
    k = min(k, len(table.clip_t) - 1)
    stop = (qpos[:, :2] - table.root_pos_w[k, :2]
            + weights.stop_lookahead_s * (qvel[:, :2] - table.lin_vel_w[k, :2]))
    dyaw = wrap_angle(yaw(qpos[:, 3:7]) - yaw(table.root_quat_w[k]))
    w = weights.terminal if weight is None else weight
    return w * (np.sum(stop * stop, axis=-1) + 4.0 * dyaw * dyaw)


# Normalisation of decision changes: the default bounds' half ranges (a fixed scale, so the
# objective does not move when the bounds are widened).
_HALF_RANGE = np.array([1.0, 0.5, 1.2, 0.4, 1.0, 0.5])


def clip_objective(qpos: np.ndarray, qvel: np.ndarray, body_pos_w: np.ndarray,
                   tilt_rad: np.ndarray, decisions: np.ndarray, table, rows: np.ndarray,
                   joint_qpos: np.ndarray, weights, bodies: tuple[int, ...],
                   fell: bool) -> float:
    """The objective of one whole executed run (the same terms, summed over its steps; the
    stopping point at the run's end, after the hold and return to standing, weighs
    ``run_end``: where the robot is left counts like where the clip ended).

    Args:
        qpos, qvel, body_pos_w, tilt_rad, decisions: per executed step (``(T, ...)``).
        rows: ``(T,)`` reference row each step is judged against.
        fell: the run fell (infinite cost).
    """
    if fell:
        return float("inf")
    total = 0.0
    prev = decisions[:1]
    for t, k in enumerate(rows):
        total += float(step_cost(qpos[t:t + 1], qvel[t:t + 1], body_pos_w[t:t + 1],
                                 tilt_rad[t:t + 1], decisions[t:t + 1], prev, table, int(k),
                                 joint_qpos, weights, bodies)[0]) * table.dt
        prev = decisions[t:t + 1]
    if len(rows):
        total += float(terminal_cost(qpos[-1:], qvel[-1:], table, int(rows[-1]), weights,
                                     weights.run_end)[0])
    return total


# ---- reference time warp (decision 5, :func:`~.decisions.advance_clock`) ---------------------

def clock_lag_cost(lag_s: np.ndarray, weights) -> np.ndarray:
    """``(K,)`` running cost rate of the reference clock's lateness ``lag_s`` ``(K,)`` (control
    time passed minus reference time passed; negative: ahead) [1/s]: ``clock_lag * lag^2``."""
    lag = np.asarray(lag_s, dtype=float)
    return weights.clock_lag * lag * lag
