"""Shrink an object's nominal (unmeasured) extents until a body's points clear it.

A rule that infers an object measures some of its extents from the motion (a carried box's
width is the hands' distance) and assumes others (its depth and height, which the motion cannot
see). When the reference's body passes through such an object, the assumed extents, not the
object, are what the evidence contradicts: this module finds the largest box, with its measured
extents and faces kept and each nominal extent between a stated minimum and its nominal value,
that no body point enters. A point that no nominal extent can push out is left for the caller's
consistency check (the object is then rejected as before).

Conventions: world frame z-up, metres; an object is a box ``(centre_w, yaw_rad, size)`` with
``size = (depth, width, height)`` along its local axes (local x = depth turned by ``yaw_rad``
about world z), as :mod:`exoactor.formats.scene`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.rotations import yaw_matrix

LOW, CENTRE, HIGH = -1, 0, 1
"""Which part of an extent stays put while it shrinks: its low face (local ``-size/2``), its
centre, or its high face (local ``+size/2``)."""


@dataclass(frozen=True)
class NominalExtent:
    """One extent of an object that was assumed, not measured.

    Attributes:
        axis: local axis (0 depth, 1 width, 2 height).
        keep: ``LOW``, ``CENTRE`` or ``HIGH``: what stays where it is while the extent shrinks
            (e.g. ``HIGH`` for a support's thickness: its top is measured).
        min_m: smallest extent the object may have along ``axis`` [m].
    """

    axis: int
    keep: int
    min_m: float


def local_points(points_w: np.ndarray, centre_w: np.ndarray, yaw_rad: float) -> np.ndarray:
    """``(..., 3)`` world points in the object's local frame [m]."""
    d = np.asarray(points_w, float) - np.asarray(centre_w, float)
    R = yaw_matrix(yaw_rad)
    # d @ R written out: a BLAS matmul of a long (N, 3) array is slow on a loaded machine
    return d[..., 0:1] * R[0] + d[..., 1:2] * R[1] + d[..., 2:3] * R[2]


def clearing_extent(local: np.ndarray, size: np.ndarray, ext: NominalExtent) -> np.ndarray:
    """``(N,)`` the largest extent along ``ext.axis`` that puts each local point outside the box
    (on its face or beyond), the other extents unchanged; ``-inf`` where that is below
    ``ext.min_m`` (the extent cannot clear the point) [m]."""
    half = float(size[ext.axis]) / 2
    u = local[:, ext.axis]
    if ext.keep == CENTRE:
        r = 2 * np.abs(u)
    elif ext.keep == LOW:
        r = u + half
    elif ext.keep == HIGH:
        r = half - u
    else:
        raise ValueError(f"keep={ext.keep}: must be LOW (-1), CENTRE (0) or HIGH (1)")
    return np.where(r >= ext.min_m, r, -np.inf)


def largest_clear_extents(r: np.ndarray, nominal: np.ndarray, min_m: np.ndarray
                          ) -> np.ndarray | None:
    """The extents ``s`` (each in ``[min_m, nominal]``) of largest volume ratio
    ``prod(s / nominal)`` such that every point ``n`` is cleared by some extent ``k``
    (``s[k] <= r[n, k]``).

    Args:
        r: ``(N, K)`` clearing extents of :func:`clearing_extent` (``-inf``: not by that one).
        nominal: ``(K,)`` nominal extents [m].
        min_m: ``(K,)`` smallest extents [m].

    Returns:
        ``(K,)`` extents, or ``None`` when no choice clears every point.
    """
    r = np.asarray(r, float).reshape(-1, len(nominal))
    nominal, min_m = np.asarray(nominal, float), np.asarray(min_m, float)
    if len(r) == 0:
        return nominal.copy()
    if len(nominal) == 1:
        s = min(float(nominal[0]), float(r[:, 0].min()))
        return np.array([s]) if s >= min_m[0] else None
    # every useful first extent is one of the points' clearing extents (or the nominal one);
    # points it does not clear (r < s0) must be cleared by the others
    order = np.argsort(r[:, 0], kind="stable")
    r = r[order]
    cands = np.unique(np.concatenate([r[:, 0], nominal[:1]]))
    cands = cands[(cands >= min_m[0]) & (cands <= nominal[0])]
    best, best_vol = None, -1.0
    if len(nominal) == 2:                  # vectorised: a prefix minimum of the second extent
        prefix = np.concatenate([[np.inf], np.minimum.accumulate(r[:, 1])])
        n_left = np.searchsorted(r[:, 0], cands, side="left")
        s1 = np.minimum(nominal[1], prefix[n_left])
        ok = s1 >= min_m[1]
        if not ok.any():
            return None
        vol = np.where(ok, cands / nominal[0] * s1 / nominal[1], -1.0)
        i = int(np.argmax(vol))
        return np.array([cands[i], s1[i]])
    for c in cands:
        rest = largest_clear_extents(r[r[:, 0] < c, 1:], nominal[1:], min_m[1:])
        if rest is None:
            continue
        vol = c / nominal[0] * float(np.prod(rest / nominal[1:]))
        if vol > best_vol:
            best, best_vol = np.concatenate([[c], rest]), vol
    return best


def shrink_to_clear(points_w: np.ndarray, centre_w: np.ndarray, yaw_rad: float,
                    size: np.ndarray, nominal: tuple[NominalExtent, ...]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The largest box with the object's measured extents and faces whose nominal extents
    shrink (each to at least its ``min_m``) until no point in ``points_w`` is inside it.

    Points that no nominal extent can clear are ignored here (they stay inside; the caller's
    consistency check judges them).

    Args:
        points_w: ``(..., 3)`` body points in world, all frames [m].
        centre_w: ``(3,)`` object centre in world [m].
        yaw_rad: object heading [rad].
        size: ``(3,)`` full extents (depth, width, height) [m].
        nominal: the extents that may shrink (distinct axes).

    Returns:
        ``(centre_w, size)`` of the shrunk box (the inputs when nothing is inside or no choice
        clears every clearable point).
    """
    centre_w, size = np.asarray(centre_w, float), np.asarray(size, float)
    if len({e.axis for e in nominal}) != len(nominal):
        raise ValueError(f"nominal extents {nominal} name an axis twice")
    pts = np.asarray(points_w, float).reshape(-1, 3)
    pts = pts[np.abs(pts[:, 2] - centre_w[2]) < size[2] / 2]     # local z is world z (yaw only)
    local = local_points(pts, centre_w, yaw_rad)
    inside = local[np.min(size / 2 - np.abs(local), axis=1) > 0]
    if not nominal or not len(inside):
        return centre_w, size
    r = np.stack([clearing_extent(inside, size, e) for e in nominal], axis=1)
    r = r[np.isfinite(r).any(axis=1)]          # points some extent can clear
    new = largest_clear_extents(r, np.array([size[e.axis] for e in nominal]),
                                np.array([min(e.min_m, size[e.axis]) for e in nominal]))
    if new is None:
        return centre_w, size
    out_size, shift = size.copy(), np.zeros(3)
    for e, s in zip(nominal, new):
        out_size[e.axis] = s
        shift[e.axis] = {LOW: (s - size[e.axis]) / 2, CENTRE: 0.0,
                         HIGH: (size[e.axis] - s) / 2}[e.keep]
    return centre_w + yaw_matrix(yaw_rad) @ shift, out_size
