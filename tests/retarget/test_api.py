"""The stage's files, hands, self-collision and wrist orientation, and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from exoactor.formats import load_motion, save_npz
from exoactor.retarget import METRICS_FILE, RetargetConfig, retarget, retarget_file
from exoactor.skeleton import HAND_21

REQUIRED_METRICS = ("joint_limit_violations", "foot_skate_mm", "foot_penetration_mm",
                    "foot_float_mm", "self_collisions", "keypoint_error_mm", "frames_per_second")


def test_retarget_file_writes_motion_and_metrics(walk_human, tmp_path) -> None:
    human = tmp_path / "human.npz"
    save_npz(walk_human, human)
    out = tmp_path / "run" / "robot.npz"
    res = retarget_file(human, out, RetargetConfig())
    motion = load_motion(out, robot="g1")
    assert motion.fps == 50.0 and motion.num_frames == res.motion.num_frames
    assert motion.hand_dof is None
    metrics = json.loads((out.parent / METRICS_FILE).read_text())
    for key in REQUIRED_METRICS:
        assert key in metrics
    assert set(metrics["keypoint_error_mm"]) >= {"median", "p95"}
    assert metrics["config"]["robot"] == "g1" and metrics["status"] == "ok"


def _hand_keypoints(wrist_w: np.ndarray, R_w: np.ndarray, bend: float) -> np.ndarray:
    """``(T, 21, 3)`` hand keypoints whose palm frame is ``R_w`` and fingers bent by ``bend``."""
    x, z = R_w[:, :, 0], R_w[:, :, 2]
    n = -R_w[:, :, 1]
    h = np.zeros((len(wrist_w), 21, 3))
    h[:, HAND_21.index("wrist")] = wrist_w
    for f, lat in {"index": 0.02, "middle": 0.0, "ring": -0.02, "pinky": -0.04}.items():
        p, d = wrist_w + 0.09 * x + lat * z, x
        h[:, HAND_21.index(f"{f}_mcp")] = p
        for i, part in enumerate(("pip", "dip", "tip")):
            ang = bend * (i + 1)
            d = np.cos(ang) * x + np.sin(ang) * n
            p = p + 0.03 * d
            h[:, HAND_21.index(f"{f}_{part}")] = p
    for i, part in enumerate(("cmc", "mcp", "ip", "tip")):
        h[:, HAND_21.index(f"thumb_{part}")] = wrist_w + 0.025 * (i + 1) * (x + z)
    return h


def test_hands_and_wrist_orientation_from_hand_keypoints(walk_human, rmodel) -> None:
    """A vertical grasp seen in the hand keypoints (palm rolled 70 deg from the body estimate)
    turns the robot's wrist, and closes the Dex3-1 fingers."""
    from scipy.spatial.transform import Rotation

    base = retarget(walk_human, RetargetConfig(output_fps=None))
    q = base.motion
    import mujoco

    from exoactor.robots.kinematics import motion_qpos

    data = mujoco.MjData(rmodel.model)
    hb = rmodel.hand_body_ids
    T = q.num_frames
    wrist = np.empty((T, 2, 3))
    R_hand = np.empty((T, 2, 3, 3))
    for t, qp in enumerate(motion_qpos(rmodel.robot, q)):
        data.qpos[:] = qp
        mujoco.mj_kinematics(rmodel.model, data)
        wrist[t] = data.xpos[hb]
        R_hand[t] = data.xmat[hb].reshape(2, 3, 3)
    roll = Rotation.from_rotvec([1.2, 0, 0]).as_matrix()   # about the hand's own x axis
    R_target = R_hand @ roll
    kp = np.stack([_hand_keypoints(wrist[:, i], R_target[:, i], 0.45) for i in range(2)], 1)
    human = walk_human.replace(hand_keypoints=kp, hand_confidence=np.ones((T, 2)),
                               grasp=np.zeros((T, 2)))
    res = retarget(human, RetargetConfig(output_fps=None, hands=True))
    assert res.motion.robot == "g1_hands" and res.motion.hand_dof.shape == (T, 14)
    assert res.metrics.extras["hand_keypoint_frames"] == 2 * T
    closed = np.abs(res.motion.hand_dof).max(axis=0)
    assert closed.sum() > 3.0  # fingers bent (grasp said 0: keypoints win)
    R_out = np.empty_like(R_hand)
    for t, qp in enumerate(motion_qpos(rmodel.robot, res.motion.replace(hand_dof=None,
                                                                        robot="g1"))):
        data.qpos[:] = qp
        mujoco.mj_kinematics(rmodel.model, data)
        R_out[t] = data.xmat[hb].reshape(2, 3, 3)
    angle = np.linalg.norm(Rotation.from_matrix(
        (R_out.transpose(0, 1, 3, 2) @ R_target).reshape(-1, 3, 3)).as_rotvec(), axis=1)
    assert np.median(angle) < 0.15, np.degrees(np.median(angle))
    assert res.metrics.joint_limit_violations == 0


