"""Infer the objects a person interacts with from the robot motion (world frame, z-up).

Pure functions of a :class:`~exoactor.formats.motion.RobotMotion` (after retargeting) and the
robot model: forward kinematics of every frame gives the features (:class:`MotionFeatures`), and
three rules read them:

- **seat** (:func:`find_seats`): the pelvis low and still and the body's weight off the feet
  (the whole-body centre of mass outside the feet's support polygon, so the person cannot be
  standing or squatting on their feet) for at least ``min_seated_s`` → a box placed by the
  rule measured in ``../shared/specs/sitting-notes.md`` (36 of 36 TWIST2 runs seated without a
  fall, ±5 cm sideways included): 0.40 m deep × 0.50 m wide, turned to the seated heading, top
  6 cm (here 9 cm: see ``InferConfig.seat_above_lowest_m``) above the lowest point of the
  reference pelvis/thigh geoms during the seated phase,
  centred along the heading under the lowest point of the reference pelvis (front edge 0.20 m
  ahead of it). A seat placed under the reference pelvis *without* the 6 cm and the forward
  shift was barely loaded (17 of 18 runs fell), so these numbers are the measured placement for
  this tracker, not a per-clip tuning.
- **table** (:func:`find_tables`): a hand held ahead of the body, below the shoulders, at a
  steady height (resting, pushing or wiping) → a fixed slab whose top is at the palm's underside,
  covering the hand's path plus a margin, and kept ahead of the body.
- **carried box** (:func:`find_boxes`): both hands a steady distance apart while their midpoint
  rises → a free box between the hands (width: the gap between the collision surfaces of the
  forearms and wrists at the grasp, :func:`grip_gap`; depth and height, which the motion
  cannot see, nominal, and shrunk where the reference's body would pass through them,
  :mod:`exoactor.scene.shrink`), resting where the grasp began: on the floor when a box of the
  nominal height standing there reaches above both hands (they hold it by its sides,
  anywhere below its top), otherwise on a support slab under it.

A plan's action chain (``plan.json`` from ``imagine``) names the objects it mentions
(:func:`name_from_plan`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.formats.motion import RobotMotion
from exoactor.formats.scene import ObjectPose, Scene, SceneObject
from exoactor.rotations import circular_mean, yaw, yaw_matrix
from exoactor.scene.config import ContactRefConfig, GripRefConfig, PlaceConfig
from exoactor.scene.shrink import CENTRE, HIGH, LOW, NominalExtent, shrink_to_clear
from exoactor.signals import drop_short_runs, fill_short_gaps, runs

logger = logging.getLogger(__name__)

SEAT_BODIES = ("pelvis", "left_hip_pitch_link", "left_hip_roll_link", "left_hip_yaw_link",
               "right_hip_pitch_link", "right_hip_roll_link", "right_hip_yaw_link")
"""G1 bodies whose collision geoms make the "pelvis/thigh geoms" of the seat rule."""
LEG_BODIES = ("left_knee_link", "left_ankle_pitch_link", "left_ankle_roll_link",
              "right_knee_link", "right_ankle_pitch_link", "right_ankle_roll_link")
"""Shanks and feet: they must stay out of a seat (arms may rest on it)."""
PELVIS_BODY = "pelvis"
HANDS = ("left_rubber_hand", "right_rubber_hand")
HAND_COLLISION_BODIES = tuple(tuple(f"{side}_{link}" for link in (
    "elbow_link", "wrist_roll_link", "wrist_pitch_link", "wrist_yaw_link", "rubber_hand"))
    for side in ("left", "right"))
"""Bodies whose collision geoms are each hand's surface in the physics, left then right: the
forearm and the wrist, from the elbow link to the wrist-yaw link (the G1's rubber hands have
none). A box held between the hands must fit between all of them: with the wrist-yaw links
alone, the pick-up-weight clip's box (0.185 m) had the reference's wrist-pitch and wrist-roll
links 3.8-4.5 cm inside it at the grasp, and the tracked forearms shoved it off its support."""
SHOULDERS = ("left_shoulder_pitch_link", "right_shoulder_pitch_link")
KNEES = ("left_knee_link", "right_knee_link")
FEET = ("left_ankle_roll_link", "right_ankle_roll_link")


class InferConfig(BaseModel):
    """Thresholds of the scene rules (defaults are physical, not fitted to clips)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seat_depth_m: float = Field(0.40, gt=0.0, le=2.0)
    """Seat box depth along the seated heading [m] (sitting-notes placement)."""
    seat_width_m: float = Field(0.50, gt=0.0, le=3.0)
    """Seat box width [m] (sitting-notes placement)."""
    seat_above_lowest_m: float = Field(0.09, ge=0.0, le=0.2)
    """Seat top above the lowest reference pelvis/thigh point of the seated phase [m].
    sitting-notes measured +0.06 (36 of 36 runs seated on its three references) and +0.09
    (67-99 % of the weight on the seat, one stool run in 6 fell). On the five IK sit references
    of ``tests/scene/scene_synthetic.py`` (hips 90-96 deg, lean 0-45 deg;
    ``benchmarks/scene_sit.py``), +0.06 fell in 5 of 5 (seated 46-95 % of the phase, 40-95 %
    of the weight, then off the seat) and +0.09 held in 4 of 5 (seated 100 %, 74-89 % of the
    weight; the upright no-lean sit fell with both), so +0.09 is the default; 0 puts the top at
    the skin, which the policy barely loads."""
    seat_above_lowest_at_start_m: float = Field(0.0, ge=0.0, le=0.2)
    """As ``seat_above_lowest_m`` for a seated phase that starts at the motion's first frame:
    the robot starts at the reference pose, so a higher top would start it inside the seat
    (measured: a bench clip cut to start seated fell at 0.38 s with the top at +0.09) [m]."""
    seat_front_ahead_m: float = Field(0.20, ge=0.0, le=1.0)
    """Front edge ahead of the lowest reference pelvis point, along the heading [m]
    (sitting-notes placement: the box is centred under that point)."""
    seat_max_back_m: float = Field(0.20, ge=0.0, le=1.0)
    """Furthest the seat moves back from the rule's position to keep the reference's legs and
    body out of it [m]."""
    seat_clearance_m: float = Field(0.01, ge=0.0, le=0.1)
    """Deepest the rest of the reference's body may be inside the seat [m]."""
    seated_pelvis_below_m: float = Field(0.10, ge=0.0, le=0.6)
    """The pelvis is "low" this far below the robot's standing pelvis height [m]. The physical
    evidence of a seat is the still body with its weight off the feet; this only says the
    support is under the pelvis (perceived seated people come out with the pelvis 0.14 m below
    standing on the sofa clip, so 0.20 missed it; no walk, dance or task clip without a seat
    has a still, unsupported phase either way)."""
    still_speed_m_s: float = Field(0.25, gt=0.0, le=2.0)
    """Pelvis speed (smoothed) below which it is "still" [m/s]."""
    com_outside_feet_m: float = Field(0.02, ge=0.0, le=0.3)
    """Weight is off the feet when the centre of mass is this far outside their support
    polygon [m] (or both feet are this far above the floor)."""
    min_seated_s: float = Field(0.8, gt=0.0, le=10.0)
    """Shortest seated phase that makes a seat [s]."""
    gap_s: float = Field(0.3, ge=0.0, le=2.0)
    """Gaps shorter than this inside a phase are bridged [s]."""
    smooth_s: float = Field(0.3, gt=0.0, le=2.0)
    """Box-filter window of the velocity features [s]."""
    hand_steady_std_m: float = Field(0.02, gt=0.0, le=0.2)
    """A hand's height is "steady" while its spread (std over ``min_support_s / 2``) stays
    below this [m]: it tolerates the few-cm wobble of a perceived hand wiping sideways (on the
    rendered wipe of a taller person: +-2 cm at the wipe's 0.5 Hz, vertical speed up to 0.1
    m/s, which a speed threshold of 0.06 m/s cut into pieces shorter than ``min_support_s``)."""
    hand_ahead_m: float = Field(0.35, ge=0.0, le=1.5)
    """A hand rests on a surface only this far ahead of the pelvis (arms hanging or folded are
    nearer) [m]."""
    hand_below_shoulder_m: float = Field(0.20, ge=0.0, le=1.0)
    """... and at least this far below its shoulder (arms held out are not resting) [m]."""
    hand_off_body_m: float = Field(0.15, ge=0.0, le=1.0)
    """A hand nearer than this to a knee rests on the person's own legs, not on a table [m]."""
    thigh_length_m: float = Field(0.40, gt=0.0, le=1.0)
    """How far ahead of a seat the seated robot's thighs reach [m]."""
    lap_clearance_m: float = Field(0.30, ge=0.0, le=1.0)
    """A table over a seat's lap must be this far above the seat top (thighs, knees and
    the robot sitting higher than the reference) [m]."""
    min_support_s: float = Field(1.0, gt=0.0, le=10.0)
    """Shortest steady-hand phase that makes a table [s]."""
    palm_half_thickness_m: float = Field(0.025, ge=0.0, le=0.1)
    """Distance from the hand body's origin to the palm's surface [m] (a table top is this far
    under a resting hand; a carried box's width uses it only for hands without collision
    geometry, :func:`grip_gap`)."""
    table_thickness_m: float = Field(0.04, gt=0.0, le=0.5)
    """Thickness of an inferred table top slab [m]."""
    table_margin_m: float = Field(0.15, ge=0.0, le=1.0)
    """Margin of a table top around the hands' path [m]."""
    grip_std_m: float = Field(0.04, gt=0.0, le=0.2)
    """Largest spread (std over ``min_hold_s / 2``) of the hand distance while holding [m]
    (perceived hands jitter by a few cm; 0.04 finds the lift of the pick-up clip and no hold
    in the seven other task clips)."""
    grip_range_m: tuple[float, float] = (0.15, 0.80)
    """Hand distances that can hold a box between the palms [m]."""
    hold_ahead_m: float = Field(0.20, ge=0.0, le=1.5)
    """A box is held in front of the body: the hands' midpoint at least this far ahead of the
    pelvis (arms hanging at the sides are not holding anything) [m]."""
    min_lift_m: float = Field(0.15, gt=0.0, le=2.0)
    """Rise of the hands' midpoint that makes a hold a lift [m]."""
    min_hold_s: float = Field(0.6, gt=0.0, le=10.0)
    """Shortest hold [s]."""
    box_depth_m: float = Field(0.25, gt=0.0, le=2.0)
    """Depth of a carried box (unseen in the motion; nominal) [m]."""
    box_height_m: float = Field(0.25, gt=0.0, le=2.0)
    """Height of a carried box (unseen; nominal) [m]."""
    box_density_kg_m3: float = Field(150.0, gt=0.0, le=3000.0)
    """Density of a carried box (a loaded cardboard box) [kg/m^3]; mass = density x volume,
    clipped to ``box_mass_range_kg``."""
    box_mass_range_kg: tuple[float, float] = (0.5, 3.0)
    """Mass range of a carried box [kg] (the G1's arms carry about 3 kg)."""
    friction: float = Field(1.0, gt=0.0, le=3.0)
    """Friction of every inferred object."""
    place: PlaceConfig = Field(default_factory=PlaceConfig)
    """The seat placement search with tracker rollouts (:mod:`exoactor.scene.place`; the
    runner's ``objects`` stage runs it after the rules)."""
    contact: ContactRefConfig = Field(default_factory=ContactRefConfig)
    """The seat-contact reference (:mod:`exoactor.scene.contact_ref`; the ``objects`` stage
    runs it after the placement and writes ``seated_motion.npz``, which the track stage
    follows)."""
    grip: GripRefConfig = Field(default_factory=GripRefConfig)
    """The grip reference of carried boxes (:mod:`exoactor.scene.grip_ref`; the ``objects``
    stage runs it after the seat-contact reference, into ``seated_motion.npz``)."""

    # ---- nominal extents that give way to the body (:mod:`exoactor.scene.shrink`) ----------
    box_min_depth_m: float = Field(0.10, gt=0.0, le=2.0)
    """Smallest depth a carried box, and the support slab under it, shrink to when the
    reference's body passes through their nominal ``box_depth_m`` (about the hands' line: the
    hands stay at the middle of the box's sides) [m]. A palm is about 0.1 m wide."""
    box_min_height_m: float = Field(0.10, gt=0.0, le=2.0)
    """Smallest height a carried box shrinks to (its bottom stays on its support or the floor;
    its top stays at least ``palm_half_thickness_m`` above both hands at the grasp, so it is
    still held by its sides) when the body is inside its nominal ``box_height_m`` before the
    hold [m]."""
    support_min_thickness_m: float = Field(0.02, gt=0.0, le=0.5)
    """Smallest thickness a support slab shrinks to (its top, the box's bottom, stays) when the
    body passes through its nominal ``table_thickness_m`` (a shelf board) [m]."""


