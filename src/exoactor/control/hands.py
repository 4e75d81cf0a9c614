"""Dex3-1 hand control on the 43-DoF G1: joint targets from ``hand_dof`` or a grasp closure.

TWIST2 drives the 29 body joints; the 14 hand joints (7 per hand: thumb 0-2, index 0-1,
middle 0-1) get their own PD actuators. Targets come from the motion's ``hand_dof`` when it has
one, else from a grasp closure ``g`` in [0, 1] per hand: ``open + g (closed - open)``.

The closed pose bends every finger joint to :data:`CLOSE_FRACTION` of its range on the
flexing side (the side away from 0, read from the MJCF limits, so left and right mirror
themselves); the thumb's base rotation (``thumb_0``) stays at 0. The open pose is all zeros
(fingers straight). Gains are kept low enough for the explicit 1 ms Euler step on finger
inertias of ~2e-5 kg m^2 (``kd dt / I < 1``).
"""

from __future__ import annotations

import re

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.errors import ExoActorError

HAND_JOINT_PATTERN = r"(left|right)_hand_(thumb|index|middle)_\d_joint"
CLOSE_FRACTION = 0.85
"""Closed pose: this fraction of each flexing joint's range."""


class HandConfig(BaseModel):
    """PD gains of the hand joints."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kp: float = Field(1.0, gt=0.0, le=20.0)
    """Stiffness of every hand joint [N m / rad]."""
    kd: float = Field(0.01, ge=0.0, le=0.05)
    """Damping of every hand joint [N m s / rad] (explicit; keep ``kd * 1e-3 / 2e-5 < 1``)."""


def hand_joint_names(joint_names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The hand joints among a model's joints, in model order (left 7, then right 7)."""
    names = [n for n in joint_names if re.fullmatch(HAND_JOINT_PATTERN, n)]
    left = [n for n in names if n.startswith("left_")]
    right = [n for n in names if n.startswith("right_")]
    return tuple(left + right)


def closed_pose(joint_names: tuple[str, ...], limits: np.ndarray) -> np.ndarray:
    """``(n,)`` closed hand pose [rad] from the joints' ``(n, 2)`` limits [rad]."""
    out = np.zeros(len(joint_names))
    for i, (name, (lo, hi)) in enumerate(zip(joint_names, limits)):
        if "thumb_0" in name:
            continue
        far = hi if abs(hi) >= abs(lo) else lo
        out[i] = CLOSE_FRACTION * far
    return out


def grasp_to_hand_pos(grasp: np.ndarray, joint_names: tuple[str, ...],
                      limits: np.ndarray) -> np.ndarray:
    """Hand joint targets from grasp closures.

    Args:
        grasp: ``(2,)`` or ``(T, 2)`` closure per hand (left, right) in [0, 1].
        joint_names: ``(14,)`` hand joint names (left 7 then right 7).
        limits: ``(14, 2)`` joint limits [rad].

    Returns:
        ``(14,)`` or ``(T, 14)`` joint targets [rad].
    """
    g = np.asarray(grasp, dtype=float)
    if g.shape[-1] != 2 or np.any(~np.isfinite(g)) or g.min() < 0.0 or g.max() > 1.0:
        raise ExoActorError(f"grasp must be (2,) or (T, 2) closures in [0, 1] (left, right); got "
                            f"shape {g.shape}, range [{np.nanmin(g):.3g}, {np.nanmax(g):.3g}]")
    closed = closed_pose(joint_names, limits)
    side = np.array([0 if n.startswith("left_") else 1 for n in joint_names])
    return g[..., side] * closed
