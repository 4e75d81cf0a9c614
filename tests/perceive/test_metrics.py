"""Perception metrics (pure functions) and a semi-synthetic known-truth check of the
reconstruction."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from exoactor.perceive.camera import intrinsics
from exoactor.perceive.config import PerceiveConfig
from exoactor.perceive.metrics import (
    bone_length_variation_pct,
    mpjpe_mm,
    pa_mpjpe_mm,
    reprojection_errors_px,
    w_mpjpe_mm,
)
from exoactor.perceive.reconstruct import reconstruct
from exoactor.perceive.synthetic import ObservationNoise, look_at_camera, synthetic_observations


def test_alignment_metrics() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(10, 33, 3))
    R = Rotation.from_euler("z", 40, degrees=True).as_matrix()
    moved = truth @ R.T + [1.0, -2.0, 0.0]
    assert mpjpe_mm(truth, truth) == 0.0
    assert w_mpjpe_mm(moved, truth) == pytest.approx(0.0, abs=1e-6)
    assert w_mpjpe_mm(moved, truth, None) == pytest.approx(0.0, abs=1e-6)
    assert pa_mpjpe_mm(2.0 * moved, truth) == pytest.approx(0.0, abs=1e-6)
    assert mpjpe_mm(moved, truth) > 100


def test_rigid_skeleton_has_no_bone_variation() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(33, 3))
    frames = np.stack([Rotation.random(random_state=k).apply(base) for k in range(5)])
    assert bone_length_variation_pct(frames, np.ones(5, bool)).max() < 1e-9


def test_reprojection_of_exact_points_is_zero() -> None:
    K = intrinsics(640, 480, 60.0)
    P = np.random.default_rng(2).uniform([-1, -1, 4], [1, 1, 6], (4, 33, 3))
    from exoactor.perceive.camera import project

    err = reprojection_errors_px(P, K, project(P, K), np.ones((4, 33), bool))
    assert err.max() < 1e-9


@pytest.mark.slow
def test_reconstruction_against_known_truth(perceived_sample) -> None:
    """The motion perceived in the sample clip, seen again by a known camera through
    MediaPipe-like noise, must come back close to itself."""
    truth = perceived_sample.motion.joints
    K = intrinsics(1280, 720, 60.0)
    centre = truth[:, [23, 24]].mean(1).mean(0)
    T_c_w = look_at_camera(centre + np.array([2.0, -7.0, -0.2]), centre)
    obs = synthetic_observations(truth, T_c_w, K, (1280, 720), 30.0, ObservationNoise())
    pred = reconstruct(obs, 30.0, K, PerceiveConfig(hands=False)).motion.joints
    assert mpjpe_mm(pred, truth) < 50
    assert w_mpjpe_mm(pred, truth) < 150