@dataclass(frozen=True)
class MotionFeatures:
    """Per-frame kinematics the rules read (world frame, metres).

    Attributes:
        fps: frame rate [Hz].
        pelvis_pos: ``(T, 3)`` root position.
        heading: ``(T,)`` pelvis yaw [rad].
        com: ``(T, 3)`` whole-body centre of mass.
        com_outside_feet: ``(T,)`` signed distance of the CoM's xy outside the convex hull of the
            foot contact points (negative inside) [m].
        feet_min_z: ``(T,)`` lowest foot contact point [m].
        seat_low_z: ``(T,)`` lowest point of the pelvis/thigh collision geoms [m].
        pelvis_low_xy: ``(T, 2)`` xy of the lowest point of the pelvis geom [m].
        hands: ``(T, 2, 3)`` left, right hand positions.
        shoulders: ``(T, 2, 3)`` left, right shoulder positions.
        knees: ``(T, 2, 3)`` left, right knee positions.
        seat_points: ``(T, P, 3)`` convex-hull points of the pelvis/thigh collision geoms.
        other_points: ``(T, Q, 3)`` convex-hull points of the shank and foot collision geoms:
            what must not be inside a seat.
        hand_points: ``(T, 2, H, 3)`` convex-hull points of each hand's collision geoms
            (``HAND_COLLISION_BODIES``; left, right), or ``None`` when the hands have none.
    """

    fps: float
    pelvis_pos: np.ndarray
    heading: np.ndarray
    com: np.ndarray
    com_outside_feet: np.ndarray
    feet_min_z: np.ndarray
    seat_low_z: np.ndarray
    pelvis_low_xy: np.ndarray
    hands: np.ndarray
    shoulders: np.ndarray
    knees: np.ndarray
    seat_points: np.ndarray
    other_points: np.ndarray
    hand_points: np.ndarray | None = None


