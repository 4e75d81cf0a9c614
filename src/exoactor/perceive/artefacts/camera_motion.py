"""Slight camera rotation, estimated from the background and removed from the observations.

Generated clips often pan or tilt the camera a little. Treated as static, that rotation becomes
world motion of the person (a standing person walks). Here background corners are tracked
between consecutive distinct frames (Shi-Tomasi corners + pyramidal Lucas-Kanade with a
forward-backward check, on grey thumbnails), points on the person (boxes around the landmarks of
either frame) are dropped, RANSAC (a homography) keeps the points that move together, and the
rotation that best maps their bearing vectors (Kabsch / Wahba) is the camera's rotation between
the frames. Chained, ``R_0k`` maps bearings of camera 0 to camera ``k``:
``f_k = R_0k f_0`` for a static point. Observations are then brought into camera 0
(:func:`compensate_px`, :func:`compensate_vectors`) and the rest of the stage sees a static
camera; frame ``k``'s camera pose is ``T_w_c0 @ [R_0k^T | 0]``.

Frames: ``_px`` image pixels at full resolution; ``_c`` camera axes (x right, y down, z forward).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_POINTS = 12
"""Fewest background points (after RANSAC) to trust a frame pair's rotation."""


@dataclass(frozen=True, eq=False)
class PointMatches:
    """Background corners tracked from one distinct frame to the next.

    Attributes:
        prev_px: ``(M, 2)`` positions in the earlier frame [px, full resolution].
        next_px: ``(M, 2)`` positions in the later frame [px].
    """

    prev_px: np.ndarray
    next_px: np.ndarray


def track_corners(grey_prev: np.ndarray, grey_next: np.ndarray, scale: float,
                  max_corners: int = 300) -> PointMatches:
    """Corners of ``grey_prev`` tracked into ``grey_next`` (both thumbnails ``scale`` x full
    size), with a forward-backward check of 1 px; positions returned at full resolution."""
    import cv2

    p0 = cv2.goodFeaturesToTrack(grey_prev, maxCorners=max_corners, qualityLevel=0.001,
                                 minDistance=7, blockSize=7)
    if p0 is None or len(p0) < 4:
        empty = np.zeros((0, 2))
        return PointMatches(empty, empty)
    lk = {"winSize": (21, 21), "maxLevel": 3,
          "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)}
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(grey_prev, grey_next, p0, None, **lk)
    p0b, st2, _ = cv2.calcOpticalFlowPyrLK(grey_next, grey_prev, p1, None, **lk)
    fb = np.linalg.norm((p0 - p0b).reshape(-1, 2), axis=1)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < 1.0)
    return PointMatches(p0.reshape(-1, 2)[ok] / scale, p1.reshape(-1, 2)[ok] / scale)


class CornerTracker:
    """A frame sink: tracks background corners between key frames at least ``step_s`` apart as
    the pose backend decodes them (no second decode; the rotation between key frames is
    larger than the tracking noise, and fewer links chain less noise).

    ``keys[i]`` is the index of the ``i``-th key frame; ``matches[i]`` goes from key ``i - 1``
    to key ``i`` (entry 0 empty).
    """

    def __init__(self, width_px: int, thumb_width_px: int, step_s: float = 0.1):
        self.scale = min(1.0, thumb_width_px / width_px)
        self.step_s = step_s
        self.keys: list[int] = []
        self.key_times_s: list[float] = []
        self.matches: list[PointMatches] = []
        self.seconds = 0.0
        self._last: np.ndarray | None = None

    def __call__(self, frame) -> None:  # noqa: ANN001 - a perceive.video.Frame
        import time

        import cv2

        if self.key_times_s and frame.time_s - self.key_times_s[-1] < self.step_s - 1e-6:
            return
        t0 = time.perf_counter()
        grey = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY)
        if self.scale < 1.0:
            grey = cv2.resize(grey, None, fx=self.scale, fy=self.scale,
                              interpolation=cv2.INTER_AREA)
        empty = np.zeros((0, 2))
        self.matches.append(track_corners(self._last, grey, self.scale)
                            if self._last is not None else PointMatches(empty, empty))
        self.keys.append(frame.index)
        self.key_times_s.append(frame.time_s)
        self._last = grey
        self.seconds += time.perf_counter() - t0


def outside_boxes(points_px: np.ndarray, boxes_px: list[np.ndarray]) -> np.ndarray:
    """``(M,)`` bool: the point lies outside every ``(x0, y0, x1, y1)`` box."""
    keep = np.ones(len(points_px), dtype=bool)
    for b in boxes_px:
        inside = ((points_px[:, 0] >= b[0]) & (points_px[:, 0] <= b[2])
                  & (points_px[:, 1] >= b[1]) & (points_px[:, 1] <= b[3]))
        keep &= ~inside
    return keep


