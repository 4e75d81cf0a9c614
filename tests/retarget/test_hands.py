"""Dex3-1 hand mapping: poses within limits, curl from keypoints, grasp interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.retarget.hands import finger_curl, hand_curl, hand_dof_from_curl, hand_pose_arrays
from exoactor.skeleton import HAND_21


@pytest.fixture(scope="module")
def poses(shared_assets):
    from exoactor.robots import get_robot

    robot = get_robot("g1_hands")
    return hand_pose_arrays(robot.hand_joint_names, robot.joint_limits[robot.hand_idx])


def test_poses_cover_every_hand_joint_within_limits(poses) -> None:
    open_, closed, finger = poses
    assert open_.shape == closed.shape == (14,)
    assert np.abs(closed - open_).min() >= 0.0 and np.abs(closed - open_).sum() > 5.0
    assert sorted(set(finger.tolist())) == [0, 1, 2, 3, 4, 5]


def _hand(bend_rad: float) -> np.ndarray:
    """A planar hand whose every finger joint is bent by ``bend_rad``."""
    h = np.zeros((21, 3))
    for f, y in {"index": 0.02, "middle": 0.0, "ring": -0.02, "pinky": -0.04}.items():
        p, d = np.array([0.0, y, 0.0]), np.array([1.0, 0.0, 0.0])
        chain = ["wrist", f"{f}_mcp", f"{f}_pip", f"{f}_dip", f"{f}_tip"]
        for i, name in enumerate(chain[1:]):
            p = p + (0.09 if i == 0 else 0.03) * d
            h[HAND_21.index(name)] = p
            ang = bend_rad * (i + 1)
            d = np.array([np.cos(ang), 0.0, -np.sin(ang)])
    p, d = np.array([0.02, 0.03, 0.0]), np.array([0.7, 0.7, 0.0])
    h[HAND_21.index("thumb_cmc")] = p
    for i, name in enumerate(("thumb_mcp", "thumb_ip", "thumb_tip")):
        p = p + 0.03 * d
        h[HAND_21.index(name)] = p
        ang = bend_rad * (i + 1)
        d = np.array([0.7 * np.cos(ang), 0.7 * np.cos(ang), -np.sin(ang)])
    return h


def test_finger_curl_open_and_fist() -> None:
    np.testing.assert_allclose(finger_curl(_hand(0.0)), 0.0, atol=1e-6)
    assert (finger_curl(_hand(1.2)) > 0.95).all()
    mid = finger_curl(_hand(0.5))
    assert ((mid > 0.3) & (mid < 0.8)).all()


def test_grasp_interpolates_between_open_and_closed(poses) -> None:
    open_, closed, finger = poses
    grasp = np.array([[0.0, 1.0], [0.5, 0.25]])
    curl, from_kp = hand_curl(grasp, None, None, 2)
    assert not from_kp.any()
    q = hand_dof_from_curl(curl, open_, closed, finger)
    np.testing.assert_allclose(q[0, :7], open_[:7])
    np.testing.assert_allclose(q[0, 7:], closed[7:])
    np.testing.assert_allclose(q[1, :7], open_[:7] + 0.5 * (closed[:7] - open_[:7]))


def test_keypoints_override_grasp_only_where_confident() -> None:
    kp = np.stack([np.stack([_hand(1.2), _hand(0.0)])] * 2)
    conf = np.array([[0.9, 0.9], [0.1, 0.9]])
    curl, from_kp = hand_curl(np.full((2, 2), 0.5), kp, conf, 2, min_confidence=0.5)
    assert from_kp.tolist() == [[True, True], [False, True]]
    assert (curl[0, 0] > 0.95).all() and np.allclose(curl[0, 1], 0.0, atol=1e-6)
    np.testing.assert_allclose(curl[1, 0], 0.5)
