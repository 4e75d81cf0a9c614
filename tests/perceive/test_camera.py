"""Pinhole helpers: intrinsics, projection and the view-ray rotation, proved by round trips."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.perceive.camera import (
    horizontal_fov_deg,
    intrinsics,
    pixel_rays_c,
    project,
    ray_rotations,
)


@pytest.mark.parametrize("fov", [30.0, 60.0, 90.0])
def test_fov_round_trip(fov: float) -> None:
    K = intrinsics(1280, 720, fov)
    assert horizontal_fov_deg(K, 1280) == pytest.approx(fov)
    assert K[0, 2] == 640 and K[1, 2] == 360


def test_default_focal_is_the_diagonal() -> None:
    assert intrinsics(1280, 720)[0, 0] == pytest.approx(np.hypot(1280, 720))


def test_rays_invert_projection() -> None:
    K = intrinsics(640, 480, 70.0)
    rng = np.random.default_rng(1)
    px = rng.uniform([0, 0], [640, 480], (50, 2))
    rays = pixel_rays_c(px, K)
    assert np.allclose(np.linalg.norm(rays, axis=-1), 1.0)
    assert np.allclose(project(rays * rng.uniform(1, 9, (50, 1)), K), px)


def test_ray_rotation_maps_optical_axis_to_ray() -> None:
    K = intrinsics(640, 480, 70.0)
    px = np.array([[320.0, 240.0], [10.0, 470.0], [600.0, 30.0]])
    R = ray_rotations(px, K)
    z = R.apply(np.tile([0.0, 0.0, 1.0], (3, 1)))
    assert np.allclose(z, pixel_rays_c(px, K))
    assert np.allclose(R[0].as_rotvec(), 0.0)  # the image centre needs no turn
