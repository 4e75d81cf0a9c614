"""Interaction metrics of a rollout in a scene, and a kinematic penetration check.

:func:`interaction_metrics` replays a recorded rollout (``rollout.npz``: qpos, qvel and the PD
targets at the control rate) in the tracking model with the scene's objects: at every recorded
step ``mj_forward`` with the recorded state and targets gives the contact forces, so the figures
come from the same physics the run used (the constraint solver's answer for that state; the
vertical component of the summed world-frame contact force on the robot, so squeezing forces
that cancel do not count as carried weight). Per
object, over its evidence phase (motion frames → clip time; steps after a fall do not count):

- seat: ``seated_fraction`` = share of the phase's steps whose seat contact force carries at
  least :data:`SEATED_LOAD` of the robot's weight; ``mean_load_fraction``; succeeded when the
  robot did not fall and ``seated_fraction`` ≥ :data:`SEATED_MIN_FRACTION`.
- table: ``hand_distance_m`` = closest approach of a hand to the top over the phase;
  ``contact_fraction``; succeeded when a hand came within :data:`REACH_M`. A table that is a
  box's support (its top at the box's bottom, the box's centre over it: what
  :func:`exoactor.scene.infer.find_boxes` puts under a box grasped above the floor) is not
  something to touch: ``support_of`` names the box and nothing is asked of it.
- box: ``hand_distance_m`` for each hand (closest approach of the hand's collision surface, its
  forearm and wrist, :data:`exoactor.scene.infer.HAND_COLLISION_BODIES`, which holds the box
  in the physics and whose gap sized it; 0 in contact), ``lift_m`` = highest rise of the box centre,
  ``held_s`` = time it stayed ≥ :data:`LIFTED_M` up; succeeded when both hands reached it and
  it was lifted.
- table and box, when the rollout recorded its reference motion (``ref_*``: the motion given
  to the track stage, before any change the physics filter made to it):
  ``reference_hand_distance_m``, the same closest approach for the hands of that motion
  (forward kinematics, the object where the scene put it). It tells the two failures apart:
  an object the reference's hands do not reach is misplaced; one they reach while the robot's
  do not was not tracked (the robot was elsewhere: drift, a fall, a filter that stood instead).

A run's interactions succeed when every object's do (``metrics.json`` → ``interaction``).
"""

from __future__ import annotations

import threading

import numpy as np

from exoactor.control.scene_objects import SEATED_LOAD
from exoactor.formats.scene import Scene, SceneObject
from exoactor.rotations import yaw_matrix

SEATED_MIN_FRACTION = 0.5
"""Share of the seated phase the robot must be seated for the seat interaction to succeed."""
REACH_M = 0.05
"""A hand within this distance of an object's surface has reached it [m]."""
LIFTED_M = 0.05
"""A box whose centre rose this much is lifted [m]."""
HAND_BODIES = ("left_rubber_hand", "right_rubber_hand")


def hand_surfaces(model) -> list[tuple[list[int], dict[int, np.ndarray]]] | None:
    """Per hand (left, right): its collision geoms and their convex-hull points in each geom's
    frame; None when a hand has none (the box distance then uses :data:`HAND_BODIES`)."""
    from exoactor.scene.infer import HAND_COLLISION_BODIES, hull_points

    out = []
    for side in HAND_COLLISION_BODIES:
        geoms = [g for g in range(model.ngeom) if model.body(model.geom_bodyid[g]).name in side
                 and (model.geom_contype[g] or model.geom_conaffinity[g])]
        if not geoms:
            return None
        out.append((geoms, {g: hull_points(model, g) for g in geoms}))
    return out


def _surface_points(surfaces, data) -> list[np.ndarray]:
    """Per hand, ``(H, 3)`` world points of its collision surface at ``data``'s pose [m]."""
    return [np.concatenate([pts[g] @ data.geom_xmat[g].reshape(3, 3).T + data.geom_xpos[g]
                            for g in geoms]) for geoms, pts in surfaces]


