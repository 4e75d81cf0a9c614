"""World grounding for a static camera: gravity, ground, support levels and the world frame.

Inputs are landmarks in the camera frame ``_c`` (x right, y down, z forward) [m]. Output world
frame ``_w``: z up (against gravity), ground at z = 0, origin below the actor's hip centre at
the first valid frame, x along the actor's facing direction there.

* **Up** comes from the body: the median direction from the ankles to the shoulders over the
  frames where the actor stands straight (torso and legs aligned, knees extended). People
  stand within a few degrees of vertical; the camera's pitch and roll follow. Only frames whose
  legs the camera sees count (hidden legs are the pose model's guess). Without such
  frames the camera is assumed level (up = -y of the camera). The feet in contact then level
  it along the directions they span (:func:`refine_up_c`): soles on one support have one
  height, however far the actor walked.
* **Support levels** are the heights where the lowest foot of each frame piles up (see
  :func:`support_levels`): the lowest one is the ground (z = 0), higher ones are platforms
  (a box, a step). Without a clear level, the lowest foot points of the clip define the
  ground.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.perceive.world import legs_seen
from exoactor.skeleton import BODY_33

logger = logging.getLogger(__name__)

_I = BODY_33.index
_LH, _RH, _LS, _RS = _I("left_hip"), _I("right_hip"), _I("left_shoulder"), _I("right_shoulder")
_LK, _RK, _LA, _RA = _I("left_knee"), _I("right_knee"), _I("left_ankle"), _I("right_ankle")


@dataclass(frozen=True)
class UpEstimate:
    """Gravity direction in the camera frame.

    Attributes:
        up_c: ``(3,)`` unit vector against gravity, camera frame.
        source: ``"body"`` or ``"torso"`` (the axis of standing frames), with ``"+soles"``
            when then levelled by the feet in contact (:func:`refine_up_c`), or
            ``"level-camera"`` (assumed).
        frames: standing frames used.
        spread_deg: median angle between the frames' body axes and ``up_c`` [deg].
    """

    up_c: np.ndarray
    source: str
    frames: int
    spread_deg: float

    @property
    def camera_pitch_deg(self) -> float:
        """Elevation of the optical axis above the horizon [deg] (negative: the camera looks
        down; a camera tilted 8 deg down reads -8)."""
        return float(np.degrees(np.arcsin(np.clip(self.up_c[2], -1, 1))))

    @property
    def camera_roll_deg(self) -> float:
        """Roll of the camera about its optical axis [deg]."""
        return float(np.degrees(np.arctan2(self.up_c[0], -self.up_c[1])))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.arccos(np.clip(np.sum(_unit(a) * _unit(b), axis=-1), -1.0, 1.0))


def estimate_up_c(joints_c: np.ndarray, valid: np.ndarray, max_bend_deg: float = 15.0,
                  axis: str = "body", seen: np.ndarray | None = None) -> UpEstimate:
    """Up direction from the frames where the actor stands straight, once for the clip.

    Only what the camera sees is evidence: a frame counts only where the shoulders and hips
    are ``seen`` and each leg is (its knee or its ankle). Legs
    hidden behind a table or a box are the pose model's guess (measured on the rendered
    lean behind a table, seen from the front and from 30 deg: knees and ankles at visibility
    0.01-0.26, the guessed legs 2-4 deg from vertical while the person stands and 60-80 deg
    once the trunk leans, so that the lean's frames passed as straight and pulled the camera's
    pitch 50 deg).

    Args:
        joints_c: ``(T, 33, 3)`` landmarks in the camera frame [m].
        valid: ``(T,)`` frames with a real detection.
        max_bend_deg: largest torso-to-leg and knee bend of a "straight" frame [deg]
            (MediaPipe bends the knees of people standing straight by 15-35 deg).
        axis: the axis of a straight frame taken as vertical: ``"body"`` (ankles to
            shoulders) or ``"torso"`` (hip centre to shoulder centre: people stand with an
            upright trunk even when the model bends their knees).
    """
    if axis not in ("body", "torso"):
        raise ValueError(f"axis must be 'body' or 'torso', not {axis!r}")
    hip = joints_c[:, [_LH, _RH]].mean(1)
    sh = joints_c[:, [_LS, _RS]].mean(1)
    ank = joints_c[:, [_LA, _RA]].mean(1)
    lim = np.radians(max_bend_deg)
    straight = valid & (_angle(sh - hip, hip - ank) < lim)
    if seen is not None:
        seen = np.asarray(seen, dtype=bool)
        straight &= seen[:, [_LS, _RS, _LH, _RH]].all(1)
        straight &= legs_seen(seen).all(1)
    for h, k, a in ((_LH, _LK, _LA), (_RH, _RK, _RA)):
        straight &= _angle(joints_c[:, k] - joints_c[:, h], joints_c[:, a] - joints_c[:, k]) < lim
    axes = _unit(sh - (ank if axis == "body" else hip))[straight]
    if len(axes) < 3:
        up = np.array([0.0, -1.0, 0.0])
        logger.warning("no frame with the actor standing straight: assuming a level camera "
                       "(no pitch, no roll) for the direction of gravity")
        return UpEstimate(up, "level-camera", len(axes), float("nan"))
    up = _unit(np.median(axes, axis=0))
    for _ in range(3):  # re-centre on the inliers
        ang = _angle(axes, up[None])
        keep = ang < max(np.radians(10.0), 2.5 * np.median(ang))
        up = _unit(axes[keep].mean(0))
    spread = float(np.degrees(np.median(_angle(axes, up[None]))))
    return UpEstimate(up, "body" if axis == "body" else "torso", len(axes), spread)


@dataclass(frozen=True)
class SupportLevels:
    """Heights the actor stands on.

    Attributes:
        ground_c: height of the ground along ``up_c`` in the camera frame [m] (``up_c . p``
            of a ground point ``p``).
        levels_m: ``(L,)`` support heights above the ground [m], ascending; ``levels_m[0]``
            is 0 (the ground).
        support_s: ``(L,)`` time the lowest foot spent on each level [s].
        source: ``"foot-height-peaks"`` or ``"lowest-feet"`` (no level was clear).
    """

    ground_c: float
    levels_m: np.ndarray
    support_s: np.ndarray
    source: str


def support_levels(sole_c: np.ndarray, valid: np.ndarray, fps: float, *,
                   level_gap_m: float = 0.2, min_level_s: float = 0.3,
                   bin_m: float = 0.02) -> SupportLevels:
    """Support levels: peaks of the distribution of the lowest sole height per frame.

    The lowest foot of a frame is nearly always on something; its heights pile up at each
    support (the ground, a box), while airborne frames spread thinly between them. A level
    is a peak of the smoothed histogram holding at least ``min_level_s`` of frames within
    ``level_gap_m / 2``; peaks closer than ``level_gap_m`` merge. The lowest level is the
    ground. Without any level, the 2nd percentile of the sole heights is the ground.

    Args:
        sole_c: ``(T, 2)`` height of each foot's lowest point along ``up_c`` [m].
        valid: ``(T,)`` frames with a real detection.
        fps: frame rate [Hz].
        level_gap_m: least height between two levels [m].
        min_level_s: least time on a level [s].
        bin_m: histogram bin [m].
    """
    h = np.min(sole_c, axis=1)[valid]
    h = h[np.isfinite(h)]
    if h.size == 0:
        return SupportLevels(0.0, np.zeros(1), np.zeros(1), "lowest-feet")
    lo, hi = h.min() - 3 * bin_m, h.max() + 3 * bin_m
    edges = np.arange(lo, hi + bin_m, bin_m)
    counts, _ = np.histogram(h, edges)
    centres = 0.5 * (edges[:-1] + edges[1:])
    sigma = max(1.0, 0.03 / bin_m)
    k = np.arange(-int(3 * sigma), int(3 * sigma) + 1)
    smooth = np.convolve(counts, np.exp(-0.5 * (k / sigma) ** 2), mode="same")
    peaks = [i for i in range(len(smooth))
             if smooth[i] > 0 and smooth[i] >= smooth[max(i - 1, 0)]
             and smooth[i] >= smooth[min(i + 1, len(smooth) - 1)]]
    half = level_gap_m / 2
    min_n = max(1, round(min_level_s * fps))
    found: list[tuple[float, int]] = []
    for i in sorted(peaks, key=lambda i: -smooth[i]):
        near = h[np.abs(h - centres[i]) <= half]
        if len(near) < min_n or any(abs(centres[i] - c) < level_gap_m for c, _ in found):
            continue
        found.append((float(centres[i]), len(near)))
    if not found:
        ground = float(np.percentile(h, 2))
        return SupportLevels(ground, np.zeros(1), np.zeros(1), "lowest-feet")
    found.sort()
    med = np.array([float(np.median(h[np.abs(h - c) <= half])) for c, _ in found])
    ground = float(med[0])
    return SupportLevels(ground, med - ground, np.array([n / fps for _, n in found]),
                         "foot-height-peaks")


def nearest_level(height_m: np.ndarray, levels_m: np.ndarray) -> np.ndarray:
    """For each height above ground [m], the support level it is nearest to [m]."""
    h = np.asarray(height_m, dtype=float)
    idx = np.argmin(np.abs(h[..., None] - np.asarray(levels_m)), axis=-1)
    return np.asarray(levels_m)[idx]


def facing_c(joints_c: np.ndarray, valid: np.ndarray, up_c: np.ndarray, fps: float,
             window_s: float = 0.5) -> np.ndarray:
    """Unit horizontal facing direction (camera frame) of the actor over the first
    ``window_s`` of valid frames: left (hips + shoulders, left minus right) crossed with up."""
    idx = np.flatnonzero(valid)
    idx = idx[idx < idx[0] + max(1, round(window_s * fps))]
    left = (joints_c[idx, _LH] - joints_c[idx, _RH] + joints_c[idx, _LS]
            - joints_c[idx, _RS]).mean(0)
    fwd = np.cross(left, up_c)
    fwd = fwd - np.dot(fwd, up_c) * up_c
    if np.linalg.norm(fwd) < 1e-9:
        fwd = np.cross(np.array([1.0, 0.0, 0.0]), up_c)
    return _unit(fwd)


def world_from_camera(up_c: np.ndarray, forward_c: np.ndarray, origin_c: np.ndarray
                      ) -> np.ndarray:
    """``(4, 4)`` ``T_w_c`` mapping camera-frame points to the world frame whose z axis is
    ``up_c``, x axis ``forward_c`` (horizontal) and origin ``origin_c`` (camera frame)."""
    z = _unit(up_c)
    x = _unit(forward_c - np.dot(forward_c, z) * z)
    y = np.cross(z, x)
    R = np.stack([x, y, z])  # rows: world axes in camera coordinates
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = -R @ origin_c
    return T


def transform(T_a_b: np.ndarray, points_b: np.ndarray) -> np.ndarray:
    """Apply a ``(4, 4)`` transform to ``(..., 3)`` points."""
    return np.asarray(points_b) @ T_a_b[:3, :3].T + T_a_b[:3, 3]


def refine_up_c(up: UpEstimate, sole_c: np.ndarray, level_index: np.ndarray, *,
                prior_deg: float = 3.0, height_sigma_m: float = 0.02,
                outlier_m: float = 0.06, min_spread_m: float = 0.5) -> UpEstimate:
    """Tilt ``up.up_c`` so that the feet in contact on each support level lie on one plane.

    The body's axis gives gravity to a few degrees; the contact soles add what they measure:
    along a walk they span metres, and their heights along up must not change with the
    distance travelled. Least squares over a small tilt ``d`` (perpendicular to ``up_c``, along
    the axes where the soles spread by at least ``min_spread_m``, standard deviation)
    and one height per level: ``(up_c + d) . p - g_level`` over ``height_sigma_m``, plus
    ``|d|`` over ``prior_deg``; the soles farther than ``outlier_m`` from their plane are
    dropped and the fit repeated once. Directions the soles barely span (across a straight
    walk, where the feet are a hand apart and their height difference is mostly landmark
    error) keep the body's estimate. A uniform error of the scene's depth scale keeps the plane's
    normal, so the skeleton's size does not bias the tilt.

    Args:
        up: the body's estimate.
        sole_c: ``(N, 3)`` sole points in contact, camera frame [m].
        level_index: ``(N,)`` int, the support level each point stands on.
        prior_deg: trust in the body's estimate [deg].
        height_sigma_m: expected error of a sole's height [m].
        outlier_m: residual beyond which a sole is dropped before the second solve [m].
        min_spread_m: least spread of the soles along an axis to tilt about it [m].

    Returns:
        The refined estimate (source ``up.source + "+soles"``), or ``up`` when fewer than 10 soles
        or they spread along no axis.
    """
    p = np.asarray(sole_c, dtype=float)
    lev = np.asarray(level_index)
    keep = np.isfinite(p).all(-1)
    if keep.sum() < 10:
        return up
    u0 = up.up_c
    e1 = _unit(np.cross(u0, [1.0, 0.0, 0.0] if abs(u0[0]) < 0.9 else [0.0, 0.0, 1.0]))
    e2 = np.cross(u0, e1)
    # Tilt only about axes along which the soles spread (a straight walk: the walk direction).
    tang = np.stack([p[keep] @ e1, p[keep] @ e2], 1)
    evals, evecs = np.linalg.eigh(np.cov(tang.T))
    spans = evecs[:, np.sqrt(np.maximum(evals, 0.0)) >= min_spread_m]
    if spans.shape[1] == 0:
        return up
    axes = [a[0] * e1 + a[1] * e2 for a in spans.T]
    n_ax = len(axes)
    levels = np.unique(lev[keep])
    u = u0
    for _ in range(2):
        sel = np.flatnonzero(keep)
        A = np.zeros((len(sel) + n_ax, n_ax + len(levels)))
        b = np.zeros(len(sel) + n_ax)
        for k, ax in enumerate(axes):
            A[:len(sel), k] = p[sel] @ ax / height_sigma_m
        A[np.arange(len(sel)), n_ax + np.searchsorted(levels, lev[sel])] = -1.0 / height_sigma_m
        b[:len(sel)] = -(p[sel] @ u0) / height_sigma_m
        A[len(sel):, :n_ax] = np.eye(n_ax) / np.radians(prior_deg)
        x = np.linalg.lstsq(A, b, rcond=None)[0]
        u = _unit(u0 + sum(x[k] * ax for k, ax in enumerate(axes)))
        g = x[n_ax + np.searchsorted(levels, lev)]
        keep = np.isfinite(p).all(-1) & (np.abs(np.nan_to_num(p) @ u - g) < outlier_m)
        if keep.sum() < 10:
            return up
    return UpEstimate(u, f"{up.source}+soles", up.frames, up.spread_deg)
