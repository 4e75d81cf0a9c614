"""The root fit recovers known translations from exact projections, and honours its
contact constraints."""

from __future__ import annotations

import numpy as np

from exoactor.perceive.camera import intrinsics, project
from exoactor.perceive.root_fit import fit_root_translation


def _scene(T: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    rel = rng.normal(size=(T, 33, 3)) * np.array([0.25, 0.5, 0.15])
    t = np.linspace(0, 1, T)[:, None]
    trans = np.array([-0.5, 0.2, 6.0]) + t * np.array([1.0, 0.0, 1.5])  # walks away, right
    K = intrinsics(1280, 720, 60.0)
    return rel, trans, K, project(rel + trans[:, None], K)


def test_exact_data_gives_exact_translation() -> None:
    rel, trans, K, kp = _scene()
    fit = fit_root_translation(rel, kp, np.ones(kp.shape[:2]), K, 30.0, iterations=4)
    assert np.allclose(fit.trans_c, trans, atol=2e-3)
    assert np.nanmedian(fit.reprojection_px) < 0.05
    assert fit.converged


def test_missing_landmarks_are_ignored() -> None:
    rel, trans, K, kp = _scene(seed=1)
    kp[5:9] = np.nan
    w = np.ones(kp.shape[:2])
    fit = fit_root_translation(rel, kp, w, K, 30.0, iterations=4)
    assert np.allclose(fit.trans_c, trans, atol=2e-2)
    assert np.isnan(fit.reprojection_px[6]).all()


def test_stationary_points_stay_put() -> None:
    rel, trans, K, _ = _scene(seed=2)
    anchor = np.array([-0.3, 0.9, 6.5])
    rel[:, 0] = anchor - trans  # landmark 0 is a foot planted in the scene
    rng = np.random.default_rng(3)
    kp = project(rel + trans[:, None], K) + rng.normal(0, 3.0, (len(rel), 33, 2))
    stationary = np.zeros(kp.shape[:2], bool)
    stationary[:, 0] = True
    w = np.ones(kp.shape[:2])
    free = fit_root_translation(rel, kp, w, K, 30.0)
    held = fit_root_translation(rel, kp, w, K, 30.0, stationary=stationary,
                                contact_sigma_m=1e-4)
    foot = rel[:, 0] + held.trans_c
    assert np.abs(np.diff(foot, axis=0)).max() < 1e-3
    err_free = np.abs(free.trans_c - trans).max()
    err_held = np.abs(held.trans_c - trans).max()
    assert err_held < err_free


def test_support_height_is_met() -> None:
    rel, _, K, kp = _scene(seed=4)
    up = np.array([0.0, -1.0, 0.0])
    height = np.full(kp.shape[:2], np.nan)
    height[:, 3] = -1.5
    fit = fit_root_translation(rel, kp, np.ones(kp.shape[:2]) * 1e-3, K, 30.0,
                               support_height_m=height, up_c=up, support_sigma_m=1e-4)
    assert np.allclose((rel[:, 3] + fit.trans_c) @ up, -1.5, atol=1e-3)


def test_a_contact_foot_is_held_loosely_in_depth_where_its_depth_is_uncertain() -> None:
    # a planted foot whose depth relative to the hips the pose model gets wrong (a stride
    # shortened in depth: +-0.1 m over the stance), everything else exact up to pixel noise
    rel, trans, K, _ = _scene(seed=5)
    anchor = np.array([-0.3, 0.9, 6.5])
    rel[:, 0] = anchor - trans
    rng = np.random.default_rng(6)
    kp = project(rel + trans[:, None], K) + rng.normal(0, 2.0, (len(rel), 33, 2))
    rel_model = rel.copy()
    rel_model[:, 0, 2] += np.linspace(0.1, -0.1, len(rel))
    stationary = np.zeros(kp.shape[:2], bool)
    stationary[:, 0] = True
    w = np.ones(kp.shape[:2])
    err = {}
    for ratio in (1.0, 5.0):
        fit = fit_root_translation(rel_model, kp, w, K, 30.0, stationary=stationary,
                                   contact_sigma_m=0.005, contact_depth_sigma_ratio=ratio)
        err[ratio] = np.abs(fit.trans_c[:, 2] - trans[:, 2]).max()
        foot = rel_model[:, 0] + fit.trans_c
        # across the image the foot is still held
        assert np.abs(np.diff(foot[:, :2], axis=0)).max() < 0.01
    assert err[5.0] < 0.5 * err[1.0], err
