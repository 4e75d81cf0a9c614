"""Pinhole camera helpers: intrinsics, projection, view-ray rotations, static-camera check.

Camera frame ``_c``: OpenCV convention, x right, y down, z forward (along the optical axis),
metres. Pixels ``_px``: x right, y down, origin at the top-left corner.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.transform import Rotation


def intrinsics(width_px: int, height_px: int, fov_deg: float | None = None) -> np.ndarray:
    """``(3, 3)`` pinhole intrinsics with square pixels and the principal point at the centre.

    Args:
        width_px, height_px: frame size [px].
        fov_deg: horizontal field of view [deg]; None uses a focal length equal to the image
            diagonal (about 53 deg diagonal field of view), the default of monocular
            human-mesh methods (WHAM, TRAM, GVHMR) when the camera is unknown.
    """
    if fov_deg is None:
        f = math.hypot(width_px, height_px)
    else:
        f = (width_px / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[f, 0.0, width_px / 2.0], [0.0, f, height_px / 2.0], [0.0, 0.0, 1.0]])


def horizontal_fov_deg(K: np.ndarray, width_px: int) -> float:
    """Horizontal field of view [deg] of intrinsics ``K`` for frames ``width_px`` wide."""
    return math.degrees(2.0 * math.atan((width_px / 2.0) / K[0, 0]))


def project(points_c: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Project ``(..., 3)`` camera-frame points [m] to ``(..., 2)`` pixels."""
    p = np.asarray(points_c, dtype=float)
    z = np.where(np.abs(p[..., 2]) < 1e-9, 1e-9, p[..., 2])
    return np.stack([K[0, 0] * p[..., 0] / z + K[0, 2], K[1, 1] * p[..., 1] / z + K[1, 2]], -1)


def pixel_rays_c(points_px: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Unit viewing rays ``(..., 3)`` in the camera frame through ``(..., 2)`` pixels."""
    p = np.asarray(points_px, dtype=float)
    d = np.stack([(p[..., 0] - K[0, 2]) / K[0, 0], (p[..., 1] - K[1, 2]) / K[1, 1],
                  np.ones(p.shape[:-1])], -1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def ray_rotations(center_px: np.ndarray, K: np.ndarray) -> Rotation:
    """Rotations taking the optical axis onto the viewing ray through each ``(T, 2)`` pixel.

    A model that predicts 3D relative to its crop sees the person as if centred on the
    optical axis; turning its prediction by this rotation puts it in the true camera frame
    (the "perspective crop" correction).
    """
    d = pixel_rays_c(center_px, K)
    axis = np.cross(np.array([0.0, 0.0, 1.0]), d)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(s[..., 0], d[..., 2])
    unit = np.where(s > 1e-12, axis / np.maximum(s, 1e-12), 0.0)
    return Rotation.from_rotvec(unit * angle[..., None])


def background_shift_px(gray_frames: list[np.ndarray], person_boxes_px: list[np.ndarray | None],
                        scale: float = 1.0) -> np.ndarray:
    """Median displacement of background features from the first frame to each later one.

    Args:
        gray_frames: ``(H, W)`` uint8 frames (possibly downscaled by ``scale``).
        person_boxes_px: per frame, the actor's box ``x0, y0, x1, y1`` in **full-size**
            pixels (masked out of the features), or None.
        scale: size of ``gray_frames`` relative to the full frames.

    Returns:
        ``(len(gray_frames),)`` median feature displacement in full-size pixels (0 for the
        first frame; NaN where too few features could be followed).
    """
    import cv2

    out = np.full(len(gray_frames), np.nan)
    if not gray_frames:
        return out
    out[0] = 0.0
    ref = gray_frames[0]
    mask = np.full(ref.shape, 255, np.uint8)
    for b in person_boxes_px:
        if b is not None:
            x0, y0, x1, y1 = (np.asarray(b) * scale).astype(int)
            mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = 0
    pts = cv2.goodFeaturesToTrack(ref, maxCorners=300, qualityLevel=0.01, minDistance=8,
                                  mask=mask)
    if pts is None or len(pts) < 10:
        return out
    for k in range(1, len(gray_frames)):
        nxt, status, _ = cv2.calcOpticalFlowPyrLK(ref, gray_frames[k], pts, None,
                                                  winSize=(21, 21), maxLevel=3)
        ok = status.ravel() == 1
        if ok.sum() >= 10:
            d = np.linalg.norm((nxt[ok] - pts[ok]).reshape(-1, 2), axis=1)
            out[k] = float(np.median(d)) / scale
    return out
