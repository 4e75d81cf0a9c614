"""Planted feet stand flat: the turn about the ankle that levels heel -> toe."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.perceive.flat_feet import flatten_planted_feet_c, level_rotvec
from exoactor.perceive.world import FEET
from exoactor.skeleton import BODY_33

UP_C = np.array([0.0, -np.cos(np.radians(20.0)), -np.sin(np.radians(20.0))])
"""A camera pitched 20 deg down (x right, y down, z forward): up leans toward the camera."""


def _foot_pitch_deg(P: np.ndarray, foot: int) -> np.ndarray:
    """Heel above toe [deg] (positive: heel up)."""
    _, heel, toe = FEET[foot]
    v = P[:, heel] - P[:, toe]
    return np.degrees(np.arcsin(v @ UP_C / np.linalg.norm(v, axis=-1)))


def _pitch_both(P: np.ndarray) -> np.ndarray:
    return np.stack([_foot_pitch_deg(P, 0), _foot_pitch_deg(P, 1)], 1)


def _feet_c(pitch_deg: float, frames: int = 4) -> np.ndarray:
    """``(frames, 33, 3)`` with both feet pointing at the camera, toe ``pitch_deg`` below
    level (heel up), ankles 0.08 m above the heel; other landmarks at the origin + 3 m."""
    fwd = -np.cross(np.array([1.0, 0.0, 0.0]), UP_C)      # horizontal, toward the camera
    fwd /= np.linalg.norm(fwd)
    if fwd[2] > 0:
        fwd = -fwd
    down = np.radians(pitch_deg)
    sole = np.cos(down) * fwd - np.sin(down) * UP_C
    P = np.zeros((frames, len(BODY_33), 3)) + np.array([0.0, 0.0, 3.0])
    for f, (ankle, heel, toe) in enumerate(FEET):
        a = np.array([0.1 if f == 0 else -0.1, 0.9, 3.0])
        P[:, heel] = a - 0.08 * UP_C - 0.05 * sole
        P[:, toe] = P[:, heel] + 0.2 * sole
        P[:, ankle] = a
    return P


def test_level_rotvec_levels_a_vector_and_keeps_its_heading() -> None:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 3))
    turned = np.array([np.asarray(_rot(r) @ x) for r, x in zip(level_rotvec(v, UP_C), v)])
    np.testing.assert_allclose(turned @ UP_C, 0.0, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(turned, axis=-1), np.linalg.norm(v, axis=-1))
    flat = v - (v @ UP_C)[:, None] * UP_C
    cos = np.einsum("ij,ij->i", turned, flat) / (
        np.linalg.norm(turned, axis=-1) * np.linalg.norm(flat, axis=-1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-9)


def _rot(rotvec: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(rotvec).as_matrix()


@pytest.mark.parametrize("pitch_deg", [25.0, -28.0])
def test_a_planted_foot_is_turned_level_about_its_ankle(pitch_deg: float) -> None:
    """Heel up 25 deg (the rendered frontal sits and lift) or toe up 28 deg (the lean from
    30 deg): level after, ankle, foot length and the ankle-to-heel distance kept."""
    P = _feet_c(pitch_deg)
    planted = np.array([[True, False]] * len(P))
    flat = flatten_planted_feet_c(P, UP_C, planted)
    out = flat.points_c
    np.testing.assert_allclose(_foot_pitch_deg(P, 0), pitch_deg, atol=1e-6)
    np.testing.assert_allclose(flat.pitch_before_deg, _pitch_both(P), atol=1e-9)
    np.testing.assert_array_equal(flat.planted, planted)
    np.testing.assert_allclose(_foot_pitch_deg(out, 0), 0.0, atol=1e-6)
    ankle, heel, toe = FEET[0]
    np.testing.assert_array_equal(out[:, ankle], P[:, ankle])
    for a, b in ((heel, toe), (ankle, heel), (ankle, toe)):
        np.testing.assert_allclose(np.linalg.norm(out[:, a] - out[:, b], axis=-1),
                                   np.linalg.norm(P[:, a] - P[:, b], axis=-1))
    # the foot that is not planted (swinging) keeps the model's pitch; nothing else moves
    np.testing.assert_array_equal(out[:, list(FEET[1])], P[:, list(FEET[1])])
    others = [i for i in range(len(BODY_33)) if i not in (heel, toe)]
    np.testing.assert_array_equal(out[:, others], P[:, others])


def test_a_heel_up_foot_raises_its_toe_so_the_sole_no_longer_reaches_below_the_floor() -> None:
    """What the step is for: a heel-up guess puts the toe below a flat foot's sole, and the
    floor is read from the lowest sole point."""
    P = _feet_c(25.0)
    out = flatten_planted_feet_c(P, UP_C, np.ones((len(P), 2), bool)).points_c
    _, heel, toe = FEET[0]
    # the 0.2 m sole at 25 deg: the toe rises 6 cm, the heel (under the ankle) drops 1.4 cm
    assert (out[:, toe] @ UP_C > P[:, toe] @ UP_C + 0.05).all()
    assert (out[:, heel] @ UP_C < P[:, heel] @ UP_C - 0.01).all()
    lowest_before = np.minimum(P[:, heel] @ UP_C, P[:, toe] @ UP_C)
    lowest_after = np.minimum(out[:, heel] @ UP_C, out[:, toe] @ UP_C)
    assert (lowest_after > lowest_before + 0.03).all()
