"""Dex3-1 hands on the 43-DoF G1: a closed command closes the fingers in physics."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control import TrackConfig, track_motion
from exoactor.control.hands import closed_pose, grasp_to_hand_pos, hand_joint_names
from exoactor.errors import ExoActorError
from exoactor.robots import get_robot


@pytest.fixture(scope="module")
def hands_robot():
    return get_robot("g1_hands")


def _hand_qpos(robot, rollout, k):
    names = hand_joint_names(robot.joint_names)
    adr = [robot.qpos_adr[robot.joint_names.index(n)] for n in names]
    return rollout.qpos[k, adr]


def test_hand_joints_are_found_left_then_right(hands_robot):
    names = hand_joint_names(hands_robot.joint_names)
    assert len(names) == 14
    assert all(n.startswith("left_") for n in names[:7])
    assert all(n.startswith("right_") for n in names[7:])


def test_closed_pose_mirrors_and_stays_in_range(hands_robot):
    names = hand_joint_names(hands_robot.joint_names)
    idx = [hands_robot.joint_names.index(n) for n in names]
    lim = hands_robot.joint_limits[idx]
    closed = closed_pose(names, lim)
    assert np.all(closed >= lim[:, 0]) and np.all(closed <= lim[:, 1])
    assert closed[0] == 0.0 and closed[7] == 0.0           # thumb base rotation untouched
    np.testing.assert_allclose(grasp_to_hand_pos(np.array([0.0, 1.0]), names, lim)[7:],
                               closed[7:])
    np.testing.assert_array_equal(grasp_to_hand_pos(np.array([0.0, 1.0]), names, lim)[:7], 0.0)


def test_grasp_out_of_range_is_an_error(hands_robot):
    names = hand_joint_names(hands_robot.joint_names)
    with pytest.raises(ExoActorError, match=r"\[0, 1\]"):
        grasp_to_hand_pos(np.array([0.0, 1.5]), names, np.zeros((14, 2)))


def test_closed_command_closes_the_fingers_in_physics(standing, hands_robot):
    motion = standing(1.5)
    grasp = np.zeros((motion.num_frames, 2))
    grasp[motion.num_frames // 3:, 0] = 1.0        # left hand closes after 0.5 s; right stays open
    result = track_motion(motion, TrackConfig(), grasp=grasp)
    assert not result.metrics.fell
    assert result.rollout.target.shape[1] == 43     # 29 body + 14 hand actuators
    names = hand_joint_names(hands_robot.joint_names)
    idx = [hands_robot.joint_names.index(n) for n in names]
    closed = closed_pose(names, hands_robot.joint_limits[idx])
    k_open = int(0.4 * 50)
    k_closed = int(1.4 * 50)                        # clip time 1.4 s, before the end blend
    before = _hand_qpos(hands_robot, result.rollout, k_open)
    after = _hand_qpos(hands_robot, result.rollout, k_closed)
    np.testing.assert_allclose(before, 0.0, atol=0.15)
    np.testing.assert_allclose(after[:7], closed[:7], atol=0.15)   # left closed
    np.testing.assert_allclose(after[7:], 0.0, atol=0.15)          # right still open


def test_hand_dof_in_the_motion_drives_the_hands(standing, hands_robot):
    motion = standing(1.0, hands=True)
    names = hand_joint_names(hands_robot.joint_names)
    idx = [hands_robot.joint_names.index(n) for n in names]
    closed = closed_pose(names, hands_robot.joint_limits[idx])
    motion = motion.replace(hand_dof=np.tile(0.5 * closed, (motion.num_frames, 1)))
    result = track_motion(motion)
    got = _hand_qpos(hands_robot, result.rollout, int(0.9 * 50))
    np.testing.assert_allclose(got, 0.5 * closed, atol=0.15)
