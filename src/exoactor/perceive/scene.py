"""Scene cues of a static camera: gravity (and the focal length) from the lines of the scene.

Man-made and natural scenes hold families of parallel 3D lines (floor tiles, wall edges,
door frames, table edges, tree trunks): each family meets at a vanishing point. A vertical
family's direction *is* up; a horizontal family's is perpendicular to it; two orthogonal
families give the focal length. The person's body gives gravity only to the lean of the pose
model (5-13 deg on the rendered pitched clip), the scene to a degree or two when it has
lines.

Method: line segments (OpenCV's LSD) on a few frames with the actor's boxes masked; each
segment's interpretation plane normal in the camera frame, ``n = K^T (p1 x p2)``; vanishing
directions by RANSAC (a direction ``d`` explains a segment when ``|n . d|`` is below
``sin(tol)``), strongest first; each family is classified against the body's up estimate as
vertical (within ``vertical_deg``) or horizontal (within ``vertical_deg`` of perpendicular),
others are ignored; up is the unit vector minimising

``sum_h w_h (u . d_h)^2 + sum_v w_v |u x d_v|^2 + w_body |u x u_body|^2``

(an eigenvector problem). Frames are ``(H, W)`` uint8 greys; camera frame x right, y down,
z forward; pixels of the full-size frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineFamily:
    """A family of parallel scene lines.

    Attributes:
        direction_c: ``(3,)`` unit 3D direction, camera frame (sign arbitrary).
        support_px: summed length of its segments [px, full-size].
        segments: number of segments.
    """

    direction_c: np.ndarray
    support_px: float
    segments: int


def line_segments_px(gray: np.ndarray, mask: np.ndarray | None = None,
                     min_length_frac: float = 0.04) -> np.ndarray:
    """``(N, 4)`` segments ``x1, y1, x2, y2`` [px of ``gray``] of at least ``min_length_frac``
    of the image diagonal, outside ``mask`` (``(H, W)`` bool, True where the actor is)."""
    import cv2

    lsd = cv2.createLineSegmentDetector()
    lines = lsd.detect(gray)[0]
    if lines is None:
        return np.zeros((0, 4))
    seg = lines.reshape(-1, 4).astype(float)
    diag = float(np.hypot(*gray.shape))
    length = np.hypot(seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1])
    seg = seg[length >= min_length_frac * diag]
    if mask is not None and len(seg):
        h, w = mask.shape
        keep = np.ones(len(seg), dtype=bool)
        for p in (seg[:, :2], seg[:, 2:], 0.5 * (seg[:, :2] + seg[:, 2:])):
            x = np.clip(p[:, 0].astype(int), 0, w - 1)
            y = np.clip(p[:, 1].astype(int), 0, h - 1)
            keep &= ~mask[y, x]
        seg = seg[keep]
    return seg


def plane_normals_c(segments_px: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals ``(N, 3)`` of the planes through the camera centre and each segment
    [camera frame], and the segments' lengths ``(N,)`` [px]."""
    s = np.asarray(segments_px, dtype=float)
    p1 = np.concatenate([s[:, :2], np.ones((len(s), 1))], 1)
    p2 = np.concatenate([s[:, 2:], np.ones((len(s), 1))], 1)
    n = np.cross(p1, p2) @ K  # K^T (p1 x p2), as rows
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    return n, np.hypot(s[:, 2] - s[:, 0], s[:, 3] - s[:, 1])


def vanishing_families(normals_c: np.ndarray, length_px: np.ndarray, *, tol_deg: float = 1.0,
                       max_families: int = 4, min_segments: int = 6,
                       iterations: int = 400, seed: int = 0) -> list[LineFamily]:
    """Families of parallel lines by sequential RANSAC on the segments' plane normals.

    A candidate direction is the cross product of two normals; its support is the summed
    length of the segments whose plane it lies in (``|n . d| < sin(tol_deg)``); the best is
    refined by least squares over its inliers (the smallest eigenvector of their weighted
    normals' scatter), its inliers removed, and the search repeated.
    """
    rng = np.random.default_rng(seed)
    n = np.asarray(normals_c, dtype=float)
    w = np.asarray(length_px, dtype=float)
    left = np.ones(len(n), dtype=bool)
    tol = np.sin(np.radians(tol_deg))
    out: list[LineFamily] = []
    for _ in range(max_families):
        idx = np.flatnonzero(left)
        if len(idx) < min_segments:
            break
        p = w[idx] / w[idx].sum()
        best, best_score = None, 0.0
        for _ in range(iterations):
            a, b = rng.choice(idx, 2, replace=False, p=p)
            d = np.cross(n[a], n[b])
            nd = np.linalg.norm(d)
            if nd < 1e-6:
                continue
            d /= nd
            inl = np.abs(n[idx] @ d) < tol
            score = w[idx][inl].sum()
            if score > best_score:
                best, best_score = d, score
        if best is None:
            break
        inl = idx[np.abs(n[idx] @ best) < tol]
        if len(inl) < min_segments:
            break
        M = (n[inl] * w[inl, None]).T @ n[inl]
        d = np.linalg.eigh(M)[1][:, 0]
        inl = idx[np.abs(n[idx] @ d) < tol]
        out.append(LineFamily(d, float(w[inl].sum()), len(inl)))
        left[inl] = False
    return out


