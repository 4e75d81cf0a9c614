"""An explicit sit-down onto a seat, from the seat's geometry and the person's timing.

The perceived person's sit-down is not one the tracker can follow onto a backless seat: on the
bench dev clip the reference pelvis swings 0.49 m back during the descent (to 3 cm from the
seat's back edge) and comes forward again, and a reference that only puts the pelvis over the
seat's centre seats the robot, which then keeps leaning back and rolls off the back (i16l).
The stool references of sitting-notes, which do seat a G1 under TWIST2, sit down differently:
the torso leans forward while the pelvis goes down over the seat, and the robot ends up on the
front of the seat, its weight shared with its feet.

This module plans that sit-down for one seat window (pure functions, no physics):

- **timing, from the person**: the descent starts where the reference pelvis begins to go down
  towards its seated height (the last frame before the window, at or before it reaches the
  seated height, at which it is still ``start_share`` of the way up from the seated height to
  its highest before), and lasts at least ``min_descent_s`` (the person's own descent when that
  is longer);
- **where, from the seat**: the pelvis goes to a point on the seat's depth axis
  ``behind_front_m`` behind the front edge (sitting-notes' placement: the reference pelvis
  0.20 m behind the front edge; TWIST2 sits 13-24 cm nearer its feet than its reference, so the
  robot ends up on the seat's front half, its weight shared with its feet, away from a back
  edge), laterally the reference's pelvis kept within the footprint;
- **how**: the blend weight from the reference to the seated pose rises over the descent
  (smooth step); the torso leans forward (the waist, the pelvis upright, as in the stool
  references) by ``lean_rad`` by the end of the descent, then settles to ``settle_lean_rad``
  over ``settle_s``; after the window the weight ramps out over ``ramp_s`` (standing up follows
  the reference).

:func:`exoactor.scene.contact_ref.adjust_for_seats` solves the poses by IK with these targets:
the feet held where they were when the descent began, the legs drawn toward the stool
references' seated posture (:func:`seated_posture`), the seat contact at the seat top less
``press_m`` from the end of the descent (the pelvis height during the descent runs from the
person's where it began to that seated height, on the plan's weight).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.formats.scene import SceneObject
from exoactor.signals import smoothstep


@dataclass(frozen=True)
class SitDownPlan:
    """Per-frame targets of one seat's sit-down.

    Attributes:
        weight: ``(T,)`` blend weight from the reference to the seated pose, in [0, 1].
        lean_rad: ``(T,)`` forward lean of the trunk about the seat's width axis [rad].
        seat_xy_w: ``(T, 2)`` the pelvis's xy target on the seat, world [m].
        descent: ``(first, last)`` frames of the descent (the feet are held from ``first``).
    """

    weight: np.ndarray
    lean_rad: np.ndarray
    seat_xy_w: np.ndarray
    descent: tuple[int, int]


def descent_frames(pelvis_z: np.ndarray, window: tuple[int, int], fps: float,
                   start_share: float, min_descent_s: float) -> tuple[int, int]:
    """``(first, last)`` frames of the sit-down before the seat ``window`` ``(a, b)``.

    ``last``: the first frame up to ``a`` at which the reference pelvis (``pelvis_z``, ``(T,)``
    [m]) is within 3 cm of its seated height (its median over the window); ``a`` when none.
    ``first``: the last frame before ``last`` at which it is still ``start_share`` of the way
    from the seated height up to its highest before ``last`` (0 when none). ``last`` is then
    moved to ``first + min_descent_s`` when the person's descent is shorter (not past ``b``)."""
    a, b = int(window[0]), int(window[1])
    z = np.asarray(pelvis_z, float)
    seated = float(np.median(z[a:b + 1]))
    near = np.flatnonzero(z[:a + 1] <= seated + 0.03)
    last = int(near[0]) if near.size else a
    high = float(z[:last + 1].max())
    above = np.flatnonzero(z[:last + 1] >= seated + start_share * (high - seated))
    first = int(above[-1]) if above.size else 0
    last = min(max(last, first + int(round(min_descent_s * fps))), b)
    return first, max(last, first + 1)


