"""A procedural walk for the Anny body: joint angles of a gait cycle, and the root path that
keeps the stance foot on the ground.

Angles follow the textbook sagittal gait curves (hip 30 deg flexion at heel strike to 10 deg
extension at mid-cycle, knee 15 deg at loading and 60 deg in swing, ankle plantarflexion at
push-off), arms swinging against the legs, pelvis yaw and a counter-rotating chest. The
rotations are in Anny's ``local-ref`` parameterisation (:mod:`.body`): model frame z up, the
body facing -y, its left +x; a flexion is a rotation about x (negative swings a limb forward).

The root path is derived, not prescribed: each frame the body is lowered onto z = 0 (its lowest
vertex) and moved so that the lower foot's ankle keeps its horizontal place, so the feet do not
skate and the speed follows the stride.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial.transform import Rotation

from exoactor.skeleton import BODY_33


class WalkConfig(BaseModel):
    """Gait of the procedural walk."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stride_hz: float = Field(0.9, gt=0.2, le=2.0)
    """Strides (two steps) per second [Hz]."""
    start_phase: float = Field(0.1, ge=0.0, lt=1.0)
    """Gait phase of the left leg at the first frame (0 = left heel strike)."""
    hip_flexion_deg: tuple[float, float] = (10.0, 20.0)
    """Hip flexion mean and amplitude over the cycle [deg]."""
    knee_swing_deg: float = Field(60.0, ge=0.0, le=90.0)
    """Peak knee flexion in swing [deg]."""
    arm_swing_deg: float = Field(18.0, ge=0.0, le=60.0)
    """Shoulder flexion amplitude, against the same-side hip [deg]."""
    arm_down_deg: float = Field(32.0, ge=0.0, le=45.0)
    """Arm adduction from Anny's A pose toward the body [deg]."""
    elbow_deg: tuple[float, float] = (-15.0, 10.0)
    """Elbow flexion mean and amplitude [deg], on top of the rest pose's 42 deg bend."""
    pelvis_yaw_deg: float = Field(5.0, ge=0.0, le=20.0)
    """Pelvis yaw amplitude [deg]; the chest turns back by as much."""
    lean_deg: float = Field(3.0, ge=-10.0, le=20.0)
    """Forward lean of the trunk [deg]."""


def _bump(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Periodic Gaussian bump of the gait phase (period 1)."""
    d = (phase - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width) ** 2)


def _about(axis: str, angle_deg: np.ndarray) -> Rotation:
    return Rotation.from_euler(axis, np.asarray(angle_deg, float)[:, None], degrees=True)


def walk_rotations(cfg: WalkConfig, frames: int, fps: float) -> dict[str, np.ndarray]:
    """Bone rotations of ``frames`` frames of the walk at ``fps`` [Hz].

    Returns:
        Anny bone label -> ``(T, 3, 3)`` rotation (``local-ref``, see the module docstring).
    """
    t_s = np.arange(frames) / fps
    out: dict[str, np.ndarray] = {}
    for side, offset, sign in (("L", 0.0, 1.0), ("R", 0.5, -1.0)):
        ph = (cfg.start_phase + offset + cfg.stride_hz * t_s) % 1.0
        c = np.cos(2 * np.pi * ph)
        hip = cfg.hip_flexion_deg[0] + cfg.hip_flexion_deg[1] * c
        knee = 3.0 + 15.0 * _bump(ph, 0.12, 0.07) + cfg.knee_swing_deg * _bump(ph, 0.72, 0.1)
        dorsi = 8.0 * _bump(ph, 0.45, 0.1) - 15.0 * _bump(ph, 0.62, 0.05) - 4.0 * _bump(ph, 0.05, 0.04)
        shoulder = 3.0 - cfg.arm_swing_deg * c  # the arm swings against the same-side leg
        elbow = cfg.elbow_deg[0] - cfg.elbow_deg[1] * c
        out[f"upperleg01.{side}"] = _about("x", -hip).as_matrix()
        out[f"lowerleg01.{side}"] = _about("x", knee).as_matrix()
        out[f"foot.{side}"] = _about("x", -dorsi).as_matrix()
        down = _about("y", np.full(frames, sign * cfg.arm_down_deg))
        out[f"upperarm01.{side}"] = (_about("x", -shoulder) * down).as_matrix()
        out[f"lowerarm01.{side}"] = _about("x", -elbow).as_matrix()
    ph = (cfg.start_phase + cfg.stride_hz * t_s) % 1.0
    yaw = cfg.pelvis_yaw_deg * np.cos(2 * np.pi * ph)  # left hip forward at left heel strike
    out["root"] = _about("z", -yaw).as_matrix()
    out["spine03"] = (_about("z", yaw) * _about("x", np.full(frames, cfg.lean_deg))).as_matrix()
    return out


def root_path(joints: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """``(T, 3)`` translation [m] (model frame) that puts the posed body on the ground and keeps
    the stance foot in place.

    Args:
        joints: ``(T, 33, 3)`` BODY_33 points of the body posed at the origin [m].
        vertices: ``(T, V, 3)`` its mesh vertices [m].
    """
    la, ra = BODY_33.index("left_ankle"), BODY_33.index("right_ankle")
    lowest = -vertices[..., 2].min(1)
    stance = np.where(joints[:, la, 2] <= joints[:, ra, 2], la, ra)
    T = len(joints)
    shift = np.zeros((T, 3))
    shift[:, 2] = lowest
    for t in range(1, T):
        foot = stance[t]
        step = joints[t, foot, :2] - joints[t - 1, foot, :2]
        shift[t, :2] = shift[t - 1, :2] - step
    return shift
