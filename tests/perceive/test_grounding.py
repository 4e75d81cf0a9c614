"""Gravity, support levels and the world frame, on synthetic skeletons with known truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from exoactor.perceive.grounding import (
    UpEstimate,
    estimate_up_c,
    facing_c,
    nearest_level,
    refine_up_c,
    support_levels,
    transform,
    world_from_camera,
)
from exoactor.skeleton import BODY_33


def standing_skeleton(facing: tuple[float, float, float] = (1.0, 0.0, 0.0)) -> np.ndarray:
    """A straight standing body in a z-up frame, feet on z = 0, facing ``facing``."""
    f = np.asarray(facing) / np.linalg.norm(facing)
    left = np.cross([0.0, 0.0, 1.0], f)
    p = np.zeros((33, 3))
    for side, s in (("left", 1.0), ("right", -1.0)):
        o = s * left
        p[BODY_33.index(f"{side}_hip")] = 0.1 * o + [0, 0, 0.9]
        p[BODY_33.index(f"{side}_knee")] = 0.1 * o + [0, 0, 0.5]
        p[BODY_33.index(f"{side}_ankle")] = 0.1 * o + [0, 0, 0.08]
        p[BODY_33.index(f"{side}_heel")] = 0.1 * o - 0.05 * f + [0, 0, 0.0]
        p[BODY_33.index(f"{side}_foot_index")] = 0.1 * o + 0.15 * f + [0, 0, 0.0]
        p[BODY_33.index(f"{side}_shoulder")] = 0.18 * o + [0, 0, 1.45]
    return p


def test_up_from_standing_frames_under_camera_tilt() -> None:
    body_w = np.repeat(standing_skeleton()[None], 20, 0)
    # camera: x right, y down, z forward, tilted 20 deg down and rolled 5 deg
    R_c_w = (Rotation.from_euler("z", 5, degrees=True) * Rotation.from_euler("x", -20, degrees=True)
             * Rotation.from_matrix([[0, -1, 0], [0, 0, -1], [1, 0, 0]])).as_matrix()
    body_c = body_w @ R_c_w.T + [0.0, 0.5, 5.0]
    up = estimate_up_c(body_c, np.ones(20, bool))
    assert up.source == "body"
    assert np.allclose(up.up_c, R_c_w @ [0, 0, 1], atol=1e-6)


def test_hidden_legs_are_no_evidence_of_gravity() -> None:
    """A person stands for 10 frames, then leans on a table that hides the legs; the pose
    model guesses the hidden legs in line with the leaning trunk (a straight body 50 deg off
    vertical: measured 55-60 deg on the rendered lean seen from 30 deg). Those frames must
    not pull the camera's gravity (they did: 50 deg)."""
    body_w = np.repeat(standing_skeleton()[None], 30, 0)
    lean = Rotation.from_euler("y", 50, degrees=True)  # forward, about the ankles (z = 0)
    body_w[10:] = lean.apply(body_w[10:].reshape(-1, 3)).reshape(20, 33, 3)
    R_c_w = (Rotation.from_euler("x", -15, degrees=True)
             * Rotation.from_matrix([[0, -1, 0], [0, 0, -1], [1, 0, 0]])).as_matrix()
    body_c = body_w @ R_c_w.T + [0.0, 0.5, 5.0]
    up_true = R_c_w @ [0, 0, 1]
    seen = np.ones((30, 33), bool)
    for name in ("left_knee", "right_knee", "left_ankle", "right_ankle"):
        seen[10:, BODY_33.index(name)] = False
    pulled = estimate_up_c(body_c, np.ones(30, bool), 35.0)
    assert np.degrees(np.arccos(pulled.up_c @ up_true)) > 20  # what the guessed legs do
    up = estimate_up_c(body_c, np.ones(30, bool), 35.0, seen=seen)
    assert up.frames == 10 and np.allclose(up.up_c, up_true, atol=1e-6)
    # one landmark of a leg unseen (an ankle behind the knee in a squat) does not hide it
    seen[10:, BODY_33.index("left_knee")] = True
    assert estimate_up_c(body_c, np.ones(30, bool), 35.0, seen=seen).frames == 10
    seen[10:, [BODY_33.index("right_knee")]] = True
    assert estimate_up_c(body_c, np.ones(30, bool), 35.0, seen=seen).frames == 30


def test_level_camera_fallback_without_standing_frames() -> None:
    body = np.zeros((3, 33, 3))
    up = estimate_up_c(body, np.ones(3, bool))
    assert up.source == "level-camera" and np.allclose(up.up_c, [0, -1, 0])


