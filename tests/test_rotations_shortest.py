"""The shortest rotation between two directions (rotations.shortest_rotvec)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.rotations import shortest_rotvec


def test_turns_each_direction_onto_the_other_by_the_angle_between_them() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 100, 3))
    rv = shortest_rotvec(a, b)
    turned = Rotation.from_rotvec(rv).apply(a)
    unit = b / np.linalg.norm(b, axis=-1, keepdims=True)
    np.testing.assert_allclose(turned / np.linalg.norm(turned, axis=-1, keepdims=True), unit,
                               atol=1e-9)
    cos = np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    np.testing.assert_allclose(np.linalg.norm(rv, axis=-1), np.arccos(cos), atol=1e-9)
    np.testing.assert_allclose(np.sum(rv * a, -1), 0.0, atol=1e-9)   # about an axis normal to a


def test_parallel_or_zero_vectors_get_no_rotation() -> None:
    a = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    b = np.array([[2.0, 4.0, 6.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(shortest_rotvec(a, b), 0.0)