def hull_points(model, geom: int) -> np.ndarray:
    """The points of a collision geom that MuJoCo collides with (a mesh's convex hull), in the
    geom's frame."""
    from scipy.spatial import ConvexHull, QhullError

    pts = _geom_points(model, geom)
    if len(pts) > 8:
        try:
            return pts[ConvexHull(pts).vertices]
        except QhullError:
            return pts
    return pts


def _geom_points(model, geom: int) -> np.ndarray:
    """Points of a collision geom in its own frame (mesh vertices; a sphere's centre+radius)."""
    import mujoco

    if model.geom_type[geom] == mujoco.mjtGeom.mjGEOM_MESH:
        mid = model.geom_dataid[geom]
        a, n = model.mesh_vertadr[mid], model.mesh_vertnum[mid]
        return model.mesh_vert[a:a + n].astype(float)
    r = float(model.geom_size[geom, 0])
    return np.array([[0, 0, -r], [r, 0, 0], [-r, 0, 0], [0, r, 0], [0, -r, 0]], float)


def motion_features(motion: RobotMotion, robot=None) -> MotionFeatures:
    """Forward kinematics of every frame of ``motion`` into :class:`MotionFeatures`."""
    import mujoco
    from scipy.spatial import ConvexHull, QhullError

    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos

    robot = robot or get_robot("g1")
    m = robot.model
    d = mujoco.MjData(m)
    qpos = motion_qpos(robot, motion)
    bid = {m.body(i).name: i for i in range(m.nbody)}
    collide = [g for g in range(m.ngeom) if m.geom_contype[g] or m.geom_conaffinity[g]]
    seat_geoms = [g for g in collide if m.body(m.geom_bodyid[g]).name in SEAT_BODIES]
    pelvis_geoms = [g for g in seat_geoms if m.geom_bodyid[g] == bid[PELVIS_BODY]]
    foot_geoms = [g for g in collide if m.body(m.geom_bodyid[g]).name in FEET
                  and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE]
    other_geoms = [g for g in collide if m.body(m.geom_bodyid[g]).name in LEG_BODIES]
    hand_geoms = [[g for g in collide if m.body(m.geom_bodyid[g]).name in side]
                  for side in HAND_COLLISION_BODIES]
    pts = {g: hull_points(m, g) for g in seat_geoms + other_geoms + sum(hand_geoms, [])}
    n_hand = max(sum(len(pts[g]) for g in side) for side in hand_geoms)
    T = len(qpos)
    out = {k: [] for k in ("com", "outside", "feet_z", "seat_z", "pel_xy", "hands", "sh", "knees",
                           "seat_pts", "other_pts", "hand_pts")}
    for t in range(T):
        d.qpos[:] = qpos[t]
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        com = d.subtree_com[bid[PELVIS_BODY]].copy()
        feet = d.geom_xpos[foot_geoms]
        feet_z = feet[:, 2] - m.geom_size[foot_geoms, 0]
        try:
            hull = ConvexHull(feet[:, :2])
            outside = float(np.max(hull.equations[:, :2] @ com[:2] + hull.equations[:, 2]))
        except QhullError:
            outside = float(np.min(np.linalg.norm(feet[:, :2] - com[:2], axis=1)))
        lows, seat_w = [], []
        for g in seat_geoms:
            w = pts[g] @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g]
            i = int(np.argmin(w[:, 2]))
            lows.append((w[i, 2], g, w[i, :2]))
            seat_w.append(w)
        out["seat_pts"].append(np.concatenate(seat_w))
        out["other_pts"].append(np.concatenate(
            [pts[g] @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g] for g in other_geoms]))
        if all(hand_geoms):
            sides = [np.concatenate([pts[g] @ d.geom_xmat[g].reshape(3, 3).T + d.geom_xpos[g]
                                     for g in side]) for side in hand_geoms]
            out["hand_pts"].append(np.stack([np.concatenate(  # pad with repeats: same shape
                [w, np.repeat(w[:1], n_hand - len(w), 0)]) for w in sides]))
        seat_z = min(z for z, _, _ in lows)
        pel = min((lo for lo in lows if lo[1] in pelvis_geoms), key=lambda lo: lo[0])
        out["com"].append(com)
        out["outside"].append(outside)
        out["feet_z"].append(float(feet_z.min()))
        out["seat_z"].append(float(seat_z))
        out["pel_xy"].append(pel[2].copy())
        out["hands"].append(d.xpos[[bid[h] for h in HANDS]].copy())
        out["sh"].append(d.xpos[[bid[s] for s in SHOULDERS]].copy())
        out["knees"].append(d.xpos[[bid[k] for k in KNEES]].copy())
    return MotionFeatures(
        fps=float(motion.fps), pelvis_pos=np.asarray(motion.root_pos, float),
        heading=np.unwrap(yaw(motion.root_quat)), com=np.array(out["com"]),
        com_outside_feet=np.array(out["outside"]), feet_min_z=np.array(out["feet_z"]),
        seat_low_z=np.array(out["seat_z"]), pelvis_low_xy=np.array(out["pel_xy"]),
        hands=np.array(out["hands"]), shoulders=np.array(out["sh"]),
        knees=np.array(out["knees"]),
        seat_points=np.array(out["seat_pts"]), other_points=np.array(out["other_pts"]),
        hand_points=np.array(out["hand_pts"]) if out["hand_pts"] else None)