@dataclass(frozen=True)
class SceneUp:
    """Gravity from the scene's lines.

    Attributes:
        up_c: ``(3,)`` unit up, camera frame.
        vertical: families taken as vertical.
        horizontal: families taken as horizontal.
        change_deg: angle from the body's estimate to this one [deg].
    """

    up_c: np.ndarray
    vertical: int
    horizontal: int
    change_deg: float


def scene_up_c(families: list[LineFamily], body_up_c: np.ndarray, *,
               vertical_deg: float = 25.0, horizontal_deg: float = 15.0,
               min_spread_deg: float = 45.0, body_weight: float = 0.002,
               max_change_deg: float = 20.0) -> SceneUp | None:
    """Gravity from line families and the body's estimate (see the module docstring).

    Args:
        families: from :func:`vanishing_families`.
        body_up_c: ``(3,)`` the body's up estimate (classifies the families, breaks ties).
        vertical_deg: a family within this of the body's up is vertical [deg].
        horizontal_deg: a family within this of perpendicular to it is horizontal [deg].
        min_spread_deg: horizontal families alone count only when two of them are at least
            this far apart (one horizontal direction leaves a tilt about it free) [deg].
        body_weight: weight of the body's estimate, as a fraction of the families' total
            (it only settles directions the families leave free).
        max_change_deg: a result further than this from the body's estimate is refused.

    Returns:
        The estimate, or None when no family is vertical and no two horizontal ones span the
        ground plane, or the scene disagrees with the body by more than ``max_change_deg``.
    """
    u0 = np.asarray(body_up_c, dtype=float)
    u0 = u0 / np.linalg.norm(u0)
    M = np.zeros((3, 3))
    total = 0.0
    nv = nh = 0
    cos_v, sin_h = np.cos(np.radians(vertical_deg)), np.sin(np.radians(horizontal_deg))
    horizontals = []
    for f in families:
        c = abs(float(f.direction_c @ u0))
        d = f.direction_c[:, None]
        if c > cos_v:
            M += f.support_px * (np.eye(3) - d @ d.T)
            nv += 1
        elif c < sin_h:
            M += f.support_px * (d @ d.T)
            nh += 1
            horizontals.append(f.direction_c)
        else:
            continue
        total += f.support_px
    spread = max((np.degrees(np.arccos(min(1.0, abs(float(a @ b)))))
                  for i, a in enumerate(horizontals) for b in horizontals[i + 1:]), default=0.0)
    if nv == 0 and spread < min_spread_deg:
        return None
    M += body_weight * total * (np.eye(3) - np.outer(u0, u0))
    u = np.linalg.eigh(M)[1][:, 0]
    u = u if u @ u0 >= 0 else -u
    change = float(np.degrees(np.arccos(np.clip(u @ u0, -1.0, 1.0))))
    if change > max_change_deg:
        logger.info("scene lines disagree with the body's gravity by %.1f deg; ignored", change)
        return None
    return SceneUp(u, nv, nh, change)


def scene_families(grays: list[np.ndarray], scale: float, person_boxes_px: list[np.ndarray],
                   K: np.ndarray) -> list[LineFamily]:
    """Line families seen in ``grays`` (frames downscaled by ``scale``), the actor's boxes
    (full-size pixels) masked; segments of all frames pooled (static camera)."""
    segs = []
    for g in grays:
        mask = np.zeros(g.shape, dtype=bool)
        for b in person_boxes_px:
            x0, y0, x1, y1 = (np.asarray(b) * scale).astype(int)
            mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
        s = line_segments_px(g, mask)
        if len(s):
            segs.append(s / scale)
    if not segs:
        return []
    # the same edges recur in every frame: keep one frame's worth of weight per edge
    n, length = plane_normals_c(np.concatenate(segs), K)
    return vanishing_families(n, length / len(segs))


def pitch_and_roll_c(pitch_from_c: np.ndarray, roll_from_c: np.ndarray) -> np.ndarray:
    """``(3,)`` unit up (camera frame) with the camera pitch of ``pitch_from_c`` (its
    component along the optical axis) and the roll of ``roll_from_c`` (its direction in the
    image plane).

    The scene's lines fix the pitch, which the body sees only through the pose model's depth
    (its worst coordinate); the roll is what the image shows of a standing person, which the
    2D landmarks see well (and generated scenes' verticals are not always true).
    """
    uz = float(np.clip(pitch_from_c[2], -1.0, 1.0))
    roll = np.arctan2(roll_from_c[0], -roll_from_c[1])
    c = np.sqrt(max(0.0, 1.0 - uz * uz))
    return np.array([np.sin(roll) * c, -np.cos(roll) * c, uz])