def point_box_distance(points_w: np.ndarray, obj: SceneObject) -> np.ndarray:
    """``(...,)`` distance of ``(..., 3)`` world points to the surface of a box at its scene pose
    (0 inside)."""
    return point_box_distance_at(points_w, np.asarray(obj.pose.pos, float), obj.pose.yaw_rad,
                                 np.asarray(obj.size, float))


def point_box_distance_at(points_w: np.ndarray, centre: np.ndarray, yaw_rad: float,
                          size: np.ndarray, rot_w: np.ndarray | None = None) -> np.ndarray:
    """As :func:`point_box_distance` for a box of ``size`` at ``centre`` turned by ``yaw_rad``
    (or by the full rotation matrix ``rot_w`` when given)."""
    p = np.atleast_2d(points_w) - centre
    if rot_w is None:
        rot_w = yaw_matrix(yaw_rad)
    local = p @ rot_w
    excess = np.maximum(np.abs(local) - np.asarray(size) / 2, 0.0)
    return np.linalg.norm(excess, axis=-1)


_MODELS: dict = {}
_MODELS_LOCK = threading.Lock()
_MODELS_MAX = 32


def _tracking_model(robot_name: str, scene: Scene):
    """The robot and the tracking model with ``scene``'s objects, compiled once per (robot,
    objects) and shared: it is only read here (each caller makes its own ``MjData``), and the
    searches score dozens of rollouts in a handful of scenes."""
    key = (robot_name, tuple(o.model_dump_json() for o in scene.objects))
    with _MODELS_LOCK:
        hit = _MODELS.get(key)
    if hit is not None:
        return hit
    out = _build_tracking_model(robot_name, scene)
    with _MODELS_LOCK:
        if len(_MODELS) >= _MODELS_MAX:
            _MODELS.pop(next(iter(_MODELS)))
        _MODELS[key] = out
    return out


def _build_tracking_model(robot_name: str, scene: Scene):
    from exoactor.control.hands import HandConfig, hand_joint_names
    from exoactor.control.sim import JointGroup, build_pd_model
    from exoactor.control.twist2 import TWIST2_JOINTS, sim2sim_gains
    from exoactor.robots import get_robot

    robot = get_robot(robot_name)
    jidx = {n: i for i, n in enumerate(robot.joint_names)}
    body_idx = np.array([jidx[n] for n in TWIST2_JOINTS])
    g = sim2sim_gains(TWIST2_JOINTS)
    groups = [JointGroup(TWIST2_JOINTS, g.kp, g.kd,
                         np.minimum(g.torque_limit_nm, robot.torque_limits[body_idx]))]
    hand_names = hand_joint_names(robot.joint_names) if robot.spec.hand_joint_count else ()
    if hand_names:
        hc = HandConfig()
        hidx = np.array([jidx[n] for n in hand_names])
        groups.append(JointGroup(hand_names, np.full(len(hidx), hc.kp), np.full(len(hidx), hc.kd),
                                 robot.torque_limits[hidx]))
    return robot, build_pd_model(robot.mjcf_path, groups, scene)


def _phase_steps(obj: SceneObject, clip_t: np.ndarray, fps: float, dropped: int,
                 valid: np.ndarray) -> np.ndarray:
    return obj.evidence_mask(clip_t, fps, dropped) & valid


