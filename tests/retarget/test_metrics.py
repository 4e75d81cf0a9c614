"""Metric functions on hand-made arrays."""

from __future__ import annotations

import numpy as np

from exoactor.metrics import foot_skate_mm
from exoactor.retarget.metrics import (
    foot_float_mm,
    foot_penetration_mm,
    joint_limit_violations,
    median_p95,
    position_errors_mm,
    self_collision_frames,
)


def test_foot_skate_counts_travel_between_contact_frames_only() -> None:
    pos = np.zeros((4, 2, 3))
    pos[:, 0, 0] = [0.0, 0.003, 0.006, 0.106]  # left slides 3 mm/frame, then swings
    pos[:, 1, 2] = [0.0, 0.1, 0.2, 0.3]         # right only moves up
    contact = np.array([[1, 1], [1, 1], [1, 1], [0, 1]], dtype=bool)
    np.testing.assert_allclose(np.sort(foot_skate_mm(pos, contact)), [0, 0, 0, 3, 3])


def test_ground_metrics() -> None:
    h = np.array([[0.002, -0.004], [0.030, 0.0]])
    contact = np.array([[1, 1], [0, 1]], dtype=bool)
    assert foot_penetration_mm(h) == 4.0
    assert foot_float_mm(h, contact) == 2.0
    assert foot_float_mm(h, np.zeros_like(contact)) == 0.0


def test_limits_collisions_errors() -> None:
    limits = np.array([[-1.0, 1.0], [0.0, 2.0]])
    q = np.array([[0.0, 2.5], [-1.2, 1.0], [1.0, 0.0]])
    assert joint_limit_violations(q, limits) == 2
    assert self_collision_frames(np.array([0.01, -0.0005, -0.002, -0.1])) == 2
    err = position_errors_mm(np.zeros((2, 2, 3)), np.ones((2, 2, 3)) * [0.003, 0.004, 0.0])
    np.testing.assert_allclose(err, 5.0)
    assert median_p95(np.arange(101.0)) == {"median": 50.0, "p95": 95.0, "max": 100.0}
