"""A person standing who leans forward and rests both hands flat on a table, for the Anny body:
the kind of task clip whose table the ``objects`` stage must infer (:mod:`exoactor.scene.infer`,
"hands resting at a steady height -> a table top").

Rotations are in Anny's ``local-ref`` parameterisation (see :mod:`.stand`): a rotation about x
is a flexion (negative swings a limb forward, positive leans the trunk forward). The trunk
hinges at the hips (the root turns forward and the thighs turn back by the same angle, so the
legs stay vertical and :func:`~exoactor.perceive.truth.walk.root_path` keeps the feet where
they are); the arms flex forward and the forearms pronate so that the palms face down. Every
rotation that reaches the table is about x (the body's left-right axis); once there the arms
wipe it, turning about the vertical through each shoulder, so the hands slide sideways at
exactly the same height, and the head circles (a clip of still frames loses them as repeats in
the perceive stage's artefact check). The table top is the lowest hand vertex of the resting
pose (:func:`hand_rest_height_m`).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial.transform import Rotation

HAND_REGION = ("wrist", "finger", "metacarpal")
"""Anny bone families whose mesh makes a hand."""


class LeanConfig(BaseModel):
    """The lean: stand, hinge forward and put both hands on a table, rest them there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float = Field(0.4, ge=0.0)
    """Time standing still before leaning [s]."""
    reach_s: float = Field(1.0, gt=0.0, le=10.0)
    """Duration of the lean (raised-cosine ramp) [s]; the hands rest after it."""
    hinge_deg: float = Field(35.0, ge=0.0, le=80.0)
    """Forward trunk hinge at the hips [deg] (legs stay vertical)."""
    spine_deg: float = Field(5.0, ge=0.0, le=30.0)
    """Extra forward bend of the spine [deg]."""
    shoulder_deg: float = Field(65.0, ge=0.0, le=120.0)
    """Shoulder flexion relative to the trunk when resting [deg]."""
    arm_down_deg: float = Field(32.0, ge=0.0, le=45.0)
    """Arm adduction from Anny's A pose toward the body [deg]."""
    elbow_deg: float = Field(10.0, ge=0.0, le=90.0)
    """Elbow flexion [deg]."""
    pronate_deg: float = Field(110.0, ge=0.0, le=150.0)
    """Forearm pronation when resting (palms turn down) [deg]."""
    wipe_deg: float = Field(15.0, ge=0.0, le=40.0)
    """Amplitude of the wipe, a turn of each arm about the vertical through its shoulder
    [deg] (the hands keep their height)."""
    wipe_hz: float = Field(0.5, gt=0.0, le=3.0)
    """Frequency of the wipe [Hz]."""
    head_deg: float = Field(15.0, ge=0.0, le=40.0)
    """Amplitude of a slow head circle (turn and nod a quarter period apart) [deg]."""
    head_hz: float = Field(0.5, gt=0.0, le=3.0)
    """Frequency of the head circle [Hz]."""


def _about(axis: str, angle_deg: np.ndarray) -> Rotation:
    return Rotation.from_euler(axis, np.asarray(angle_deg, float)[:, None], degrees=True)


def lean_progress(cfg: LeanConfig, frames: int, fps: float) -> np.ndarray:
    """``(T,)`` 0 (standing) -> 1 (hands resting) along a raised-cosine ramp."""
    t_s = np.arange(frames) / fps
    u = np.clip((t_s - cfg.start_s) / cfg.reach_s, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * u)


def lean_rotations(cfg: LeanConfig, frames: int, fps: float, forearm_axes: dict[str, np.ndarray]
                   ) -> dict[str, np.ndarray]:
    """Bone rotations of ``frames`` frames at ``fps`` [Hz].

    Args:
        forearm_axes: ``"L"``/``"R"`` -> unit elbow-to-wrist direction of the rest pose (Anny's
            model frame), the axis of pronation.

    Returns:
        Anny bone label -> ``(T, 3, 3)`` rotation.
    """
    s = lean_progress(cfg, frames, fps)
    t_s = np.arange(frames) / fps
    turn = cfg.head_deg * np.sin(2 * np.pi * cfg.head_hz * t_s)
    nod = cfg.head_deg / 2 * np.cos(2 * np.pi * cfg.head_hz * t_s)
    out: dict[str, np.ndarray] = {"root": _about("x", cfg.hinge_deg * s).as_matrix(),
                                  "spine03": _about("x", cfg.spine_deg * s).as_matrix(),
                                  "neck01": (_about("z", turn) * _about("x", nod)).as_matrix()}
    # the trunk above the shoulders is turned by root then spine03 (both about x): the world
    # vertical in the shoulder's frame, about which the wipe turns the arm
    trunk = cfg.hinge_deg * s + cfg.spine_deg * s
    up = np.stack([np.zeros(frames), np.sin(np.radians(trunk)), np.cos(np.radians(trunk))], 1)
    since = np.maximum(t_s - cfg.start_s - cfg.reach_s, 0.0)     # wipe from the rest pose
    wipe = np.radians(cfg.wipe_deg) * np.sin(2 * np.pi * cfg.wipe_hz * since)
    for side, sign in (("L", 1.0), ("R", -1.0)):
        out[f"upperleg01.{side}"] = _about("x", -cfg.hinge_deg * s).as_matrix()
        down = _about("y", np.full(frames, sign * cfg.arm_down_deg))
        out[f"upperarm01.{side}"] = (Rotation.from_rotvec(wipe[:, None] * up)
                                     * _about("x", -cfg.shoulder_deg * s) * down).as_matrix()
        out[f"lowerarm01.{side}"] = _about("x", np.full(frames, -cfg.elbow_deg)).as_matrix()
        axis = np.asarray(forearm_axes[side], float)
        out[f"lowerarm02.{side}"] = Rotation.from_rotvec(
            (-sign * np.radians(cfg.pronate_deg) * s)[:, None] * axis).as_matrix()
    return out


def hand_rest_height_m(vertices_w: np.ndarray, bone_family: np.ndarray) -> float:
    """Height of the lowest hand vertex [m] (``bone_family`` in :data:`HAND_REGION`): where
    the resting palms meet the table top.

    Args:
        vertices_w: ``(V, 3)`` one resting frame's vertices, world [m].
        bone_family: ``(V,)`` each vertex's dominant bone family.
    """
    hand = np.isin(bone_family, HAND_REGION)
    if not hand.any():
        raise ValueError("no hand vertices")
    return float(vertices_w[hand, 2].min())