def interaction_metrics(rollout, scene: Scene, *, fps: float | None = None,
                        dropped_frames: int = 0, fall_time_s: float | None = None) -> dict:
    """Score the objects of ``scene`` in ``rollout`` (see the module).

    Args:
        rollout: the recorded run (:class:`~exoactor.formats.motion.Rollout`), recorded on the
            model with the scene's objects.
        scene: the objects (their ``evidence`` frames are motion frames).
        fps: the motion's frame rate (default: ``scene.fps``).
        dropped_frames: leading motion frames the streamer dropped (clip time 0 is that frame).
        fall_time_s: clip time of a fall (later steps are not scored).

    Returns:
        ``{"succeeded": bool, "failures": [...], "objects": [{kind, name, ...figures}]}``.
    """
    import mujoco

    from exoactor.control.scene_objects import ObjectLoads

    fps = fps or scene.fps or 30.0
    robot, model = _tracking_model(rollout.robot, scene)
    if rollout.qpos.shape[1] != model.nq:
        from exoactor.errors import ExoActorError

        raise ExoActorError(f"{rollout.source}: rollout qpos has {rollout.qpos.shape[1]} entries, "
                            f"the model with this scene has {model.nq}; was it recorded with a "
                            "different scene.json? Re-run the track stage")
    data = mujoco.MjData(model)
    loads = ObjectLoads(model)
    geoms = loads.geoms
    weight = loads.weight_n
    hand_ids = [model.body(h).id for h in HAND_BODIES]
    surfaces = hand_surfaces(model)
    ref_hands = _reference_hands(rollout, robot)
    clip_t = rollout.ref_time_s if rollout.ref_time_s is not None else rollout.time_s
    valid = np.ones(len(clip_t), bool) if fall_time_s is None else clip_t <= fall_time_s + 1e-9
    n_obj = len(scene.objects)
    force = np.zeros((len(clip_t), n_obj))
    hand_pos = np.zeros((len(clip_t), 2, 3))
    obj_pos = np.zeros((len(clip_t), n_obj, 3))
    obj_rot = np.zeros((len(clip_t), n_obj, 3, 3))
    box_dist = np.full((len(clip_t), n_obj, 2), np.inf)   # hands' surfaces to each box
    boxes = [i for i, o in enumerate(scene.objects) if o.kind == "box"]  # hands' surfaces: boxes
    nu = model.nu
    for k in range(len(clip_t)):
        data.qpos[:] = rollout.qpos[k]
        data.qvel[:] = rollout.qvel[k]
        data.ctrl[:] = rollout.target[k][:nu]
        mujoco.mj_forward(model, data)
        force[k] = loads.forces_n(data)
        hand_pos[k] = data.xpos[hand_ids]
        obj_pos[k] = data.geom_xpos[geoms]
        obj_rot[k] = data.geom_xmat[geoms].reshape(-1, 3, 3)
        if not boxes:
            continue
        hands_w = (_surface_points(surfaces, data) if surfaces is not None
                   else [hand_pos[k, h][None] for h in range(2)])
        for i in boxes:
            obj = scene.objects[i]
            box_dist[k, i] = [point_box_distance_at(p, obj_pos[k, i], 0.0,
                                                        np.asarray(obj.size, float),
                                                        obj_rot[k, i]).min() for p in hands_w]
    out, failures = [], []
    for i, obj in enumerate(scene.objects):
        sel = _phase_steps(obj, clip_t, fps, dropped_frames, valid)
        size = np.asarray(obj.size, float)
        rec = {"kind": obj.kind, "name": obj.name, "phase_steps": int(sel.sum())}
        support = _support_of(obj, scene) if obj.kind == "table" else None
        ref_d = None
        if ref_hands is not None and obj.kind != "seat" and support is None:
            pts = ref_hands[1] if obj.kind == "box" else ref_hands[0][:, :, None]
            ref_d = (np.stack([point_box_distance(pts[sel, h], obj).min(axis=-1)
                               for h in range(2)], 1).min(axis=0)
                     if sel.any() else np.array([np.inf, np.inf]))
            rec["reference_hand_distance_m"] = (float(ref_d.min()) if obj.kind == "table"
                                                else [float(x) for x in ref_d])
        ref_note = ("" if ref_d is None else "; the reference motion's hands: "
                    + ("/".join(f"{x:.2f}" for x in ref_d) if obj.kind != "table"
                       else f"{ref_d.min():.2f}") + " m")
        if obj.kind == "seat":
            load = force[:, i] / weight
            frac = float(np.mean(load[sel] >= SEATED_LOAD)) if sel.any() else 0.0
            ok = fall_time_s is None and frac >= SEATED_MIN_FRACTION
            rec.update(seated_fraction=frac,
                       mean_load_fraction=float(load[sel].mean()) if sel.any() else 0.0,
                       max_load_fraction=float(load[valid].max()) if valid.any() else 0.0)
            if not ok:
                failures.append(f"seat {obj.name or i}: seated {100 * frac:.0f} % of the sitting "
                                f"phase (at least {100 * SEATED_MIN_FRACTION:.0f} % needed"
                                + (", and the robot fell)" if fall_time_s is not None else ")"))
        elif support is not None:
            ok = True
            rec["support_of"] = support
        elif obj.kind == "table":
            dist = np.array([[point_box_distance_at(hand_pos[k, h], obj_pos[k, i], 0.0, size,
                                                    obj_rot[k, i])[0] for h in range(2)]
                             for k in np.flatnonzero(sel)])
            d = float(dist.min()) if sel.any() else float("inf")
            ok = d <= REACH_M
            rec.update(hand_distance_m=d, contact_fraction=float(np.mean(np.abs(force[sel, i]) > 1.0))
                       if sel.any() else 0.0)
            if not ok:
                failures.append(f"table {obj.name or i}: closest hand {d:.2f} m (reach "
                                f"{REACH_M:.2f} m{ref_note})")
        else:
            d = box_dist[sel, i].min(axis=0) if sel.any() else np.array([np.inf, np.inf])
            z0 = obj_pos[0, i, 2]
            rise = obj_pos[valid, i, 2] - z0 if valid.any() else np.zeros(1)
            held = float(np.sum(rise >= LIFTED_M) / rollout.fps)
            reached = bool(np.all(d <= REACH_M))
            lifted = bool(rise.max() >= LIFTED_M)
            ok = reached and lifted
            rec.update(hand_distance_m=[float(x) for x in d], lift_m=float(rise.max()),
                       held_s=held, reached=reached, lifted=lifted)
            if not ok:
                failures.append(f"box {obj.name or i}: hands {d[0]:.2f}/{d[1]:.2f} m from it, "
                                f"lifted {rise.max():.2f} m (needs both hands within "
                                f"{REACH_M:.2f} m and {LIFTED_M:.2f} m lift{ref_note})")
        rec["succeeded"] = bool(ok)
        out.append(rec)
    return {"succeeded": not failures, "failures": failures, "objects": out}


