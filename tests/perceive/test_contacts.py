"""Foot contacts with hysteresis, and foot locking with two-bone IK."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.perceive.contacts import clean_runs, foot_contacts, hysteresis, velocity
from exoactor.perceive.foot_lock import LEGS, lock_feet, two_bone_ik
from exoactor.perceive.metrics import contact_height_mm, foot_skate_mm


def test_hysteresis() -> None:
    enter = np.array([0, 1, 0, 0, 0, 1, 0], bool)
    stay = np.array([0, 1, 1, 0, 1, 1, 1], bool)
    assert hysteresis(enter, stay).tolist() == [0, 1, 1, 0, 0, 1, 1]


def test_clean_runs_fills_and_drops() -> None:
    m = np.array([1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0], bool)
    assert clean_runs(m, 2).astype(int).tolist() == [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]


def test_velocity_of_a_line() -> None:
    t = np.arange(30) / 30.0
    p = np.stack([2.0 * t, -t, 0 * t], -1)
    for window in (0.0, 0.3):
        assert np.allclose(velocity(p, 30.0, window), [2.0, -1.0, 0.0])


def test_contacts_follow_height_and_speed() -> None:
    T = 60
    h = np.zeros((T, 2))
    v = np.zeros((T, 2))
    h[20:40, 0] = 0.3  # left foot lifted
    v[18:42, 0] = 1.5
    v[:, 1] = 2.0  # right foot always moving
    c = foot_contacts(h, v, 30.0)
    assert c[:18, 0].all() and not c[20:40, 0].any() and c[45:, 0].all()
    assert not c[:, 1].any()


def test_two_bone_ik_keeps_lengths_and_reaches() -> None:
    rng = np.random.default_rng(0)
    hip = rng.normal(size=(20, 3))
    knee = hip + [0.0, 0.1, -0.4]
    target = hip + rng.normal(size=(20, 3)) * 0.2 + [0, 0, -0.6]
    k, a, clamped = two_bone_ik(hip, knee, target, 0.42, 0.4)
    assert np.allclose(np.linalg.norm(k - hip, axis=-1), 0.42)
    assert np.allclose(np.linalg.norm(a - k, axis=-1), 0.4)
    assert np.allclose(a[~clamped], target[~clamped])


def test_lock_feet_removes_skate_and_puts_soles_on_support() -> None:
    from tests.perceive.test_grounding import standing_skeleton

    rng = np.random.default_rng(1)
    T = 40
    body = np.repeat(standing_skeleton()[None], T, 0)
    body[:, :, 2] += 0.03  # floating 3 cm
    for leg in LEGS:  # bent knees, so the legs can reach 3 cm lower
        body[:, leg["knee"], 0] += 0.12
    for leg in LEGS:  # jittery feet
        for j in ("ankle", "heel", "toe"):
            body[:, leg[j]] += rng.normal(0, 0.01, (T, 3))
    contact = np.ones((T, 2), bool)
    support = np.zeros((T, 2))
    assert np.mean(foot_skate_mm(body, contact)) > 5.0
    out = lock_feet(body, contact, support).joints_w
    assert np.mean(foot_skate_mm(out, contact)) == pytest.approx(0.0, abs=1e-6)
    assert np.abs(contact_height_mm(out, contact, support)).max() < 1e-6
