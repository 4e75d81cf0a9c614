"""Root translation of a metric skeleton seen by a pinhole camera, over a whole clip.

Given per-frame 3D landmarks relative to the hip centre in camera axes (``rel_c``) and their
2D detections (``kp_px``), find the camera-frame translation ``t`` of every frame such that
``rel_c + t`` projects onto the detections. Depth comes from the skeleton's metric size: this
is where the body's bone lengths set the scale of the scene.

One sparse linear least-squares problem over all frames (unknowns ``(T, 3)``):

* **reprojection**: for each landmark, ``fx (X + tx) - (u - cx)(Z + tz) = 0`` (and likewise in
  y), divided by the current depth estimate so that residuals are in pixels; weighted by
  visibility over ``reprojection_sigma_px``;
* **smoothness**: the root acceleration, over ``accel_sigma_m_s2`` across the view and
  ``depth_accel_sigma_m_s2`` along the optical axis. Depth is the weak direction: its only
  cue is the skeleton's apparent size, whose per-frame errors (a wrong arm depth, a
  foreshortened limb) bias all landmarks together, which the per-landmark reprojection
  term cannot see;
* **stationary points** (feet in contact): a point's camera-frame position does not change
  between consecutive frames (a static camera), over ``contact_sigma_m``;
* **holding still** (both feet planted): the change of a held point (the root, or the root
  plus an offset such as the smoothed feet) between consecutive frames, per camera axis,
  over ``hold_sigma_m`` (depth is the axis that needs it);
* **support heights**: a point's height along the ``up_c`` direction equals a given value,
  over ``support_sigma_m``.

The depth weights are refreshed and the problem re-solved ``iterations`` times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from exoactor.perceive.camera import project


@dataclass(frozen=True)
class RootFit:
    """Result of :func:`fit_root_translation`.

    Attributes:
        trans_c: ``(T, 3)`` translation of the hip-centred skeleton in the camera frame [m].
        reprojection_px: ``(T, J)`` distance between projected and detected landmarks [px].
        iterations: solves performed.
        converged: the last solve changed the translation by less than 1 mm.
        max_change_m: largest translation change of the last solve [m].
    """

    trans_c: np.ndarray
    reprojection_px: np.ndarray
    iterations: int
    converged: bool
    max_change_m: float


def fit_root_translation(rel_c: np.ndarray, kp_px: np.ndarray, weight: np.ndarray,
                         K: np.ndarray, fps: float, *, reprojection_sigma_px: float = 3.0,
                         accel_sigma_m_s2: float = 15.0,
                         depth_accel_sigma_m_s2: float | None = None, stationary: np.ndarray | None = None,
                         contact_sigma_m: float | np.ndarray = 0.005,
                         contact_depth_sigma_ratio: float = 1.0,
                         support_height_m: np.ndarray | None = None,
                         up_c: np.ndarray | None = None, support_sigma_m: float = 0.01,
                         hold: np.ndarray | None = None,
                         hold_sigma_m: tuple[float, float, float] = (np.inf, np.inf, 0.002),
                         hold_offset_c: np.ndarray | None = None,
                         iterations: int = 3) -> RootFit:
    """Fit the root translation of every frame (see the module docstring).

    Args:
        rel_c: ``(T, J, 3)`` landmarks relative to the root, camera axes [m].
        kp_px: ``(T, J, 2)`` detected landmarks [px].
        weight: ``(T, J)`` landmark weights in [0, 1] (0 ignores a landmark).
        K: ``(3, 3)`` intrinsics [px].
        fps: frame rate [Hz].
        reprojection_sigma_px: expected landmark error [px].
        accel_sigma_m_s2: expected root acceleration across the view [m/s^2].
        depth_accel_sigma_m_s2: expected root acceleration along the optical axis [m/s^2]
            (None: as across).
        stationary: optional ``(T, J)`` bool, the landmark is fixed in the scene at this and
            the previous frame when both are True.
        contact_sigma_m: allowed travel per frame of a stationary landmark [m]; a scalar or
            ``(T, J)`` (the value at the later frame of a pair counts).
        contact_depth_sigma_ratio: ``contact_sigma_m`` times this along the optical axis: a
            monocular pose model places a foot relative to the hips far worse in depth than
            across the image, and holding it equally in depth turns that error into root
            motion (1: the same in every axis).
        support_height_m: optional ``(T, J)`` height [m] a landmark must have along ``up_c``
            (NaN: no constraint).
        up_c: ``(3,)`` unit up direction in the camera frame (needed with heights).
        hold: optional ``(T,)`` bool, frames where the person stands in place (both feet
            planted): the root's change between two such consecutive frames is penalised.
        hold_sigma_m: allowed change per frame of the held point along the camera's x, y, z
            [m] (inf: free).
        hold_offset_c: optional ``(T, 3)`` the held point relative to the root (e.g. the
            planted feet, smoothed); None holds the root itself.
        iterations: re-weighted solves (the first uses a uniform depth guess).
    """
    T, _J = weight.shape
    n = 3 * T
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    dt = 1.0 / fps
    w = np.where(np.isfinite(kp_px).all(-1) & np.isfinite(rel_c).all(-1), weight, 0.0)
    kp = np.nan_to_num(kp_px)
    X = np.nan_to_num(rel_c)
    du, dv = kp[..., 0] - cx, kp[..., 1] - cy

    # Rows that do not depend on the depth estimate.
    fixed_r, fixed_c, fixed_v, fixed_b = [], [], [], []

    def add(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, rhs: np.ndarray,
            start: int) -> int:
        fixed_r.append(rows + start)
        fixed_c.append(cols)
        fixed_v.append(vals)
        fixed_b.append(rhs)
        return start + len(rhs)

    row = 0
    if T >= 3:
        t = np.arange(1, T - 1)
        for k in range(3):
            sig = accel_sigma_m_s2 if k < 2 or depth_accel_sigma_m_s2 is None \
                else depth_accel_sigma_m_s2
            s = 1.0 / (sig * dt * dt)
            r = np.arange(len(t))
            rows = np.repeat(r, 3)
            cols = np.stack([3 * (t - 1) + k, 3 * t + k, 3 * (t + 1) + k], 1).ravel()
            vals = np.tile([s, -2 * s, s], len(t))
            row = add(rows, cols, vals, np.zeros(len(t)), row)
    if stationary is not None and T >= 2:
        both = stationary[1:] & stationary[:-1]
        tt, jj = np.nonzero(both)
        tt = tt + 1
        sig = np.asarray(contact_sigma_m, dtype=float)
        s = 1.0 / (sig[tt, jj] if sig.ndim == 2 else np.full(len(tt), float(sig)))
        for k in range(3):
            sk = s / contact_depth_sigma_ratio if k == 2 else s
            r = np.arange(len(tt))
            rows = np.repeat(r, 2)
            cols = np.stack([3 * tt + k, 3 * (tt - 1) + k], 1).ravel()
            vals = np.stack([sk, -sk], 1).ravel()
            rhs = -sk * (X[tt, jj, k] - X[tt - 1, jj, k])
            row = add(rows, cols, vals, rhs, row)
    if hold is not None and T >= 2:
        tt = np.flatnonzero(hold[1:] & hold[:-1]) + 1
        off = np.zeros((T, 3)) if hold_offset_c is None else np.nan_to_num(hold_offset_c)
        for k in range(3):
            if not np.isfinite(hold_sigma_m[k]):
                continue
            s = 1.0 / hold_sigma_m[k]
            rows = np.repeat(np.arange(len(tt)), 2)
            cols = np.stack([3 * tt + k, 3 * (tt - 1) + k], 1).ravel()
            vals = np.tile([s, -s], len(tt))
            rhs = -s * (off[tt, k] - off[tt - 1, k])
            row = add(rows, cols, vals, rhs, row)
    if support_height_m is not None:
        if up_c is None:
            raise ValueError("support_height_m needs up_c")
        tt, jj = np.nonzero(np.isfinite(support_height_m))
        s = 1.0 / support_sigma_m
        r = np.arange(len(tt))
        rows = np.repeat(r, 3)
        cols = (3 * tt[:, None] + np.arange(3)).ravel()
        vals = np.tile(s * np.asarray(up_c), len(tt))
        rhs = s * (support_height_m[tt, jj] - X[tt, jj] @ np.asarray(up_c))
        row = add(rows, cols, vals, rhs, row)
    n_fixed = row

    # Reprojection rows, rebuilt with each depth estimate.
    tt, jj = np.nonzero(w > 0)
    depth = np.full(len(tt), 5.0)
    trans = np.zeros((T, 3))
    change = np.inf
    for it in range(iterations):
        s = w[tt, jj] / (reprojection_sigma_px * np.maximum(depth, 0.1))
        r = np.arange(len(tt))
        rows_x = np.repeat(r, 2)
        cols_x = np.stack([3 * tt, 3 * tt + 2], 1).ravel()
        vals_x = np.stack([s * fx, -s * du[tt, jj]], 1).ravel()
        rhs_x = s * (du[tt, jj] * X[tt, jj, 2] - fx * X[tt, jj, 0])
        rows_y = np.repeat(r + len(tt), 2)
        cols_y = np.stack([3 * tt + 1, 3 * tt + 2], 1).ravel()
        vals_y = np.stack([s * fy, -s * dv[tt, jj]], 1).ravel()
        rhs_y = s * (dv[tt, jj] * X[tt, jj, 2] - fy * X[tt, jj, 1])
        rows = np.concatenate(fixed_r + [rows_x + n_fixed, rows_y + n_fixed])
        cols = np.concatenate(fixed_c + [cols_x, cols_y])
        vals = np.concatenate(fixed_v + [vals_x, vals_y])
        rhs = np.concatenate(fixed_b + [rhs_x, rhs_y])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(n_fixed + 2 * len(tt), n))
        AtA = (A.T @ A).tocsc() + sp.identity(n, format="csc") * 1e-9
        sol = spsolve(AtA, A.T @ rhs).reshape(T, 3)
        change = float(np.max(np.abs(sol - trans))) if it else np.inf
        trans = sol
        depth = X[tt, jj, 2] + trans[tt, 2]
    err = np.linalg.norm(project(X + trans[:, None], K) - kp, axis=-1)
    err = np.where(np.isfinite(kp_px).all(-1), err, np.nan)
    return RootFit(trans_c=trans, reprojection_px=err, iterations=iterations,
                   converged=bool(change < 1e-3), max_change_m=change)
