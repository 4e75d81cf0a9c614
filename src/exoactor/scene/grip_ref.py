"""Grip on the robot reference: press the hands into a carried box's sides while they hold it.

A carried box is inferred with its width equal to the gap between the reference hands' collision
surfaces at the grasp (:func:`exoactor.scene.infer.grip_gap`): the reference's hands touch its
sides and no more. A tracker that follows them exactly then presses on the box with no force,
and friction has nothing to carry its weight with: measured on a standing G1 under TWIST2 that
reaches forward, holds an inferred 1.75 kg box and raises its hands 0.2 m, both hands were on
the box (0.00/0.00 m) and it rose 0.002 m (``tests/scene/test_grip_ref.py``). A person holds a
box by squeezing it; the squeeze is what this step adds to the *reference*:

- per carried box, the grasp is the hold's lowest frame of the hands' midpoint (the rule that
  placed the box, :func:`exoactor.scene.infer.find_boxes`); from there to the last frame of the
  box's evidence window each hand's target is moved ``squeeze_m`` toward the other hand (along
  the line between them at that frame: the box's width axis, wherever it has been carried),
  ramped in over ``ramp_s`` after the grasp (the hands first reach the sides, then press) and
  out over ``ramp_s`` after the window;
- each frame with a non-zero weight is re-solved by differential IK with mink (as
  :mod:`exoactor.scene.contact_ref`): the hands at their squeezed positions, the feet, pelvis
  and torso held at their reference poses, the joints near the reference's, so only the arms
  move.

The result is a new motion; the input is not changed, and a scene without a carried box returns
the input itself. The objects stage applies it after the seat-contact reference and writes the
result as ``seated_motion.npz`` (the reference the track stage follows with the objects).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.formats.motion import RobotMotion
from exoactor.formats.scene import Scene, SceneObject
from exoactor.scene.config import GripRefConfig
from exoactor.signals import smoothstep

logger = logging.getLogger(__name__)

HAND_BODIES = ("left_rubber_hand", "right_rubber_hand")
"""The hands whose positions are squeezed (the key bodies the tracker follows)."""
HELD_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link", "pelvis", "torso_link")
"""Bodies held at their reference pose while the hands are squeezed."""


@dataclass(frozen=True)
class GripRefResult:
    """A squeezed reference and what was done.

    Attributes:
        motion: the adjusted motion (the input's when nothing was adjusted).
        weight: ``(T,)`` share of ``squeeze_m`` asked of each frame, in [0, 1].
        squeeze_m: ``(T,)`` how far the hands went toward each other, the mean of the two
            hands' moves along the line between them [m] (0 off the windows).
        held_err_m: ``(T,)`` largest position change of the feet, pelvis and torso [m].
        grasp_frames: the grasp frame of each carried box.
    """

    motion: RobotMotion
    weight: np.ndarray
    squeeze_m: np.ndarray
    held_err_m: np.ndarray
    grasp_frames: tuple[int, ...]

    def summary(self) -> str:
        if not (self.weight > 0).any():
            return "reference unchanged (no carried box)"
        on = self.weight > 0.999
        sq = self.squeeze_m[on] if on.any() else self.squeeze_m[self.weight > 0]
        return (f"{int((self.weight > 0).sum())} frames squeezed from grasp frame(s) "
                f"{list(self.grasp_frames)}; hands moved inward {sq.min():.3f}-{sq.max():.3f} m "
                f"at full weight; feet, pelvis and torso off their reference at most "
                f"{self.held_err_m.max() * 1000:.1f} mm")


def grasp_frame(hands_w: np.ndarray, box: SceneObject) -> int:
    """The grasp of ``box``: the frame of its (first) evidence window where the hands'
    midpoint is lowest (``hands_w``: ``(T, 2, 3)`` world positions of the left and right
    hand), as :func:`exoactor.scene.infer.find_boxes` places the box."""
    a, b = box.evidence[0]
    a, b = max(0, int(a)), min(len(hands_w) - 1, int(b))
    mid_z = hands_w[a:b + 1].mean(axis=1)[:, 2]
    return a + int(np.argmin(mid_z))


def squeeze_weight(n: int, grasp: int, last: int, fps: float, ramp_s: float) -> np.ndarray:
    """``(n,)`` weight: 0 up to ``grasp``, a smooth-step ramp to 1 over ``ramp_s`` after it, 1
    up to ``last``, a ramp back to 0 over ``ramp_s`` after it."""
    t = np.arange(n) / fps
    ta, tb = grasp / fps, last / fps
    if ramp_s > 0:
        up = smoothstep((t - ta) / ramp_s)
        down = 1.0 - smoothstep((t - tb) / ramp_s)
    else:
        up = (t >= ta).astype(float)
        down = (t <= tb).astype(float)
    return np.clip(np.minimum(up, down), 0.0, 1.0) * (t >= ta)


def squeeze_targets(hands_w: np.ndarray, share_m: np.ndarray) -> np.ndarray:
    """``(T, 2, 3)`` hand targets: each hand of ``hands_w`` moved ``share_m`` (``(T,)``) toward
    the other along the line between them (hands closer than twice the move meet midway)."""
    d = hands_w[:, 1] - hands_w[:, 0]
    dist = np.linalg.norm(d, axis=1)
    u = d / np.maximum(dist, 1e-9)[:, None]
    move = np.minimum(share_m, dist / 2)[:, None]
    out = hands_w.copy()
    out[:, 0] += u * move
    out[:, 1] -= u * move
    return out


def squeeze_for_boxes(motion: RobotMotion, scene: Scene, config: GripRefConfig | None = None,
                      robot=None) -> GripRefResult:
    """Press the reference's hands into ``scene``'s carried boxes while they hold them (see the
    module). Pure: returns a new motion, or ``motion`` itself when there is nothing to do."""
    import mujoco

    from exoactor.mink_loader import import_mink
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_from_qpos, motion_qpos

    cfg = config or GripRefConfig()
    robot = robot or get_robot(motion.robot)
    T = motion.num_frames
    boxes = [o for o in scene.objects if o.kind == "box" and o.evidence]
    if not cfg.enabled or cfg.squeeze_m <= 0.0 or not boxes:
        return GripRefResult(motion, np.zeros(T), np.zeros(T), np.zeros(T), ())
    m = robot.model
    d = mujoco.MjData(m)
    qref = motion_qpos(robot, motion)
    hand_ids = [m.body(b).id for b in HAND_BODIES]
    held_ids = [m.body(b).id for b in HELD_BODIES]
    hands_w = np.empty((T, 2, 3))
    for t in range(T):
        d.qpos[:] = qref[t]
        mujoco.mj_kinematics(m, d)
        hands_w[t] = d.xpos[hand_ids]
    grasps = tuple(grasp_frame(hands_w, b) for b in boxes)
    weight = np.max([squeeze_weight(T, g, min(T - 1, int(b.evidence[0][1])), motion.fps,
                                    cfg.ramp_s) for g, b in zip(grasps, boxes)], axis=0)
    if not (weight > 0).any():
        return GripRefResult(motion, weight, np.zeros(T), np.zeros(T), grasps)
    targets = squeeze_targets(hands_w, weight * cfg.squeeze_m)

    mink = import_mink()
    cfgn = mink.Configuration(m)
    hands = [mink.FrameTask(b, "body", position_cost=cfg.hand_cost, orientation_cost=0.0)
             for b in HAND_BODIES]
    held = [mink.FrameTask(b, "body", position_cost=cfg.body_cost,
                           orientation_cost=cfg.body_cost) for b in HELD_BODIES]
    posture = mink.PostureTask(m, cost=cfg.posture_cost)
    tasks = [*hands, *held, posture]
    limits = [mink.ConfigurationLimit(m)]
    qout = qref.copy()
    squeeze, held_err = np.zeros(T), np.zeros(T)
    for t in np.flatnonzero(weight > 0):
        d.qpos[:] = qref[t]
        mujoco.mj_kinematics(m, d)
        held_p = d.xpos[held_ids].copy()
        for task, i in zip(held, held_ids):
            task.set_target(mink.SE3.from_rotation_and_translation(
                mink.SO3.from_matrix(d.xmat[i].reshape(3, 3).copy()), d.xpos[i].copy()))
        for task, p in zip(hands, targets[t]):
            task.set_target(mink.SE3.from_rotation_and_translation(mink.SO3.identity(), p))
        posture.set_target(qref[t])
        cfgn.update(qref[t].copy())
        for _ in range(cfg.iterations):
            v = mink.solve_ik(cfgn, tasks, 1.0, "daqp", damping=cfg.damping, limits=limits)
            cfgn.integrate_inplace(v, 1.0)
            if np.linalg.norm(v) < 1e-5:
                break
        qout[t] = cfgn.q
        d.qpos[:] = qout[t]
        mujoco.mj_kinematics(m, d)
        u = hands_w[t, 1] - hands_w[t, 0]
        u = u / max(float(np.linalg.norm(u)), 1e-9)
        moved = d.xpos[hand_ids] - hands_w[t]
        squeeze[t] = 0.5 * float(moved[0] @ u - moved[1] @ u)
        held_err[t] = float(np.linalg.norm(d.xpos[held_ids] - held_p, axis=1).max())
    out = motion_from_qpos(robot, motion, qout, f"{motion.source} (grip: hands pressed into the carried box)")
    res = GripRefResult(out, weight, squeeze, held_err, grasps)
    logger.info("grip reference: %s", res.summary())
    return res


def boxes_digest(scene: Scene) -> str:
    """A digest of ``scene``'s carried boxes (pose, size, evidence), ``""`` without one: the
    grip reference is valid for the boxes it was made for only (``scene.json`` is the user's to
    edit)."""
    import hashlib
    import json

    boxes = [o.model_dump(include={"pose", "size", "evidence"}) for o in scene.objects
             if o.kind == "box"]
    if not boxes:
        return ""
    return hashlib.sha1(json.dumps(boxes, sort_keys=True).encode()).hexdigest()[:16]