def _support_of(table: SceneObject, scene: Scene) -> int | None:
    """Index of the box ``table`` holds up (its top within 1 cm of the box's bottom as placed,
    the box's centre over its top), or None."""
    for i, o in enumerate(scene.objects):
        if o.kind != "box":
            continue
        bottom = o.pose.pos[2] - o.size[2] / 2
        over = point_box_distance(np.array([[o.pose.pos[0], o.pose.pos[1], table.top_z]]),
                                  table)[0] < 1e-6
        if abs(bottom - table.top_z) <= 0.01 and over:
            return i
    return None


def _reference_hands(rollout, robot) -> tuple[np.ndarray, np.ndarray] | None:
    """The hands of the rollout's reference motion (its ``ref_root_pos``, ``ref_root_quat``,
    ``ref_dof_pos``): ``(T, 2, 3)`` hand body positions and ``(T, 2, H, 3)`` points of the
    hands' collision surfaces (the positions, ``H = 1``, when the hands have none) [m]; None
    when the rollout did not record it."""
    import mujoco

    if rollout.ref_root_pos is None or rollout.ref_root_quat is None \
            or rollout.ref_dof_pos is None or rollout.ref_dof_pos.shape[1] != len(robot.body_idx):
        return None
    m = robot.model
    data = mujoco.MjData(m)
    ids = [m.body(h).id for h in HAND_BODIES]
    surfaces = hand_surfaces(m)
    adr = robot.qpos_adr[robot.body_idx]
    out = np.empty((rollout.num_frames, 2, 3))
    pts = []
    for k in range(rollout.num_frames):
        data.qpos[:] = m.qpos0
        data.qpos[0:3] = rollout.ref_root_pos[k]
        data.qpos[3:7] = rollout.ref_root_quat[k]
        data.qpos[adr] = rollout.ref_dof_pos[k]
        mujoco.mj_kinematics(m, data)
        out[k] = data.xpos[ids]
        if surfaces is not None:
            sides = _surface_points(surfaces, data)
            n = max(len(p) for p in sides)                  # pad with repeats: same shape
            pts.append(np.stack([np.concatenate([p, np.repeat(p[:1], n - len(p), 0)])
                                 for p in sides]))
    return out, (np.array(pts) if surfaces is not None else out[:, :, None])


