"""A person who squats, takes a box off the floor between both palms and stands up with it,
for the Anny body: the kind of task clip whose carried box the ``objects`` stage must infer
(:mod:`exoactor.scene.infer`, "both hands a steady distance apart while rising -> a box of
that width").

Rotations are in Anny's ``local-ref`` parameterisation (see :mod:`.stand`): a rotation about x
is a flexion (negative swings a thigh or an arm forward, positive bends a knee back and leans
the trunk forward). The root turns the trunk forward, the thighs and shanks fold into a squat,
the feet stay level and :func:`~exoactor.perceive.truth.walk.root_path` keeps them on the
ground. Every rotation that changes over time is about x (the body's left-right axis) and the
arms' adduction is constant, so the hands keep exactly their distance apart all through the
clip: the box's width is the gap between the palms (:func:`palm_gap_m`).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial.transform import Rotation


class LiftConfig(BaseModel):
    """The lift: stand, squat to a box on the floor, hold it, stand up holding it in front."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float = Field(0.4, ge=0.0)
    """Time standing still before squatting [s]."""
    down_s: float = Field(1.0, gt=0.0, le=10.0)
    """Duration of the squat (raised-cosine ramp) [s]."""
    grasp_s: float = Field(0.3, ge=0.0, le=5.0)
    """Time at the bottom, hands on the box [s]."""
    up_s: float = Field(1.2, gt=0.0, le=10.0)
    """Duration of standing up with the box [s]; standing still with it afterwards."""
    hinge_deg: float = Field(55.0, ge=0.0, le=80.0)
    """Forward trunk lean at the bottom [deg]."""
    hip_deg: float = Field(90.0, ge=0.0, le=130.0)
    """Thigh flexion (forward from vertical) at the bottom [deg]."""
    knee_deg: float = Field(110.0, ge=0.0, le=140.0)
    """Knee flexion at the bottom [deg]."""
    shoulder_down_deg: float = Field(50.0, ge=0.0, le=120.0)
    """Shoulder flexion relative to the trunk at the bottom [deg]."""
    shoulder_carry_deg: float = Field(45.0, ge=0.0, le=120.0)
    """Shoulder flexion relative to the trunk when standing with the box [deg]."""
    arm_down_deg: float = Field(38.0, ge=0.0, le=45.0)
    """Arm adduction from Anny's A pose toward the body [deg] (sets the hands' distance)."""
    elbow_deg: float = Field(10.0, ge=0.0, le=120.0)
    """Elbow flexion [deg]."""
    head_deg: float = Field(10.0, ge=0.0, le=40.0)
    """Amplitude of a slow head circle (turn and nod a quarter period apart) [deg] (keeps
    the frames distinct: still frames are dropped as repeats by the perceive stage)."""
    head_hz: float = Field(0.5, gt=0.0, le=3.0)
    """Frequency of the head circle [Hz]."""


def _about(axis: str, angle_deg: np.ndarray) -> Rotation:
    return Rotation.from_euler(axis, np.asarray(angle_deg, float)[:, None], degrees=True)


def _ramp(t_s: np.ndarray, start_s: float, dur_s: float) -> np.ndarray:
    u = np.clip((t_s - start_s) / dur_s, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * u)


def lift_phases(cfg: LiftConfig, frames: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """``(T,)`` squat depth (0 standing, 1 at the bottom) and ``(T,)`` lift (0 until the box
    leaves the floor, 1 standing with it)."""
    t_s = np.arange(frames) / fps
    down = _ramp(t_s, cfg.start_s, cfg.down_s)
    up = _ramp(t_s, cfg.start_s + cfg.down_s + cfg.grasp_s, cfg.up_s)
    return down * (1.0 - up), up


def grasp_frame(cfg: LiftConfig, fps: float) -> int:
    """The last frame before the box leaves the floor."""
    return int(np.floor((cfg.start_s + cfg.down_s + cfg.grasp_s) * fps))


def lift_rotations(cfg: LiftConfig, frames: int, fps: float) -> dict[str, np.ndarray]:
    """Bone rotations of ``frames`` frames at ``fps`` [Hz].

    Returns:
        Anny bone label -> ``(T, 3, 3)`` rotation.
    """
    depth, up = lift_phases(cfg, frames, fps)
    reached = np.maximum(depth, up)               # arms: down to the box, then carrying it
    flex = np.where(up > 0, cfg.shoulder_down_deg + (cfg.shoulder_carry_deg
                                                     - cfg.shoulder_down_deg) * up,
                    cfg.shoulder_down_deg * reached)
    t_s = np.arange(frames) / fps
    turn = cfg.head_deg * np.sin(2 * np.pi * cfg.head_hz * t_s)
    nod = cfg.head_deg / 2 * np.cos(2 * np.pi * cfg.head_hz * t_s)
    hinge = cfg.hinge_deg * depth
    thigh = cfg.hip_deg * depth
    knee = cfg.knee_deg * depth
    out: dict[str, np.ndarray] = {"root": _about("x", hinge).as_matrix(),
                                  "neck01": (_about("z", turn) * _about("x", nod)).as_matrix()}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        # thigh's world flexion = -(root + upperleg): forward by ``thigh``
        out[f"upperleg01.{side}"] = _about("x", -(hinge + thigh)).as_matrix()
        out[f"lowerleg01.{side}"] = _about("x", knee).as_matrix()
        out[f"foot.{side}"] = _about("x", thigh - knee).as_matrix()     # the sole stays level
        down = _about("y", np.full(frames, sign * cfg.arm_down_deg))
        out[f"upperarm01.{side}"] = (_about("x", -flex) * down).as_matrix()
        out[f"lowerarm01.{side}"] = _about("x", np.full(frames, -cfg.elbow_deg)).as_matrix()
    return out


def palm_gap_m(vertices_w: np.ndarray, hand_side: np.ndarray) -> float:
    """Gap between the palms [m] along world y (the body faces +x): the width of a box held
    between them.

    Args:
        vertices_w: ``(V, 3)`` one frame's vertices, world [m].
        hand_side: ``(V,)`` +1 for left-hand vertices, -1 for right-hand ones, 0 elsewhere.
    """
    left, right = vertices_w[hand_side > 0, 1], vertices_w[hand_side < 0, 1]
    if not len(left) or not len(right):
        raise ValueError("no hand vertices")
    return float(left.min() - right.max())
