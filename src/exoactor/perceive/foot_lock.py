"""Foot locking: feet in contact stay put, on their support, with the legs solved to reach.

During each contact run of a foot, its ankle, heel and toe are held at their median
positions over the run, lowered or raised so that the lower of heel and toe lies on the
support height; the knee follows by two-bone IK in the plane of the original leg bend (thigh
and shank lengths kept). Over ``blend_frames`` before and after a run the targets ramp
between the estimated and the locked positions, so nothing pops.

World frame, z up, metres; arrays time-major.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.signals import runs
from exoactor.skeleton import BODY_33

_I = BODY_33.index
LEGS: tuple[dict[str, int], ...] = tuple(
    {"hip": _I(f"{s}_hip"), "knee": _I(f"{s}_knee"), "ankle": _I(f"{s}_ankle"),
     "heel": _I(f"{s}_heel"), "toe": _I(f"{s}_foot_index")} for s in ("left", "right"))
"""Landmark indices of the left and right leg."""


@dataclass(frozen=True)
class FootLock:
    """Result of :func:`lock_feet`.

    Attributes:
        joints_w: ``(T, 33, 3)`` landmarks with locked feet [m].
        moved_m: ``(T, 2)`` distance each ankle was moved [m].
        unreachable: ``(T, 2)`` bool, the locked ankle was out of the leg's reach (it was
            placed as close as the leg allows).
    """

    joints_w: np.ndarray
    moved_m: np.ndarray
    unreachable: np.ndarray


def two_bone_ik(hip: np.ndarray, knee: np.ndarray, ankle_target: np.ndarray,
                thigh_m: float, shank_m: float, reach_tol_m: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Knee and ankle positions reaching ``ankle_target`` from ``hip``.

    Args:
        hip, knee, ankle_target: ``(N, 3)`` positions [m]; ``knee`` sets the bend plane.
        thigh_m, shank_m: segment lengths [m].
        reach_tol_m: a target the ankle misses by at most this still counts as reached [m].

    Returns:
        ``(knee, ankle, clamped)``: ``(N, 3)``, ``(N, 3)`` [m] and ``(N,)`` bool where the
        target was out of reach by more than ``reach_tol_m`` (the ankle lies on the line to it
        instead).
    """
    v = ankle_target - hip
    d = np.linalg.norm(v, axis=-1, keepdims=True)
    u = v / np.maximum(d, 1e-9)
    lo, hi = abs(thigh_m - shank_m) + 1e-6, thigh_m + shank_m - 1e-6
    dc = np.clip(d, lo, hi)
    clamped = (d[:, 0] < lo - reach_tol_m) | (d[:, 0] > hi + reach_tol_m)
    k = knee - hip
    pole = k - np.sum(k * u, -1, keepdims=True) * u
    pn = np.linalg.norm(pole, axis=-1, keepdims=True)
    fallback = np.cross(u, np.array([0.0, 0.0, 1.0]))
    fallback = np.cross(fallback, u)
    pole = np.where(pn > 1e-6, pole / np.maximum(pn, 1e-9), fallback)
    pole /= np.maximum(np.linalg.norm(pole, axis=-1, keepdims=True), 1e-9)
    a = (thigh_m ** 2 - shank_m ** 2 + dc ** 2) / (2 * dc)
    r = np.sqrt(np.maximum(thigh_m ** 2 - a ** 2, 0.0))
    return hip + a * u + r * pole, hip + dc * u, clamped


def lock_feet(joints_w: np.ndarray, contact: np.ndarray, support_w: np.ndarray,
              blend_frames: int = 3, reach_tol_m: float = 0.0) -> FootLock:
    """Hold each foot still and on its support during its contacts (see the module doc).

    Args:
        joints_w: ``(T, 33, 3)`` landmarks in world [m].
        contact: ``(T, 2)`` bool, left/right foot in contact.
        support_w: ``(T, 2)`` support height under each foot [m].
        blend_frames: frames of the ramp before and after each contact run.
        reach_tol_m: an anchor the leg misses by at most this is reached (not
            ``unreachable``) [m]: a straight standing leg reaches its foot's anchor only to
            within rounding and landmark noise.
    """
    out = np.array(joints_w, dtype=float, copy=True)
    T = len(out)
    moved = np.zeros((T, 2))
    unreachable = np.zeros((T, 2), dtype=bool)
    for f, leg in enumerate(LEGS):
        foot = [leg["ankle"], leg["heel"], leg["toe"]]
        target = out[:, foot].copy()
        weight = np.zeros(T)
        for a, b in runs(contact[:, f]):
            anchor = np.median(out[a:b][:, foot], axis=0)
            level = float(np.median(support_w[a:b, f]))
            anchor[:, 2] += level - min(anchor[1, 2], anchor[2, 2])
            lo, hi = max(0, a - blend_frames), min(T, b + blend_frames)
            for t in range(lo, hi):
                if a <= t < b:
                    w = 1.0
                else:
                    w = 1.0 - (a - t if t < a else t - b + 1) / (blend_frames + 1)
                if w > weight[t]:
                    weight[t] = w
                    target[t] = anchor
        sel = weight > 0
        if not sel.any():
            continue
        w = weight[sel, None, None]
        goal = (1 - w) * out[sel][:, foot] + w * target[sel]
        hip, knee = out[sel, leg["hip"]], out[sel, leg["knee"]]
        thigh = float(np.median(np.linalg.norm(out[:, leg["knee"]] - out[:, leg["hip"]], axis=-1)))
        shank = float(np.median(np.linalg.norm(out[:, leg["ankle"]] - out[:, leg["knee"]],
                                               axis=-1)))
        new_knee, new_ankle, clamped = two_bone_ik(hip, knee, goal[:, 0], thigh, shank,
                                                   reach_tol_m)
        shift = new_ankle - goal[:, 0]
        moved[sel, f] = np.linalg.norm(new_ankle - out[sel, leg["ankle"]], axis=-1)
        unreachable[sel, f] = clamped
        out[sel, leg["knee"]] = new_knee
        out[sel, leg["ankle"]] = new_ankle
        out[sel, leg["heel"]] = goal[:, 1] + shift
        out[sel, leg["toe"]] = goal[:, 2] + shift
    return FootLock(out, moved, unreachable)