def seat_point_xy(seat: SceneObject, pelvis_xy_w: np.ndarray, behind_front_m: float,
                  lateral_margin_m: float) -> np.ndarray:
    """``(T, 2)`` the pelvis target on ``seat``: ``behind_front_m`` behind the front edge along
    the depth axis (the seat's heading), laterally the reference pelvis ``pelvis_xy_w``
    (``(T, 2)``) kept ``lateral_margin_m`` inside the side edges [m]."""
    c, f, lat = seat.footprint_axes()
    depth, width = seat.size[0], seat.size[1]
    along = float(np.clip(depth / 2 - behind_front_m, -depth / 2, depth / 2))
    half_w = max(width / 2 - lateral_margin_m, 0.0)
    side = np.clip((np.asarray(pelvis_xy_w, float) - c) @ lat, -half_w, half_w)
    return c + along * f + side[:, None] * lat


def plan_sit_down(pelvis_xy_w: np.ndarray, pelvis_z: np.ndarray, seat: SceneObject,
                  window: tuple[int, int], fps: float, *, behind_front_m: float,
                  lateral_margin_m: float, lean_rad: float, settle_lean_rad: float,
                  settle_s: float, start_share: float, min_descent_s: float,
                  ramp_s: float) -> SitDownPlan:
    """The sit-down onto ``seat`` for its evidence ``window`` (see the module); the reference
    pelvis ``pelvis_xy_w`` ``(T, 2)`` and ``pelvis_z`` ``(T,)`` [m] give the timing and the
    lateral position."""
    T = len(pelvis_z)
    first, last = descent_frames(pelvis_z, window, fps, start_share, min_descent_s)
    b = int(window[1])
    t = np.arange(T, dtype=float)
    up = smoothstep((t - first) / max(last - first, 1))
    down = 1.0 - smoothstep((t - b) / max(ramp_s * fps, 1e-9)) if ramp_s > 0 else \
        (t <= b).astype(float)
    weight = np.minimum(up, down)
    settle = smoothstep((t - last) / max(settle_s * fps, 1e-9)) if settle_s > 0 else \
        (t >= last).astype(float)
    lean = up * (lean_rad + settle * (settle_lean_rad - lean_rad))
    lean = np.where(t > b, lean * down, lean)
    return SitDownPlan(weight=weight, lean_rad=lean,
                       seat_xy_w=seat_point_xy(seat, pelvis_xy_w, behind_front_m,
                                               lateral_margin_m),
                       descent=(first, last))


SEATED_LEGS_RAD = {"hip_pitch": -1.68, "knee": 1.68, "ankle_pitch": 0.0, "hip_roll": 0.0,
                   "hip_yaw": 0.0, "ankle_roll": 0.0}
"""Posture of the legs the sit-down's poses are drawn toward (joint name without the side
prefix and ``_joint`` suffix -> angle [rad]): hips and knees at 96°, shanks vertical: the stool
references of sitting-notes, which TWIST2 sits in. The IK's feet and pelvis targets decide the
exact angles."""


def seated_posture(joint_names, q_ref: np.ndarray, lean_rad: float, share: float
                   ) -> np.ndarray:
    """``(J,)`` joint angles ``q_ref`` moved ``share`` of the way to the seated legs
    (:data:`SEATED_LEGS_RAD`), the waist straight but for its pitch, ``lean_rad`` forward."""
    target = np.asarray(q_ref, float).copy()
    for i, name in enumerate(joint_names):
        key = name.removesuffix("_joint")
        for side in ("left_", "right_"):
            key = key.removeprefix(side)
        if key in SEATED_LEGS_RAD:
            goal = SEATED_LEGS_RAD[key]
        elif key == "waist_pitch":
            goal = lean_rad
        elif key in ("waist_roll", "waist_yaw"):
            goal = 0.0
        else:
            continue
        target[i] += share * (goal - target[i])
    return target


def leaned_quat(yaw_rad: float, lean_rad: float) -> np.ndarray:
    """``(4,)`` wxyz: heading ``yaw_rad``, pitched forward (the +x axis down) by ``lean_rad``."""
    from scipy.spatial.transform import Rotation

    # yaw about z, then pitch about the new y (intrinsic "ZY")
    return Rotation.from_euler("ZY", [yaw_rad, lean_rad]).as_quat(scalar_first=True)
