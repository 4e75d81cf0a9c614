"""The IK's own task and limit: Jacobians against finite differences on the real model."""

from __future__ import annotations

import mink
import mujoco
import numpy as np
import pytest

from exoactor.retarget.ground_limit import GroundLimit
from exoactor.retarget.keypoint_task import KeypointTask


def _random_config(rmodel, seed: int) -> mink.Configuration:
    rng = np.random.default_rng(seed)
    q = rmodel.rest_qpos.copy()
    lo, hi = rmodel.robot.joint_limits.T
    q[rmodel.robot.qpos_adr] = rng.uniform(0.7 * lo, 0.7 * hi)
    q[3:7] = rng.normal(size=4)
    q[3:7] /= np.linalg.norm(q[3:7])
    cfg = mink.Configuration(rmodel.model)
    cfg.update(q)
    return cfg


def _fd_jacobian(cfg: mink.Configuration, f, eps: float = 1e-6) -> np.ndarray:
    m = cfg.model
    q0 = cfg.q.copy()
    cols = []
    for i in range(m.nv):
        dq = np.zeros(m.nv)
        dq[i] = eps
        q = q0.copy()
        mujoco.mj_integratePos(m, q, dq, 1.0)
        cfg.update(q)
        plus = f(cfg)
        q = q0.copy()
        mujoco.mj_integratePos(m, q, -dq, 1.0)
        cfg.update(q)
        minus = f(cfg)
        cols.append((plus - minus) / (2 * eps))
    cfg.update(q0)
    return np.stack(cols, axis=1)


def test_keypoint_task_jacobian_matches_finite_differences(rmodel) -> None:
    cfg = _random_config(rmodel, 0)
    task = KeypointTask(rmodel.model, rmodel.site_ids)
    K = len(rmodel.site_ids)
    weight = np.ones(K)
    weight[::3] = 0.0  # inactive keypoints leave the task
    task.set_target(np.zeros((K, 3)), weight)
    J = task.compute_jacobian(cfg)
    assert J.shape == (3 * int((weight > 0).sum()), rmodel.model.nv)
    np.testing.assert_allclose(J, _fd_jacobian(cfg, task.compute_error), atol=1e-6)


def test_ground_limit_rows_are_height_gradients(rmodel) -> None:
    """Rows: -dh/dq <= h per sphere, and for a contact foot d(mean h)/dq <= tol - mean h."""
    cfg = _random_config(rmodel, 1)
    soles = np.concatenate(rmodel.sole_geom_ids)
    limit = GroundLimit(rmodel.model, list(rmodel.sole_geom_ids), list(rmodel.sole_radius_m),
                        contact_tol_m=0.004)

    def height(c: mink.Configuration) -> np.ndarray:
        return c.data.geom_xpos[soles, 2] - rmodel.sole_radius_m.ravel()

    G, h = limit.compute_qp_inequalities(cfg, 1.0)
    np.testing.assert_allclose(h, height(cfg))
    dh = _fd_jacobian(cfg, height)
    np.testing.assert_allclose(-G, dh, atol=1e-6)
    limit.set_contact(np.array([False, True]))
    G, h = limit.compute_qp_inequalities(cfg, 1.0)
    n = len(soles)
    right = slice(len(rmodel.sole_geom_ids[0]), n)
    assert G.shape[0] == n + 1
    np.testing.assert_allclose(G[n], dh[right].mean(axis=0), atol=1e-6)
    assert h[n] == pytest.approx(0.004 - height(cfg)[right].mean())
