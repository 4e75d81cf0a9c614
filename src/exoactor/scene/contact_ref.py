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
pairs seated longest are run again through it (the controller the robot really executes)
before one is used.

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
    legs re-solved with the feet held (see the module). Pure: returns a new motion."""
    import mujoco

    from exoactor.mink_loader import import_mink
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_from_qpos, motion_qpos

    mink = import_mink()
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
    m = robot.model
    d = mujoco.MjData(m)
    contact = _Contact(m)
    qout = qref.copy()
    body_adr = robot.qpos_adr[robot.body_idx]
    feet_ids = [m.body(b).id for b in FEET_BODIES]
    torso_id = m.body(TORSO_BODY).id

    cfgn = mink.Configuration(m)
    feet = [mink.FrameTask(b, "body", position_cost=cfg.foot_cost, orientation_cost=cfg.foot_cost)
            for b in FEET_BODIES]
    pelvis = mink.FrameTask("pelvis", "body",
                            position_cost=[cfg.pelvis_xy_cost, cfg.pelvis_xy_cost,
                                           cfg.pelvis_cost],
                            orientation_cost=cfg.pelvis_cost)
    torso = mink.FrameTask(TORSO_BODY, "body", position_cost=0.0,
                           orientation_cost=cfg.torso_cost)
    com = mink.ComTask(cost=[cfg.com_cost, cfg.com_cost, 0.0])
    posture = mink.PostureTask(m, cost=cfg.posture_cost)
    tasks = [*feet, pelvis, torso, com, posture] if not cfg.sit_down else \
        [*feet, pelvis, torso, posture]  # the sit-down leaves the CoM free
    limits = [mink.ConfigurationLimit(m)]

    drop = np.zeros(T)
    solved = np.zeros(T, bool)
    contact_z, target_z, feet_err = nan.copy(), nan.copy(), np.zeros(T)
    if plans:  # the feet held from the descent's start to the window's end
        held_feet = [_held_feet(m, d, qref, [(p.descent[0], b) for _, b in s.evidence], 0.0,
                                motion.fps, feet_ids, ramp_out_s=cfg.ramp_s)
                     for p, s in zip(plans, seats)]
    else:
        held_feet = [_held_feet(m, d, qref, s.evidence, cfg.ramp_s, motion.fps, feet_ids)
                     for s in seats] if cfg.hold_feet else []
    prev: np.ndarray | None = None
    # the sit-down's descent runs down to the pelvis height solved at its last frame: those
    # frames (to the window's end) are solved first
    seated_from = [p.descent[1] for p in plans]
    order = list(range(T))
    seated_target: list[float | None] = [None] * len(plans)  # pelvis height target, seated
    if plans:
        order = list(range(seated_from[0], T)) + list(range(seated_from[0]))
    for t in order:
        if weight[t] <= 0 or (plans and t == 0):
            prev = None
        if weight[t] <= 0:
            continue
        s = int(np.argmax([w[t] for w in per_seat]))
        seat = seats[s]
        d.qpos[:] = qref[t]
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        z0 = contact.z(d, seat)
        goal = seat.top_z - cfg.press_m
        # only down; the sit-down's contact goes to the seat's, up or down (it replaces the
        # person's own descent, which may dip into the seat)
        want = weight[t] * ((goal - z0) if plans else min(0.0, goal - z0))
        feet_p0 = d.xpos[feet_ids].copy()
        feet_R = [d.xmat[i].reshape(3, 3).copy() for i in feet_ids]
        if held_feet:
            held_p, held_R, share = held_feet[s].get(t, (feet_p0, feet_R, 0.0))
            feet_goal = feet_p0 + share * (held_p - feet_p0)
            feet_R = list(held_R) if share > 0.5 else feet_R
        else:
            feet_goal = feet_p0
        xy_goal = qref[t][0:2].copy()
        pelvis_q = qref[t][3:7]
        if plans:  # the sit-down's seat point, the pelvis upright, the torso leaning forward
            xy_goal = xy_goal + weight[t] * (plans[s].seat_xy_w[t] - xy_goal)
            pelvis_q = _toward(pelvis_q, leaned_quat(seat.pose.yaw_rad, 0.0), weight[t])
            torso_q = leaned_quat(seat.pose.yaw_rad, plans[s].lean_rad[t])
        elif cfg.seat_margin_m is not None:
            xy_goal = xy_goal + weight[t] * (seat.into_footprint(xy_goal, cfg.seat_margin_m)
                                             - xy_goal)
        com0 = d.subtree_com[m.body("pelvis").id].copy()
        sole = d.geom_xpos[contact.soles]
        com_goal = com0.copy()
        if not plans:
            com_goal[:2] += weight[t] * cfg.com_to_feet * (
                nearest_in_hull(com0[:2], sole[:, :2]) - com0[:2])
        # a frame is left as it is only when nothing is asked of it; the CoM's move toward the
        # feet is asked of every frame of the window (not only those lowered: a reference that
        # is moved on some frames and not on their neighbours jumps between the two poses)
        if (not plans and want >= 0.0 and np.abs(feet_goal - feet_p0).max() < 1e-3
                and np.abs(xy_goal - qref[t][0:2]).max() < 1e-3
                and (cfg.com_cost <= 0.0 or np.abs(com_goal - com0).max() < 1e-3)):
            continue
        feet_T = [mink.SE3.from_rotation_and_translation(mink.SO3.from_matrix(R), p)
                  for R, p in zip(feet_R, feet_goal)]
        torso_R = d.xmat[torso_id].reshape(3, 3).copy()
        if plans:
            torso_R = _toward_matrix(torso_R, torso_q, weight[t])
        for task, X in zip(feet, feet_T):
            task.set_target(X)
        torso.set_target(mink.SE3.from_rotation_and_translation(
            mink.SO3.from_matrix(torso_R), np.zeros(3)))
        com.set_target(com_goal)
        if plans:
            post = qref[t].copy()
            post[body_adr] = seated_posture(motion.joint_names, qref[t][body_adr],
                                            plans[s].lean_rad[t], weight[t])
            posture.set_target(post)
        else:
            posture.set_target(qref[t])
        start = (prev if prev is not None else qref[t]).copy()
        start[0:2] = xy_goal if prev is None else start[0:2]
        cfgn.update(start)
        pelvis_z = qref[t][2] + want
        target_contact = z0 + want
        passes = cfg.passes
        first = plans[s].descent[0] if plans else 0
        if plans and first <= t < seated_from[s] and seated_target[s] is not None:
            # the descent: the pelvis from its height where the person began to sit down to the
            # seated height, on the plan's weight (not on the person's own descent)
            pelvis_z = qref[first][2] + weight[t] * (seated_target[s] - qref[first][2])
            passes = 1
        for _ in range(passes):
            pelvis.set_target(mink.SE3.from_rotation_and_translation(
                mink.SO3(wxyz=pelvis_q), np.array([*xy_goal, pelvis_z])))
            for _ in range(cfg.iterations):
                v = mink.solve_ik(cfgn, tasks, 1.0, "daqp", damping=cfg.damping, limits=limits)
                cfgn.integrate_inplace(v, 1.0)
                if np.linalg.norm(v) < 1e-5:
                    break
            d.qpos[:] = cfgn.q
            mujoco.mj_kinematics(m, d)
            err = contact.z(d, seat) - target_contact
            if abs(err) < 2e-3:
                break
            pelvis_z -= err
        if plans and t == seated_from[s]:
            seated_target[s] = pelvis_z
        qout[t] = cfgn.q
        prev = cfgn.q.copy()
        d.qpos[:] = qout[t]
        mujoco.mj_kinematics(m, d)
        contact_z[t] = contact.z(d, seat)
        target_z[t] = target_contact
        feet_err[t] = float(np.linalg.norm(d.xpos[feet_ids] - feet_goal, axis=1).max())
        drop[t] = qref[t][2] - qout[t][2]
        solved[t] = True
    if not solved.any():
        res = ContactRefResult(motion, weight, drop, contact_z, target_z, feet_err)
        logger.info("seat-contact reference: %s", res.summary())
        return res
    out = motion_from_qpos(robot, motion, qout,
                           f"{motion.source} (seat contact: pelvis lowered onto the seat)")
    res = ContactRefResult(out, weight, drop, contact_z, target_z, feet_err)
    logger.info("seat-contact reference: %s", res.summary())
    return res


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
    tracker alone often falls where the filter does not): the first finalist whose seat
    succeeds (no fall, seated at least :data:`~exoactor.scene.score.SEATED_MIN_FRACTION` of the
    phase) is used, else the best of the finalists and the baseline, all filtered. The tracker
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
    index, trial, scene, motion) seated longest run through the physics filter (see there)."""
    from exoactor.scene.place import _filter_trial, finalist_score, placement_score
    from exoactor.scene.score import SEATED_MIN_FRACTION

    ranked = sorted(tried, key=lambda x: (finalist_score(x[2]), x[1]))[:n]
    baseline = tried[0]
    done = []
    for _, _, trial, scene, mot in ranked + ([baseline] if baseline not in ranked else []):
        seat = [o for o in scene.objects if o.kind == "seat" and o.evidence][0]
        t = _filter_trial(mot, scene, seat, track, filter_config, f"filtered: {trial.label}")
        logger.info("seat pose %s", t.summary())
        done.append((placement_score(t), len(done), t, scene, mot))
        if not t.fell and t.seated_fraction >= SEATED_MIN_FRACTION:
            break
    best = min(done, key=lambda x: (x[0], x[1]))
    if not (not best[2].fell and best[2].seated_fraction >= SEATED_MIN_FRACTION):
        base = [d for d in done if d[4] is baseline[4] and d[3] is baseline[3]]
        if base and best[0] >= base[0][0]:
            best = base[0]
    filtered = "; ".join(d[2].summary() for d in done)
    used = best[4] is not motion
    note = (f"{'used' if used else 'not used'}: {best[2].summary()} ({len(done)} filtered: "
            f"{filtered}; tracker rollouts, {len(tried)} tried: {figures})")
    logger.info("seat-contact reference %s", note)
    return best[3], best[4], note


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
