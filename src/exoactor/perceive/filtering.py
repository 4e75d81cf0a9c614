"""Clean-up of per-frame landmarks: left/right swaps, gaps, temporal filtering, bone lengths.

Pure functions on time-major arrays ``(T, J, D)``; ``valid`` is ``(T,)`` bool.
"""

from __future__ import annotations

import numpy as np

from exoactor.skeleton import BODY_33, BODY_BONES

MIRROR_33: tuple[int, ...] = tuple(
    BODY_33.index(n.replace("left_", "right_")) if n.startswith("left_")
    else BODY_33.index(n.replace("right_", "left_")) if n.startswith("right_")
    else i for i, n in enumerate(BODY_33))
"""Index of each landmark's mirror image (left <-> right) in :data:`BODY_33`."""

EXTRA_RIGID: tuple[tuple[str, str], ...] = tuple(
    (f"{s}_wrist", f"{s}_{p}") for s in ("left", "right") for p in ("pinky", "index", "thumb")
) + (("left_ear", "right_ear"), ("nose", "left_ear"), ("nose", "right_ear"))
"""Further segments held at constant length (hand and head landmarks), beyond
:data:`exoactor.skeleton.BODY_BONES`."""


def torso_yaw_c(rel_c: np.ndarray) -> np.ndarray:
    """``(T,)`` heading [rad] in the camera's x-z plane of the body's left direction (hips and
    shoulders, left minus right) from ``(T, 33, 3)`` camera-axes landmarks."""
    i = BODY_33.index
    left = (rel_c[:, i("left_hip")] - rel_c[:, i("right_hip")]
            + rel_c[:, i("left_shoulder")] - rel_c[:, i("right_shoulder")])
    return np.arctan2(left[:, 2], left[:, 0])


def left_right_swaps(kp_px: np.ndarray, rel_c: np.ndarray, valid: np.ndarray,
                     ratio: float = 0.5, min_turn_rad: float = np.radians(100.0)) -> np.ndarray:
    """Frames whose left/right labels are swapped relative to the previous valid frame.

    A frame is swapped when mirroring its labels brings its 2D landmarks closer to the
    previous (already corrected) frame by a factor ``ratio`` or better **and** its torso
    heading turned by more than ``min_turn_rad`` since that frame (a label flip, not a turn:
    nobody turns 100 deg in a frame).

    Args:
        kp_px: ``(T, 33, 2)`` landmarks [px].
        rel_c: ``(T, 33, 3)`` root-relative landmarks, camera axes [m].
        valid: ``(T,)`` frames with a detection.

    Returns:
        ``(T,)`` bool, True where the labels must be mirrored.
    """
    mirror = np.array(MIRROR_33)
    yaw = torso_yaw_c(rel_c)
    swapped = np.zeros(len(kp_px), dtype=bool)
    prev = prev_yaw = None
    for t in np.flatnonzero(valid):
        cur, cur_yaw = kp_px[t], yaw[t]
        if prev is not None:
            keep = np.nansum((cur - prev) ** 2)
            swap = np.nansum((cur[mirror] - prev) ** 2)
            turn = abs((cur_yaw - prev_yaw + np.pi) % (2 * np.pi) - np.pi)
            if swap < ratio * keep and turn > min_turn_rad:
                swapped[t] = True
                cur = cur[mirror]
                cur_yaw = torso_yaw_c(rel_c[t:t + 1][:, mirror])[0]
        prev, prev_yaw = cur, cur_yaw
    return swapped


