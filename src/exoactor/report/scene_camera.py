"""The estimated camera of a run, moved into the robot's world: pure functions on arrays.

Frames: ``_w`` is the perceive stage's world (z up, ground at z = 0, metres), ``_r`` the
robot's world (the retargeted and simulated motion's), ``_c`` the camera frame in OpenCV's
convention (x right, y down, z forward). ``T_a_b`` maps points from frame ``b`` to frame ``a``.

The retargeter scales the person to the robot (:mod:`exoactor.retarget.scaling`): the hip
centre's path is scaled by the leg ratio ``s`` about the first frame's hip centre on the ground,
``x_r = o + s (x_w - o)`` with ``o = (o_x, o_y, 0)``, and a motion off the ground is shifted down
by its contact height (``regrounded``). That map is a similarity. A camera that sees a scene
scaled by ``s`` about ``o`` sees the same image when its centre is scaled the same way and its
orientation and intrinsics are kept, so the robot drawn through :func:`robot_camera` lands where
the person was in the video, at the person's apparent size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PersonToRobot:
    """The retargeter's person -> robot world map ``x_r = s (x_w - o) + o - (0, 0, dz)``.

    Attributes:
        scale: ``s``, robot leg length over the person's (the root-path scale) [-].
        origin_xy_m: ``(o_x, o_y)``, the person's hip centre over the ground in the first frame,
            perceive world [m]; the fixed point of the scaling.
        drop_m: ``dz``, how far the scaled motion was moved down to put its contact feet on
            the ground (0 unless the retargeter regrounded it) [m].
    """

    scale: float
    origin_xy_m: tuple[float, float]
    drop_m: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"person-to-robot scale must be positive and finite, got "
                             f"{self.scale!r}")

    @property
    def matrix(self) -> np.ndarray:
        """``(4, 4)`` homogeneous map from the perceive world to the robot world."""
        s = self.scale
        o = np.array([*self.origin_xy_m, 0.0])
        m = np.eye(4)
        m[:3, :3] *= s
        m[:3, 3] = (1.0 - s) * o - np.array([0.0, 0.0, self.drop_m])
        return m

    def to_robot(self, points_w: np.ndarray) -> np.ndarray:
        """``(..., 3)`` perceive-world points [m] -> robot-world points [m]."""
        m = self.matrix
        return np.asarray(points_w, dtype=float) @ m[:3, :3].T + m[:3, 3]


def robot_camera(T_w_c: np.ndarray, person_to_robot: PersonToRobot) -> np.ndarray:
    """``(4, 4)`` camera pose in the robot world, ``T_r_c``: same orientation, centre mapped.

    A robot-world point then projects (with the unchanged intrinsics) where the person-world
    point it came from projected; its camera-frame depth is ``scale`` times the person's.
    """
    T = np.array(T_w_c, dtype=float)
    out = T.copy()
    out[:3, 3] = person_to_robot.to_robot(T[:3, 3])
    return out


def scale_intrinsics(K: np.ndarray, sx: float, sy: float | None = None) -> np.ndarray:
    """Intrinsics of the same camera for an image resized by ``sx`` (and ``sy``) [px/px]."""
    sy = sx if sy is None else sy
    out = np.array(K, dtype=float).copy()
    out[0] *= sx
    out[1] *= sy
    return out


def project_w(points: np.ndarray, K: np.ndarray, T_x_c: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Pixels of ``(..., 3)`` points given the camera pose ``T_x_c`` in their frame.

    Returns:
        ``(..., 2)`` pixel coordinates (x right, y down) and ``(...,)`` camera depth [m]
        (points behind the camera have depth <= 0 and meaningless pixels).
    """
    T = np.asarray(T_x_c, dtype=float)
    p_c = (np.asarray(points, dtype=float) - T[:3, 3]) @ T[:3, :3]
    z = p_c[..., 2]
    zz = np.where(np.abs(z) < 1e-9, 1e-9, z)
    px = np.stack([K[0, 0] * p_c[..., 0] / zz + K[0, 2], K[1, 1] * p_c[..., 1] / zz + K[1, 2]],
                  axis=-1)
    return px, z


@dataclass(frozen=True)
class GLFrustum:
    """An OpenGL camera (MuJoCo ``mjvGLCamera``) equivalent to a pinhole camera.

    Attributes:
        pos: ``(3,)`` camera centre [m].
        forward: ``(3,)`` unit optical axis.
        up: ``(3,)`` unit image-up direction (OpenCV's -y).
        center, half_width, bottom, top: frustum extents on the near plane [m]
            (``mjvGLCamera.frustum_center``, ``frustum_width``, ``frustum_bottom``,
            ``frustum_top``).
        near, far: clip distances [m].
    """

    pos: np.ndarray
    forward: np.ndarray
    up: np.ndarray
    center: float
    half_width: float
    bottom: float
    top: float
    near: float
    far: float


def gl_frustum(K: np.ndarray, T_x_c: np.ndarray, width_px: int, height_px: int,
               near: float = 0.05, far: float = 60.0) -> GLFrustum:
    """The OpenGL frustum that renders a ``width_px`` x ``height_px`` image like ``K``.

    ``K`` must be for that image size (see :func:`scale_intrinsics`); a principal point off the
    centre becomes an off-centre frustum.
    """
    T = np.asarray(T_x_c, dtype=float)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    left, right = -cx / fx * near, (width_px - cx) / fx * near
    top, bottom = cy / fy * near, -(height_px - cy) / fy * near
    return GLFrustum(T[:3, 3].copy(), T[:3, 2].copy(), -T[:3, 1].copy(), 0.5 * (left + right),
                     0.5 * (right - left), bottom, top, near, far)