# ---- small pure helpers ------------------------------------------------------------------
def smooth(x: np.ndarray, n: int) -> np.ndarray:
    """Centred box filter of ``n`` frames along axis 0 (edges padded with the end values)."""
    n = max(1, int(n))
    if n == 1 or len(x) < 2:
        return np.asarray(x, float)
    x = np.asarray(x, float)
    pad_lo, pad_hi = n // 2, n - 1 - n // 2
    xp = np.concatenate([np.repeat(x[:1], pad_lo, 0), x, np.repeat(x[-1:], pad_hi, 0)])
    c = np.cumsum(np.concatenate([np.zeros((1,) + x.shape[1:]), xp]), axis=0)
    return (c[n:] - c[:-n]) / n


def speed(pos: np.ndarray, fps: float, n_smooth: int) -> np.ndarray:
    """``(T,)`` speed of a ``(T, k)`` trajectory after smoothing [units/s]."""
    p = smooth(pos, n_smooth)
    v = np.gradient(p, 1.0 / fps, axis=0) if len(p) > 1 else np.zeros_like(p)
    return np.linalg.norm(np.atleast_2d(v.T).T, axis=-1) if v.ndim > 1 else np.abs(v)


def segments(mask: np.ndarray, min_len: int, max_gap: int) -> list[tuple[int, int]]:
    """Inclusive ``[first, last]`` runs of True, gaps of at most ``max_gap`` bridged, runs
    shorter than ``min_len`` frames dropped."""
    bridged = drop_short_runs(fill_short_gaps(mask, max_gap), min_len)
    return [(a, b - 1) for a, b in runs(bridged)]


# ---- rules -------------------------------------------------------------------------------
def seated_mask(f: MotionFeatures, cfg: InferConfig, standing_pelvis_m: float) -> np.ndarray:
    """Frames where the pelvis is low and still and the weight is off the feet."""
    n = max(1, round(cfg.smooth_s * f.fps))
    low = f.pelvis_pos[:, 2] < standing_pelvis_m - cfg.seated_pelvis_below_m
    still = speed(f.pelvis_pos, f.fps, n) < cfg.still_speed_m_s
    off_feet = (smooth(f.com_outside_feet, n) > cfg.com_outside_feet_m) | \
               (f.feet_min_z > cfg.com_outside_feet_m + 0.0)
    return low & still & off_feet


def box_depth(points_w: np.ndarray, centre: np.ndarray, yaw_rad: float,
              size: np.ndarray) -> np.ndarray:
    """``(...,)`` how deep each world point is inside a box (<= 0: outside) [m]."""
    local = (points_w - centre) @ yaw_matrix(yaw_rad)
    return np.min(np.asarray(size) / 2 - np.abs(local), axis=-1)