def mirror_labels(arr: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Copy of ``(T, 33, ...)`` ``arr`` with left/right landmarks exchanged at ``frames``."""
    out = np.array(arr, copy=True)
    out[frames] = out[frames][:, list(MIRROR_33)]
    return out


def savgol_filter(values: np.ndarray, window: int, order: int, deriv: int = 0,
                  delta: float = 1.0) -> np.ndarray:
    """Savitzky-Golay filter along axis 0 of ``(T, ...)`` ``values``: what
    ``scipy.signal.savgol_filter(values, window, order, deriv, delta, axis=0, mode="interp")``
    returns (to rounding), without importing ``scipy.signal`` (~2.5 s of start-up: it pulls
    in ``scipy.stats``).

    Each sample is the ``deriv``-th derivative (per ``delta``, the sample spacing) at the
    window's centre of the least-squares polynomial of degree ``order`` through the ``window``
    (odd, ``order < window <= T``) samples around it; the first and last ``window // 2``
    samples take the polynomial through the first / last window.
    """
    from math import factorial

    x = np.asarray(values, dtype=float)
    T, w = len(x), int(window)
    if w % 2 != 1 or not order < w <= T:
        raise ValueError(f"savgol_filter: window {w} must be odd, > order {order} and "
                         f"<= the {T} samples")
    half = w // 2
    flat = x.reshape(T, -1)
    t = np.arange(w, dtype=float)
    # polynomial coefficients (order + 1, M) of each window = pinv(V) @ samples
    fit = np.linalg.pinv(np.vander(t, order + 1, increasing=True))

    def derivative_at(points: np.ndarray) -> np.ndarray:
        """(len(points), order + 1): the deriv-th derivative of each monomial there."""
        k = np.arange(order + 1)
        scale = np.array([factorial(j) / factorial(j - deriv) if j >= deriv else 0.0
                          for j in k])
        power = np.clip(k - deriv, 0, None)
        return scale * points[:, None] ** power / delta ** deriv

    centre = derivative_at(np.array([float(half)])) @ fit  # (1, w) weights
    out = np.empty_like(flat)
    windows = np.lib.stride_tricks.sliding_window_view(flat, w, axis=0)  # (T-w+1, M, w)
    out[half:T - half] = windows @ centre[0]
    out[:half] = derivative_at(t[:half]) @ (fit @ flat[:w])
    out[T - half:] = derivative_at(t[w - half:]) @ (fit @ flat[T - w:])
    return out.reshape(x.shape)


def savgol(values: np.ndarray, window: int, order: int) -> np.ndarray:
    """Zero-phase Savitzky-Golay smoothing along time of ``(T, ...)`` ``values``.

    The window shrinks to the clip length (odd); too short a clip is returned unchanged.
    """
    n = len(values)
    window = min(int(window) | 1, n if n % 2 else n - 1)
    if window <= order + 1:
        return np.array(values, dtype=float, copy=True)
    return savgol_filter(values, window, order)


def one_euro(values: np.ndarray, fps: float, min_cutoff_hz: float = 1.5,
             beta: float = 0.3, d_cutoff_hz: float = 1.0) -> np.ndarray:
    """Causal one-euro filter (Casiez et al. 2012) along time of ``(T, ...)`` ``values``.

    Args:
        values: samples at ``fps`` [Hz], any trailing shape (filtered elementwise).
        min_cutoff_hz: cutoff at rest [Hz]; lower is smoother.
        beta: cutoff increase per unit speed [s/unit]; higher lags less on fast motion.
        d_cutoff_hz: cutoff of the speed estimate [Hz].
    """
    x = np.asarray(values, dtype=float)
    out = np.empty_like(x)
    if len(x) == 0:
        return out
    dt = 1.0 / fps

    def alpha(cutoff: np.ndarray | float) -> np.ndarray | float:
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau / dt)

    out[0] = x[0]
    dx = np.zeros_like(x[0])
    a_d = alpha(d_cutoff_hz)
    for t in range(1, len(x)):
        dx = a_d * (x[t] - out[t - 1]) / dt + (1 - a_d) * dx
        a = alpha(min_cutoff_hz + beta * np.abs(dx))
        out[t] = a * x[t] + (1 - a) * out[t - 1]
    return out


def bone_index_pairs(names: tuple[str, ...] = BODY_33, extra: bool = True
                     ) -> list[tuple[int, int]]:
    """Index pairs of the constant-length segments: BODY_BONES (+ EXTRA_RIGID)."""
    pairs = list(BODY_BONES) + (list(EXTRA_RIGID) if extra else [])
    return [(names.index(a), names.index(b)) for a, b in pairs]


def bone_lengths(points: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    """``(T, B)`` segment lengths of ``(T, J, 3)`` points."""
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    return np.linalg.norm(points[:, a] - points[:, b], axis=-1)


def reference_lengths(points: np.ndarray, valid: np.ndarray, pairs: list[tuple[int, int]],
                      names: tuple[str, ...] = BODY_33, inplane_max_sine: float | None = None,
                      min_frames: int = 10) -> np.ndarray:
    """``(B,)`` clip-median segment lengths over ``valid`` frames, left and right averaged.

    With ``inplane_max_sine`` (``points`` in camera axes, z the optical axis), each segment's
    median is taken, left and right pooled, over the frames where it lies within
    ``asin(inplane_max_sine)`` of the image plane (seen side-on, not foreshortened); a
    segment with fewer than ``min_frames`` such samples keeps the plain median.
    """
    P = np.asarray(points)[valid]
    lengths = bone_lengths(P, pairs)
    med = np.median(lengths, axis=0)
    key = []
    for a, b in pairs:
        na, nb = names[a].replace("right_", "left_"), names[b].replace("right_", "left_")
        key.append(tuple(sorted((na, nb))))
    out = med.copy()
    if inplane_max_sine is not None:
        a = np.array([p[0] for p in pairs])
        b = np.array([p[1] for p in pairs])
        depth = np.abs(P[:, b, 2] - P[:, a, 2]) / np.maximum(lengths, 1e-9)
        side_on = depth < inplane_max_sine
    for k in set(key):
        sel = [i for i, kk in enumerate(key) if kk == k]
        if inplane_max_sine is not None:
            x = lengths[:, sel][side_on[:, sel]]
            if len(x) >= min_frames:
                out[sel] = np.median(x)
                continue
        out[sel] = med[sel].mean()
    return out


def enforce_bone_lengths(points: np.ndarray, pairs: list[tuple[int, int]],
                         lengths: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Move ``(T, J, 3)`` points so each segment in ``pairs`` has its ``lengths`` [m].

    Position-based projection (Gauss-Seidel sweeps over the segments, both ends moving
    equally), vectorised over frames; segment directions are kept, loops (the torso) settle
    at a least-squares compromise.
    """
    p = np.array(points, dtype=float, copy=True)
    for _ in range(iterations):
        for (a, b), length in zip(pairs, lengths):
            d = p[:, b] - p[:, a]
            n = np.linalg.norm(d, axis=-1, keepdims=True)
            corr = 0.5 * (n - length) * d / np.maximum(n, 1e-9)
            p[:, a] += corr
            p[:, b] -= corr
    return p


def stature_m(lengths: np.ndarray, pairs: list[tuple[int, int]],
              names: tuple[str, ...] = BODY_33) -> float:
    """Standing height [m] implied by segment lengths, from thigh + shank + torso (hip to
    shoulder) = 0.779 of stature (Drillis & Contini segment proportions: 0.245, 0.246, 0.288).
    """
    want = {("left_hip", "left_knee"), ("left_knee", "left_ankle"),
            ("left_shoulder", "left_hip")}
    total = sum(float(lengths[i]) for i, (a, b) in enumerate(pairs)
                if (names[a], names[b]) in want or (names[b], names[a]) in want)
    return total / 0.779
