"""Balancing contacts: a still foot near the floor under a centre of mass the other foot cannot
hold is put in contact; a swing, a raised foot, a step, a real one-legged stance and a lean
no foot balances are not."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.retarget.balance import (
    balancing_contacts,
    extrapolated_com_xy,
    support_margin_m,
)
from exoactor.skeleton import centre_of_mass_w

FPS = 50.0
SOLE = np.array([[-0.05, 0.025], [-0.05, -0.025], [0.12, 0.03], [0.12, -0.03]])
"""A G1 sole's contact points in its foot frame, horizontal [m]."""


def _stance(T: int, left_y: float = 0.1, right_y: float = -0.1) -> np.ndarray:
    """``(T, 2, 4, 2)`` sole points of two feet side by side."""
    feet = np.stack([SOLE + [0.0, left_y], SOLE + [0.0, right_y]])
    return np.broadcast_to(feet, (T, 2, 4, 2)).copy()


def _right_foot_only(T: int) -> np.ndarray:
    c = np.zeros((T, 2), dtype=bool)
    c[:, 1] = True
    return c


def test_support_margin_inside_outside_and_no_support() -> None:
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=float)
    assert support_margin_m(np.array([0.5, 0.5]), square) == pytest.approx(0.5)
    assert support_margin_m(np.array([1.2, 0.5]), square) == pytest.approx(-0.2)
    assert support_margin_m(np.array([0.0, 0.0]), np.zeros((0, 2))) == -np.inf


def test_floating_still_foot_under_an_unheld_stance_is_put_down() -> None:
    # a person on both feet perceived on the right one, the left 5 cm up, the CoM between them
    T = 100
    com = np.zeros((T, 2))
    h = np.tile([0.05, 0.0], (T, 1))
    v = np.zeros((T, 2))
    out = balancing_contacts(_right_foot_only(T), com, _stance(T), h, v, FPS,
                             height_m=0.10, speed_m_s=0.25, min_s=0.6, tolerance_m=0.05)
    assert out.all()


def test_swing_raised_foot_step_and_one_legged_stance_are_left_alone() -> None:
    T = 100
    base = _right_foot_only(T)
    kw = {"height_m": 0.10, "speed_m_s": 0.25, "min_s": 0.6, "tolerance_m": 0.05}
    com, soles = np.zeros((T, 2)), _stance(T)
    low, still = np.tile([0.05, 0.0], (T, 1)), np.zeros((T, 2))
    # the left foot swings (fast)
    fast = np.tile([0.8, 0.0], (T, 1))
    np.testing.assert_array_equal(balancing_contacts(base, com, soles, low, fast, FPS, **kw), base)
    # the left foot is held up (high)
    high = np.tile([0.2, 0.0], (T, 1))
    np.testing.assert_array_equal(balancing_contacts(base, com, soles, high, still, FPS, **kw),
                                  base)
    # the CoM is over the right sole: a real one-legged stance
    over = np.tile([0.03, -0.1], (T, 1))
    np.testing.assert_array_equal(balancing_contacts(base, over, soles, low, still, FPS, **kw),
                                  base)
    # the CoM 0.15 m ahead of both feet (a bend perceived too far forward): no foot balances it
    ahead = np.tile([0.27, 0.0], (T, 1))
    np.testing.assert_array_equal(balancing_contacts(base, ahead, soles, low, still, FPS, **kw),
                                  base)
    # the CoM leaves the right sole for 0.4 s only (a step's single support)
    brief = over.copy()
    brief[30:50] = 0.0
    np.testing.assert_array_equal(balancing_contacts(base, brief, soles, low, still, FPS, **kw),
                                  base)
    # ... and for 1 s: the left foot comes down over that stretch only
    long = over.copy()
    long[30:80] = 0.0
    out = balancing_contacts(base, long, soles, low, still, FPS, **kw)
    assert out[30:80, 0].all() and not out[:30, 0].any() and not out[80:, 0].any()


def test_no_foot_in_contact_both_low_still_feet_come_down() -> None:
    T = 60
    none = np.zeros((T, 2), dtype=bool)
    out = balancing_contacts(none, np.zeros((T, 2)), _stance(T), np.full((T, 2), 0.01),
                             np.zeros((T, 2)), FPS, height_m=0.10, speed_m_s=0.25, min_s=0.6,
                             tolerance_m=0.05)
    assert out.all()


def test_centre_of_mass_of_a_symmetric_body_is_on_its_axis() -> None:
    names = ("nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
             "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee",
             "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index",
             "right_foot_index")
    z = {"nose": 1.6, "shoulder": 1.4, "elbow": 1.1, "wrist": 0.85, "hip": 0.9, "knee": 0.5,
         "ankle": 0.08, "heel": 0.02, "foot_index": 0.02}
    pts = []
    for n in names:
        side = 0.0 if n == "nose" else (0.15 if n.startswith("left") else -0.15)
        key = n if n == "nose" else n.split("_", 1)[1]
        x = 0.1 if key == "foot_index" else 0.0
        pts.append([x, side, z[key]])
    com = centre_of_mass_w(np.array([pts]), names)[0]
    assert com[1] == pytest.approx(0.0, abs=1e-12)
    assert 0.85 < com[2] < 1.1  # an adult's CoM is a little above the hips
    with pytest.raises(ValueError, match="centre of mass"):
        centre_of_mass_w(np.zeros((1, 1, 3)), ("nose_tip",))