def _bearings(px: np.ndarray, K: np.ndarray) -> np.ndarray:
    h = np.c_[px, np.ones(len(px))] @ np.linalg.inv(K).T
    return h / np.linalg.norm(h, axis=1, keepdims=True)


def kabsch_rotation(f_a: np.ndarray, f_b: np.ndarray) -> np.ndarray:
    """Rotation ``R`` minimising ``sum |f_b - R f_a|^2`` over ``(M, 3)`` unit vectors."""
    H = f_a.T @ f_b
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(Vt.T @ U.T))
    return Vt.T @ np.diag([1.0, 1.0, d]) @ U.T


@dataclass(frozen=True)
class PairRotation:
    """Camera rotation between two distinct frames.

    Attributes:
        R_ab: ``(3, 3)`` maps bearings of camera a to camera b (identity when unreliable).
        points: background points the rotation was fitted to.
        residual_px: median reprojection error of the rotation model on them [px].
        reliable: enough points agreed.
    """

    R_ab: np.ndarray
    points: int
    residual_px: float
    reliable: bool


def pair_rotation(matches: PointMatches, K: np.ndarray, boxes_px: list[np.ndarray],
                  ransac_px: float = 2.0) -> PairRotation:
    """The camera's rotation between two frames from background matches.

    Args:
        matches: tracked corners.
        K: ``(3, 3)`` intrinsics [px].
        boxes_px: regions to ignore (the person in either frame), ``(x0, y0, x1, y1)`` [px].
        ransac_px: RANSAC inlier distance of the homography [px].
    """
    import cv2

    keep = outside_boxes(matches.prev_px, boxes_px) & outside_boxes(matches.next_px, boxes_px)
    a, b = matches.prev_px[keep], matches.next_px[keep]
    if len(a) < MIN_POINTS:
        return PairRotation(np.eye(3), int(len(a)), float("nan"), False)
    _, inl = cv2.findHomography(a.astype(np.float32), b.astype(np.float32), cv2.RANSAC,
                                ransac_px)
    inl = inl.ravel().astype(bool) if inl is not None else np.zeros(len(a), dtype=bool)
    if inl.sum() < MIN_POINTS:
        return PairRotation(np.eye(3), int(inl.sum()), float("nan"), False)
    a, b = a[inl], b[inl]
    R = kabsch_rotation(_bearings(a, K), _bearings(b, K))
    proj = np.c_[a, np.ones(len(a))] @ (K @ R @ np.linalg.inv(K)).T
    resid = np.linalg.norm(proj[:, :2] / proj[:, 2:] - b, axis=1)
    return PairRotation(R, int(len(a)), float(np.median(resid)), True)


def chain_rotations(pairs: list[np.ndarray]) -> np.ndarray:
    """``(N, 3, 3)`` ``R_0k`` from the ``N - 1`` rotations between consecutive frames."""
    out = [np.eye(3)]
    for R in pairs:
        out.append(R @ out[-1])
    return np.stack(out)


def rotation_angle_deg(R: np.ndarray) -> np.ndarray:
    """Angle of rotation matrices ``(..., 3, 3)`` [deg]."""
    tr = np.trace(R, axis1=-2, axis2=-1)
    return np.degrees(np.arccos(np.clip((tr - 1.0) / 2.0, -1.0, 1.0)))


def compensate_px(px: np.ndarray, R_0k: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Image points ``(N, ..., 2)`` of frames k mapped to where camera 0 sees the same rays.

    Args:
        px: ``(N, ..., 2)`` [px] (NaN stays NaN).
        R_0k: ``(N, 3, 3)``.
        K: ``(3, 3)``.
    """
    shape = px.shape
    flat = px.reshape(shape[0], -1, 2)
    h = np.concatenate([flat, np.ones(flat.shape[:2] + (1,))], axis=-1)
    H = K @ np.transpose(R_0k, (0, 2, 1)) @ np.linalg.inv(K)  # camera k -> camera 0
    out = np.einsum("nij,nmj->nmi", H, h)
    return (out[..., :2] / out[..., 2:]).reshape(shape)


def compensate_vectors(v_c: np.ndarray, R_0k: np.ndarray) -> np.ndarray:
    """Vectors in camera-k axes ``(N, ..., 3)`` expressed in camera-0 axes."""
    shape = v_c.shape
    flat = v_c.reshape(shape[0], -1, 3)
    return np.einsum("nji,nmj->nmi", R_0k, flat).reshape(shape)
