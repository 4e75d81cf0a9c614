"""Foot contacts from the sole's height above its support and the foot's speed, with
hysteresis. Pure functions on ``(T, 2)`` arrays (left foot, right foot)."""

from __future__ import annotations

import numpy as np

from exoactor.perceive.filtering import savgol_filter
from exoactor.signals import drop_short_runs, fill_short_gaps
from exoactor.skeleton import BODY_33

SOLE_POINTS: tuple[tuple[int, int], tuple[int, int]] = (
    (BODY_33.index("left_heel"), BODY_33.index("left_foot_index")),
    (BODY_33.index("right_heel"), BODY_33.index("right_foot_index")),
)
"""Heel and toe landmark of the left and right foot in :data:`BODY_33`."""


def foot_points(joints: np.ndarray) -> np.ndarray:
    """``(T, 2, 2, 3)`` heel and toe positions of the left and right foot from ``(T, 33, 3)``."""
    return joints[:, np.array(SOLE_POINTS)]


def velocity(points: np.ndarray, fps: float, window_s: float = 0.0) -> np.ndarray:
    """Velocity of ``(T, ...)`` positions [unit/s].

    With ``window_s`` > 0, the derivative of a local quadratic fit (Savitzky-Golay) over that
    window, which averages out per-frame landmark noise; else central differences. Zero for
    a single frame.
    """
    p = np.asarray(points, dtype=float)
    if len(p) < 2:
        return np.zeros_like(p)
    window = round(window_s * fps) | 1
    window = min(window, len(p) if len(p) % 2 else len(p) - 1)
    if window >= 5:
        return savgol_filter(p, window, 2, deriv=1, delta=1.0 / fps)
    return np.gradient(p, 1.0 / fps, axis=0)


def hysteresis(enter: np.ndarray, stay: np.ndarray) -> np.ndarray:
    """``(T,)`` state that switches on where ``enter`` and stays on while ``stay``."""
    out = np.zeros(len(enter), dtype=bool)
    on = False
    for t in range(len(enter)):
        on = bool(stay[t]) if on else bool(enter[t])
        out[t] = on
    return out


def clean_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Fill False gaps shorter than ``min_len`` frames between True runs, then drop True runs
    shorter than ``min_len`` (except one covering a whole short clip)."""
    m = np.asarray(mask, dtype=bool).copy()
    if min_len <= 1:
        return m
    return drop_short_runs(fill_short_gaps(m, min_len - 1), min_len, keep_whole=True)


def foot_contacts(sole_height_m: np.ndarray, foot_speed_m_s: np.ndarray, fps: float, *,
                  contact_height_m: float = 0.06, release_height_m: float = 0.10,
                  contact_speed_m_s: float = 0.4, release_speed_m_s: float = 0.8,
                  min_contact_s: float = 0.1,
                  planted: np.ndarray | None = None) -> np.ndarray:
    """Per-foot contact with hysteresis.

    A contact starts when the sole is within ``contact_height_m`` of its support and the
    foot is slower than ``contact_speed_m_s``; it lasts until the sole rises above
    ``release_height_m`` or the foot moves faster than ``release_speed_m_s``. Contacts and
    gaps shorter than ``min_contact_s`` are removed / filled.

    A foot that the image shows planted (``planted``: still in 2D, which monocular depth
    error does not move) is in contact whatever its 3D height and speed: from a camera that
    looks down, or in a three-quarter view, the model's depth error lifts a planted foot by
    centimetres and moves it with the body, while its pixels stay put.

    Args:
        sole_height_m: ``(T, 2)`` height of each foot's lowest point above its support [m].
        foot_speed_m_s: ``(T, 2)`` speed of each foot [m/s].
        fps: frame rate [Hz].
        planted: ``(T, 2)`` bool, each foot still in the image
            (:func:`~exoactor.perceive.world.planted_feet_2d`); None: height and speed only.

    Returns:
        ``(T, 2)`` bool, left and right foot in contact.
    """
    h = np.abs(np.asarray(sole_height_m, dtype=float))
    v = np.asarray(foot_speed_m_s, dtype=float)
    out = np.zeros(h.shape, dtype=bool)
    min_len = round(min_contact_s * fps)
    for k in range(h.shape[1]):
        enter = (h[:, k] < contact_height_m) & (v[:, k] < contact_speed_m_s)
        stay = (h[:, k] < release_height_m) & (v[:, k] < release_speed_m_s)
        if planted is not None:
            still = np.asarray(planted, dtype=bool)[:, k]
            enter, stay = enter | still, stay | still
        out[:, k] = clean_runs(hysteresis(enter, stay), min_len)
    return out