def penetration_m(motion, scene: Scene, robot=None, bodies: str = "all") -> np.ndarray:
    """``(T, n_objects)`` deepest penetration of the motion's robot (kinematic replay, collision
    geoms' convex hulls; ``bodies="legs"``: shanks and feet only) into each fixed object [m]
    (0 = none)."""
    import mujoco

    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos
    from exoactor.scene.infer import LEG_BODIES, hull_points

    robot = robot or get_robot("g1")
    m = robot.model
    d = mujoco.MjData(m)
    qpos = motion_qpos(robot, motion)
    collide = [g for g in range(m.ngeom) if (m.geom_contype[g] or m.geom_conaffinity[g])
               and m.geom_bodyid[g] > 0
               and (bodies == "all" or m.body(m.geom_bodyid[g]).name in LEG_BODIES)]
    pts = {g: hull_points(m, g) for g in collide}
    out = np.zeros((len(qpos), len(scene.objects)))
    for t in range(len(qpos)):
        d.qpos[:] = qpos[t]
        mujoco.mj_kinematics(m, d)
        world = np.concatenate([pts[g] @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g]
                                for g in collide])
        for i, obj in enumerate(scene.objects):
            if not obj.fixed:
                continue
            local = (world - np.asarray(obj.pose.pos)) @ yaw_matrix(obj.pose.yaw_rad)
            inside = np.asarray(obj.size) / 2 - np.abs(local)
            depth = inside.min(axis=1)
            out[t, i] = max(0.0, float(depth.max()))
    return out


def interaction_columns(metrics: dict) -> dict[str, str]:
    """Table cells of a run's interactions from its ``metrics.json`` (for benchmark tables):
    ``objects`` (kinds inferred), ``seated`` (% of the sitting phase), ``reached`` (the hand
    distance that decides [m], worst object: a table's closest hand, a box's farther hand, since
    both must hold it), ``lifted`` (box rise [m]), ``interaction`` (ok / failed / left out / -; "left
    out": the objects made the robot fall and the run without them was kept)."""
    inter = metrics.get("interaction")
    if not isinstance(inter, dict):
        return {"objects": "-", "seated": "-", "reached": "-", "lifted": "-", "interaction": "-"}
    if inter.get("kept_without_objects"):
        cells = interaction_columns({"interaction": inter.get("with_objects") or {}})
        return {**cells, "objects": f"left out ({cells['objects']})", "interaction": "left out"}
    objs = inter.get("objects", [])
    seats = [o for o in objs if o.get("kind") == "seat"]
    reach = [(max if o.get("kind") == "box" else min)(np.atleast_1d(o["hand_distance_m"]))
             for o in objs if o.get("kind") != "seat" and len(np.atleast_1d(
                 o.get("hand_distance_m", [])))]
    lifts = [o.get("lift_m", 0.0) for o in objs if o.get("kind") == "box"]
    return {
        "objects": ", ".join(o.get("kind", "?") for o in objs) or "none",
        "seated": ", ".join(f"{100 * o.get('seated_fraction', 0.0):.0f} %" for o in seats) or "-",
        "reached": f"{max(reach):.2f} m" if reach else "-",
        "lifted": ", ".join(f"{x:.2f} m" for x in lifts) or "-",
        "interaction": "ok" if inter.get("succeeded") else "failed",
    }
