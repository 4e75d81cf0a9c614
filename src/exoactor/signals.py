"""Time-series helpers shared by the stages: pure functions on time-major arrays.

Masks are ``(T,)`` bool arrays over frames; ranges are ``[start, stop)`` frame indices.
"""

from __future__ import annotations

import numpy as np


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` index ranges where the ``(T,)`` bool ``mask`` is True."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(int))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def drop_short_runs(mask: np.ndarray, min_len: int, keep_whole: bool = False) -> np.ndarray:
    """Copy of the ``(T,)`` bool ``mask`` without its True runs shorter than ``min_len``
    frames (``keep_whole``: except a run covering the whole, short, series)."""
    m = np.array(mask, dtype=bool, copy=True)
    for a, b in runs(m):
        if b - a < min_len and not (keep_whole and a == 0 and b == len(m)):
            m[a:b] = False
    return m


def fill_short_gaps(mask: np.ndarray, max_len: int) -> np.ndarray:
    """Copy of the ``(T,)`` bool ``mask`` with False gaps of at most ``max_len`` frames
    between two True runs set True (gaps at either end stay)."""
    m = np.array(mask, dtype=bool, copy=True)
    for a, b in runs(~m):
        if a > 0 and b < len(m) and b - a <= max_len:
            m[a:b] = True
    return m


def fill_gaps(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation over time of ``(T, ...)`` ``values`` where ``valid`` is False
    (those values are ignored, may be NaN); frames before the first / after the last valid
    frame hold the nearest valid value."""
    values = np.asarray(values, dtype=float)
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        raise ValueError("fill_gaps needs at least one valid frame")
    t = np.arange(len(values))
    flat = values.reshape(len(values), -1)
    out = np.empty_like(flat)
    for k in range(flat.shape[1]):
        out[:, k] = np.interp(t, idx, flat[idx, k])
    return out.reshape(values.shape)


def smoothstep(x: np.ndarray | float) -> np.ndarray:
    """``3x^2 - 2x^3`` on ``x`` clipped to [0, 1]: 0 to 1 with zero slope at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def blend_weight(n: int, windows: list[tuple[int, int]], fps: float, ramp_s: float
                 ) -> np.ndarray:
    """``(n,)`` weight: 1 inside each ``[first, last]`` frame window, smooth-step ramps of
    ``ramp_s`` before and after, 0 elsewhere (max over windows)."""
    t = np.arange(n) / fps
    w = np.zeros(n)
    for a, b in windows:
        ta, tb = a / fps, b / fps
        if ramp_s > 0:
            up = smoothstep((t - (ta - ramp_s)) / ramp_s)
            down = 1.0 - smoothstep((t - tb) / ramp_s)
        else:
            up = (t >= ta).astype(float)
            down = (t <= tb).astype(float)
        w = np.maximum(w, np.minimum(up, down))
    return w
