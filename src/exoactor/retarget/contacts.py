"""Foot contacts: detection, and pinning contact feet flat on the ground. Pure functions.

A foot is treated as a rigid pose ``(origin_w, R_w)`` of the robot's foot body. While it is in
contact its pose is **pinned**: the origin's horizontal position is the mean over the contact
phase, its height puts the lowest sole point on z = 0, and it is flat with the phase's mean
heading. Between contact phases the human's own foot trajectory is used, shifted by a correction
that moves smoothly from the correction at lift-off to the one at touch-down (so there is no jump
at either end), and its orientation is slerped from the pinned one to the human's over
``blend_s`` after lift-off and back before touch-down. Swing feet are lifted where their lowest
sole point would be under the ground.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.rotations import circular_mean, matrix_yaw, yaw_matrix
from exoactor.signals import blend_weight, drop_short_runs, runs, smoothstep


def detect_foot_contact(sole_height_m: np.ndarray, foot_pos_w: np.ndarray, fps: float,
                        height_m: float = 0.06, speed_m_s: float = 0.25,
                        min_frames: int = 2) -> np.ndarray:
    """Contact flags of one foot from its height and horizontal speed.

    Args:
        sole_height_m: ``(T,)`` lowest sole point above the ground [m].
        foot_pos_w: ``(T, 3)`` foot position in world [m].
        fps: frame rate [Hz].
        height_m: heights above the clip's lowest sole under which a foot may be in contact [m].
        speed_m_s: horizontal speed under which a foot may be in contact [m/s].
        min_frames: shorter contact runs are dropped.

    Returns:
        ``(T,)`` bool.
    """
    h = np.asarray(sole_height_m, dtype=float)
    xy = np.asarray(foot_pos_w, dtype=float)[:, :2]
    if len(h) < 2:
        return h - h.min() <= height_m
    speed = np.linalg.norm(np.gradient(xy, axis=0), axis=-1) * fps
    return drop_short_runs((h - h.min() <= height_m) & (speed <= speed_m_s), min_frames)


@dataclass(frozen=True)
class PinnedFoot:
    """A foot's target pose after pinning.

    Attributes:
        origin_w: ``(T, 3)`` foot body origin in world [m].
        R_w: ``(T, 3, 3)`` foot body orientation in world.
        correction_w: ``(T, 3)`` origin shift applied to the human foot [m].
    """

    origin_w: np.ndarray
    R_w: np.ndarray
    correction_w: np.ndarray


def lowest_sole_height(origin_w: np.ndarray, R_w: np.ndarray, sole_center_b: np.ndarray,
                 sole_radius_m: np.ndarray) -> np.ndarray:
    """``(T,)`` lowest sole point height [m] of a foot at poses ``(origin_w, R_w)``."""
    z = origin_w[:, None, 2] + np.einsum("tj,sj->ts", R_w[:, 2, :], sole_center_b)
    return (z - sole_radius_m[None]).min(axis=1)


def contact_share(contact: np.ndarray, fps: float, blend_s: float) -> np.ndarray:
    """How much each foot counts as in contact, for the IK's costs.

    1 while a foot is in contact, 0 in the middle of its swing, with smooth-step ramps over
    ``blend_s`` before each touch-down and after each lift-off (the window over which
    :func:`pin_foot` turns the foot to and from its pinned pose). A contact cost switched on in
    one frame makes the IK's compromise between the pinned foot and the rest of the body jump in
    that frame, and the floating base with it (the demo's root turned 6 deg in one 50 Hz frame
    at a touch-down).

    Args:
        contact: ``(T, 2)`` bool contact flags (left, right).
        fps: frame rate [Hz].
        blend_s: ramp time [s] (0: the flags themselves).

    Returns:
        ``(T, 2)`` share in [0, 1].
    """
    contact = np.asarray(contact, dtype=bool)
    T = len(contact)
    return np.stack([blend_weight(T, [(a, b - 1) for a, b in runs(contact[:, i])], fps, blend_s)
                     for i in range(contact.shape[1])], axis=1)


def pin_foot(origin_w: np.ndarray, R_w: np.ndarray, contact: np.ndarray, fps: float,
             sole_center_b: np.ndarray, sole_radius_m: np.ndarray,
             blend_s: float = 0.15) -> PinnedFoot:
    """Pin a foot flat on the ground while in contact and blend the swing in between.

    Args:
        origin_w: ``(T, 3)`` human (scaled) foot body origin in world [m].
        R_w: ``(T, 3, 3)`` human foot body orientation.
        contact: ``(T,)`` bool contact flags.
        fps: frame rate [Hz].
        sole_center_b: ``(S, 3)`` sole sphere centres in the foot frame [m].
        sole_radius_m: ``(S,)`` their radii [m].
        blend_s: orientation blend time after lift-off and before touch-down [s].

    Returns:
        The pinned foot (see module docstring).
    """
    T = len(origin_w)
    contact = np.asarray(contact, dtype=bool)
    segs = runs(contact)
    out_o = np.array(origin_w, dtype=float)
    out_R = np.array(R_w, dtype=float)
    if not segs:
        lift = np.maximum(0.0, -lowest_sole_height(out_o, out_R, sole_center_b, sole_radius_m))
        out_o[:, 2] += lift
        return PinnedFoot(out_o, out_R, out_o - origin_w)
    flat_height = float(-(sole_center_b[:, 2] - sole_radius_m).min())
    corr = np.zeros((T, 3))
    pinned_R = [yaw_matrix(circular_mean(matrix_yaw(R_w[a:b]))) for a, b in segs]
    for (a, b), R_pin in zip(segs, pinned_R):
        anchor = np.r_[origin_w[a:b, :2].mean(axis=0), flat_height]
        out_o[a:b] = anchor
        out_R[a:b] = R_pin
        corr[a:b] = anchor - origin_w[a:b]
    # swing phases: correction interpolated between neighbouring phases (held at the ends)
    t = np.arange(T)
    for k in range(len(segs) + 1):
        lo = segs[k - 1][1] if k > 0 else 0
        hi = segs[k][0] if k < len(segs) else T
        if hi <= lo:
            continue
        before = corr[lo - 1] if k > 0 else corr[segs[0][0]]
        after = corr[hi] if k < len(segs) else corr[segs[-1][1] - 1]
        if 0 < k < len(segs):
            w = smoothstep((t[lo:hi] - (lo - 1)) / (hi - lo + 1))[:, None]
        else:
            w = np.zeros((hi - lo, 1))
        corr[lo:hi] = (1 - w) * before + w * after
        out_o[lo:hi] = origin_w[lo:hi] + corr[lo:hi]
        # orientation: toward the pinned pose after lift-off and before touch-down
        n_blend = max(1, round(blend_s * fps))
        i = t[lo:hi]
        w_prev = np.clip(1 - (i - lo + 1) / (n_blend + 1), 0, 1) if k > 0 else 0 * i
        w_next = np.clip(1 - (hi - i) / (n_blend + 1), 0, 1) if k < len(segs) else 0 * i
        use_prev = (w_prev > 0) & (w_prev >= w_next)
        use_next = ~use_prev & (w_next > 0)
        if use_prev.any():
            out_R[i[use_prev]] = _toward(R_w[i[use_prev]], pinned_R[k - 1], w_prev[use_prev])
        if use_next.any():
            out_R[i[use_next]] = _toward(R_w[i[use_next]], pinned_R[k], w_next[use_next])
    swing = ~contact
    lift = np.maximum(0.0, -lowest_sole_height(out_o, out_R, sole_center_b, sole_radius_m))
    out_o[swing, 2] += lift[swing]
    return PinnedFoot(out_o, out_R, out_o - np.asarray(origin_w))


def _toward(R_a: np.ndarray, R_b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rotations ``(N, 3, 3)`` a smoothstep of ``w`` of the geodesic way from ``R_a`` to
    ``R_b`` (``(3, 3)``)."""
    ra = Rotation.from_matrix(R_a)
    rel = (ra.inv() * Rotation.from_matrix(R_b)).as_rotvec()
    return (ra * Rotation.from_rotvec(smoothstep(w)[:, None] * rel)).as_matrix()
