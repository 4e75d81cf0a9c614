"""Temporal smoothing of target trajectories: pure functions.

Smoothing is applied to the scaled keypoint targets *before* contacts are pinned
(:mod:`exoactor.retarget.contacts`), so it removes jitter without ever moving a foot that is in
contact; the IK then adds warm starts and a per-frame joint velocity limit.
"""

from __future__ import annotations

import numpy as np


def gaussian_smooth(values: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Zero-phase Gaussian low-pass of ``(T, ...)`` values along time.

    Args:
        values: ``(T, ...)`` samples (columns that are all NaN stay NaN).
        sigma_frames: standard deviation of the kernel [frames]; <= 0 returns a copy.

    Returns:
        ``(T, ...)`` smoothed values; the ends are padded with the end values, so a constant
        signal is unchanged.
    """
    from scipy.ndimage import gaussian_filter1d

    x = np.array(values, dtype=float)
    if sigma_frames <= 0 or len(x) < 2:
        return x
    return gaussian_filter1d(x, sigma_frames, axis=0, mode="nearest", truncate=3.0)


def nearest_bool(times_s: np.ndarray, flags: np.ndarray, query_s: np.ndarray) -> np.ndarray:
    """Resample ``(T, ...)`` bool flags at ``query_s`` by taking the nearest sample."""
    times_s = np.asarray(times_s, dtype=float)
    idx = np.clip(np.searchsorted(times_s, query_s), 1, max(len(times_s) - 1, 1))
    if len(times_s) == 1:
        return np.repeat(np.asarray(flags)[:1], len(query_s), axis=0)
    left = times_s[idx - 1]
    right = times_s[idx]
    pick = np.where(np.abs(query_s - left) <= np.abs(right - query_s), idx - 1, idx)
    return np.asarray(flags)[pick]
