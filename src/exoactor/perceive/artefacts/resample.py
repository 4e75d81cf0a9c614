"""Observations at irregular or low-rate sample times, resampled to a constant rate.

A clip below the stage's smallest rate (10 fps Kling clips) or whose distinct frames sit at
irregular times (a de-duplicated clip) is resampled in *motion space*: the landmarks, not the
pixels, are interpolated (monotone cubic, PCHIP: no overshoot between samples) to a constant
rate before the temporal filters of the stage run, so the filters, contact detection and root
fit see the time step they were designed for.

An output frame counts as observed only when the source samples on both sides of it were; a
hand likewise.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from exoactor.perceive.backend import PoseObservations


def constant_grid_s(times_s: np.ndarray, fps: float) -> np.ndarray:
    """``(T,)`` times from the first to (at most) the last of ``times_s`` at ``fps`` [s]."""
    t0, t1 = float(times_s[0]), float(times_s[-1])
    count = int(np.floor((t1 - t0) * fps + 1e-6)) + 1
    return t0 + np.arange(count) / fps


def _bracket(times_s: np.ndarray, grid_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The samples on either side of each grid time; both the first (last) sample before
    (after) the samples' span."""
    n = len(times_s)
    right = np.clip(np.searchsorted(times_s, grid_s - 1e-9), 0, n - 1)
    exact = np.isclose(times_s[right], grid_s, atol=1e-9)
    left = np.where(exact | (grid_s > times_s[-1]), right, np.clip(right - 1, 0, n - 1))
    return left, right


def _interp(times_s: np.ndarray, values: np.ndarray, ok: np.ndarray,
            grid_s: np.ndarray) -> np.ndarray:
    """PCHIP through the ``ok`` samples of ``values`` ``(S, ...)``, evaluated on ``grid_s``."""
    from scipy.interpolate import PchipInterpolator

    out = np.full((len(grid_s),) + values.shape[1:], np.nan)
    idx = np.flatnonzero(ok)
    if len(idx) == 0:
        return out
    if len(idx) == 1:
        out[:] = values[idx[0]]
        return out
    flat = values[idx].reshape(len(idx), -1)
    f = PchipInterpolator(times_s[idx], flat, axis=0, extrapolate=False)
    # outside the samples' span the nearest sample holds (a clip ending on repeats)
    return f(np.clip(grid_s, times_s[idx[0]], times_s[idx[-1]])).reshape(out.shape)


def resample_observations(obs: PoseObservations, grid_s: np.ndarray) -> PoseObservations:
    """``obs`` interpolated at the times ``grid_s`` ``(T,)`` [s]; past its last sample the last
    sample holds (before its first, the first)."""
    t = np.asarray(obs.times_s, dtype=float)
    left, right = _bracket(t, grid_s)
    det = obs.detected[left] & obs.detected[right]
    kp_px = _interp(t, obs.kp_px, obs.detected, grid_s)
    kp_rel = _interp(t, obs.kp_rel_c, obs.detected, grid_s)
    vis = np.clip(_interp(t, obs.kp_vis, obs.detected, grid_s), 0.0, 1.0)
    kp_px[~det], kp_rel[~det], vis[~det] = np.nan, np.nan, 0.0
    changes = {"times_s": np.asarray(grid_s, dtype=float), "detected": det, "kp_px": kp_px,
               "kp_rel_c": kp_rel, "kp_vis": vis}
    if obs.has_hands:
        found = np.isfinite(obs.hand_rel_c).all(axis=(-1, -2)) & (obs.hand_score > 0)
        hand_px = np.full((len(grid_s), 2, *obs.hand_px.shape[2:]), np.nan)
        hand_rel = np.full((len(grid_s), 2, *obs.hand_rel_c.shape[2:]), np.nan)
        score = np.zeros((len(grid_s), 2))
        for h in range(2):
            ok = found[left, h] & found[right, h]
            hand_px[:, h] = _interp(t, obs.hand_px[:, h], found[:, h], grid_s)
            hand_rel[:, h] = _interp(t, obs.hand_rel_c[:, h], found[:, h], grid_s)
            score[:, h] = np.clip(_interp(t, obs.hand_score[:, h], found[:, h], grid_s), 0, 1)
            hand_px[~ok, h], hand_rel[~ok, h], score[~ok, h] = np.nan, np.nan, 0.0
        changes |= {"hand_px": hand_px, "hand_rel_c": hand_rel, "hand_score": score}
    return replace(obs, **changes)


def nearest_index(times_s: np.ndarray, grid_s: np.ndarray) -> np.ndarray:
    """``(T,)`` index of the sample of ``times_s`` nearest to each grid time."""
    left, right = _bracket(np.asarray(times_s, dtype=float), grid_s)
    pick_right = np.abs(times_s[right] - grid_s) < np.abs(times_s[left] - grid_s)
    return np.where(pick_right, right, left).astype(int)
