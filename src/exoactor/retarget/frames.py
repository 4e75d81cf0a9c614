"""Orientations built from keypoints: pure functions on arrays.

A frame is a rotation matrix whose columns are its x, y, z axes in world. Keypoint frames take x
from one direction and z from a second one made orthogonal to x (Gram-Schmidt); y = z × x.
"""

from __future__ import annotations

import numpy as np

from exoactor.skeleton import HAND_21

_WRIST, _INDEX_MCP, _MIDDLE_MCP, _PINKY_MCP = (HAND_21.index(n) for n in
                                                ("wrist", "index_mcp", "middle_mcp", "pinky_mcp"))


def frame_from_axes(x_dir: np.ndarray, z_hint: np.ndarray) -> np.ndarray:
    """Rotations ``(..., 3, 3)`` with x along ``x_dir`` and z toward ``z_hint``.

    Args:
        x_dir: ``(..., 3)`` direction of the frame's x axis (any length > 0).
        z_hint: ``(..., 3)`` direction whose component orthogonal to x becomes z.

    Returns:
        ``(..., 3, 3)`` rotation matrices (columns x, y, z); NaN where the inputs are degenerate
        (zero length or parallel).
    """
    x = np.asarray(x_dir, dtype=float)
    z = np.asarray(z_hint, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = x / np.linalg.norm(x, axis=-1, keepdims=True)
        z = z - np.sum(z * x, axis=-1, keepdims=True) * x
        nz = np.linalg.norm(z, axis=-1, keepdims=True)
        z = np.where(nz > 1e-9, z / nz, np.nan)
    y = np.cross(z, x)
    R = np.stack([x, y, z], axis=-1)
    return np.where(np.isfinite(R).all(axis=(-1, -2), keepdims=True), R, np.nan)


def mean_points(points: np.ndarray, idx: list[int]) -> np.ndarray:
    """Mean ``(T, 3)`` of the keypoints ``idx`` of ``(T, K, 3)`` points."""
    return points[:, idx].mean(axis=1)


def palm_frame(hand_keypoints_w: np.ndarray) -> np.ndarray:
    """Palm frames of hands from MediaPipe's 21 hand keypoints.

    x points from the wrist to the middle-finger knuckle; z from the pinky knuckle to the index
    knuckle. For both hands this is the frame of the G1's ``*_wrist_yaw_link`` (x along the hand,
    z to the index side), so the left palm faces -y and the right palm +y.

    Args:
        hand_keypoints_w: ``(..., 21, 3)`` hand keypoints in world [m].

    Returns:
        ``(..., 3, 3)`` rotations (NaN where degenerate).
    """
    h = np.asarray(hand_keypoints_w, dtype=float)
    return frame_from_axes(h[..., _MIDDLE_MCP, :] - h[..., _WRIST, :],
                           h[..., _INDEX_MCP, :] - h[..., _PINKY_MCP, :])
