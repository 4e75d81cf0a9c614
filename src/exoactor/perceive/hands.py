"""Hands in the world frame and a continuous grasp closure.

Hand keypoints (:data:`exoactor.skeleton.HAND_21`) come from the backend relative to the hand's
wrist in camera axes. They are placed at the body's wrist in the world. Left/right follows the
body: a hand belongs to the wrist whose crop found it (the body's own left/right labels are
made consistent over time by :func:`exoactor.perceive.filtering.left_right_swaps`).

Grasp closure: the mean flexion of the four fingers (the sum of the bend angles at the MCP,
PIP and DIP joints), mapped linearly from :data:`OPEN_FLEX_RAD` (0, open hand) to
:data:`CLOSED_FLEX_RAD` (1, fist) and clipped to [0, 1]. It is scale-free and ignores the
thumb (whose opposition varies between grasps more than its closure).
"""

from __future__ import annotations

import itertools

import numpy as np

from exoactor.signals import fill_gaps, runs

FINGERS: tuple[tuple[int, int, int, int], ...] = (
    (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20))
"""MCP, PIP, DIP, tip indices of the index, middle, ring and little fingers in HAND_21."""
OPEN_FLEX_RAD = np.radians(25.0)
"""Summed finger flexion of a relaxed open hand [rad] (closure 0)."""
CLOSED_FLEX_RAD = np.radians(230.0)
"""Summed finger flexion of a fist [rad] (closure 1)."""

OPEN_HAND_M = np.array([
    [0.0, 0.0, 0.0], [0.030, 0.025, 0.0], [0.055, 0.045, 0.0], [0.080, 0.058, 0.0],
    [0.100, 0.068, 0.0], [0.095, 0.024, 0.0], [0.135, 0.028, 0.0], [0.160, 0.030, 0.0],
    [0.180, 0.032, 0.0], [0.097, 0.002, 0.0], [0.142, 0.002, 0.0], [0.170, 0.002, 0.0],
    [0.193, 0.002, 0.0], [0.092, -0.018, 0.0], [0.134, -0.020, 0.0], [0.160, -0.021, 0.0],
    [0.181, -0.022, 0.0], [0.083, -0.036, 0.0], [0.115, -0.041, 0.0], [0.134, -0.044, 0.0],
    [0.150, -0.046, 0.0]])
"""A flat open right hand [m] (x along the fingers, y towards the thumb), used where a hand
was never seen; the left hand mirrors y."""


def finger_flexion_rad(hand: np.ndarray) -> np.ndarray:
    """``(..., 4)`` summed bend angle [rad] of each finger of ``(..., 21, 3)`` keypoints."""
    out = []
    for mcp, pip, dip, tip in FINGERS:
        chain = [0, mcp, pip, dip, tip]
        seg = [hand[..., b, :] - hand[..., a, :] for a, b in itertools.pairwise(chain)]
        total = 0.0
        for u, v in itertools.pairwise(seg):
            cos = np.sum(u * v, -1) / np.maximum(
                np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1), 1e-12)
            total = total + np.arccos(np.clip(cos, -1.0, 1.0))
        out.append(total)
    return np.stack(out, -1)


def grasp_closure(hand: np.ndarray) -> np.ndarray:
    """Grasp closure in [0, 1] (0 open, 1 closed) of ``(..., 21, 3)`` hand keypoints."""
    flex = finger_flexion_rad(hand).mean(-1)
    return np.clip((flex - OPEN_FLEX_RAD) / (CLOSED_FLEX_RAD - OPEN_FLEX_RAD), 0.0, 1.0)


def template_hand_w(elbow_w: np.ndarray, wrist_w: np.ndarray, side: int) -> np.ndarray:
    """``(T, 21, 3)`` open hand [m] continuing the forearm (elbow to wrist) of ``side``
    (0 left, 1 right), palm facing the body's side, for frames without any hand estimate."""
    x = wrist_w - elbow_w
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    ref = np.where(np.abs(x[..., 2:3]) < 0.9, [0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
    y = np.cross(ref, x)
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    z = np.cross(x, y)
    local = OPEN_HAND_M * np.array([1.0, 1.0 if side == 1 else -1.0, 1.0])
    return (wrist_w[:, None] + local[None, :, :1] * x[:, None] + local[None, :, 1:2] * y[:, None]
            + local[None, :, 2:3] * z[:, None])


def fill_hand(rel: np.ndarray, found: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate a hand's ``(T, 21, 3)`` wrist-relative keypoints over gaps of at most
    ``max_gap`` frames and hold the nearest estimate over longer ones.

    Returns:
        ``(filled, known)``: the filled keypoints and ``(T,)`` bool, frames that are seen or
        interpolated (False where held).
    """
    known = found.copy()
    for a, b in runs(~found):
        if a > 0 and b < len(found) and b - a <= max_gap:
            known[a:b] = True
    return fill_gaps(rel, found), known
