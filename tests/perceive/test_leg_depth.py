"""The leg-depth choice: a standing body's balance picks each leg bone's depth sign."""

from __future__ import annotations

import numpy as np

from exoactor.perceive.leg_depth import (
    LegDepthConfig,
    apply_flips,
    choose_leg_depth,
    com_ahead_of_feet_m,
    flipped_vector,
)
from exoactor.skeleton import BODY_33

UP_C = np.array([0.0, -1.0, 0.0])
"""Camera frame: x right, y down, z forward; a level camera."""
DEPTH_M = 4.0


def _pose_c(points: dict[str, tuple[float, float, float]]) -> np.ndarray:
    """``(33, 3)`` camera-frame landmarks of a person facing the camera from points given as
    (x right in the image, height, toward the camera) [m]; landmarks not named sit at the nose."""
    out = np.zeros((len(BODY_33), 3))
    nose = points["nose"]
    for i, name in enumerate(BODY_33):
        x, h, f = points.get(name, nose)
        out[i] = (x, -h, DEPTH_M - f)
    return out


def _person(hip_h: float, shoulder_f: float, knee: tuple[float, float], ankle: tuple[float, float]
            ) -> dict[str, tuple[float, float, float]]:
    """Both sides of a symmetric pose: knee and ankle as (height, toward the camera)."""
    pts = {"nose": (0.0, hip_h + 0.62, shoulder_f + 0.12)}
    for side, x in (("left", 0.1), ("right", -0.1)):       # facing the camera: left on the right
        pts[f"{side}_hip"] = (x, hip_h, 0.0)
        pts[f"{side}_shoulder"] = (1.8 * x, hip_h + 0.48, shoulder_f)
        pts[f"{side}_elbow"] = (2.0 * x, hip_h + 0.22, shoulder_f + 0.1)
        pts[f"{side}_wrist"] = (2.0 * x, hip_h, shoulder_f + 0.2)
        pts[f"{side}_knee"] = (1.2 * x, *knee)
        pts[f"{side}_ankle"] = (1.2 * x, *ankle)
        pts[f"{side}_heel"] = (1.2 * x, 0.02, ankle[1] - 0.05)
        pts[f"{side}_foot_index"] = (1.2 * x, 0.02, ankle[1] + 0.15)
    return pts


SQUAT = _person(0.55, 0.30, knee=(0.50, 0.38), ankle=(0.08, 0.13))
"""Squatting to pick something up in front: thighs toward the camera, trunk leaning in."""
SIT = _person(0.45, -0.02, knee=(0.47, 0.42), ankle=(0.08, 0.42))
"""Seated: thighs level toward the camera, shanks vertical, trunk upright; the weight is on a
seat behind the feet."""
STAND = _person(0.85, 0.0, knee=(0.45, 0.02), ankle=(0.08, 0.0))


def _clip(pose: dict, frames: int = 12) -> np.ndarray:
    rng = np.random.default_rng(0)
    return _pose_c(pose)[None] + rng.normal(0.0, 0.003, (frames, len(BODY_33), 3))


def _knee_ahead_of_hip_m(points_c: np.ndarray) -> np.ndarray:
    """How far each knee is toward the camera from its hip, per frame [m]."""
    k = [BODY_33.index("left_knee"), BODY_33.index("right_knee")]
    h = [BODY_33.index("left_hip"), BODY_33.index("right_hip")]
    return points_c[:, h, 2] - points_c[:, k, 2]


def test_a_flipped_bone_keeps_its_length_and_its_image_line() -> None:
    top = np.array([0.1, -0.5, 4.0])
    v = np.array([0.02, 0.05, -0.38])
    w = flipped_vector(v, top + v / 2)
    assert np.isclose(np.linalg.norm(w), np.linalg.norm(v))
    assert w[2] > 0 > v[2]                                  # the other depth sign
    px = lambda p: p[:2] / p[2]  # noqa: E731
    # the image direction of the bone is kept (to first order: same line through the top)
    d_v, d_w = px(top + v) - px(top), px(top + w) - px(top)
    cos = d_v @ d_w / np.linalg.norm(d_v) / np.linalg.norm(d_w)
    assert cos > 0.99


def test_a_squat_with_its_thighs_sent_behind_it_gets_them_back() -> None:
    truth = _clip(SQUAT)
    T = len(truth)
    # the pose model's error: both thighs point away from the camera, the feet follow
    wrong = apply_flips(truth, np.tile([True, False, True, False], (T, 1)))
    assert np.all(_knee_ahead_of_hip_m(wrong) < -0.2)
    assert np.all(com_ahead_of_feet_m(wrong, UP_C) > 0.3)  # a pose that falls over
    got = choose_leg_depth(wrong, UP_C, np.ones(T, bool))
    assert np.all(got.flips == [True, False, True, False])
    assert np.all(_knee_ahead_of_hip_m(got.points_c) > 0.3)
    assert np.all(got.com_ahead_after_m <= LegDepthConfig().balance_margin_m)
    # the feet come back to within a few cm of the truth's (the flip is about each bone's
    # own view ray, so it is not exactly its inverse)
    feet = [BODY_33.index(n) for n in ("left_ankle", "right_ankle")]
    assert np.max(np.linalg.norm(got.points_c[:, feet] - truth[:, feet], axis=-1)) < 0.05


def test_a_seated_person_and_a_standing_one_keep_the_models_legs() -> None:
    for pose in (SIT, STAND):
        P = _clip(pose)
        got = choose_leg_depth(P, UP_C, np.ones(len(P), bool))
        assert not got.flips.any()
        np.testing.assert_array_equal(got.points_c, P)


def test_balance_counts_only_where_both_feet_are_planted() -> None:
    truth = _clip(SQUAT)
    T = len(truth)
    wrong = apply_flips(truth, np.tile([True, False, True, False], (T, 1)))
    balance_only = LegDepthConfig(hip_extension_max_deg=90.0, knee_hyperextension_max_deg=90.0)
    assert not choose_leg_depth(wrong, UP_C, np.zeros(T, bool), balance_only).flips.any()
    got = choose_leg_depth(wrong, UP_C, np.ones(T, bool), balance_only)
    # balance alone does not say which bones (the thighs or the shanks) nor where to stop
    assert got.flips.any(1).all()
    assert np.all(got.com_ahead_after_m < got.com_ahead_before_m - 0.3)


def test_disabled_returns_the_models_pose() -> None:
    truth = _clip(SQUAT)
    wrong = apply_flips(truth, np.tile([True, False, True, False], (len(truth), 1)))
    got = choose_leg_depth(wrong, UP_C, np.ones(len(truth), bool), LegDepthConfig(enabled=False))
    assert not got.flips.any()
    np.testing.assert_array_equal(got.points_c, wrong)