def test_support_levels_find_ground_and_platform() -> None:
    rng = np.random.default_rng(0)
    fps = 30.0
    box = 1.3 + rng.normal(0, 0.01, (90, 2))
    air = np.linspace(1.3, 0.0, 20)[:, None] + np.array([0.3, 0.35])
    ground = rng.normal(0, 0.01, (40, 2))
    sole = np.concatenate([box, air, ground]) - 2.0  # arbitrary camera offset
    lv = support_levels(sole, np.ones(len(sole), bool), fps)
    assert lv.ground_c == pytest.approx(-2.0, abs=0.02)
    assert lv.levels_m == pytest.approx([0.0, 1.3], abs=0.02)
    assert nearest_level(np.array([1.2, 0.1]), lv.levels_m) == pytest.approx([1.3, 0.0], abs=0.02)


def test_world_frame_is_z_up_facing_x() -> None:
    up_c = np.array([0.0, -np.cos(0.3), np.sin(0.3)])
    fwd = np.cross(up_c, [1.0, 0.0, 0.0])
    origin = np.array([0.2, 1.5, 4.0])
    T = world_from_camera(up_c, fwd, origin)
    assert np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3))
    assert np.linalg.det(T[:3, :3]) == pytest.approx(1.0)
    assert np.allclose(T[:3, :3] @ up_c, [0, 0, 1])
    assert np.allclose(transform(T, origin), 0.0)
    back = transform(np.linalg.inv(T), transform(T, np.eye(3)))
    assert np.allclose(back, np.eye(3))


def test_facing_is_horizontal_forward() -> None:
    body = np.repeat(standing_skeleton((0.0, 1.0, 0.0))[None], 5, 0)
    f = facing_c(body, np.ones(5, bool), np.array([0.0, 0.0, 1.0]), 30.0)
    assert np.allclose(f, [0.0, 1.0, 0.0])


def _walk_soles_c(up_c: np.ndarray, rng: np.random.Generator, noise_m: float = 0.01
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Soles of a straight 3 m walk on the ground (and 10 on a 0.4 m box) seen by a camera
    looking down: ``(N, 3)`` camera-frame points [m] and ``(N,)`` level index."""
    fwd = np.cross(up_c, [1.0, 0.0, 0.0])
    fwd /= np.linalg.norm(fwd)
    side = np.cross(up_c, fwd)
    s = rng.uniform(0.0, 3.0, 60)
    foot = np.where(np.arange(60) % 2, 0.1, -0.1)
    ground = np.array([0.0, 1.5, 4.0]) - 1.5 * up_c
    pts = ground + s[:, None] * fwd + foot[:, None] * side
    box = ground + 0.4 * up_c + rng.uniform(-0.2, 0.2, (10, 1)) * side + 3.5 * fwd
    pts = np.concatenate([pts, box]) + rng.normal(scale=noise_m, size=(70, 3))
    return pts, np.r_[np.zeros(60, int), np.ones(10, int)]


def test_refine_up_levels_the_soles_along_the_walk() -> None:
    rng = np.random.default_rng(0)
    true_up = Rotation.from_euler("x", -10, degrees=True).apply([0.0, -1.0, 0.0])
    pts, lev = _walk_soles_c(true_up, rng)
    fwd = pts[59] - pts[0]
    fwd -= (fwd @ true_up) * true_up
    fwd /= np.linalg.norm(fwd)
    side = np.cross(true_up, fwd)
    body = Rotation.from_rotvec(np.radians(3.0) * side).apply(true_up)  # tilted along the walk
    out = refine_up_c(UpEstimate(body, "body", 20, 2.0), pts, lev)
    assert out.source == "body+soles"
    assert np.degrees(np.arccos(np.clip(out.up_c @ true_up, -1, 1))) < 0.7
    # across the walk the soles say little: a tilt about the walk direction stays
    rolled = Rotation.from_rotvec(np.radians(3.0) * fwd).apply(true_up)
    kept = refine_up_c(UpEstimate(rolled, "body", 20, 2.0), pts, lev)
    assert np.degrees(np.arccos(np.clip(kept.up_c @ rolled, -1, 1))) < 0.5


def test_refine_up_keeps_the_body_estimate_without_spread_soles() -> None:
    up = UpEstimate(np.array([0.0, -1.0, 0.0]), "body", 20, 2.0)
    rng = np.random.default_rng(1)
    few = rng.normal(size=(5, 3))
    assert refine_up_c(up, few, np.zeros(5, int)) is up
    still = np.array([0.0, 1.5, 4.0]) + rng.normal(scale=0.05, size=(40, 3))  # jumping on a spot
    assert refine_up_c(up, still, np.zeros(40, int)) is up
