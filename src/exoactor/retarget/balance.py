"""Contacts a standing body needs to be balanced: a still foot near the floor under a centre of
mass the other foot cannot hold carries weight. Pure functions on arrays.

A held pose is balanced only when the body's centre of mass (CoM) lies over the support polygon
of the feet on the ground. Monocular perception gets a planted foot's height wrong by
centimetres (a far foot in a three-quarter view floats 5-7 cm up; a person who grows in the
image lifts both feet out of their legs' reach), and the contact flags follow: a person who
stands on both feet becomes a reference that stands on one, or on none, for seconds. No robot
can hold that: the CoM falls off the support at an e-fold every ``sqrt(h / g)`` (0.29 s for
h = 0.8 m), so a tracker puts the foot down where the reference keeps it in the air, and every
body it is measured on is off (the pelvis rolled by the one-legged stance, the floating foot).

:func:`balancing_contacts` puts such a foot in contact: where the CoM lies outside the support
of the feet in contact, the feet that are not in contact, still, and near the floor, and with
which the stance is balanced, are in contact, if that lasts longer than a dynamic move (a
step's single support) can hold the CoM outside. The retargeter then pins it to the floor like
any contact foot, but the body keeps the height its seen contacts give it: the foot was seen
up by an error of its leg. A swinging foot (fast), a raised foot (high) and a short stretch (a
step) are left alone.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from exoactor.retarget.smoothing import gaussian_smooth
from exoactor.signals import drop_short_runs


def extrapolated_com_xy(com_w: np.ndarray, fps: float, smooth_s: float = 0.1,
                        g_m_s2: float = 9.81, min_height_m: float = 0.3) -> np.ndarray:
    """``(T, 2)`` extrapolated centre of mass (Hof et al. 2005, "The condition for dynamic
    stability"), horizontal [m]: ``x + v / omega0`` with ``omega0 = sqrt(g / h)``, ``h`` the
    CoM's height above the floor (at least ``min_height_m``).

    A body whose extrapolated CoM lies over its support can come to rest on it; one whose CoM
    is over the support but moving out of it cannot, and one walking (the CoM beyond the stance
    foot, heading for the next) is balanced while its XCoM reaches the next foot's support. For
    a still body it is the CoM itself.

    Args:
        com_w: ``(T, 3)`` centre of mass in world, z up from the floor [m].
        fps: frame rate [Hz].
        smooth_s: standard deviation of the Gaussian the CoM is smoothed with before its
            velocity is taken [s] (keypoints jitter frame to frame).
    """
    com = np.asarray(com_w, dtype=float)
    if len(com) < 2:
        return com[:, :2].copy()
    smooth = gaussian_smooth(com, smooth_s * fps)
    vel = np.gradient(smooth[:, :2], axis=0) * fps
    omega0 = np.sqrt(g_m_s2 / np.maximum(com[:, 2], min_height_m))
    return com[:, :2] + vel / omega0[:, None]


def support_margin_m(point_xy: np.ndarray, support_xy: np.ndarray) -> float:
    """Signed distance [m] of ``point_xy`` ``(2,)`` inside the convex hull of ``support_xy``
    ``(N, 2)`` (positive inside, negative outside; the distance to the nearest edge's line).
    Fewer than 3 points, or points on a line: the distance to the nearest point, negated."""
    pts = np.asarray(support_xy, dtype=float)
    p = np.asarray(point_xy, dtype=float)
    if len(pts) >= 3:
        try:
            hull = ConvexHull(pts)
        except QhullError:
            hull = None
        if hull is not None:
            return float(-(hull.equations[:, :2] @ p + hull.equations[:, 2]).max())
    if len(pts) == 0:
        return -np.inf
    return -float(np.linalg.norm(pts - p, axis=1).min())


def balancing_contacts(contact: np.ndarray, com_xy: np.ndarray, sole_xy: np.ndarray,
                       sole_height_m: np.ndarray, foot_speed_m_s: np.ndarray, fps: float, *,
                       height_m: float, speed_m_s: float, min_s: float,
                       tolerance_m: float) -> np.ndarray:
    """Contact flags with the still, low feet a balanced stance needs added.

    ``com_xy`` is the point whose place over the support decides: the extrapolated CoM
    (:func:`extrapolated_com_xy`), so that a walk (whose CoM leaves the stance foot every step,
    while its XCoM reaches the next foot within the step) is not taken for an unheld stance.

    At frame ``t`` the feet not in contact whose lowest sole point is below ``height_m`` and
    that move slower than ``speed_m_s`` are put in contact where: the CoM lies outside the
    support of the feet in contact (their sole points' convex hull; no foot in contact: no
    support), and with them it lies over the support, to within ``tolerance_m`` (the error of a
    CoM estimated from keypoints). Only where a foot meets all of this for at least ``min_s``
    without a break: a held stance, not the low, slow ends of a walking step's swing (a walk
    whose contact flags leave gaps has its CoM outside any support for seconds on end). A
    stance that no foot balances (the CoM beyond both feet: a lean the person's own pose gets
    wrong) is left as it is.

    Args:
        contact: ``(T, 2)`` bool, left and right foot in contact.
        com_xy: ``(T, 2)`` (extrapolated) centre of mass, horizontal [m].
        sole_xy: ``(T, 2, S, 2)`` each foot's sole contact points, horizontal [m].
        sole_height_m: ``(T, 2)`` each foot's lowest sole point above the floor [m].
        foot_speed_m_s: ``(T, 2)`` each foot's horizontal speed [m/s].
        fps: frame rate [Hz].
        height_m: highest sole a foot may be put down from [m].
        speed_m_s: fastest foot that may be put down [m/s].
        min_s: shortest stretch over which a foot, still and low, balances an unbalanced
            stance, for it to be put in contact [s].
        tolerance_m: how far outside the support the CoM may stay with the added feet [m].

    Returns:
        ``(T, 2)`` bool, ``contact`` or an added contact.
    """
    c = np.asarray(contact, dtype=bool)
    T = len(c)
    low = (np.asarray(sole_height_m) < height_m) & (np.asarray(foot_speed_m_s) < speed_m_s)
    balances = np.zeros((T, 2), dtype=bool)
    unbalanced = np.zeros(T, dtype=bool)
    for t in range(T):
        if not np.isfinite(com_xy[t]).all():
            continue
        unbalanced[t] = support_margin_m(com_xy[t], sole_xy[t, c[t]].reshape(-1, 2)) < 0.0
        down = ~c[t] & low[t]
        if unbalanced[t] and down.any():
            with_down = sole_xy[t, c[t] | down].reshape(-1, 2)
            balances[t] = down & (support_margin_m(com_xy[t], with_down) >= -tolerance_m)
    add = balances & unbalanced[:, None]
    n = max(1, round(min_s * fps))
    return c | np.stack([drop_short_runs(add[:, i], n) for i in range(2)], axis=1)
