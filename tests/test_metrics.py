"""Tracking metrics: pure functions checked on hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.metrics import (
    body_error_mm,
    body_pos_b,
    joint_error_rad,
    real_time_factor,
    root_xy_error_m,
    tracking_metrics,
    yaw_error_deg,
)
from exoactor.rotations import yaw_quat


def test_joint_error_is_the_mean_absolute_difference():
    q = np.array([[0.0, 0.0], [1.0, -1.0]])
    ref = np.array([[0.1, -0.3], [1.0, 0.0]])
    np.testing.assert_allclose(joint_error_rad(q, ref), [0.2, 0.5])


def test_body_pos_b_removes_root_pose():
    root = np.array([[1.0, 2.0, 0.8]])
    quat = yaw_quat(np.array([np.pi / 2]))
    body = np.array([[[1.0, 3.0, 0.8]]])   # 1 m along world +y = along the root's +x
    np.testing.assert_allclose(body_pos_b(body, root, quat), [[[1.0, 0.0, 0.0]]], atol=1e-12)


def test_body_error_in_mm():
    a = np.zeros((1, 2, 3))
    b = np.array([[[0.003, 0.004, 0.0], [0.0, 0.0, 0.001]]])
    np.testing.assert_allclose(body_error_mm(a, b), [3.0])


def test_root_xy_error_ignores_height():
    np.testing.assert_allclose(root_xy_error_m(np.array([[3.0, 4.0, 9.0]]),
                                               np.array([[0.0, 0.0, 0.0]])), [5.0])


def test_yaw_error_wraps():
    e = yaw_error_deg(yaw_quat(np.radians([179.0, 10.0])), yaw_quat(np.radians([-179.0, -5.0])))
    np.testing.assert_allclose(e, [2.0, 15.0], atol=1e-9)


def test_real_time_factor():
    assert real_time_factor(10.0, 0.5) == 20.0


def test_summary_of_a_perfect_run():
    T, n, B = 5, 29, 8
    q = np.random.default_rng(0).normal(size=(T, n))
    root = np.tile([0.0, 0.0, 0.8], (T, 1))
    quat = np.tile([1.0, 0, 0, 0], (T, 1))
    body = np.random.default_rng(1).normal(size=(T, B, 3))
    m = tracking_metrics(joint_pos=q, ref_joint_pos=q, joint_vel=np.ones((T, n)),
                         root_pos_w=root, root_quat_w=quat, ref_root_pos_w=root,
                         ref_root_quat_w=quat, body_pos_w=body, ref_body_pos_w=body, fell=False,
                         fall_time_s=None, real_time_factor=12.0, clip_duration_s=0.08,
                         evaluated_s=0.08)
    assert m.success and not m.fell
    assert m.mean_joint_error_rad == 0.0 and m.key_body_error_mm == 0.0
    assert m.root_xy_error_end_m == 0.0 and m.yaw_error_end_deg == 0.0
    assert m.mean_abs_joint_vel_rad_s == 1.0
    d = m.to_dict()
    for key in ("fell", "fall_time_s", "success", "mean_joint_error_rad", "max_joint_error_rad",
                "key_body_error_mm", "root_xy_error_end_m", "root_xy_error_mean_m",
                "yaw_error_end_deg", "mean_abs_joint_vel_rad_s", "real_time_factor",
                "dropped_frames", "dropped_reasons"):
        assert key in d


def test_fall_is_never_a_success():
    T = 3
    z = np.zeros((T, 29))
    root = np.tile([0.0, 0.0, 0.8], (T, 1))
    quat = np.tile([1.0, 0, 0, 0], (T, 1))
    body = np.zeros((T, 8, 3))
    m = tracking_metrics(joint_pos=z, ref_joint_pos=z, joint_vel=z, root_pos_w=root,
                         root_quat_w=quat, ref_root_pos_w=root, ref_root_quat_w=quat,
                         body_pos_w=body, ref_body_pos_w=body, fell=True, fall_time_s=0.04,
                         real_time_factor=10.0, clip_duration_s=1.0, evaluated_s=0.04)
    assert m.fell and not m.success and m.fall_time_s == pytest.approx(0.04)
