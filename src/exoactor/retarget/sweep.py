"""The frame-by-frame IK sweep over a clip, with arm restarts that leave a wrong IK branch.

Each frame is warm-started from the previous frame's solution
(:class:`~exoactor.retarget.ik.BodyIK`, ``iterations_per_frame`` velocity-limited steps).
Warm starting carries a solution along its branch: where an arm's targets move through a
region with two arm poses of similar cost (an elbow bent forward or sideways, a shoulder yaw
+-1.3 rad), the arm can stay on the branch that becomes wrong, far from its targets, for
seconds.

Restart (``arm_restarts``), per arm, at a frame ``t`` where the arm's largest keypoint error
exceeds ``restart_error_m`` (tried at most every ``restart_interval_s``):

1. the arm's joints are set to the default pose (the posture task's target), the rest of the
   body held, and solved with up to ``restart_iterations`` trust-region steps;
2. the objective decides: the restart is kept only where the IK objective
   (:meth:`~exoactor.retarget.ik.BodyIK.objective`, the tasks' own cost) is lower than that of
   the warm-started arm solved on to convergence the same way, by
   ``(keypoint_cost * restart_margin_m)**2`` (two local minima are compared, not a converged
   restart with a warm start lagging behind fast targets);
3. the restart's branch is carried back over the frames before ``t`` (the same warm-started,
   velocity-limited steps, in reverse time, that arm alone) and replaces the forward solution
   for as long as it has the lower objective, at most ``restart_backtrack_s``. A branch that
   is not better at ``t - 1`` already is dropped (a switch for one frame is not kept). Where
   the two branches meet (an arm joint apart by less than ``MEET_RAD``) the new one takes over
   without a jump; where they do not, the arm is blended from the old branch to the new one
   over the frames before the junction (smoothstep weights, at most ``restart_blend_rad_s``),
   the blend followed by the arm alone under the IK's limits (velocity, no arm in the body), on
   into the re-solved frames until it has caught up with them, so that it never passes through
   the torso nor moves faster than ``max_joint_vel_rad_s``.

The forward sweep then continues from the restart's solution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.retarget.config import RetargetConfig
from exoactor.retarget.ik import BodyIK
from exoactor.retarget.targets import IKTargets
from exoactor.signals import smoothstep

logger = logging.getLogger(__name__)

MEET_RAD = 1e-3
"""Largest arm joint difference [rad] at which the backward branch has met the forward one."""


@dataclass(frozen=True)
class SweepResult:
    """The IK solution of a clip.

    Attributes:
        qpos: ``(T, nq)`` per-frame solutions (MuJoCo layout of the robot model).
        iters: ``(T,)`` forward IK steps per frame (restarts and re-solves not counted).
        fallback: ``(T,)`` bool, frames solved with joint and ground limits only.
        first_converged: the first frame's solve from the rest pose converged.
        restart_tries: arm restarts tried.
        restarts: arm restarts kept (their objective beat the warm-started solution's).
        resolved_frames: frames whose arm was replaced by a backward re-solve or blend.
    """

    qpos: np.ndarray
    iters: np.ndarray
    fallback: np.ndarray
    first_converged: bool
    restart_tries: int = 0
    restarts: int = 0
    resolved_frames: int = 0


def _set_frame(ik: BodyIK, tg: IKTargets, t: int) -> None:
    ik.set_targets(tg.keypoint_pos_w[t], tg.keypoint_weight[t], tg.frame_R_w[t],
                   tg.frame_weight[t], tg.pelvis_R_w[t], tg.foot_contact[t])


def _try_restart(ik: BodyIK, side: int, cfg: RetargetConfig) -> np.ndarray | None:
    """Restart one arm from the rest pose at the current frame; the kept ``(nq,)`` qpos or None.

    Both the restart and the warm-started arm are solved to convergence (the same steps: a
    warm-started frame may lag behind targets that move faster than the velocity limit, which a
    restart does not), so that the objective compares two local minima, not two stages of
    convergence. The configuration is left at the kept solution, or back at the warm-started one.
    """
    rmodel = ik.rmodel
    adr = rmodel.arm_qpos_adr[side]
    q_warm = ik.configuration.q.copy()
    ik.step_arm(side, cfg.restart_iterations, restart=True, tol=cfg.initial_tolerance_m)
    j_warm = ik.objective()
    seed = q_warm.copy()
    seed[adr] = rmodel.rest_qpos[adr]
    ik.reset(seed)
    res = ik.step_arm(side, cfg.restart_iterations, restart=True, tol=cfg.initial_tolerance_m)
    margin = (cfg.keypoint_cost * cfg.restart_margin_m) ** 2
    if res is not None and ik.objective() < j_warm - margin:
        return ik.configuration.q.copy()
    ik.reset(q_warm)
    return None


def _resolve_back(ik: BodyIK, tg: IKTargets, cfg: RetargetConfig, qpos: np.ndarray, t: int,
                  side: int, q_t: np.ndarray) -> int | None:
    """Re-solve one arm over the frames before ``t`` from the branch of ``q_t`` (in place in
    ``qpos``); returns how many frames changed, or None (nothing changed) when the branch of
    ``q_t`` is not better at frame ``t - 1`` already. See the module docstring, step 3."""
    adr = ik.rmodel.arm_qpos_adr[side]
    lo = max(0, t - int(round(cfg.restart_backtrack_s * tg.fps)))
    arm = q_t[adr].copy()

    def back_step(u: int, arm: np.ndarray) -> tuple[np.ndarray | None, float, float]:
        """The arm at frame ``u`` stepped from ``arm``, its objective and the forward one's."""
        _set_frame(ik, tg, u)
        q = qpos[u].copy()
        ik.reset(q)
        j_fwd = ik.objective()
        q[adr] = arm
        ik.reset(q)
        if ik.step_arm(side, cfg.iterations_per_frame) is None:
            return None, np.inf, j_fwd
        return ik.configuration.q[adr].copy(), ik.objective(), j_fwd

    changed = 0
    u = t - 1
    junction_arm = None
    while u >= 0:
        new, j_new, j_fwd = back_step(u, arm)
        if new is None:
            break
        if u < lo or j_new >= j_fwd:
            if u == t - 1:
                return None  # better at frame t alone: no switch
            junction_arm = new  # the forward branch is kept here: blend into it below
            break
        meets = float(np.abs(new - qpos[u, adr]).max()) < MEET_RAD
        qpos[u, adr] = new
        changed += 1
        arm = new
        u -= 1
        if meets:
            logger.debug("arm %d restart at frame %d: re-solved back to frame %d, where the "
                         "branches meet", side, t, u + 1)
            return changed
    if junction_arm is None or u < 0:
        return changed
    # blend frames (u - n, u]: from the forward branch to the backward one, continued further back
    gap = float(np.abs(junction_arm - qpos[u, adr]).max())
    n = min(u + 1, int(np.ceil(1.5 * gap * tg.fps / cfg.restart_blend_rad_s)))
    if n == 0:
        return changed
    arms = [junction_arm]
    for v in range(u - 1, u - n, -1):
        new, _, _ = back_step(v, arms[-1])
        arms.append(arms[-1] if new is None else new)
    logger.debug("arm %d restart at frame %d: re-solved back to frame %d, blended over %d frames "
                 "(branches %.2f rad apart)", side, t, u + 1, n, gap)
    w = smoothstep(np.arange(n, 0, -1) / (n + 1.0))  # frame u - k gets w[k]
    goals = {u - k: qpos[u - k, adr] + w[k] * (a - qpos[u - k, adr]) for k, a in enumerate(arms)}
    # followed by IK (velocity limit, arm out of the body) from the frame before the blend, on
    # into the re-solved frames until it has caught up with them
    arm = qpos[u - n, adr].copy() if u - n >= 0 else goals[0]
    for v in range(u - n + 1, t):
        goal_arm = goals.get(v, qpos[v, adr])
        if v > u and float(np.abs(arm - goal_arm).max()) < MEET_RAD:
            break
        q = qpos[v].copy()
        q[adr] = arm
        ik.reset(q)
        goal = q.copy()
        goal[adr] = goal_arm
        if ik.step_arm(side, cfg.iterations_per_frame, goal_qpos=goal) is not None:
            arm = ik.configuration.q[adr].copy()
        qpos[v, adr] = arm
    return changed + n


def solve_frames(ik: BodyIK, tg: IKTargets, cfg: RetargetConfig, q0: np.ndarray) -> SweepResult:
    """Solve every frame of ``tg`` from ``q0`` (the rest pose under the first frame's pelvis).

    Args:
        ik: the IK of the robot model.
        tg: the clip's targets.
        cfg: stage configuration (``iterations_per_frame``, ``initial_*``, ``arm_restarts`` and
            ``restart_*``).
        q0: ``(nq,)`` start of the first frame's solve.
    """
    from dataclasses import replace

    from exoactor.ui import progress

    ik.reset(q0)
    T = tg.num_frames
    qpos = np.empty((T, ik.rmodel.model.nq))
    iters = np.zeros(T, dtype=int)
    fallback = np.zeros(T, dtype=bool)
    first_converged = True
    interval = max(1, int(round(cfg.restart_interval_s * tg.fps)))
    last_try = [-interval, -interval]
    tries = kept = resolved = 0
    for t in progress(range(T), "retarget", total=T, unit="frame"):
        _set_frame(ik, tg, t)
        if t == 0:  # from the rest pose; then settle with every limit active
            first = ik.step(cfg.initial_iterations, first=True, tol=cfg.initial_tolerance_m)
            first_converged = first.converged
            res = ik.step(cfg.iterations_per_frame)
            res = replace(res, iters=first.iters + res.iters,
                          fallback=first.fallback or res.fallback)
        else:
            res = ik.step(cfg.iterations_per_frame)
        qpos[t], iters[t], fallback[t] = res.qpos, res.iters, res.fallback
        if not cfg.arm_restarts or t == 0:
            continue
        for side in (0, 1):
            if t - last_try[side] < interval or ik.arm_error_m(side) <= cfg.restart_error_m:
                continue
            last_try[side] = t
            tries += 1
            q_warm = ik.configuration.q.copy()
            q_new = _try_restart(ik, side, cfg)
            if q_new is None:
                continue
            changed = _resolve_back(ik, tg, cfg, qpos, t, side, q_new)
            _set_frame(ik, tg, t)
            if changed is None:
                ik.reset(q_warm)
                continue
            kept += 1
            resolved += changed
            qpos[t] = q_new
            ik.reset(q_new)
    if kept:
        logger.info("arm restarts: %d of %d tries kept, %d frames re-solved", kept, tries,
                    resolved)
    return SweepResult(qpos, iters, fallback, first_converged, tries, kept, resolved)
