"""Grasp closure and the hand template."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from exoactor.perceive.hands import (
    FINGERS,
    OPEN_HAND_M,
    fill_hand,
    finger_flexion_rad,
    grasp_closure,
    template_hand_w,
)


def curled(angle_rad: float) -> np.ndarray:
    """The open hand with every finger joint bent by ``angle_rad`` (in the palm plane's normal
    direction)."""
    hand = OPEN_HAND_M.copy()
    for chain in FINGERS:
        for k in range(3):  # bend at MCP, PIP, DIP
            pivot = hand[chain[k]].copy()
            rot = Rotation.from_rotvec([0.0, -angle_rad, 0.0])
            for j in chain[k + 1:]:
                hand[j] = pivot + rot.apply(hand[j] - pivot)
    return hand


def test_open_hand_is_open_fist_is_closed() -> None:
    assert grasp_closure(OPEN_HAND_M) == pytest.approx(0.0)
    assert grasp_closure(curled(np.radians(80))) == pytest.approx(1.0)
    half = grasp_closure(curled(np.radians(40)))
    assert 0.3 < half < 0.8


def test_closure_is_scale_and_rotation_free() -> None:
    h = curled(np.radians(30))
    R = Rotation.from_rotvec([0.3, -1.2, 0.7])
    assert grasp_closure(2.5 * R.apply(h)) == pytest.approx(grasp_closure(h))


def test_flexion_shape() -> None:
    assert finger_flexion_rad(np.zeros((7, 21, 3)) + OPEN_HAND_M).shape == (7, 4)


def test_template_continues_the_forearm() -> None:
    elbow = np.array([[0.0, 0.0, 1.0]])
    wrist = np.array([[0.25, 0.0, 1.0]])
    hand = template_hand_w(elbow, wrist, side=1)
    assert np.allclose(hand[0, 0], wrist[0])
    assert hand[0, 12, 0] > 0.4  # middle finger tip further along +x


def test_fill_hand_interpolates_short_gaps() -> None:
    rel = np.zeros((6, 21, 3))
    rel[:, :, 0] = np.arange(6)[:, None]
    found = np.array([1, 0, 1, 0, 0, 1], bool)
    out, known = fill_hand(np.where(found[:, None, None], rel, np.nan), found, max_gap=1)
    assert np.allclose(out[:, 0, 0], np.arange(6))
    assert known.tolist() == [True, True, True, False, False, True]
