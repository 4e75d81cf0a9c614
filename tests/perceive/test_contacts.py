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


def test_a_foot_still_in_the_image_is_in_contact_whatever_its_3d_height() -> None:
    """The water-flowers clip (three-quarter view, camera 23 deg down): the left foot stood
    still in the image for 5 s while the model put its sole 6-11 cm up, so it never
    started a contact and the robot was given a one-legged stance."""
    T = 60
    h = np.full((T, 2), 0.11)  # above the release height: height alone says "lifted"
    v = np.full((T, 2), 0.05)
    planted = np.zeros((T, 2), bool)
    planted[:, 0] = True
    planted[20:40, 1] = True
    assert not foot_contacts(h, v, 30.0).any()
    c = foot_contacts(h, v, 30.0, planted=planted)
    assert c[:, 0].all()
    assert c[20:40, 1].all() and not c[:20, 1].any() and not c[40:, 1].any()


def test_an_unreachable_foot_still_in_the_image_is_not_lifting_off() -> None:
    """Both legs fall short of their support (left 10 cm, as the depth error of a camera
    looking down leaves a planted foot; right as well). The left foot is still in the image
    and stands; the right one moves in the image from frame 5 and lifts off there."""
    from tests.perceive.test_grounding import standing_skeleton

    from exoactor.perceive.foot_lock import FootLock
    from exoactor.perceive.reconstruct import lifting_off_unless_planted

    T = 10
    body = np.repeat(standing_skeleton()[None], T, 0)
    locked = FootLock(body, np.zeros((T, 2)), np.ones((T, 2), bool))
    planted = np.ones((T, 2), bool)
    planted[5:, 1] = False
    out = lifting_off_unless_planted(locked, planted)
    assert not out[:, 0].any()
    assert out[5:, 1].all() and not out[:5, 1].any()
    free = FootLock(body, np.zeros((T, 2)), np.zeros((T, 2), bool))
    assert not lifting_off_unless_planted(free, ~planted).any()  # reached: never lifting


def test_a_straight_standing_leg_reaches_an_anchor_it_misses_by_rounding() -> None:
    """A standing body with straight legs whose soles float 2 mm: locking them onto the floor
    needs 2 mm more leg than there is. Within the tolerance that is reached (the contact is
    kept; it used to be flagged out of reach, and perceive dropped the contact of a person
    standing still); 3 cm short is out of reach with or without it."""
    from tests.perceive.test_grounding import standing_skeleton

    T = 10
    body = np.repeat(standing_skeleton()[None], T, 0)
    contact = np.ones((T, 2), bool)
    support = np.zeros((T, 2))
    for leg in LEGS:  # straight legs: the ankle right below the hip, the knee between
        body[:, leg["knee"], :2] = body[:, leg["hip"], :2]
        body[:, leg["ankle"], :2] = body[:, leg["hip"], :2]
    low = min(body[0, leg["heel"], 2] for leg in LEGS)
    for lift_m, reached in ((0.002, True), (0.03, False)):
        b = body.copy()
        b[:, :, 2] += lift_m - low  # soles lift_m above the floor
        exact = lock_feet(b, contact, support)
        assert exact.unreachable.all()
        tol = lock_feet(b, contact, support, reach_tol_m=0.01)
        assert (~tol.unreachable).all() == reached
        assert tol.moved_m.max() == pytest.approx(exact.moved_m.max(), abs=1e-9)
