"""A person standing in place who raises both arms overhead and lowers them again, for the
Anny body: the failing kind of task clip (frontal view, a camera that looks down, nobody
walking).

Rotations are in Anny's ``local-ref`` parameterisation (see :mod:`.body` and :mod:`.walk`):
model frame z up, the body facing -y, its left +x; a rotation about x is a flexion (negative
swings a limb forward). The root path of :func:`~exoactor.perceive.truth.walk.root_path`
keeps the feet where they are (neither foot travels).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.spatial.transform import Rotation


class RaiseArmsConfig(BaseModel):
    """The raise-arms motion: arms from the sides to overhead (forward flexion) and back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    raise_deg: float = Field(150.0, ge=0.0, le=175.0)
    """Peak shoulder flexion [deg] (0: arms down)."""
    hold_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    """Fraction of the clip held at the peak."""
    start_s: float = Field(0.4, ge=0.0)
    """Time standing still before the arms move [s]."""
    arm_down_deg: float = Field(32.0, ge=0.0, le=45.0)
    """Arm adduction from Anny's A pose toward the body at rest [deg]."""
    elbow_deg: float = Field(-20.0, ge=-40.0, le=40.0)
    """Elbow flexion on top of the rest pose's bend [deg] (negative straightens)."""
    knee_deg: float = Field(3.0, ge=0.0, le=30.0)
    """Knee flexion of the standing legs [deg]."""
    sway_deg: float = Field(1.0, ge=0.0, le=5.0)
    """Amplitude of a slow sideways sway of the trunk [deg]."""


def _about(axis: str, angle_deg: np.ndarray) -> Rotation:
    return Rotation.from_euler(axis, np.asarray(angle_deg, float)[:, None], degrees=True)


def raise_arms_rotations(cfg: RaiseArmsConfig, frames: int, fps: float
                         ) -> dict[str, np.ndarray]:
    """Bone rotations of ``frames`` frames of the motion at ``fps`` [Hz].

    The arms rise along a raised-cosine ramp from ``start_s``, hold for ``hold_fraction`` of
    the clip, and come down over the rest (same duration as the rise).

    Returns:
        Anny bone label -> ``(T, 3, 3)`` rotation.
    """
    t_s = np.arange(frames) / fps
    dur = frames / fps
    move = max(1e-6, (dur - cfg.start_s - cfg.hold_fraction * dur) / 2)
    up_end = cfg.start_s + move
    down_start = up_end + cfg.hold_fraction * dur
    s = np.zeros(frames)
    rising = (t_s >= cfg.start_s) & (t_s < up_end)
    s[rising] = 0.5 - 0.5 * np.cos(np.pi * (t_s[rising] - cfg.start_s) / move)
    s[(t_s >= up_end) & (t_s < down_start)] = 1.0
    falling = t_s >= down_start
    s[falling] = 0.5 + 0.5 * np.cos(np.pi * np.clip((t_s[falling] - down_start) / move, 0, 1))
    out: dict[str, np.ndarray] = {}
    for side, sign in (("L", 1.0), ("R", -1.0)):
        flex = cfg.raise_deg * s
        down = _about("y", sign * cfg.arm_down_deg * (1.0 - s))
        out[f"upperarm01.{side}"] = (_about("x", -flex) * down).as_matrix()
        out[f"lowerarm01.{side}"] = _about("x", np.full(frames, -cfg.elbow_deg)).as_matrix()
        out[f"lowerleg01.{side}"] = _about("x", np.full(frames, cfg.knee_deg)).as_matrix()
        out[f"upperleg01.{side}"] = _about("x", np.full(frames, -cfg.knee_deg / 2)).as_matrix()
    sway = cfg.sway_deg * np.sin(2 * np.pi * t_s / max(dur, 1e-6))
    out["spine03"] = _about("y", sway).as_matrix()
    return out