def test_arms_are_kept_out_of_the_body(walk_human, rmodel) -> None:
    """Hands asked to pass through the pelvis stop at the margin (and go through without the
    collision limit)."""
    j = walk_human.joints.copy()
    names = walk_human.joint_names
    hip_c = 0.5 * (j[:, names.index("left_hip")] + j[:, names.index("right_hip")])
    for side, dy in (("left", 0.02), ("right", -0.02)):
        shift = hip_c + [0.05, dy, 0.05] - j[:, names.index(f"{side}_wrist")]
        for part in ("wrist", "index", "pinky", "thumb"):
            j[:, names.index(f"{side}_{part}")] += shift
    human = walk_human.replace(joints=j)
    on = retarget(human, RetargetConfig(output_fps=None))
    off = retarget(human, RetargetConfig(output_fps=None, self_collision=False))
    assert off.metrics.self_collisions > 0
    assert on.metrics.self_collisions == 0


def _arm_arm_distance_m(rmodel, motion) -> float:
    """Smallest distance [m] between a left-arm and a right-arm collision geom over ``motion``."""
    import mujoco

    from exoactor.robots.kinematics import motion_qpos

    m = rmodel.model
    geoms = [g for g in range(m.ngeom) if m.geom_contype[g] or m.geom_conaffinity[g]]
    side = {s: [g for g in geoms if m.body(m.geom_bodyid[g]).name.startswith(s)
                and any(p in m.body(m.geom_bodyid[g]).name for p in ("elbow", "wrist"))]
            for s in ("left_", "right_")}
    data = mujoco.MjData(m)
    fromto = np.zeros(6)
    best = 0.1
    for qp in motion_qpos(rmodel.robot, motion):
        data.qpos[:] = qp
        mujoco.mj_kinematics(m, data)
        for a in side["left_"]:
            for b in side["right_"]:
                best = min(best, mujoco.mj_geomDistance(m, data, a, b, 0.1, fromto))
    return best


def test_arms_are_kept_out_of_each_other(walk_human, rmodel) -> None:
    """Both hands asked to the same point in front of the chest (arms folding or clapping) stop
    short of each other instead of passing through: the physics robot's arms collide."""
    j = walk_human.joints.copy()
    names = walk_human.joint_names
    hip_c = 0.5 * (j[:, names.index("left_hip")] + j[:, names.index("right_hip")])
    forward = j[:, names.index("left_hip")] - j[:, names.index("right_hip")]
    forward = np.stack([forward[:, 1], -forward[:, 0], 0 * forward[:, 2]], axis=1)
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    meet = hip_c + 0.28 * forward + [0.0, 0.0, 0.3]
    for side in ("left", "right"):
        shift = meet - j[:, names.index(f"{side}_wrist")]
        for part in ("wrist", "index", "pinky", "thumb"):
            j[:, names.index(f"{side}_{part}")] += shift
        j[:, names.index(f"{side}_elbow")] += 0.5 * shift
    human = walk_human.replace(joints=j)
    on = retarget(human, RetargetConfig(output_fps=None))
    off = retarget(human, RetargetConfig(output_fps=None, self_collision=False))
    assert _arm_arm_distance_m(rmodel, off.motion) < -0.01
    assert _arm_arm_distance_m(rmodel, on.motion) > -0.002
    assert on.metrics.self_collisions == 0
    assert off.metrics.self_collisions > 0


def test_import_loads_no_mujoco_or_mink() -> None:
    code = ("import sys, exoactor.retarget as r; r.RetargetConfig; "
            "print(sorted(m for m in ('mujoco', 'mink', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_config_is_frozen_and_strict() -> None:
    from pydantic import ValidationError

    cfg = RetargetConfig()
    with pytest.raises(ValidationError, match="frozen"):
        cfg.iterations_per_frame = 3  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        RetargetConfig(iterations=3)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="greater than 0"):
        RetargetConfig(output_fps=-1)
