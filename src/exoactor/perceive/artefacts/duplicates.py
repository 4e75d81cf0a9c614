"""Duplicated frames: a frame that repeats the previous one (up to compression noise).

Video generators often make fewer frames than the container's rate and repeat some to fill it
(GenMimic clips: ~15 distinct frames per second stretched to 30). A repeat carries no new
observation of the person; treated as a new sample it makes the motion stop and jump (a hold,
then double speed). Here a repeat is found by the 99.9th percentile of the absolute grey-level
difference to the previous frame at full resolution: the whole-frame mean does not separate them
(a small moving person changes few pixels), the 99.9th percentile does (repeats stay at the
codec's noise, <= 6-8 grey levels on the GenMimic clips; distinct frames of a moving person reach
>= 10-17). Distinct frames are then re-timed to the generator's own sample times
(:func:`retime_distinct`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def grey_change_p999(grey_a: np.ndarray, grey_b: np.ndarray) -> float:
    """99.9th percentile of ``|grey_b - grey_a|`` over the pixels [grey levels].

    Args:
        grey_a, grey_b: ``(H, W)`` uint8 grey images of the same size.
    """
    import cv2

    diff = cv2.absdiff(grey_a, grey_b)
    hist = cv2.calcHist([diff], [0], None, [256], [0, 256]).ravel()
    cum = np.cumsum(hist)
    return float(np.searchsorted(cum, 0.999 * cum[-1]))


def repeat_mask(change_p999: np.ndarray, max_grey: float) -> np.ndarray:
    """``(S,)`` bool: frame ``k`` repeats frame ``k - 1`` (frame 0 never does).

    Args:
        change_p999: ``(S,)`` :func:`grey_change_p999` of each frame to the previous one
            (frame 0's value is ignored).
        max_grey: largest change of a repeat [grey levels].
    """
    change = np.asarray(change_p999, dtype=float)
    out = change <= max_grey
    if out.size:
        out[0] = False
    return out


@dataclass(frozen=True)
class Retiming:
    """Sample times of the distinct frames.

    Attributes:
        times_s: ``(N,)`` re-timed sample time of each distinct frame [s].
        rate_hz: the distinct frames' rate [Hz].
        uniform: the first-shown times fit a constant rate within half a source interval, so
            the distinct frames were placed on it; False keeps the first-shown times.
        max_residual_s: largest distance between a first-shown time and the fitted line [s].
    """

    times_s: np.ndarray
    rate_hz: float
    uniform: bool
    max_residual_s: float


def retime_distinct(first_shown_s: np.ndarray, source_interval_s: float) -> Retiming:
    """Sample times of distinct frames from the times they are first shown.

    A generator's frames are samples at its own constant rate; stretched to the container's rate
    each is first shown up to one container interval late, unevenly. A least-squares line
    through (ordinal, first-shown time) recovers the constant rate; it is used when every
    first-shown time lies within half a container interval of it (else the frames were not
    made at a constant rate and keep their first-shown times).

    Args:
        first_shown_s: ``(N,)`` increasing presentation time of each distinct frame [s].
        source_interval_s: the container's frame interval [s].
    """
    t = np.asarray(first_shown_s, dtype=float)
    n = len(t)
    if n < 3:
        rate = 1.0 / source_interval_s if n < 2 else (n - 1) / max(t[-1] - t[0], 1e-9)
        return Retiming(t.copy(), float(rate), False, 0.0)
    k = np.arange(n, dtype=float)
    slope, offset = np.polyfit(k, t, 1)
    line = offset + slope * k
    resid = float(np.max(np.abs(t - line)))
    if slope > 0 and resid <= 0.5 * source_interval_s:
        return Retiming(line, float(1.0 / slope), True, resid)
    return Retiming(t.copy(), float((n - 1) / max(t[-1] - t[0], 1e-9)), False, resid)