def seat_from_phase(f: MotionFeatures, first: int, last: int, cfg: InferConfig) -> SceneObject:
    """The seat box of one seated phase.

    The sitting-notes placement, with the seat's top measured where the seat is: the box is
    ``seat_depth_m`` deep, its front edge ``seat_front_ahead_m`` ahead of the lowest reference
    pelvis point along the seated heading, and its top ``seat_above_lowest_m`` above the lowest
    pelvis/thigh point *over its footprint* during the phase (for level thighs, as in the notes'
    references, this is the notes' "lowest pelvis/thigh point"; for thighs sloping down to the
    knees it ignores the knee end, which is off the seat). One constraint: the shanks and feet
    must not be inside the box at any frame (the robot starts at the
    reference pose, and it stands in front of its seat before sitting), so where the rule's box
    would hold it the box moves back along the heading, 1 cm at a time up to
    ``seat_max_back_m``, to the first position that does not; the shift is in the note.
    """
    sl = slice(first, last + 1)
    heading = circular_mean(f.heading[sl])
    xy = np.median(f.pelvis_low_xy[sl], axis=0)
    fwd = np.array([np.cos(heading), np.sin(heading)])
    best = None
    for back in np.arange(0.0, cfg.seat_max_back_m + 1e-9, 0.01):
        centre_xy = xy + fwd * (cfg.seat_front_ahead_m - back - cfg.seat_depth_m / 2)
        # the lowest seat point over the footprint (a tall box: only xy decides)
        foot = np.array([centre_xy[0], centre_xy[1], 0.0])
        tall = np.array([cfg.seat_depth_m, cfg.seat_width_m, 1e3])
        pts = f.seat_points[sl]
        inside = box_depth(pts, foot, heading, tall) > 0
        if not inside.any():
            continue
        low = float(np.min(pts[..., 2][inside]))
        top = low + (cfg.seat_above_lowest_m if first > 0 else cfg.seat_above_lowest_at_start_m)
        centre = np.array([centre_xy[0], centre_xy[1], top / 2])
        size = np.array([cfg.seat_depth_m, cfg.seat_width_m, top])
        pen = float(np.max(box_depth(f.other_points, centre, heading, size)))
        cand = (max(pen, 0.0), back, centre, top, low)
        if best is None or cand[0] < best[0] - 1e-4:
            best = cand
        if pen <= cfg.seat_clearance_m:
            break
    if best is None:
        raise ValueError("seated phase without pelvis/thigh points over the seat")
    pen, back, centre, top, low = best
    note = (f"seated {first}-{last} ({(last - first + 1) / f.fps:.1f} s): lowest pelvis/thigh "
            f"point over the seat {low:.3f} m; top = that + {top - low:.2f} m; "
            f"front edge {cfg.seat_front_ahead_m - back:.2f} m ahead of the lowest pelvis point "
            "(sitting-notes placement"
            + ("" if back < 1e-9 else f", moved back {back:.2f} m so the legs stay out of it")
            + ")")
    if pen > cfg.seat_clearance_m:
        note += f"; the reference's shanks/feet still reach {pen:.2f} m into it"
    return SceneObject(
        kind="seat", pose=ObjectPose(pos=(float(centre[0]), float(centre[1]), float(top / 2)),
                                     yaw_rad=heading),
        size=(cfg.seat_depth_m, cfg.seat_width_m, float(top)), friction=cfg.friction,
        evidence=((first, last),), note=note)


def find_seats(f: MotionFeatures, cfg: InferConfig, standing_pelvis_m: float
               ) -> list[SceneObject]:
    """One seat per seated phase (phases whose seats overlap are merged into the first)."""
    mask = seated_mask(f, cfg, standing_pelvis_m)
    phases = segments(mask, round(cfg.min_seated_s * f.fps), round(cfg.gap_s * f.fps))
    seats: list[SceneObject] = []
    for a, b in phases:
        s = seat_from_phase(f, a, b, cfg)
        if s.size[2] < 0.10:
            logger.info("seated phase %d-%d: seat top %.2f m is too low for a seat; skipped",
                        a, b, s.size[2])
            continue
        same = [o for o in seats if np.hypot(o.pose.pos[0] - s.pose.pos[0],
                                             o.pose.pos[1] - s.pose.pos[1]) < cfg.seat_depth_m / 2]
        if same:
            i = seats.index(same[0])
            seats[i] = same[0].model_copy(update={"evidence": same[0].evidence + s.evidence})
            continue
        seats.append(s)
    return seats


