"""Every registered robot compiles, and its spec agrees with its model."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.errors import UnknownName
from exoactor.robots import ROBOT_SPECS, get_robot, get_spec


@pytest.mark.parametrize("name", sorted(ROBOT_SPECS))
def test_robot_compiles(name: str) -> None:
    robot = get_robot(name)
    spec = get_spec(name)
    assert len(robot.joint_names) == spec.body_joint_count + spec.hand_joint_count
    lo, hi = robot.joint_limits.T
    assert np.all(lo < hi)
    default = robot.default_joint_pos
    assert np.all((default >= lo) & (default <= hi)), "default pose within limits"
    for body in spec.key_bodies.as_dict().values():
        assert robot.body_id(body) > 0


def test_g1_joint_order_matches_twist2() -> None:
    names = get_robot("g1").joint_names
    assert names[0] == "left_hip_pitch_joint" and names[12] == "waist_yaw_joint"
    assert names[15] == "left_shoulder_pitch_joint" and names[28] == "right_wrist_yaw_joint"
    hands = get_robot("g1_hands")
    assert hands.body_joint_names == names
    assert len(hands.hand_joint_names) == 14


def test_g1_limits_and_default_pose() -> None:
    robot = get_robot("g1")
    knee = robot.joint_names.index("left_knee_joint")
    assert robot.joint_limits[knee] == pytest.approx([-0.087267, 2.8798])
    assert robot.torque_limits[knee] == pytest.approx(139.0)
    assert robot.default_joint_pos[knee] == pytest.approx(0.4)
    assert robot.default_joint_pos[robot.joint_names.index("right_shoulder_roll_joint")] == -0.4


def test_unknown_robot_and_body() -> None:
    with pytest.raises(UnknownName, match="available: g1"):
        get_spec("h1")
    with pytest.raises(UnknownName, match="bodies: pelvis"):
        get_robot("g1").body_id("tail")


def test_one_compiled_model_however_it_is_asked_for() -> None:
    """A run asks for the G1 as ``get_robot("g1")`` (retarget, report) and as
    ``get_robot("g1", hands=False)`` (track): one compile (~0.5 CPU-s of XML and meshes), not
    one per spelling of the call."""
    g1 = get_robot("g1")
    assert get_robot("g1", hands=False) is g1
    assert get_robot(name="g1") is g1 and get_robot() is g1
    hands = get_robot("g1", hands=True)
    assert hands is get_robot("g1_hands") and hands is get_robot("g1_hands", hands=True)
    assert hands is not g1
