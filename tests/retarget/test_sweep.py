"""The IK sweep's arm restarts: a warm start stuck on a wrong arm branch is left for the branch
with the lower IK objective, without a jump in the output."""

from __future__ import annotations

import numpy as np
import pytest

# a left arm moving from A to B (joint order of RetargetModel.arm_qpos_adr: shoulder pitch, roll,
# yaw, elbow, wrist roll, pitch, yaw [rad]); warm-started frame by frame, the IK follows the
# targets to an arm 3 rad away from B whose keypoints miss theirs by ~9 cm
ARM_A = (-2.22, 0.26, 2.07, 0.28, 0.35, -1.54, 0.56)
ARM_B = (2.2, 1.59, 2.02, 1.03, -1.0, 0.87, -0.93)


@pytest.fixture(scope="module")
def arm_move(rmodel):
    """The human of a G1 standing in its default pose while the left arm goes A -> B (1 s at
    30 Hz), then holds B for 0.5 s; with the arm's joint indices in ``dof_pos``."""
    from exoactor.formats.motion import RobotMotion
    from exoactor.retarget import human_from_robot

    robot = rmodel.robot
    names = robot.body_joint_names
    arm = [names.index(n) for n in names
           if n.startswith("left_") and any(p in n for p in ("shoulder", "elbow", "wrist"))]
    T = 45
    dof = np.tile(rmodel.rest_qpos[robot.qpos_adr[robot.body_idx]], (T, 1))
    w = np.clip(np.arange(T) / 30.0, 0.0, 1.0)[:, None]
    dof[:, arm] = np.asarray(ARM_A) + w * (np.asarray(ARM_B) - np.asarray(ARM_A))
    motion = RobotMotion(robot="g1", fps=30.0, joint_names=tuple(names),
                         root_pos=np.tile(rmodel.rest_qpos[:3], (T, 1)),
                         root_quat=np.tile(rmodel.rest_qpos[3:7], (T, 1)), dof_pos=dof,
                         source="arm_move")
    return human_from_robot(motion, rmodel), arm


def test_arm_joints_are_each_hand_chain(rmodel):
    m = rmodel.model
    for side, prefix in enumerate(("left", "right")):
        names = [m.joint(j).name for j in range(m.njnt)
                 if m.jnt_qposadr[j] in rmodel.arm_qpos_adr[side]]
        assert len(names) == 7 and all(n.startswith(prefix) for n in names), names
        assert not any("waist" in n or "hip" in n for n in names)
        kps = [rmodel.corr.keypoints[k].keypoint for k in rmodel.arm_keypoint_ids[side]]
        assert f"{prefix}_elbow" in kps and f"{prefix}_wrist" in kps


def test_restart_leaves_a_wrong_arm_branch(arm_move, rmodel):
    from exoactor.retarget import RetargetConfig, retarget

    human, arm = arm_move
    stuck = retarget(human, RetargetConfig(arm_restarts=False))
    fixed = retarget(human, RetargetConfig(arm_restarts=True))
    end = slice(-10, None)  # B held
    off_b = np.abs(stuck.motion.dof_pos[end][:, arm] - ARM_B).max()
    on_b = np.abs(fixed.motion.dof_pos[end][:, arm] - ARM_B).max()
    assert off_b > 1.0  # the failure this guards against: warm start stays on the wrong branch
    assert on_b < 0.2
    assert fixed.metrics.extras["arm_restarts"] >= 1
    # the switch is not a jump: joint speed within the IK's limit, no arm in the body
    cfg = RetargetConfig()
    speed = np.abs(np.diff(fixed.motion.dof_pos, axis=0)).max() * fixed.motion.fps
    assert speed <= 1.05 * cfg.max_joint_vel_rad_s
    assert fixed.metrics.self_collisions == 0
    assert fixed.metrics.joint_limit_violations == 0


def test_restart_keeps_a_motion_without_wrong_branch(walk_human):
    """Restarts change nothing where warm start tracks the targets (the GT walk)."""
    from exoactor.retarget import RetargetConfig, retarget

    on = retarget(walk_human, RetargetConfig(arm_restarts=True))
    off = retarget(walk_human, RetargetConfig(arm_restarts=False))
    assert on.metrics.extras["arm_restarts"] == 0
    np.testing.assert_array_equal(on.motion.dof_pos, off.motion.dof_pos)