def find_tables(f: MotionFeatures, cfg: InferConfig, exclude: np.ndarray | None = None
                ) -> list[SceneObject]:
    """Table tops under hands resting, pushing or wiping at a steady height ahead of the body.

    ``exclude``: frames already explained otherwise (a carried box), skipped."""
    fwd = np.stack([np.cos(f.heading), np.sin(f.heading)], axis=1)
    tables: list[SceneObject] = []
    for h in range(2):
        hand = f.hands[:, h]
        w = max(3, round(cfg.min_support_s * f.fps / 2))
        mean_z = smooth(hand[:, 2], w)
        spread = np.sqrt(np.maximum(smooth(hand[:, 2] ** 2, w) - mean_z ** 2, 0.0))
        ahead = np.sum((hand[:, :2] - f.pelvis_pos[:, :2]) * fwd, axis=1)
        below = f.shoulders[:, h, 2] - hand[:, 2]
        on_knees = np.min(np.linalg.norm(f.knees - hand[:, None], axis=2), axis=1) \
            < cfg.hand_off_body_m
        ok = (spread < cfg.hand_steady_std_m) & (ahead > cfg.hand_ahead_m) & \
             (below > cfg.hand_below_shoulder_m) & (hand[:, 2] > 0.3) & ~on_knees
        if exclude is not None:
            ok &= ~exclude
        for a, b in segments(ok, round(cfg.min_support_s * f.fps), round(cfg.gap_s * f.fps)):
            sl = slice(a, b + 1)
            heading = circular_mean(f.heading[sl])
            top = float(np.median(hand[sl, 2])) - cfg.palm_half_thickness_m
            c, s_ = np.cos(heading), np.sin(heading)
            body_xy = np.median(f.pelvis_pos[sl, :2], axis=0)
            rel = hand[sl, :2] - body_xy
            u = rel @ np.array([c, s_])            # along the heading
            v = rel @ np.array([-s_, c])           # to the left
            near = max(float(u.min()) - cfg.table_margin_m, cfg.hand_ahead_m - 0.15)
            far = float(u.max()) + cfg.table_margin_m + 0.2
            lo, hi = float(v.min()) - cfg.table_margin_m, float(v.max()) + cfg.table_margin_m
            uc, vc = (near + far) / 2, (lo + hi) / 2
            centre = body_xy + uc * np.array([c, s_]) + vc * np.array([-s_, c])
            tables.append(SceneObject(
                kind="table", pose=ObjectPose(pos=(float(centre[0]), float(centre[1]),
                                                   top - cfg.table_thickness_m / 2),
                                              yaw_rad=heading),
                size=(far - near, max(hi - lo, 0.4), cfg.table_thickness_m),
                friction=cfg.friction, evidence=((a, b),),
                note=(f"{'left' if h == 0 else 'right'} hand steady at "
                      f"{top + cfg.palm_half_thickness_m:.3f} m, "
                      f"{float(np.median(u)):.2f} m ahead, frames {a}-{b}")))
    return _merge_tables(tables)


def _merge_tables(tables: list[SceneObject]) -> list[SceneObject]:
    """Tables from the two hands at about the same height and place become one."""
    out: list[SceneObject] = []
    for t in tables:
        for i, o in enumerate(out):
            if abs(o.top_z - t.top_z) < 0.05 and np.hypot(o.pose.pos[0] - t.pose.pos[0],
                                                          o.pose.pos[1] - t.pose.pos[1]) < 0.5:
                pts = []
                for b in (o, t):
                    c, s = np.cos(b.pose.yaw_rad), np.sin(b.pose.yaw_rad)
                    for du in (-0.5, 0.5):
                        for dv in (-0.5, 0.5):
                            pts.append(np.array(b.pose.pos[:2]) + du * b.size[0] * np.array([c, s])
                                       + dv * b.size[1] * np.array([-s, c]))
                pts = np.array(pts)
                c, s = np.cos(o.pose.yaw_rad), np.sin(o.pose.yaw_rad)
                u, v = pts @ np.array([c, s]), pts @ np.array([-s, c])
                uc, vc = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
                xy = uc * np.array([c, s]) + vc * np.array([-s, c])
                z = (o.pose.pos[2] + t.pose.pos[2]) / 2
                out[i] = o.model_copy(update={
                    "pose": ObjectPose(pos=(float(xy[0]), float(xy[1]), float(z)),
                                       yaw_rad=o.pose.yaw_rad),
                    "size": (float(u.max() - u.min()), float(v.max() - v.min()), o.size[2]),
                    "evidence": o.evidence + t.evidence, "note": o.note + "; " + t.note})
                break
        else:
            out.append(t)
    return out


def hold_mask(f: MotionFeatures, cfg: InferConfig) -> np.ndarray:
    """Frames where both hands, in front of the body, keep a steady distance apart that a box
    could fill."""
    n = max(3, round(cfg.min_hold_s * f.fps / 2))
    dist = np.linalg.norm(f.hands[:, 0] - f.hands[:, 1], axis=1)
    mean = smooth(dist, n)
    spread = np.sqrt(np.maximum(smooth(dist ** 2, n) - mean ** 2, 0.0))
    lo, hi = cfg.grip_range_m
    fwd = np.stack([np.cos(f.heading), np.sin(f.heading)], axis=1)
    ahead = np.sum((f.hands.mean(axis=1)[:, :2] - f.pelvis_pos[:, :2]) * fwd, axis=1)
    return (spread < cfg.grip_std_m) & (dist > lo) & (dist < hi) & (ahead > cfg.hold_ahead_m)


def grip_gap(f: MotionFeatures, frame: int, cfg: InferConfig) -> tuple[float, np.ndarray]:
    """The width of what the hands hold at ``frame``: the gap between the hands' collision
    surfaces facing each other along the line from the left hand to the right one (what holds
    a box in the physics, whatever the hands' orientation), and the point midway between those
    surfaces on the hands' line, world [m]. Without hand collision points: the hand distance
    less ``palm_half_thickness_m`` per hand, and the hands' midpoint.

    Returns:
        ``(gap_m, centre_w)``; the gap is negative when the surfaces overlap.
    """
    lh, rh = f.hands[frame]
    dist = float(np.linalg.norm(rh - lh))
    if f.hand_points is None or dist < 1e-9:
        return dist - 2 * cfg.palm_half_thickness_m, (lh + rh) / 2
    u = (rh - lh) / dist
    left_in = float(np.max(f.hand_points[frame, 0] @ u))      # the left hand's inner surface
    right_in = float(np.min(f.hand_points[frame, 1] @ u))
    mid = (lh + rh) / 2
    return right_in - left_in, mid + u * ((left_in + right_in) / 2 - float(mid @ u))


