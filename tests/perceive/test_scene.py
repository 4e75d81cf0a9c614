"""Gravity from the scene's lines: a drawn floor grid seen by a camera that looks down must
give the camera's true up, where the body's estimate is off by the pose model's lean."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from exoactor.perceive.camera import intrinsics, project
from exoactor.perceive.grounding import transform
from exoactor.perceive.scene import (
    LineFamily,
    line_segments_px,
    pitch_and_roll_c,
    plane_normals_c,
    scene_up_c,
    vanishing_families,
)
from exoactor.perceive.synthetic import look_at_camera

W, H = 640, 480


def _grid_image(T_c_w: np.ndarray, K: np.ndarray, verticals: bool) -> np.ndarray:
    """A grey floor grid (1 m squares, z = 0) and optionally posts (vertical lines)."""
    import cv2

    img = np.full((H, W), 90, np.uint8)
    lines = []
    for k in np.arange(-6.0, 7.0):
        lines.append(((k, -2.0, 0.0), (k, 12.0, 0.0)))
        lines.append(((-6.0, k + 6.0, 0.0), (6.0, k + 6.0, 0.0)))
    if verticals:
        for x in (-3.0, -1.5, 2.0, 3.5):
            lines.append(((x, 8.0, 0.0), (x, 8.0, 2.5)))
    for a, b in lines:
        # clip to the part in front of the camera
        pts = np.linspace(a, b, 200)
        pc = transform(T_c_w, pts)
        front = pc[:, 2] > 0.3
        if front.sum() < 2:
            continue
        px = project(pc[front], K)
        p0, p1 = px[0], px[-1]
        cv2.line(img, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 230, 2, cv2.LINE_AA)
    return img


@pytest.mark.parametrize("verticals", [False, True])
def test_floor_grid_gives_the_true_up(verticals: bool) -> None:
    K = intrinsics(W, H, 60.0)
    T_c_w = look_at_camera(np.array([0.7, -2.0, 2.0]), np.array([0.0, 4.0, 0.8]))
    true_up = T_c_w[:3, :3] @ np.array([0.0, 0.0, 1.0])
    img = _grid_image(T_c_w, K, verticals)
    seg = line_segments_px(img)
    assert len(seg) > 20
    n, length = plane_normals_c(seg, K)
    fams = vanishing_families(n, length)
    assert len(fams) >= 2
    # the body's estimate: 8 deg off in pitch (the pose model's lean)
    body = Rotation.from_rotvec(np.radians(8.0) * np.array([1.0, 0.0, 0.0])).apply(true_up)
    out = scene_up_c(fams, body)
    assert out is not None
    err = np.degrees(np.arccos(np.clip(out.up_c @ true_up, -1, 1)))
    assert err < 1.0, err
    assert (out.vertical > 0) == verticals and out.horizontal >= 2


def test_one_horizontal_family_is_not_enough() -> None:
    up = np.array([0.0, -1.0, 0.0])
    fam = [LineFamily(np.array([1.0, 0.0, 0.0]), 1000.0, 50)]
    assert scene_up_c(fam, up) is None
    far = [LineFamily(np.array([0.0, -0.5, 0.87]), 1000.0, 50)]  # 60 deg from the body's up
    assert scene_up_c(far, up) is None


def test_pitch_from_one_roll_from_the_other() -> None:
    pitched = Rotation.from_euler("x", -20, degrees=True).apply([0.0, -1.0, 0.0])
    rolled = Rotation.from_euler("z", 5, degrees=True).apply([0.0, -1.0, 0.0])
    u = pitch_and_roll_c(pitched, rolled)
    assert abs(np.linalg.norm(u) - 1) < 1e-12
    assert abs(u[2] - pitched[2]) < 1e-12
    assert abs(np.arctan2(u[0], -u[1]) - np.arctan2(rolled[0], -rolled[1])) < 1e-12