def test_targets_put_a_floating_still_foot_on_the_floor(walk_clip, rmodel) -> None:
    """A standing robot pose seen as a person on the right foot, the left 5 cm up: with
    ``balance_contacts`` the left foot is in contact and its targets are on the floor."""
    from exoactor.formats.motion import HumanMotion
    from exoactor.retarget import human_from_robot
    from exoactor.retarget.config import RetargetConfig
    from exoactor.retarget.contacts import lowest_sole_height
    from exoactor.retarget.targets import build_targets

    still = walk_clip.slice(0, 1)
    n = 45
    stand = still.replace(root_pos=np.repeat(still.root_pos, n, 0),
                          root_quat=np.repeat(still.root_quat, n, 0),
                          dof_pos=np.repeat(0 * still.dof_pos, n, 0))
    stand = stand.replace(root_pos=stand.root_pos + [0, 0, rmodel.robot.spec.root_height_m
                                                     - stand.root_pos[0, 2]])
    human = human_from_robot(stand, rmodel)
    joints = human.joints.copy()
    for name in ("left_ankle", "left_heel", "left_foot_index"):
        joints[:, human.joint_names.index(name), 2] += 0.05
    contact = np.zeros((n, 2), dtype=bool)
    contact[:, 1] = True
    human = HumanMotion(fps=human.fps, joint_names=human.joint_names, joints=joints,
                        confidence=human.confidence, root_pos=human.root_pos,
                        root_quat=human.root_quat, foot_contact=contact, valid=human.valid,
                        source="floating left foot")
    cfg = RetargetConfig(output_fps=None)
    off = build_targets(human, rmodel, cfg.model_copy(update={"balance_contacts": False}))
    on = build_targets(human, rmodel, cfg.model_copy(update={"balance_contacts": True}))
    assert not off.foot_contact[:, 0].any()
    assert on.foot_contact.all()
    names = rmodel.corr.keypoint_names
    heel = names.index("left_heel")
    assert off.keypoint_pos_w[:, heel, 2].min() > on.keypoint_pos_w[:, heel, 2].max() + 0.03
    # the body keeps its height: the foot was seen up by a leg error, not a body one (the
    # body used to follow the mean of the feet's pins, 2.5 cm down here)
    for name in ("left_shoulder", "right_wrist", "nose"):
        k = names.index(name)
        np.testing.assert_allclose(on.keypoint_pos_w[:, k], off.keypoint_pos_w[:, k], atol=1e-9)
    fi = [f.name for f in rmodel.corr.frames].index(rmodel.corr.feet[0].frame)
    ankle = on.keypoint_pos_w[:, names.index("left_ankle")]
    origin = ankle - np.einsum("tij,j->ti", on.frame_R_w[:, fi],
                               rmodel.keypoint_offset_b[names.index("left_ankle")])
    sole = lowest_sole_height(origin, on.frame_R_w[:, fi], rmodel.sole_center_b[0],
                              rmodel.sole_radius_m[0])
    np.testing.assert_allclose(sole, 0.0, atol=1e-9)


def test_extrapolated_com_is_the_com_at_rest_and_leads_it_by_v_over_omega0() -> None:
    T, h, v = 200, 0.8, 0.3
    still = np.tile([0.1, -0.2, h], (T, 1))
    np.testing.assert_allclose(extrapolated_com_xy(still, FPS), still[:, :2], atol=1e-12)
    moving = still.copy()
    moving[:, 0] += v * np.arange(T) / FPS
    xcom = extrapolated_com_xy(moving, FPS)
    lead = xcom[T // 2, 0] - moving[T // 2, 0]
    assert lead == pytest.approx(v / np.sqrt(9.81 / h), rel=1e-6)
    assert xcom[T // 2, 1] == pytest.approx(-0.2)


def test_a_walk_is_not_taken_for_an_unheld_stance(walk_human, rmodel) -> None:
    """A real walk (a TWIST2 clip seen as a person) puts its CoM beyond the stance foot every
    step; judged on the extrapolated CoM it gets no contact added (judged on the CoM, frames of
    its low, slow swing feet were pinned to the floor)."""
    from exoactor.retarget.config import RetargetConfig
    from exoactor.retarget.targets import build_targets

    cfg = RetargetConfig(output_fps=None)
    off = build_targets(walk_human, rmodel, cfg.model_copy(update={"balance_contacts": False}))
    on = build_targets(walk_human, rmodel, cfg.model_copy(update={"balance_contacts": True}))
    np.testing.assert_array_equal(on.foot_contact, off.foot_contact)