def find_boxes(f: MotionFeatures, cfg: InferConfig) -> tuple[list[SceneObject], np.ndarray]:
    """Carried boxes (free bodies), their supports, and the frames they explain."""
    mask = hold_mask(f, cfg)
    used = np.zeros(len(mask), bool)
    out: list[SceneObject] = []
    for a, b in segments(mask, round(cfg.min_hold_s * f.fps), round(cfg.gap_s * f.fps)):
        mid = f.hands[a:b + 1].mean(axis=1)
        start = int(np.argmin(mid[:, 2]))          # the grasp: lowest point of the hold
        rise = float(mid[start:, 2].max() - mid[start, 2])
        if rise < cfg.min_lift_m:
            continue
        used[a:b + 1] = True
        g = a + start
        lh, rh = f.hands[g]
        dist = float(np.linalg.norm(lh - rh))
        gap, centre = grip_gap(f, g, cfg)
        width = max(gap, 0.05)
        across = (lh - rh)[:2]
        heading = float(np.arctan2(across[1], across[0])) - np.pi / 2   # depth ⟂ hand axis
        h = cfg.box_height_m
        bottom = float(centre[2]) - h / 2
        mass = float(np.clip(cfg.box_density_kg_m3 * width * cfg.box_depth_m * h,
                             *cfg.box_mass_range_kg))
        if float(max(lh[2], rh[2])) + cfg.palm_half_thickness_m <= h or bottom < 0.05:
            # a box standing on the floor reaches above both hands: it can be grasped there
            # (hands at its sides, anywhere below its top), so no support is needed
            bottom = 0.0
        else:                                        # grasped higher: a support slab under it
            out.append(SceneObject(
                kind="table", pose=ObjectPose(pos=(float(centre[0]), float(centre[1]),
                                                   bottom - cfg.table_thickness_m / 2),
                                              yaw_rad=heading),
                size=(cfg.box_depth_m, width, cfg.table_thickness_m),
                friction=cfg.friction, evidence=((g, g),),
                note=f"support under the box grasped {bottom:.2f} m up at frame {g}"))
        out.append(SceneObject(
            kind="box", pose=ObjectPose(pos=(float(centre[0]), float(centre[1]),
                                             bottom + h / 2 + 1e-3), yaw_rad=heading),
            size=(cfg.box_depth_m, width, h), mass=mass, friction=cfg.friction,
            evidence=((a, b),),
            note=(f"hands {dist:.2f} m apart (spread < {cfg.grip_std_m:.3f} m) over frames "
                  f"{a}-{b}, their surfaces {gap:.3f} m apart at frame {g}, midpoint rose "
                  f"{rise:.2f} m from there; depth, height nominal")))
    return out, used


def infer_scene(motion: RobotMotion, config: InferConfig | None = None, robot=None,
                plan_actions: list[str] | None = None) -> Scene:
    """Every rule on ``motion``; the objects in one :class:`Scene`.

    Args:
        motion: the robot motion (world frame, z-up, after retargeting).
        config: thresholds.
        robot: the robot model (default G1 29-DoF).
        plan_actions: actions of a plan (``["sit(the chair)", ...]``) to name the objects.
    """
    from exoactor.robots import get_robot

    cfg = config or InferConfig()
    robot = robot or get_robot("g1")
    f = motion_features(motion, robot)
    seats = find_seats(f, cfg, robot.spec.root_height_m)
    found_boxes, used = find_boxes(f, cfg)
    boxes, rejected_boxes = _boxes_clear_of_body(found_boxes, f, cfg)
    found_tables = find_tables(f, cfg, exclude=used)
    tables = [t for t in found_tables
              if _clear_of_body(t, f, cfg) and _clear_of_lap(t, seats, cfg)]
    objects = name_from_plan(seats + tables + boxes, plan_actions or [])
    rejected = tuple(o.model_copy(update={"note": o.note + "; rejected: the reference's body "
                                          "passes through it (or it is over a seat's lap)"})
                     for o in found_tables if o not in tables) + tuple(rejected_boxes)
    logger.info("%s: inferred %d seat(s), %d table(s), %d box(es); %d rejected", motion.source,
                len(seats), sum(o.kind == "table" for o in objects),
                sum(o.kind == "box" for o in objects), len(rejected))
    return Scene(source=motion.source, fps=float(motion.fps), objects=tuple(objects),
                 rejected=rejected)


def _clear_of_body(obj: SceneObject, f: MotionFeatures, cfg: InferConfig) -> bool:
    """The reference's pelvis, thighs, shanks and feet stay out of ``obj`` at every frame (a
    "table" the legs pass through is something held, e.g. a guitar, not a surface)."""
    size = np.asarray(obj.size)
    centre = np.asarray(obj.pose.pos)
    deepest = max(float(np.max(box_depth(f.seat_points, centre, obj.pose.yaw_rad, size))),
                  float(np.max(box_depth(f.other_points, centre, obj.pose.yaw_rad, size))))
    if deepest > cfg.seat_clearance_m:
        logger.info("%s at %.2f m dropped: the body passes %.2f m into it", obj.kind,
                    obj.top_z, deepest)
        return False
    return True


