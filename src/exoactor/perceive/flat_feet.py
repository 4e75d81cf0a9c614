"""Planted feet stand flat: each foot the image shows still is turned about its ankle until
its sole (heel to toe) is level.

One camera sees a foot's heel-to-toe line only up to its depth. From the front the foot
points along the optical axis, its image is a few pixels long, and the pose model's guess of
its pitch is all there is: on rendered clips seen from the front and from 30-35 deg, people
who stand flat (true sole pitch 4 deg, the landmarks' own offset) came out with the heel
14-23 deg up (sits, frontal lift) or 23-29 deg down (lean). A foot pitched that way puts its
toe (or heel) centimetres below the sole of a flat foot; the support levels, the contacts and
the floor are read from the lowest sole point, so the whole body floats or sinks with it.

A foot that stays still in the image (:func:`~exoactor.perceive.world.planted_feet_2d`)
bears weight, and a weight-bearing foot on a floor is flat; standing on tiptoe or on a heel
while still is the exception this step gets wrong. The turn is the smallest rotation about
the ankle that makes heel -> toe perpendicular to ``up``: the foot keeps its length, its
heading and its ankle. The temporal skeleton fit that follows puts heel and toe back on their
2D observations, with this flat foot as its prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.perceive.world import FEET
from exoactor.rotations import shortest_rotvec


def level_rotvec(v: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``(N, 3)`` rotation vectors of the smallest rotations that make each ``(N, 3)`` vector
    ``v`` perpendicular to the unit vector ``up``: onto its level direction, about the
    horizontal axis perpendicular to it. A vertical or zero vector gets no rotation."""
    v = np.asarray(v, dtype=float)
    return shortest_rotvec(v, v - (v @ up)[:, None] * up)


@dataclass(frozen=True)
class FlatFeet:
    """Result of :func:`flatten_planted_feet_c`.

    Attributes:
        points_c: ``(T, 33, 3)`` the points with the planted feet level, camera frame [m].
        planted: ``(T, 2)`` bool, the feet turned (left, right).
        pitch_before_deg: ``(T, 2)`` each foot's sole pitch before, heel above toe [deg].
    """

    points_c: np.ndarray
    planted: np.ndarray
    pitch_before_deg: np.ndarray


def sole_pitch_deg(points: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``(T, 2)`` each foot's sole pitch, heel above toe [deg], from ``(T, 33, 3)`` points and
    the unit ``up`` in their frame."""
    out = []
    for _, heel, toe in FEET:
        v = points[:, heel] - points[:, toe]
        out.append(np.degrees(np.arcsin(np.clip(
            v @ up / np.maximum(np.linalg.norm(v, axis=-1), 1e-12), -1.0, 1.0))))
    return np.stack(out, 1)


def flatten_planted_feet_c(points_c: np.ndarray, up_c: np.ndarray, planted: np.ndarray
                           ) -> FlatFeet:
    """Each planted foot's heel and toe turned about its ankle so heel -> toe is level (see
    the module docstring).

    Args:
        points_c: ``(T, 33, 3)`` BODY_33 points, camera frame [m].
        up_c: ``(3,)`` the world's up direction in the camera frame.
        planted: ``(T, 2)`` bool, left and right foot still in the image.
    """
    out = np.array(points_c, dtype=float, copy=True)
    up = np.asarray(up_c, dtype=float) / np.linalg.norm(up_c)
    planted = np.asarray(planted, dtype=bool)
    before = sole_pitch_deg(out, up)
    for f, (ankle, heel, toe) in enumerate(FEET):
        tt = np.flatnonzero(planted[:, f])
        if not len(tt):
            continue
        turn = Rotation.from_rotvec(level_rotvec(out[tt, toe] - out[tt, heel], up))
        for k in (heel, toe):
            out[tt, k] = out[tt, ankle] + turn.apply(out[tt, k] - out[tt, ankle])
    return FlatFeet(out, planted, before)
