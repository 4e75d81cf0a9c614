"""Synthetic observations of a known 3D motion, for accuracy tests of the reconstruction.

A world motion (``(T, 33, 3)``, z up) is seen by a known pinhole camera; the observations a
pose backend would return are simulated with errors like MediaPipe's: Gaussian 2D landmark
noise, root-relative 3D predicted as if the person stood on the optical axis (no perspective
turn), a per-frame scale error, a constant scale bias (monocular size ambiguity) and per-joint
3D noise, larger in depth. Running :func:`~exoactor.perceive.reconstruct.reconstruct` on them
and comparing with the truth measures grounding and clean-up, not the detector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.perceive.backend import PoseObservations
from exoactor.perceive.camera import project, ray_rotations
from exoactor.perceive.grounding import transform


@dataclass(frozen=True)
class ObservationNoise:
    """Error model of the simulated backend.

    Attributes:
        pixel_sigma_px: 2D landmark noise [px].
        scale_sigma: per-frame relative scale error of the 3D skeleton.
        scale_bias: constant relative scale error of the 3D skeleton (0.9: 10 % too small).
        lateral_sigma_m: per-joint 3D noise across the view [m].
        depth_sigma_m: per-joint 3D noise along the view [m].
    """

    pixel_sigma_px: float = 2.0
    scale_sigma: float = 0.03
    scale_bias: float = 1.0
    lateral_sigma_m: float = 0.015
    depth_sigma_m: float = 0.04


def look_at_camera(eye_w: np.ndarray, target_w: np.ndarray) -> np.ndarray:
    """``(4, 4)`` ``T_c_w`` of a camera at ``eye_w`` looking at ``target_w`` with no roll
    (camera x right, y down, z forward; world z up)."""
    z = np.asarray(target_w, float) - eye_w
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])  # rows: camera axes in world
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, -R @ eye_w
    return T


def synthetic_observations(joints_w: np.ndarray, T_c_w: np.ndarray, K: np.ndarray,
                           image_size_px: tuple[int, int], fps: float,
                           noise: ObservationNoise = ObservationNoise(),
                           seed: int = 0) -> PoseObservations:
    """What a backend would observe of ``joints_w`` ``(T, 33, 3)`` [m] from the camera
    ``T_c_w``, with ``noise`` (see the module docstring). Every frame is detected."""
    rng = np.random.default_rng(seed)
    T = joints_w.shape[0]
    P = transform(T_c_w, joints_w)
    kp = project(P, K) + rng.normal(0, noise.pixel_sigma_px, (T, 33, 2))
    rel = P - P[:, [23, 24]].mean(1, keepdims=True)
    # as predicted from a crop: turned back to the optical axis
    rays = ray_rotations(project(P[:, [23, 24]].mean(1), K), K)
    rel = np.einsum("tji,tkj->tki", rays.as_matrix(), rel)
    scale = noise.scale_bias * (1 + rng.normal(0, noise.scale_sigma, (T, 1, 1)))
    rel = rel * scale + rng.normal(0, 1, (T, 33, 3)) * [noise.lateral_sigma_m,
                                                         noise.lateral_sigma_m,
                                                         noise.depth_sigma_m]
    rel -= rel[:, [23, 24]].mean(1, keepdims=True)
    return PoseObservations(times_s=np.arange(T) / fps, image_size_px=image_size_px,
                            detected=np.ones(T, bool), kp_px=kp, kp_vis=np.ones((T, 33)),
                            kp_rel_c=rel, notes={"backend": "synthetic"})