def _boxes_clear_of_body(objs: list[SceneObject], f: MotionFeatures, cfg: InferConfig
                         ) -> tuple[list[SceneObject], list[SceneObject]]:
    """Keep a carried box (and its support) only when it could have been there: the support
    clear of the reference's lower body at every frame, the box clear of the lower body and of
    both hands before its hold begins (a box waits where it is until the hands reach it).

    The extents the rule assumed (depth of both, the box's height, the support's thickness)
    first shrink, each down to its minimum (``box_min_depth_m``, ``box_min_height_m``,
    ``support_min_thickness_m``), to the largest box the body does not enter
    (:func:`exoactor.scene.shrink.shrink_to_clear`); what is still more than
    ``seat_clearance_m`` inside then rejects the box with its support.

    Returns:
        ``(kept, rejected)``: the kept objects (shrunk where needed), and the rejected ones as
        found with the reason in their notes.
    """
    out, rejected, i = [], [], 0
    while i < len(objs):
        group = [objs[i]]
        if objs[i].kind == "table" and i + 1 < len(objs):       # support, then its box
            group.append(objs[i + 1])
            i += 1
        i += 1
        fitted, why = [], ""
        for o in group:
            if o.kind == "table":
                pts = np.concatenate([f.seat_points, f.other_points], axis=1)
                nominal = (NominalExtent(0, CENTRE, cfg.box_min_depth_m),
                           NominalExtent(2, HIGH, cfg.support_min_thickness_m))
            else:
                first = o.evidence[0][0]
                if first == 0:
                    fitted.append(o)
                    continue
                before = slice(0, first)
                pts = np.concatenate([f.seat_points[before], f.other_points[before],
                                      f.hands[before]], axis=1)
                nominal = (NominalExtent(0, CENTRE, cfg.box_min_depth_m),
                           NominalExtent(2, LOW, _box_min_height(o, f, cfg)))
            fit = _shrink_object(o, pts, nominal)
            deep = float(np.max(box_depth(pts, np.asarray(fit.pose.pos), fit.pose.yaw_rad,
                                          np.asarray(fit.size))))
            if deep > cfg.seat_clearance_m:
                why = (f"the reference's body is {deep:.3f} m inside the {o.kind}"
                       + (" before the hold" if o.kind == "box" else "")
                       + " at its smallest nominal size")
                logger.info("box of frames %s dropped: %s", group[-1].evidence, why)
                break
            fitted.append(fit)
        if why:
            rejected.extend(o.model_copy(update={"note": o.note + f"; rejected: {why}"})
                            for o in group)
        else:
            out.extend(fitted)
    return out, rejected


def _box_min_height(box: SceneObject, f: MotionFeatures, cfg: InferConfig) -> float:
    """Smallest height of ``box`` that keeps its top above both hands at the grasp (the lowest
    hands' midpoint of its hold) by the palm's half thickness [m]."""
    a, b = box.evidence[0]
    g = a + int(np.argmin(f.hands[a:b + 1, :, 2].mean(axis=1)))
    bottom = box.pose.pos[2] - box.size[2] / 2
    return max(cfg.box_min_height_m,
               float(f.hands[g, :, 2].max()) + cfg.palm_half_thickness_m - bottom)


def _shrink_object(obj: SceneObject, points_w: np.ndarray, nominal: tuple[NominalExtent, ...]
                   ) -> SceneObject:
    """``obj`` with its ``nominal`` extents shrunk until ``points_w`` clear it (a note says
    which); ``obj`` itself when nothing changes."""
    centre, size = shrink_to_clear(points_w, np.asarray(obj.pose.pos), obj.pose.yaw_rad,
                                   np.asarray(obj.size), nominal)
    changed = [(e.axis, obj.size[e.axis], float(size[e.axis])) for e in nominal
               if size[e.axis] < obj.size[e.axis] - 1e-9]
    if not changed:
        return obj
    names = ("depth", "width", "height" if obj.kind == "box" else "thickness")
    what = ", ".join(f"{names[k]} {old:.3f} -> {new:.3f} m" for k, old, new in changed)
    return obj.model_copy(update={
        "pose": obj.pose.model_copy(update={"pos": tuple(float(x) for x in centre)}),
        "size": tuple(float(x) for x in size),
        "note": obj.note + f"; nominal {what} so the reference's body clears it"})


def _clear_of_lap(obj: SceneObject, seats: list[SceneObject], cfg: InferConfig) -> bool:
    """A surface over a seat's lap (ahead of it by less than a thigh and less than
    ``lap_clearance_m`` above its top) is something held on the lap (a guitar, a laptop),
    not a table: the robot, which sits higher than the reference, would be clamped between
    the two (measured on the sofa clip: 16 kN on the thighs)."""
    for seat in seats:
        c, s = np.cos(seat.pose.yaw_rad), np.sin(seat.pose.yaw_rad)
        rel = np.asarray(obj.pose.pos[:2]) - np.asarray(seat.pose.pos[:2])
        ahead, side = rel @ np.array([c, s]), rel @ np.array([-s, c])
        bottom = obj.pose.pos[2] - obj.size[2] / 2
        reach = seat.size[0] / 2 + cfg.thigh_length_m + obj.size[0] / 2
        if (-seat.size[0] / 2 < ahead < reach and abs(side) < seat.size[1] / 2 + obj.size[1] / 2
                and bottom < seat.top_z + cfg.lap_clearance_m):
            logger.info("%s at %.2f m dropped: over the lap of the seat at %.2f m", obj.kind,
                        obj.top_z, seat.top_z)
            return False
    return True


_VERBS = {"seat": ("sit", "sit_down", "sit_on"), "table": ("wipe", "place", "put", "lean", "push"),
          "box": ("pick_up", "pick", "lift", "carry", "grab")}


def name_from_plan(objects: list[SceneObject], actions: list[str]) -> list[SceneObject]:
    """Name objects after the plan's actions (``sit(the chair)`` names the first seat
    ``the chair``); objects the plan does not mention keep their names."""
    out = list(objects)
    for act in actions:
        verb, _, rest = act.partition("(")
        verb = verb.strip().lower()
        arg = rest.rstrip(")").strip()
        for kind, verbs in _VERBS.items():
            if verb in verbs and arg:
                for i, o in enumerate(out):
                    if o.kind == kind and not o.name:
                        out[i] = o.model_copy(update={"name": arg})
                        break
    return out
