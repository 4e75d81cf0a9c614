"""Keypoint frames: proper rotations, the palm frame's convention, degenerate input."""

from __future__ import annotations

import numpy as np

from exoactor.retarget.frames import frame_from_axes, palm_frame
from exoactor.rotations import matrix_yaw, yaw_matrix
from exoactor.skeleton import HAND_21


def test_frame_from_axes_is_a_rotation() -> None:
    rng = np.random.default_rng(0)
    R = frame_from_axes(rng.normal(size=(50, 3)), rng.normal(size=(50, 3)))
    np.testing.assert_allclose(R.transpose(0, 2, 1) @ R, np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-12)


def test_parallel_axes_give_nan() -> None:
    assert np.isnan(frame_from_axes(np.array([1.0, 0, 0]), np.array([2.0, 0, 0]))).all()


def _flat_hand(index_side: np.ndarray, along: np.ndarray) -> np.ndarray:
    """A straight hand: wrist at 0, knuckles 9 cm along, fingers 8 cm further."""
    h = np.zeros((21, 3))
    lateral = {"index": 0.02, "middle": 0.0, "ring": -0.02, "pinky": -0.04}
    for f, y in lateral.items():
        for i, part in enumerate(("mcp", "pip", "dip", "tip")):
            h[HAND_21.index(f"{f}_{part}")] = (0.09 + 0.027 * i) * along + y * index_side
    for i, part in enumerate(("cmc", "mcp", "ip", "tip")):
        h[HAND_21.index(f"thumb_{part}")] = 0.03 * (i + 1) * (along + index_side) / np.sqrt(2)
    return h


def test_palm_frame_of_a_vertical_grasp() -> None:
    """Fingers forward (+x), index up (+z): the wrist-yaw frame is the identity; index toward
    -y (a hand rotated about x by -90 deg, a horizontal grasp) is a quarter turn about x."""
    R = palm_frame(_flat_hand(np.array([0, 0, 1.0]), np.array([1.0, 0, 0])))
    np.testing.assert_allclose(R, np.eye(3), atol=1e-12)
    R = palm_frame(_flat_hand(np.array([0, -1.0, 0]), np.array([1.0, 0, 0])))
    np.testing.assert_allclose(R @ [0, 0, 1.0], [0, -1, 0], atol=1e-12)
    np.testing.assert_allclose(R @ [1.0, 0, 0], [1, 0, 0], atol=1e-12)


def test_heading_of_yaw_rotation() -> None:
    yaw = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(matrix_yaw(yaw_matrix(yaw)), yaw, atol=1e-12)
