"""Per-frame differential IK with mink, warm-started from the previous frame.

Tasks (costs from :class:`~exoactor.retarget.config.RetargetConfig`):

* :class:`~exoactor.retarget.keypoint_task.KeypointTask`: every correspondence point to its
  scaled human keypoint (pelvis, torso, feet, knees, hands, elbows, head points);
* orientation-only ``mink.FrameTask`` per keypoint frame (feet, hands) and for the pelvis;
* ``mink.PostureTask`` toward the default pose (redundancy of arms and waist).

Limits: ``mink.ConfigurationLimit`` (joint ranges), ``mink.VelocityLimit`` (joint travel per
step), :class:`~exoactor.retarget.ground_limit.GroundLimit` (soles above z = 0, contact feet
down on it) and :class:`~exoactor.retarget.collision_limit.GeomPairsLimit` between the arms
and the torso/pelvis/legs and between the two arms (mink's collision limit, made to push
penetrating pairs apart).

Every step is solved with ``dt = 1`` (a step in configuration space) by daqp. The velocity
limit's bound is the joint travel allowed in one step, ``max_joint_vel * frame_dt /
iterations_per_frame`` (on the first frame, which starts from the rest pose, a trust region
of ``initial_step_rad``, halved whenever a step reverses the previous one, so that the first
frame converges instead of cycling between two poses); the rare extra steps of a frame whose
soles still break their limit (``contact_extra_iterations``) may add to that. Collision pairs
enter the QP within ``collision_detection_m``, which must exceed how far a hand travels in one
step; the limit is active from the rest pose on, and a step that would still end in a
collision (mesh distances are not smooth) is halved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.retarget.config import RetargetConfig
from exoactor.retarget.model import RetargetModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IKFrameResult:
    """One frame's IK outcome.

    Attributes:
        qpos: ``(nq,)`` solution (MuJoCo layout of the robot model).
        iters: steps taken.
        step_norm: size of the last step (tangent space, [rad] / [m]).
        fallback: a QP with all limits was infeasible and a step with the joint limits and the
            no-penetration rows only was taken instead.
        converged: the last step was shorter than the tolerance asked for.
    """

    qpos: np.ndarray
    iters: int
    step_norm: float
    fallback: bool
    converged: bool = False


class TrustRegion:
    """A mink limit bounding each joint's step to ``scale`` times a velocity limit's bound.

    Attributes:
        inner: the ``mink.VelocityLimit`` whose bound (at ``dt = 1``) is the full radius [rad].
        scale: fraction of that radius in force, in (0, 1].
    """

    def __init__(self, inner: object):
        self.inner = inner
        self.scale = 1.0

    def compute_qp_inequalities(self, configuration: object, dt: float) -> object:
        return self.inner.compute_qp_inequalities(configuration, dt * self.scale)


class HeldDofs:
    """A mink limit holding every dof but ``free`` still (``v_i = 0``, as two inequalities).

    Attributes:
        free: ``(J,)`` dof indices left to the QP.
    """

    def __init__(self, nv: int, free: np.ndarray):
        from exoactor.mink_loader import import_mink

        held = np.setdiff1d(np.arange(nv), free)
        eye = np.eye(nv)[held]
        self.free = np.asarray(free, dtype=int)
        self._constraint = import_mink().Constraint(G=np.vstack([eye, -eye]),
                                                    h=np.zeros(2 * len(held)))

    def compute_qp_inequalities(self, configuration: object, dt: float) -> object:
        return self._constraint


class BodyIK:
    """mink IK of one robot model (real state: a mink Configuration and its tasks)."""

    def __init__(self, rmodel: RetargetModel, cfg: RetargetConfig, fps: float):
        from exoactor.mink_loader import import_mink

        mink = import_mink()  # before the modules below, which import mink at their top
        from exoactor.retarget.collision_limit import GeomPairsLimit
        from exoactor.retarget.ground_limit import GroundLimit
        from exoactor.retarget.keypoint_task import KeypointTask

        self.rmodel = rmodel
        self.cfg = cfg
        m = rmodel.model
        self.configuration = mink.Configuration(m)
        self.keypoints = KeypointTask(m, rmodel.site_ids, cost_per_m=cfg.keypoint_cost)
        self.frames = [mink.FrameTask(f.body, "body", position_cost=0.0,
                                      orientation_cost=cfg.orientation_cost * f.weight)
                       for f in rmodel.corr.frames]
        self.pelvis = mink.FrameTask(rmodel.corr.pelvis_body, "body", position_cost=0.0,
                                     orientation_cost=cfg.orientation_cost)
        self.posture = mink.PostureTask(m, cost=cfg.posture_cost)
        self.posture.set_target(rmodel.rest_qpos)
        self.tasks = [self.keypoints, *self.frames, self.pelvis, self.posture]
        joints = rmodel.robot.joint_names
        step = cfg.max_joint_vel_rad_s / (fps * cfg.iterations_per_frame)
        self._config_limit = mink.ConfigurationLimit(m)
        feet = list(rmodel.sole_geom_ids)
        radii = list(rmodel.sole_radius_m)
        self._ground = GroundLimit(m, feet, radii, cfg.contact_tol_m)
        common: list = [self._config_limit, self._ground]
        self._fallback_limits = [self._config_limit, GroundLimit(m, feet, radii)]
        self._collision: GeomPairsLimit | None = None
        if cfg.self_collision and len(rmodel.collision_pairs):
            self._collision = GeomPairsLimit(m, rmodel.collision_pairs,
                                              cfg.collision_margin_m, cfg.collision_detection_m)
            common.append(self._collision)
        self._limits = [*common, mink.VelocityLimit(m, {j: step for j in joints})]
        # the first frame starts at the rest pose: a trust region keeps each step short enough
        # for the collision limit (linearised, detection distance) to see what it approaches
        self._trust = TrustRegion(mink.VelocityLimit(m, {j: cfg.initial_step_rad for j in joints}))
        self._limits_first = [*common, self._trust]
        # one arm alone (the feet do not move: no ground limit)
        arm_common = [self._config_limit] + ([self._collision] if self._collision else [])
        self._arm_limits = [[*arm_common, HeldDofs(m.nv, dofs), self._limits[-1]]
                            for dofs in rmodel.arm_dof_ids]
        self._arm_limits_restart = [[*arm_common, HeldDofs(m.nv, dofs), self._trust]
                                    for dofs in rmodel.arm_dof_ids]
        # a pose goal for one arm (its dofs only): the blend between two branches
        self._arm_goal = mink.PostureTask(m, cost=0.0)
        self._arm_goal.set_target(rmodel.rest_qpos)
        self._SE3, self._SO3 = mink.SE3, mink.SO3
        self._solve_ik = mink.solve_ik
        self._no_solution = mink.NoSolutionFound

    def reset(self, qpos: np.ndarray) -> None:
        """Start from ``qpos`` (e.g. the rest pose moved under the first frame's pelvis)."""
        self.configuration.update(np.asarray(qpos, dtype=float).copy())

    def set_targets(self, keypoint_pos_w: np.ndarray, keypoint_weight: np.ndarray,
                    frame_R_w: np.ndarray, frame_weight: np.ndarray,
                    pelvis_R_w: np.ndarray, foot_contact: np.ndarray) -> None:
        """Targets of one frame.

        Args:
            foot_contact: ``(2,)`` bool, feet that must rest on the ground.
            keypoint_pos_w: ``(K, 3)`` keypoint targets in world [m].
            keypoint_weight: ``(K,)`` weights (0 = ignore).
            frame_R_w: ``(F, 3, 3)`` target body orientations of the keypoint frames.
            frame_weight: ``(F,)`` weights (0 = ignore).
            pelvis_R_w: ``(3, 3)`` target pelvis orientation.
        """
        self.keypoints.set_target(keypoint_pos_w, keypoint_weight)
        self._ground.set_contact(foot_contact)
        zero = np.zeros(3)
        for task, R, w in zip(self.frames, frame_R_w, frame_weight):
            ok = bool(w > 0 and np.isfinite(R).all())
            task.set_orientation_cost(self.cfg.orientation_cost * w if ok else 0.0)
            task.set_target(self._SE3.from_rotation_and_translation(
                self._SO3.from_matrix(R if ok else np.eye(3)), zero))
        self.pelvis.set_target(self._SE3.from_rotation_and_translation(
            self._SO3.from_matrix(pelvis_R_w), zero))

    def step(self, iterations: int, first: bool = False, tol: float = 0.0) -> IKFrameResult:
        """Take up to ``iterations`` IK steps toward the current targets.

        Args:
            iterations: most steps.
            first: the first frame (it starts from the rest pose): a trust region of
                ``initial_step_rad`` replaces the velocity limit, and is halved each time a step
                points against the previous one (the linearised problem overshoots: without
                this, the solve can cycle between two poses and never meet ``tol``).
            tol: stop once a step is smaller than this (tangent-space norm).

        After ``iterations`` steps, up to ``contact_extra_iterations`` more are taken while a
        sole constraint (linearised in the QP) is still violated by more than 1 mm.
        """
        cfgn = self.configuration
        limits = self._limits_first if first else self._limits
        self._trust.scale = 1.0
        norm = np.inf
        fallback = False
        it = 0
        prev_v: np.ndarray | None = None
        extra = 0 if first else self.cfg.contact_extra_iterations
        for it in range(1, iterations + extra + 1):
            if it > iterations and self._ground.violation_m(cfgn.data) < 1e-3:
                it -= 1
                break
            try:
                v = self._solve_ik(cfgn, self.tasks, 1.0, "daqp", damping=self.cfg.damping,
                                   limits=limits)
            except self._no_solution:
                fallback = True
                v = self._solve_ik(cfgn, self.tasks, 1.0, "daqp", damping=self.cfg.damping,
                                   limits=self._fallback_limits)
            norm = self._take(v, prev_v, shrink_on_reversal=first)
            prev_v = v
            if norm < tol:
                break
        return IKFrameResult(cfgn.q.copy(), it, norm, fallback, converged=norm < tol)

    def objective(self) -> float:
        """The tasks' cost at the current configuration and targets, ``sum ||cost * error||^2``
        (unitless; a unit-weight keypoint ``d`` [m] off adds ``(keypoint_cost * d)^2``)."""
        cfgn = self.configuration
        return float(sum(np.sum((np.asarray(task.cost) * task.compute_error(cfgn)) ** 2)
                         for task in self.tasks))

    def arm_error_m(self, side: int) -> float:
        """Largest distance of one arm's weighted keypoints from their targets [m] (0 if none).

        Args:
            side: 0 left, 1 right.
        """
        err = self.keypoints.compute_error(self.configuration).reshape(-1, 3)
        on_arm = np.isin(self.keypoints.active, self.rmodel.arm_keypoint_ids[side])
        return float(np.linalg.norm(err[on_arm], axis=1).max()) if on_arm.any() else 0.0

    def step_arm(self, side: int, iterations: int, restart: bool = False,
                 tol: float = 0.0, goal_qpos: np.ndarray | None = None) -> IKFrameResult | None:
        """Up to ``iterations`` IK steps that move one arm's joints only (the rest held).

        Args:
            side: 0 left, 1 right.
            iterations: most steps.
            restart: from a seed far from the solution: the first frame's trust region
                (``initial_step_rad``, halved when a step reverses) instead of the velocity limit.
            tol: stop once a step is smaller than this [rad].
            goal_qpos: ``(nq,)`` when given, the arm is driven toward this pose's arm joints
                (unit cost per [rad]) instead of the frame's tasks, under the same limits (joint
                range, velocity, no arm in the body): a collision-free path along a blend.

        Returns:
            The result, or None when the QP has no solution (the configuration is then where
            the steps left it).
        """
        cfgn = self.configuration
        limits = (self._arm_limits_restart if restart else self._arm_limits)[side]
        tasks = self.tasks
        if goal_qpos is not None:
            cost = np.zeros(self.rmodel.model.nv)
            cost[self.rmodel.arm_dof_ids[side]] = 1.0
            self._arm_goal.set_cost(cost)
            self._arm_goal.set_target(goal_qpos)
            tasks = [self._arm_goal]
        self._trust.scale = 1.0
        norm, taken, prev_v = np.inf, 0, None
        while taken < iterations:
            taken += 1
            try:
                v = self._solve_ik(cfgn, tasks, 1.0, "daqp", damping=self.cfg.damping,
                                   limits=limits)
            except self._no_solution:
                return None
            norm = self._take(v, prev_v, shrink_on_reversal=restart)
            prev_v = v
            if norm < tol:
                break
        return IKFrameResult(cfgn.q.copy(), taken, norm, False, converged=norm < tol)

    def _take(self, v: np.ndarray, prev_v: np.ndarray | None, shrink_on_reversal: bool) -> float:
        """Take step ``v`` (:meth:`_integrate`) and return its norm [rad]. With
        ``shrink_on_reversal`` (a solve from a far seed under the trust region), a step that
        reverses the previous one ``prev_v`` first halves the trust region: it overshot, so the
        next steps stay within half the radius."""
        if shrink_on_reversal and prev_v is not None and float(v @ prev_v) < 0.0:
            self._trust.scale *= 0.5
        self._integrate(v)
        return float(np.linalg.norm(v))

    def _integrate(self, v: np.ndarray, halvings: int = 4) -> None:
        """Take step ``v``, halved while it would carry an arm into the body (the collision
        limit is linearised; mesh distances are not smooth)."""
        cfgn = self.configuration
        if self._collision is None:
            cfgn.integrate_inplace(v, 1.0)
            return
        q0 = cfgn.q.copy()
        floor = min(self._collision.last_min_distance_m, 0.0)  # from this step's QP
        for _ in range(halvings):
            cfgn.integrate_inplace(v, 1.0)
            if self._collision.min_distance(cfgn.data, floor) >= floor:
                return
            cfgn.update(q0)
            v = 0.5 * v
        cfgn.integrate_inplace(v, 1.0)
