"""A person standing who sits down on a box and stays seated, for the Anny body: the kind of
task clip whose seat the ``objects`` stage must infer (:mod:`exoactor.scene.infer`).

Rotations are in Anny's ``local-ref`` parameterisation (see :mod:`.stand`): a rotation about x
is a flexion (negative swings a thigh forward, positive bends a knee back and leans the
trunk forward). The
root path of :func:`~exoactor.perceive.truth.walk.root_path` keeps the lowest point on the
ground and the feet where they are, so the pelvis descends and moves back as the hips and knees
flex: seated at 90/90 the shanks are vertical and the thighs level, the seat's height set by
the body's own geometry (:func:`seat_height_m` measures it on the posed mesh).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial.transform import Rotation


class SitDownConfig(BaseModel):
    """The sit-down motion: stand, flex the hips and knees to a seated pose, hold it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float = Field(0.4, ge=0.0)
    """Time standing still before sitting down [s]."""
    descend_s: float = Field(1.2, gt=0.0, le=10.0)
    """Duration of the sit-down (raised-cosine ramp) [s]; seated and still after it."""
    hip_deg: float = Field(90.0, ge=30.0, le=120.0)
    """Hip flexion when seated [deg] (90: thighs level)."""
    knee_deg: float = Field(90.0, ge=30.0, le=120.0)
    """Knee flexion when seated [deg] (90 with ``hip_deg`` 90: shanks vertical)."""
    lean_deg: float = Field(10.0, ge=0.0, le=40.0)
    """Forward trunk lean when seated [deg]."""
    lean_peak_deg: float = Field(25.0, ge=0.0, le=50.0)
    """Forward trunk lean halfway down (people lean over their feet to sit) [deg]."""
    arm_down_deg: float = Field(32.0, ge=0.0, le=45.0)
    """Arm adduction from Anny's A pose toward the body [deg]."""
    elbow_deg: float = Field(30.0, ge=0.0, le=90.0)
    """Elbow flexion of the arms (hands toward the lap) [deg]."""
    sway_deg: float = Field(2.0, ge=0.0, le=5.0)
    """Amplitude of a slow sideways trunk sway [deg]: nobody is perfectly still, and a clip
    that is (identical frames) has its still frames dropped as a generator's repeats by the
    perceive stage's artefact check."""
    fidget_deg: float = Field(10.0, ge=0.0, le=30.0)
    """Amplitude of a slow elbow movement [deg] (same reason)."""
    fidget_hz: float = Field(0.6, gt=0.0, le=3.0)
    """Frequency of the sway and of the elbow movement [Hz]."""


def _about(axis: str, angle_deg: np.ndarray) -> Rotation:
    return Rotation.from_euler(axis, np.asarray(angle_deg, float)[:, None], degrees=True)


def sit_progress(cfg: SitDownConfig, frames: int, fps: float) -> np.ndarray:
    """``(T,)`` 0 (standing) -> 1 (seated) along a raised-cosine ramp."""
    t_s = np.arange(frames) / fps
    u = np.clip((t_s - cfg.start_s) / cfg.descend_s, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * u)


def sit_down_rotations(cfg: SitDownConfig, frames: int, fps: float) -> dict[str, np.ndarray]:
    """Bone rotations of ``frames`` frames of the motion at ``fps`` [Hz].

    Returns:
        Anny bone label -> ``(T, 3, 3)`` rotation.
    """
    s = sit_progress(cfg, frames, fps)
    wave = np.sin(2 * np.pi * cfg.fidget_hz * np.arange(frames) / fps)
    lean = cfg.lean_deg * s + (cfg.lean_peak_deg - cfg.lean_deg / 2) * np.sin(np.pi * s)
    out: dict[str, np.ndarray] = {}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        out[f"upperleg01.{side}"] = _about("x", -cfg.hip_deg * s).as_matrix()
        out[f"lowerleg01.{side}"] = _about("x", cfg.knee_deg * s).as_matrix()
        down = _about("y", np.full(frames, sign * cfg.arm_down_deg))
        out[f"upperarm01.{side}"] = (_about("x", -20.0 * s) * down).as_matrix()
        out[f"lowerarm01.{side}"] = _about("x", -cfg.elbow_deg - cfg.fidget_deg * sign * wave
                                           ).as_matrix()
    # about x, positive leans the trunk forward (the opposite sign of the thighs' flexion)
    out["spine03"] = (_about("x", lean) * _about("y", cfg.sway_deg * wave)).as_matrix()
    return out


SEAT_REGION = ("pelvis", "upperleg", "root")
"""Anny bone families whose mesh makes the body's seat contact (pelvis and thighs)."""


def seat_height_m(vertices_w: np.ndarray, bone_family: np.ndarray, knee_x_m: float,
                  knee_clear_m: float = 0.10) -> float:
    """Height of the body's seat contact [m]: the lowest vertex of the pelvis/thigh region
    (``bone_family`` in :data:`SEAT_REGION`) behind the knees (``x < knee_x_m -
    knee_clear_m``: the knee end overhangs a seat's front edge), world frame, body facing +x.

    Args:
        vertices_w: ``(V, 3)`` one seated frame's vertices [m].
        bone_family: ``(V,)`` each vertex's dominant bone family (label without side/number).
        knee_x_m: the knees' x [m].
    """
    region = np.isin(bone_family, SEAT_REGION) & (vertices_w[:, 0] < knee_x_m - knee_clear_m)
    if not region.any():
        raise ValueError("no pelvis/thigh vertices behind the knees: the body is not seated")
    return float(vertices_w[region, 2].min())
