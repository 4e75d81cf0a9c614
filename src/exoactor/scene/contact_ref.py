"""Seat contact on the robot reference: lower the pelvis onto each seat, legs re-solved by IK.

Perceived seated people come out with the pelvis high (sitting-notes), and the tracker follows
the reference's pelvis height, so a seat under it carries little weight. This step changes the
*reference* during each inferred seat's evidence window:

- the seat contact of a frame is the lowest point of the pelvis/thigh collision geoms over the
  seat's footprint (:func:`seat_contact_z`; the pelvis geom's lowest point when none is over
  it); its target is the seat top minus ``press_m``; the pelvis goes down by the difference
  (never up), weighted by a smooth step that ramps in over ``ramp_s`` before the window and
  out over ``ramp_s`` after it;
- each frame with a non-zero weight is re-solved by differential IK with mink (the retarget
  package's solver: ``mink.solve_ik`` with daqp, ``mink.ConfigurationLimit``): both feet held
  at their reference pose in world, the pelvis at its lowered position with its orientation,
  the torso at its reference orientation, the whole-body CoM's xy at the reference's (the
  reference kept its balance over the feet; the seat adds support under the pelvis), and the
  rest of the body (arms, waist) near the reference pose; the pelvis height target is
  corrected by the measured contact error after each solve (``passes``).

Two options change the seat pose itself: ``seat_margin_m`` moves the pelvis xy target inside
the seat's footprint (a reference pelvis at the seat's front edge loads nothing when lowered),
and ``hold_feet`` holds the feet where they were when the window's ramp-in began (a seated
person's sliding feet make the tracker stand up to step).

Which pose, on which placement, is chosen by rollouts (:func:`choose_seated`): the placement
search's best placements × {the retargeted reference, each pose of ``variants``}, one tracker
rollout each (judged on the clip, ``workers`` at a time), scored by
:func:`exoactor.scene.place.placement_score`; when the track stage runs the physics filter, the
pairs seated longest and the baseline are run again through it (the controller the robot
really executes), and the one used is the best of them by one objective
(:func:`exoactor.scene.place.filtered_choice`: the seat succeeds, then the filter's own
whole-run objective).

The result is a new motion; the input is not changed. :func:`adjust_for_seats` is pure (no
files); the objects stage writes its result as ``seated_motion.npz`` for the track stage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.formats.motion import RobotMotion
from exoactor.formats.scene import Scene, SceneObject
from exoactor.scene.config import ContactRefConfig
from exoactor.scene.sit_down import leaned_quat, seated_posture
from exoactor.signals import blend_weight, smoothstep

logger = logging.getLogger(__name__)

FEET_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")
TORSO_BODY = "torso_link"


@dataclass(frozen=True)
class ContactRefResult:
    """An adjusted reference and what was done.

    Attributes:
        motion: the adjusted motion (the input's when nothing was adjusted).
        weight: ``(T,)`` blend weight of the adjustment per frame, in [0, 1].
        drop_m: ``(T,)`` how far the pelvis went down [m] (>= 0).
        contact_z: ``(T,)`` seat contact height after the adjustment [m] (NaN off the windows).
        target_z: ``(T,)`` its target, seat top - press (NaN off the windows) [m].
        feet_err_m: ``(T,)`` largest foot position change [m].
    """

    motion: RobotMotion
    weight: np.ndarray
    drop_m: np.ndarray
    contact_z: np.ndarray
    target_z: np.ndarray
    feet_err_m: np.ndarray

    def summary(self) -> str:
        on = self.weight > 0.999
        adjusted = np.isfinite(self.contact_z)
        if not adjusted.any():
            return ("reference unchanged (no seat window, or its seat contact is already at or "
                    "below the seat top)")
        err = np.abs(self.contact_z - self.target_z)[on]
        err = err[np.isfinite(err)]
        drop_on = self.drop_m[on & adjusted]
        return (f"{int(adjusted.sum())} frames adjusted; pelvis lowered up to "
                f"{max(self.drop_m.max(), 0.0):.3f} m (mean "
                f"{drop_on.mean() if drop_on.size else 0:.3f} m in the windows); contact error "
                f"max {err.max() if err.size else 0:.3f} m; feet off their targets at most "
                f"{self.feet_err_m.max() * 1000:.1f} mm")


def seat_contact_z(points_w: np.ndarray, pelvis_points_w: np.ndarray, seat: SceneObject
                   ) -> float:
    """Lowest of ``points_w`` (pelvis/thigh hull points, ``(P, 3)``) over ``seat``'s
    footprint; the lowest pelvis point when none is over it [m]."""
    c = np.asarray(seat.pose.pos[:2])
    yaw = seat.pose.yaw_rad
    R = np.array([[np.cos(yaw), np.sin(yaw)], [-np.sin(yaw), np.cos(yaw)]])
    local = (points_w[:, :2] - c) @ R.T
    inside = (np.abs(local[:, 0]) <= seat.size[0] / 2) & (np.abs(local[:, 1]) <= seat.size[1] / 2)
    if inside.any():
        return float(points_w[inside, 2].min())
    return float(pelvis_points_w[:, 2].min())


def nearest_in_hull(p: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The point of the convex hull of ``pts`` (``(N, 2)``) nearest to ``p`` (``p`` itself when
    inside)."""
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = ConvexHull(pts)
    except QhullError:
        return pts[int(np.argmin(np.linalg.norm(pts - p, axis=1)))].copy()
    if np.max(hull.equations[:, :2] @ p + hull.equations[:, 2]) <= 0.0:
        return np.asarray(p, float).copy()
    best, best_d = None, np.inf
    v = pts[hull.vertices]
    for a, b in zip(v, np.roll(v, -1, axis=0)):
        ab = b - a
        s = float(np.clip((p - a) @ ab / max(ab @ ab, 1e-12), 0.0, 1.0))
        q = a + s * ab
        dist = float(np.linalg.norm(p - q))
        if dist < best_d:
            best, best_d = q, dist
    return best


class _Contact:
    """FK of the pelvis/thigh collision hull points of one model."""

    def __init__(self, model):
        import mujoco

        from exoactor.scene.infer import PELVIS_BODY, SEAT_BODIES, hull_points

        m = model
        collide = [g for g in range(m.ngeom) if m.geom_contype[g] or m.geom_conaffinity[g]]
        self.geoms = [g for g in collide if m.body(m.geom_bodyid[g]).name in SEAT_BODIES]
        self.pelvis = [g for g in self.geoms
                       if m.body(m.geom_bodyid[g]).name == PELVIS_BODY]
        self.pts = {g: hull_points(m, g) for g in self.geoms}
        self.soles = [g for g in collide if m.body(m.geom_bodyid[g]).name in FEET_BODIES
                      and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE]
        self._mujoco = mujoco

    def z(self, data, seat: SceneObject) -> float:
        w = {g: self.pts[g] @ data.geom_xmat[g].reshape(3, 3).T + data.geom_xpos[g]
             for g in self.geoms}
        return seat_contact_z(np.concatenate(list(w.values())),
                              np.concatenate([w[g] for g in self.pelvis]), seat)


def adjust_for_seats(motion: RobotMotion, scene: Scene, config: ContactRefConfig | None = None,
                     robot=None) -> ContactRefResult:
    """Lower the reference pelvis onto ``scene``'s seats during their evidence windows, the
    legs re-solved with the feet held (see the module): with ``config.sit_down``, the explicit
    sit-down (:func:`_sit_down_onto_seats`), else the plain seat contact
    (:func:`_lower_onto_seats`). Pure: returns a new motion."""
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_from_qpos, motion_qpos

    cfg = config or ContactRefConfig()
    robot = robot or get_robot(motion.robot)
    T = motion.num_frames
    nan = np.full(T, np.nan)
    seats = [o for o in scene.objects if o.kind == "seat" and o.evidence]
    qref = motion_qpos(robot, motion)
    plans = [_sit_down_plan(qref, s, motion.fps, cfg) for s in seats] if cfg.sit_down else []
    per_seat = ([p.weight for p in plans] if plans else
                [blend_weight(T, list(s.evidence), motion.fps, cfg.ramp_s) for s in seats])
    weight = np.max(per_seat, axis=0) if per_seat else np.zeros(T)
    if not cfg.enabled or not (weight > 0).any():
        return ContactRefResult(motion, np.zeros(T), np.zeros(T), nan, nan.copy(), np.zeros(T))
    # here ``plans`` is not empty exactly when ``cfg.sit_down`` is set (there is a seat)
    ik = _SeatIK(robot, qref, cfg, com_task=not plans)
    if plans:
        _sit_down_onto_seats(ik, seats, plans, weight, motion, cfg)
    else:
        _lower_onto_seats(ik, seats, per_seat, weight, motion.fps, cfg)
    res = ContactRefResult(motion, weight, ik.drop_m, ik.contact_z, ik.target_z, ik.feet_err_m)
    if ik.solved.any():
        out = motion_from_qpos(robot, motion, ik.qout,
                               f"{motion.source} (seat contact: pelvis lowered onto the seat)")
        res = ContactRefResult(out, weight, ik.drop_m, ik.contact_z, ik.target_z, ik.feet_err_m)
    logger.info("seat-contact reference: %s", res.summary())
    return res


def _lower_onto_seats(ik: _SeatIK, seats: list[SceneObject], per_seat: list[np.ndarray],
                      weight: np.ndarray, fps: float, cfg: ContactRefConfig) -> None:
    """The plain seat contact, frame by frame in time order: the pelvis goes down only (never
    up) by ``weight`` x the seat contact's distance to the seat top less ``press_m``; its xy
    stays the reference's (moved into the seat's footprint with ``seat_margin_m``); the CoM's
    xy goes ``com_to_feet`` of the way toward the feet's support polygon; the feet stay at the
    reference's (held from the window's ramp-in with ``hold_feet``). A frame of which nothing
    is asked is left as it is. Fills ``ik``'s per-frame results."""
    qref, d = ik.qref, ik.d
    held_feet = ([_held_feet(ik.m, d, qref, s.evidence, cfg.ramp_s, fps, ik.feet_ids)
                  for s in seats] if cfg.hold_feet else [])
    prev: np.ndarray | None = None
    for t in range(len(qref)):
        if weight[t] <= 0:
            prev = None
            continue
        s = int(np.argmax([w[t] for w in per_seat]))
        seat = seats[s]
        z0 = ik.pose_reference(t, seat)
        goal = seat.top_z - cfg.press_m
        want = weight[t] * min(0.0, goal - z0)
        feet_p0, feet_R = ik.feet_pose()
        feet_goal = feet_p0
        if held_feet:
            held_p, held_R, share = held_feet[s].get(t, (feet_p0, feet_R, 0.0))
            feet_goal = feet_p0 + share * (held_p - feet_p0)
            feet_R = list(held_R) if share > 0.5 else feet_R
        xy_goal = qref[t][0:2].copy()
        if cfg.seat_margin_m is not None:
            xy_goal = xy_goal + weight[t] * (seat.into_footprint(xy_goal, cfg.seat_margin_m)
                                             - xy_goal)
        com0 = d.subtree_com[ik.pelvis_id].copy()
        sole = d.geom_xpos[ik.contact.soles]
        com_goal = com0.copy()
        com_goal[:2] += weight[t] * cfg.com_to_feet * (
            nearest_in_hull(com0[:2], sole[:, :2]) - com0[:2])
        # a frame is left as it is only when nothing is asked of it; the CoM's move toward the
        # feet is asked of every frame of the window (not only those lowered: a reference that
        # is moved on some frames and not on their neighbours jumps between the two poses)
        if (want >= 0.0 and np.abs(feet_goal - feet_p0).max() < 1e-3
                and np.abs(xy_goal - qref[t][0:2]).max() < 1e-3
                and (cfg.com_cost <= 0.0 or np.abs(com_goal - com0).max() < 1e-3)):
            continue
        start = (prev if prev is not None else qref[t]).copy()
        if prev is None:
            start[0:2] = xy_goal
        prev, _ = ik.solve(t, seat, start, _SeatTargets(
            feet_pos_w=feet_goal, feet_rot_w=feet_R, pelvis_xy_w=xy_goal,
            pelvis_quat_w=qref[t][3:7], torso_rot_w=d.xmat[ik.torso_id].reshape(3, 3).copy(),
            com_w=com_goal, posture_qpos=qref[t], pelvis_z_m=qref[t][2] + want,
            contact_z_m=z0 + want, passes=cfg.passes))


def _sit_down_onto_seats(ik: _SeatIK, seats: list[SceneObject], plans: list,
                         weight: np.ndarray, motion: RobotMotion, cfg: ContactRefConfig
                         ) -> None:
    """The explicit sit-down (:mod:`exoactor.scene.sit_down`'s plans, one per seat): the seat
    contact goes to the seat top less ``press_m``, up or down (the plan replaces the person's
    own descent, which may dip into the seat); the pelvis xy to the plan's seat point, upright;
    the torso leaning forward by the plan's lean; the legs drawn toward the seated posture; the
    feet held from the descent's start to the window's end; the CoM free. The frames from the
    first plan's end of descent on are solved first: the descent runs the pelvis from its
    height where the person began to sit down to the height solved at that frame. Fills
    ``ik``'s per-frame results."""
    qref, d = ik.qref, ik.d
    T = len(qref)
    held_feet = [_held_feet(ik.m, d, qref, [(p.descent[0], b) for _, b in s.evidence], 0.0,
                            motion.fps, ik.feet_ids, ramp_out_s=cfg.ramp_s)
                 for p, s in zip(plans, seats)]
    seated_from = [p.descent[1] for p in plans]
    seated_z: list[float | None] = [None] * len(plans)  # pelvis height target, seated
    per_seat = [p.weight for p in plans]
    prev: np.ndarray | None = None
    for t in [*range(seated_from[0], T), *range(seated_from[0])]:
        if weight[t] <= 0 or t == 0:
            prev = None
        if weight[t] <= 0:
            continue
        s = int(np.argmax([w[t] for w in per_seat]))
        seat, plan, w = seats[s], plans[s], weight[t]
        z0 = ik.pose_reference(t, seat)
        goal = seat.top_z - cfg.press_m
        want = w * (goal - z0)
        feet_p0, feet_R = ik.feet_pose()
        held_p, held_R, share = held_feet[s].get(t, (feet_p0, feet_R, 0.0))
        feet_goal = feet_p0 + share * (held_p - feet_p0)
        feet_R = list(held_R) if share > 0.5 else feet_R
        xy_goal = qref[t][0:2].copy()
        xy_goal = xy_goal + w * (plan.seat_xy_w[t] - xy_goal)
        torso_R = _toward_matrix(d.xmat[ik.torso_id].reshape(3, 3).copy(),
                                 leaned_quat(seat.pose.yaw_rad, plan.lean_rad[t]), w)
        post = qref[t].copy()
        post[ik.body_adr] = seated_posture(motion.joint_names, qref[t][ik.body_adr],
                                           plan.lean_rad[t], w)
        start = (prev if prev is not None else qref[t]).copy()
        if prev is None:
            start[0:2] = xy_goal
        pelvis_z, passes = qref[t][2] + want, cfg.passes
        first = plan.descent[0]
        if first <= t < seated_from[s] and seated_z[s] is not None:
            # the descent: the pelvis from its height where the person began to sit down to the
            # seated height, on the plan's weight (not on the person's own descent)
            pelvis_z = qref[first][2] + w * (seated_z[s] - qref[first][2])
            passes = 1
        prev, pelvis_z = ik.solve(t, seat, start, _SeatTargets(
            feet_pos_w=feet_goal, feet_rot_w=feet_R, pelvis_xy_w=xy_goal,
            pelvis_quat_w=_toward(qref[t][3:7], leaned_quat(seat.pose.yaw_rad, 0.0), w),
            torso_rot_w=torso_R, com_w=None, posture_qpos=post, pelvis_z_m=pelvis_z,
            contact_z_m=z0 + want, passes=passes))
        if t == seated_from[s]:
            seated_z[s] = pelvis_z


@dataclass(frozen=True)
class _SeatTargets:
    """What one frame's seat pose is solved for (:meth:`_SeatIK.solve`).

    Attributes:
        feet_pos_w: ``(2, 3)`` the feet's positions, world [m].
        feet_rot_w: the feet's two ``(3, 3)`` rotations, world.
        pelvis_xy_w: ``(2,)`` the pelvis's xy, world [m].
        pelvis_quat_w: ``(4,)`` the pelvis's orientation, wxyz.
        torso_rot_w: ``(3, 3)`` the torso's orientation, world.
        com_w: ``(3,)`` the whole-body CoM (its xy weighed), world [m]; None: no CoM task.
        posture_qpos: ``(nq,)`` the posture task's target.
        pelvis_z_m: the pelvis height target of the first pass [m].
        contact_z_m: the seat contact height wanted [m]; each further pass corrects the pelvis
            height by the remaining error.
        passes: solves at most.
    """

    feet_pos_w: np.ndarray
    feet_rot_w: list
    pelvis_xy_w: np.ndarray
    pelvis_quat_w: np.ndarray
    torso_rot_w: np.ndarray
    com_w: np.ndarray | None
    posture_qpos: np.ndarray
    pelvis_z_m: float
    contact_z_m: float
    passes: int


class _SeatIK:
    """The differential IK of seat poses on one robot model (mink tasks: feet, pelvis, torso,
    optionally the CoM's xy, posture; ``mink.solve_ik`` with daqp, configuration limits), and
    what it solved per frame of the reference ``qref`` (``(T, nq)``): ``qout`` (the reference
    where not solved), ``drop_m``, ``contact_z``, ``target_z``, ``feet_err_m``, ``solved`` (as in
    :class:`ContactRefResult`)."""

    def __init__(self, robot, qref: np.ndarray, cfg: ContactRefConfig, com_task: bool):
        import mujoco

        from exoactor.mink_loader import import_mink

        mink = import_mink()
        self._mujoco, self._mink, self._cfg = mujoco, mink, cfg
        m = robot.model
        self.m, self.d = m, mujoco.MjData(m)
        self.contact = _Contact(m)
        self.qref = qref
        self.body_adr = robot.qpos_adr[robot.body_idx]
        self.feet_ids = [m.body(b).id for b in FEET_BODIES]
        self.torso_id = m.body(TORSO_BODY).id
        self.pelvis_id = m.body("pelvis").id
        self.cfgn = mink.Configuration(m)
        self.feet = [mink.FrameTask(b, "body", position_cost=cfg.foot_cost,
                                    orientation_cost=cfg.foot_cost) for b in FEET_BODIES]
        self.pelvis = mink.FrameTask("pelvis", "body",
                                     position_cost=[cfg.pelvis_xy_cost, cfg.pelvis_xy_cost,
                                                    cfg.pelvis_cost],
                                     orientation_cost=cfg.pelvis_cost)
        self.torso = mink.FrameTask(TORSO_BODY, "body", position_cost=0.0,
                                    orientation_cost=cfg.torso_cost)
        self.com = mink.ComTask(cost=[cfg.com_cost, cfg.com_cost, 0.0])
        self.posture = mink.PostureTask(m, cost=cfg.posture_cost)
        self.tasks = ([*self.feet, self.pelvis, self.torso, self.com, self.posture] if com_task
                      else [*self.feet, self.pelvis, self.torso, self.posture])
        self.limits = [mink.ConfigurationLimit(m)]
        T = len(qref)
        self.qout = qref.copy()
        self.drop_m = np.zeros(T)
        self.solved = np.zeros(T, bool)
        self.contact_z, self.target_z = np.full(T, np.nan), np.full(T, np.nan)
        self.feet_err_m = np.zeros(T)

    def pose_reference(self, t: int, seat: SceneObject) -> float:
        """Pose the model at the reference's frame ``t`` (kinematics and CoM); return its seat
        contact height on ``seat`` [m]."""
        mujoco = self._mujoco
        self.d.qpos[:] = self.qref[t]
        mujoco.mj_kinematics(self.m, self.d)
        mujoco.mj_comPos(self.m, self.d)
        return self.contact.z(self.d, seat)

    def feet_pose(self) -> tuple[np.ndarray, list]:
        """The posed model's feet: ``(2, 3)`` positions and two ``(3, 3)`` rotations, world."""
        d = self.d
        return (d.xpos[self.feet_ids].copy(),
                [d.xmat[i].reshape(3, 3).copy() for i in self.feet_ids])

    def solve(self, t: int, seat: SceneObject, start: np.ndarray, x: _SeatTargets
              ) -> tuple[np.ndarray, float]:
        """Solve frame ``t`` from ``start`` (``(nq,)``) for ``x`` and record it; returns the
        solved ``(nq,)`` qpos and the pelvis height target of the last pass [m]."""
        mujoco, mink, cfg = self._mujoco, self._mink, self._cfg
        m, d, cfgn = self.m, self.d, self.cfgn
        for task, R, p in zip(self.feet, x.feet_rot_w, x.feet_pos_w):
            task.set_target(mink.SE3.from_rotation_and_translation(mink.SO3.from_matrix(R), p))
        self.torso.set_target(mink.SE3.from_rotation_and_translation(
            mink.SO3.from_matrix(x.torso_rot_w), np.zeros(3)))
        if x.com_w is not None:
            self.com.set_target(x.com_w)
        self.posture.set_target(x.posture_qpos)
        cfgn.update(start)
        pelvis_z = x.pelvis_z_m
        for _ in range(x.passes):
            self.pelvis.set_target(mink.SE3.from_rotation_and_translation(
                mink.SO3(wxyz=x.pelvis_quat_w), np.array([*x.pelvis_xy_w, pelvis_z])))
            for _ in range(cfg.iterations):
                v = mink.solve_ik(cfgn, self.tasks, 1.0, "daqp", damping=cfg.damping,
                                  limits=self.limits)
                cfgn.integrate_inplace(v, 1.0)
                if np.linalg.norm(v) < 1e-5:
                    break
            d.qpos[:] = cfgn.q
            mujoco.mj_kinematics(m, d)
            err = self.contact.z(d, seat) - x.contact_z_m
            if abs(err) < 2e-3:
                break
            pelvis_z -= err
        self.qout[t] = cfgn.q
        d.qpos[:] = self.qout[t]
        mujoco.mj_kinematics(m, d)
        self.contact_z[t] = self.contact.z(d, seat)
        self.target_z[t] = x.contact_z_m
        self.feet_err_m[t] = float(np.linalg.norm(d.xpos[self.feet_ids] - x.feet_pos_w,
                                                  axis=1).max())
        self.drop_m[t] = self.qref[t][2] - self.qout[t][2]
        self.solved[t] = True
        return cfgn.q.copy(), pelvis_z


def choose_seated(motion: RobotMotion, scenes, config: ContactRefConfig | None = None,
                  track=None, filter_config=None) -> tuple[Scene, RobotMotion, str]:
    """The placement and reference the track stage follows: a search over ``scenes`` (the
    placement search's best placements, best first) × {the retargeted reference, each of
    ``config.variants``' seat poses (:func:`adjust_for_seats`)}, one rollout of the run's
    tracker each (drift correction off, as the filter and the placement run it), scored by
    :func:`exoactor.scene.place.placement_score` on the first seat (no fall, later fall,
    seated share of the phase, mean load). The first scene with the retargeted reference is
    the baseline: another pair is used only when it scores strictly better (so it never falls
    where the baseline does not, nor earlier). With ``filter_config`` (the track stage runs
    the physics filter), the ``config.filter_finalists`` pairs seated longest
    (:func:`exoactor.scene.place.finalist_score`: share of the whole phase seated, a later fall
    included) are run again through the filter, which is what the robot will execute (the
    tracker alone often falls where the filter does not), and so is the baseline; of these
    filtered runs, the one used is the best by :func:`exoactor.scene.place.filtered_choice`:
    among those whose seat succeeds (no fall, seated at least
    :data:`~exoactor.scene.score.SEATED_MIN_FRACTION` of the phase), the least whole-run
    objective of the filter; with none, the best by ``placement_score``, the baseline unless
    another is strictly better. The tracker
    rollouts run ``config.workers`` at a time, each while the next pose's IK is solved; the
    order of the pairs, hence the choice, is the loops' order. Returns the scene, the motion
    and a note."""
    from concurrent.futures import ThreadPoolExecutor

    from exoactor.control.drift import DriftConfig
    from exoactor.control.track import TrackConfig
    from exoactor.scene.place import _trial, placement_score

    cfg = config or ContactRefConfig()
    scenes = list(scenes)[:cfg.placements]
    first = scenes[0]
    seats = [o for o in first.objects if o.kind == "seat" and o.evidence]
    if not cfg.enabled or not seats:
        return first, motion, "reference unchanged (no seat)"
    track = (track or TrackConfig()).model_copy(update={"drift": DriftConfig(enabled=False)})
    last = max(b for s in seats for _, b in s.evidence)
    upto = min(motion.num_frames, last + round((cfg.ramp_s + 2.0) * motion.fps) + 1)
    phase = (min(a for s in seats for a, _ in s.evidence) / motion.fps, last / motion.fps)
    variants = [(v.name, {k: getattr(v, k) for k in type(v).model_fields if k != "name"})
                for v in cfg.variants] or [("seat contact", {})]
    pending = []  # (future of the rollout, placement index, scene, motion)
    with ThreadPoolExecutor(max_workers=cfg.workers) as pool:
        for k, scene in enumerate(scenes):
            seat = [o for o in scene.objects if o.kind == "seat" and o.evidence][0]
            where = "placement" if k == 0 else f"placement {k + 1}"
            pending.append((pool.submit(_trial, motion.slice(0, upto), scene, seat, track,
                                        f"{where}, reference as retargeted", 0.0, phase),
                            k, scene, motion))
            for name, update in variants:
                res = adjust_for_seats(motion, scene, cfg.model_copy(update=update))
                if res.motion is motion:
                    continue
                pending.append((pool.submit(_trial, res.motion.slice(0, upto), scene, seat,
                                            track, f"{where}, {name}", 0.0, phase),
                                k, scene, res.motion))
        tried = []
        for fut, k, scene, mot in pending:
            t = fut.result().trial
            logger.info("seat pose %s", t.summary())
            tried.append((placement_score(t), k, t, scene, mot))
    best = min(tried, key=lambda x: (x[0], x[1]))
    baseline = tried[0]
    figures = "; ".join(t.summary() for _, _, t, _, _ in tried)
    if filter_config is not None and cfg.filter_finalists > 0:
        return _filter_finalists(motion, tried, cfg.filter_finalists, track, filter_config,
                                 figures)
    if best[0] >= baseline[0]:
        logger.info("seat-contact reference not used: %s", figures)
        return first, motion, f"not used: {len(tried)} tried; {figures}"
    logger.info("seat-contact reference used: %s", best[2].summary())
    return best[3], best[4], f"used: {best[2].summary()} ({len(tried)} tried; {figures})"


def _filter_finalists(motion: RobotMotion, tried: list, n: int, track, filter_config,
                      figures: str) -> tuple[Scene, RobotMotion, str]:
    """:func:`choose_seated`'s last step: the ``n`` pairs of ``tried`` (score, placement
    index, trial, scene, motion) seated longest and the baseline (``tried[0]``), each run
    through the physics filter; :func:`exoactor.scene.place.filtered_choice` picks the one
    used. Every one is run (the choice compares them all): ``n`` + 1 filter runs at most, one
    of them the track stage's own (reused from :mod:`exoactor.control.filter.memo`)."""
    from exoactor.scene.place import _filter_trial, filtered_choice, finalist_score

    ranked = sorted(tried, key=lambda x: (finalist_score(x[2]), x[1]))[:n]
    baseline = tried[0]
    runs = ranked + ([] if any(r is baseline for r in ranked) else [baseline])
    done = []  # (filtered trial, scene, motion)
    for _, _, trial, scene, mot in runs:
        seat = [o for o in scene.objects if o.kind == "seat" and o.evidence][0]
        t = _filter_trial(mot, scene, seat, track, filter_config, f"filtered: {trial.label}")
        logger.info("seat pose %s", t.summary())
        done.append((t, scene, mot))
    base = next(i for i, r in enumerate(runs) if r is baseline)
    best_t, best_scene, best_mot = done[filtered_choice([d[0] for d in done], base)]
    filtered = "; ".join(d[0].summary() for d in done)
    used = best_mot is not motion
    note = (f"{'used' if used else 'not used'}: {best_t.summary()} ({len(done)} filtered: "
            f"{filtered}; tracker rollouts, {len(tried)} tried: {figures})")
    logger.info("seat-contact reference %s", note)
    return best_scene, best_mot, note


def seats_digest(scene: Scene) -> str:
    """A digest of ``scene``'s seats (kind, pose, size, evidence): the seat-contact reference
    is valid for the scene it was made for only (``scene.json`` is the user's to edit)."""
    import hashlib
    import json

    seats = [o.model_dump(include={"pose", "size", "evidence"}) for o in scene.objects
             if o.kind == "seat"]
    return hashlib.sha1(json.dumps(seats, sort_keys=True).encode()).hexdigest()[:16]


def _sit_down_plan(qref: np.ndarray, seat: SceneObject, fps: float, cfg: ContactRefConfig):
    """:func:`exoactor.scene.sit_down.plan_sit_down` for ``seat``'s first evidence window
    (its later windows: the weight of a plain blend), from the reference's pelvis."""
    from exoactor.scene.sit_down import plan_sit_down

    sd = cfg.sit_down
    windows = sorted(seat.evidence)
    plan = plan_sit_down(qref[:, 0:2], qref[:, 2], seat, windows[0], fps,
                         behind_front_m=sd.behind_front_m, lateral_margin_m=sd.lateral_margin_m,
                         lean_rad=sd.lean_rad, settle_lean_rad=sd.settle_lean_rad,
                         settle_s=sd.settle_s, start_share=sd.start_share,
                         min_descent_s=sd.min_descent_s, ramp_s=cfg.ramp_s)
    if len(windows) > 1:
        import dataclasses

        rest = blend_weight(len(qref), windows[1:], fps, cfg.ramp_s)
        plan = dataclasses.replace(plan, weight=np.maximum(plan.weight, rest))
    return plan


def _toward(q_from: np.ndarray, q_to: np.ndarray, share: float) -> np.ndarray:
    """``(4,)`` wxyz, ``share`` of the way from ``q_from`` to ``q_to`` (slerp)."""
    from exoactor.rotations import slerp

    return slerp(np.array([0.0, 1.0]), np.stack([q_from, q_to]), np.array([share]))[0]


def _toward_matrix(R_from: np.ndarray, q_to: np.ndarray, share: float) -> np.ndarray:
    """``(3, 3)``: ``share`` of the way from the rotation ``R_from`` to ``q_to`` (wxyz)."""
    from scipy.spatial.transform import Rotation

    from exoactor.rotations import as_wxyz, rot

    q_from = as_wxyz(Rotation.from_matrix(R_from))
    return rot(_toward(q_from, q_to, share)).as_matrix()


def _held_feet(m, d, qref: np.ndarray, windows, ramp_s: float, fps: float, feet_ids,
               ramp_out_s: float | None = None) -> dict[int, tuple[np.ndarray, list, float]]:
    """Per frame of each window with its ramps: the feet positions ``(2, 3)`` and rotations
    at the first frame of the ramp-in (where the reference starts to be changed, so the target
    starts where the reference's feet are), and the share of them in the target: 1 up to the
    window's last frame, then the blend weight's ramp-out (over ``ramp_out_s`` when given,
    else ``ramp_s``)."""
    import mujoco

    out = {}
    ramp = int(np.ceil(ramp_s * fps))
    ramp_out = ramp if ramp_out_s is None else int(np.ceil(ramp_out_s * fps))
    for a, b in windows:
        first = max(0, a - ramp)
        d.qpos[:] = qref[min(first, len(qref) - 1)]
        mujoco.mj_kinematics(m, d)
        pos, rots = d.xpos[feet_ids].copy(), [d.xmat[i].reshape(3, 3).copy() for i in feet_ids]
        if ramp_out_s is None:
            out_w = blend_weight(len(qref), [(a, b)], fps, ramp_s)
        else:
            out_w = 1.0 - smoothstep((np.arange(len(qref)) - b) / max(ramp_out_s * fps, 1e-9))
        for t in range(first, min(len(qref), b + ramp_out + 1)):
            out.setdefault(t, (pos, rots, 1.0 if t <= b else float(out_w[t])))
    return out
