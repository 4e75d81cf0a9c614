"""World placement of a static camera's clip: stature prior, planted feet from 2D, the depth
cap of the view-ray step, the trunk's lean in depth, the pelvis orientation, and the root fit
holding a standing person in place."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from exoactor.perceive.camera import intrinsics, project
from exoactor.perceive.root_fit import fit_root_translation
from exoactor.perceive.world import (
    FEET,
    HIPS,
    SHOULDERS,
    cap_depth_change,
    hang_unseen_legs_c,
    legs_seen,
    pelvis_quat_w,
    planted_feet_2d,
    standing_weight,
    stature_posterior_m,
    unseen_leg_weight,
    upright_trunk_c,
)
from exoactor.skeleton import BODY_33


def _standing_body() -> np.ndarray:
    """(33, 3) a person standing upright, world z up, facing +x, feet at z = 0 [m]."""
    p = np.zeros((33, 3))
    i = BODY_33.index
    for s, y in (("left", 0.1), ("right", -0.1)):
        p[i(f"{s}_hip")] = [0, y, 0.9]
        p[i(f"{s}_knee")] = [0.01, y, 0.5]
        p[i(f"{s}_ankle")] = [0, y, 0.08]
        p[i(f"{s}_heel")] = [-0.05, y, 0.02]
        p[i(f"{s}_foot_index")] = [0.15, y, 0.02]
        p[i(f"{s}_shoulder")] = [0, 1.8 * y, 1.42]
        p[i(f"{s}_elbow")] = [0, 2.0 * y, 1.15]
        p[i(f"{s}_wrist")] = [0.05, 2.0 * y, 0.9]
        for k, dz in (("pinky", -0.08), ("index", -0.09), ("thumb", -0.06)):
            p[i(f"{s}_{k}")] = p[i(f"{s}_wrist")] + [0.02, 0, dz]
    for n in BODY_33:
        if n.startswith(("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth")):
            p[i(n)] = [0.08, 0.0, 1.6]
    return p


def test_stature_prior_dominates_a_template_measurement() -> None:
    assert stature_posterior_m(1.63) > 1.66  # MediaPipe's template stature moves to an adult's
    assert abs(stature_posterior_m(1.90, measure_sd_m=0.01) - 1.90) < 0.01  # a sure measurement
    assert stature_posterior_m(float("nan")) == 1.70
    lo, hi = stature_posterior_m(1.0), stature_posterior_m(2.4)
    assert 1.5 < lo < 1.70 < hi < 1.95  # a small or huge figure is still pulled to an adult


def test_planted_feet_follow_2d_stillness() -> None:
    T, fps = 60, 30.0
    kp = np.zeros((T, 33, 2))
    kp[:, :, 1] = np.linspace(100, 500, 33)  # 400 px tall
    kp[:, :, 0] = 300.0
    left = list(FEET[0])
    kp[30:45, left, 0] += np.linspace(0, 150, 15)[:, None]  # the left foot steps at 10 px/frame
    kp[45:, left, 0] += 150
    planted = planted_feet_2d(kp, np.ones(T, bool), fps)
    assert planted[:, 1].all()  # the right foot never moves
    assert planted[:25, 0].all() and planted[50:, 0].all()
    assert not planted[32:43, 0].any()
    assert not planted_feet_2d(kp, np.zeros(T, bool), fps).any()


def test_cap_depth_change_keeps_pixels_and_bounds_depth() -> None:
    K = intrinsics(640, 480, 60.0)
    rng = np.random.default_rng(0)
    ref = _standing_body()[None] @ np.diag([1, 1, 1]) + [0, 0, 0]
    ref = np.stack([ref[0][:, [1, 2, 0]] * [1, -1, 1] + [0, 0, 4.0]] * 3)  # camera frame
    moved = ref + rng.normal(0, 0.1, ref.shape)
    out = cap_depth_change(moved, ref, 0.02)
    np.testing.assert_allclose(project(out, K), project(moved, K), atol=1e-6)
    d = out[..., 2] - out[:, list(HIPS)].mean(1)[:, None, 2]
    d_ref = ref[..., 2] - ref[:, list(HIPS)].mean(1)[:, None, 2]
    assert np.abs(d - d_ref).max() <= 0.02 + 1e-9


def test_a_hidden_foot_is_not_planted() -> None:
    """A leg hidden behind a table (knee and ankle unseen) keeps a guessed, still image
    position: no evidence that the foot is planted. One unseen landmark does not hide it."""
    T, fps = 40, 30.0
    kp = np.zeros((T, 33, 2))
    kp[:, :, 1] = np.linspace(100, 500, 33)
    kp[:, :, 0] = 300.0
    seen = np.ones((T, 33), bool)
    seen[:, [BODY_33.index("left_knee"), BODY_33.index("left_ankle")]] = False
    seen[:, BODY_33.index("right_ankle")] = False
    planted = planted_feet_2d(kp, np.ones(T, bool), fps, seen=seen)
    assert not planted[:, 0].any() and planted[:, 1].all()
    assert legs_seen(seen).tolist() == [[False, True]] * T


def test_hidden_legs_stand_under_their_hips() -> None:
    """The pose model turns a hidden leg toward the camera (measured 60-80 deg on the rendered
    lean on a table seen from the front, the feet 0.43 m off the floor); the standing prior
    turns it about the hip until the ankle is below it, keeping every bone and the foot."""
    body_w = _standing_body()
    i = BODY_33.index
    leg = [i("left_knee"), i("left_ankle"), i("left_heel"), i("left_foot_index")]
    hip = body_w[i("left_hip")]
    body_w[leg] = hip + Rotation.from_euler("y", 70, degrees=True).apply(body_w[leg] - hip)
    P, up_c = _camera_frame(body_w, 15.0)
    P = np.repeat(P[None], 3, 0)
    w = np.array([[1.0, 0.0], [0.5, 0.0], [0.0, 0.0]])
    out = hang_unseen_legs_c(P, up_c, w)
    chain = [i("left_hip"), *leg]
    for a, b in zip(chain[:-1], chain[1:], strict=True):  # bones kept
        assert np.allclose(np.linalg.norm(out[:, a] - out[:, b], axis=-1),
                           np.linalg.norm(P[:, a] - P[:, b], axis=-1))
    down = out[0, i("left_ankle")] - out[0, i("left_hip")]
    assert np.degrees(np.arccos(-down @ up_c / np.linalg.norm(down))) < 1e-6
    half = out[1, i("left_ankle")] - out[1, i("left_hip")]
    assert np.degrees(np.arccos(-half @ up_c / np.linalg.norm(half))) == pytest.approx(35, abs=0.5)
    unmoved = [j for j in range(33) if j not in leg]
    assert np.allclose(out[:, unmoved], P[:, unmoved]) and np.allclose(out[2], P[2])
    # the weight ramps over ~0.3 s where the legs go out of view
    seen = np.ones((30, 33), bool)
    seen[15:, [i("right_knee"), i("right_ankle")]] = False
    ramp = unseen_leg_weight(seen, 30.0)
    assert (ramp[:, 0] == 0).all() and ramp[0, 1] == 0 and ramp[-1, 1] == 1
    assert np.all(np.diff(ramp[:, 1]) >= 0) and 0 < ramp[15, 1] < 1


def _camera_frame(body_w: np.ndarray, pitch_deg: float, dist: float = 4.0) -> tuple:
    """Camera looking at the body along -x (frontal) pitched down; returns (P_c, up_c)."""
    R_wc = Rotation.from_euler("x", -pitch_deg, degrees=True).as_matrix() @ np.array(
        [[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [-1.0, 0.0, 0.0]])  # world -> camera axes
    eye = np.array([dist, 0.0, 0.9 + dist * np.tan(np.radians(pitch_deg))])
    P = (body_w - eye) @ R_wc.T
    return P, R_wc @ np.array([0.0, 0.0, 1.0])


def test_upright_trunk_removes_a_small_depth_lean_only() -> None:
    body = _standing_body()
    hip = body[list(HIPS)].mean(0)
    upper = np.arange(HIPS[0])
    leaned = []
    for lean in (6.0, 40.0):  # toward the camera (+x) about the hips
        b = body.copy()
        b[upper] = hip + Rotation.from_euler("y", lean, degrees=True).apply(b[upper] - hip)
        leaned.append(b)
    P, up_c = _camera_frame(np.stack(leaned), 20.0)
    out = upright_trunk_c(P, up_c, np.ones(2))
    K = intrinsics(640, 480, 60.0)
    np.testing.assert_allclose(project(out, K), project(P, K), atol=1e-6)  # image unchanged

    def lean_deg(Q: np.ndarray) -> np.ndarray:
        a = Q[:, list(SHOULDERS)].mean(1) - Q[:, list(HIPS)].mean(1)
        return np.degrees(np.arccos(a @ up_c / np.linalg.norm(a, axis=-1)))

    before, after = lean_deg(P), lean_deg(out)
    assert before[0] > 5 and after[0] < 0.5  # the model's few degrees are gone
    assert abs(after[1] - before[1]) < 0.5  # a real bend is left alone
    w = standing_weight(P, np.ones(2, bool), 30.0)
    assert w.shape == (2,)


def test_pelvis_ignores_a_small_trunk_lean_and_follows_a_deep_bend() -> None:
    body = _standing_body()
    hip = body[list(HIPS)].mean(0)
    upper = np.arange(HIPS[0])
    frames = []
    for lean in (0.0, 10.0, 80.0):
        b = body.copy()
        b[upper] = hip + Rotation.from_euler("y", lean, degrees=True).apply(b[upper] - hip)
        frames.append(b)
    q = pelvis_quat_w(np.stack(frames), (15.0, 30.0))
    z = Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix()[:, :, 2]
    pitch = np.degrees(np.arccos(z[:, 2]))
    assert pitch[0] < 0.1 and pitch[1] < 0.1
    assert abs(pitch[2] - 50.0) < 1.0  # 80 deg of trunk flexion, 30 taken by the lumbar spine
    assert z[2, 0] > 0  # pitched forward


def test_root_fit_holds_depth_while_the_feet_are_planted() -> None:
    """A standing person whose apparent size changes (arms up: shoulders rise) must not move
    in depth when the root fit holds the planted frames."""
    T, fps = 60, 30.0
    K = intrinsics(1280, 720, 50.0)
    body = _standing_body()
    P, _ = _camera_frame(np.repeat(body[None], T, 0), 10.0, dist=5.0)
    kp = project(P, K)
    rel = P - P[:, list(HIPS)].mean(1, keepdims=True)
    rel = rel * (1.0 + 0.04 * np.sin(np.linspace(0, 3 * np.pi, T)))[:, None, None]  # size error
    w = np.ones((T, 33))
    free = fit_root_translation(rel, kp, w, K, fps, depth_accel_sigma_m_s2=2.0)
    held = fit_root_translation(rel, kp, w, K, fps, depth_accel_sigma_m_s2=2.0,
                                hold=np.ones(T, bool), hold_sigma_m=(np.inf, np.inf, 0.0005))

    def path(t: np.ndarray) -> float:
        return float(np.abs(np.diff(t[:, 2])).sum())

    assert path(free.trans_c) > 0.3
    assert path(held.trans_c) < 0.2 * path(free.trans_c)


def _knee_bend_deg(P: np.ndarray, side: str) -> np.ndarray:
    i = BODY_33.index
    a = P[:, i(f"{side}_knee")] - P[:, i(f"{side}_hip")]
    b = P[:, i(f"{side}_ankle")] - P[:, i(f"{side}_knee")]
    c = np.sum(a * b, -1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def test_standing_weight_judges_the_knees_by_what_the_image_allows() -> None:
    """A standing body whose model knees are bent toward the camera (depth only: the image is
    the standing one) counts as standing; a seated body does not, though seen from the front
    its knees' 2D also lie near the hip-ankle line."""
    i = BODY_33.index
    standing = _standing_body()
    seated = _standing_body()
    for s, y in (("left", 0.1), ("right", -0.1)):
        seated[i(f"{s}_hip")] = [0, y, 0.5]
        seated[i(f"{s}_knee")] = [0.45, y, 0.5]
        for k in ("ankle", "heel", "foot_index"):
            seated[i(f"{s}_{k}")] += [0.45, 0, 0]
    P, _ = _camera_frame(np.stack([standing, standing, seated]), 20.0)
    for s in ("left", "right"):  # frame 1: the model's knees slide toward the camera
        k = i(f"{s}_knee")
        P[1, k] *= (P[1, k, 2] - 0.15) / P[1, k, 2]
    K = intrinsics(640, 480, 60.0)
    np.testing.assert_allclose(project(P[1], K), project(P[0], K), atol=1e-6)
    assert 35 < _knee_bend_deg(P[1:2], "left")[0] < 60  # the model's typical error
    w = standing_weight(P, np.ones(3, bool), 30.0, smooth_s=0.0)
    np.testing.assert_array_equal(w, [1.0, 1.0, 0.0])


def test_anchored_shift_keeps_planted_feet_and_lets_a_step_move_the_person() -> None:
    """A planted foot that drifts (camera translation, depth error) is held at one point
    for its whole run; a step (foot lifted, put down elsewhere) still moves the person."""
    from exoactor.perceive.world import anchored_shift_w

    T, fps = 90, 30.0
    feet = np.zeros((T, 2, 2))
    feet[:, 0, 1], feet[:, 1, 1] = 0.1, -0.1
    drift = np.linspace(0.0, 0.3, T)
    feet[:, :, 0] += drift[:, None]  # both feet slide 0.3 m while planted
    planted = np.ones((T, 2), bool)
    d = anchored_shift_w(feet, planted, fps)
    held = feet + d[:, None]
    assert np.ptp(held[..., 0], axis=0).max() < 0.1 * 0.3  # a tenth of the drift is left
    assert abs(d[0]).max() < 1e-9  # the start stays where it was
    # a step: the left foot lifted in frames 40-50 and put down 0.3 m ahead
    feet = np.zeros((T, 2, 2))
    feet[50:, 0, 0] = 0.3
    feet[40:50, 0, 0] = np.linspace(0, 0.3, 10)
    planted = np.ones((T, 2), bool)
    planted[40:50, 0] = False
    d = anchored_shift_w(feet, planted, fps)
    assert abs(d).max() < 0.01
    assert abs((feet + d[:, None])[-1, 0, 0] - 0.3) < 0.01


def test_anchored_shift_trusts_a_planted_foot_less_in_depth() -> None:
    """The pose model's foot is far less certain in depth than across the image: with a
    larger spread along the depth axis, a foot that slips in depth moves the person less
    than the same slip across the image; equal spreads in rotated axes change nothing."""
    from exoactor.perceive.world import anchored_shift_w

    T, fps = 90, 30.0
    c, s_ = np.cos(np.radians(30.0)), np.sin(np.radians(30.0))
    axes = np.array([[c, s_], [-s_, c]])  # rows: across, depth
    slip = np.linspace(0.0, 0.15, T)[:, None, None]
    feet = np.zeros((T, 2, 2))
    feet[:, 0], feet[:, 1] = axes[0] * 0.1, -axes[0] * 0.1
    feet = feet + slip * (axes[0] + axes[1])  # slips 0.15 m across and 0.15 m in depth
    planted = np.ones((T, 2), bool)
    d = anchored_shift_w(feet, planted, fps, (0.02, 0.1), axes_w=axes) @ axes.T
    across, depth = np.ptp(d[:, 0]), np.ptp(d[:, 1])
    assert across > 0.9 * 0.15  # held across the image as before
    assert depth < 0.75 * across, (across, depth)  # equal spreads: equal shifts
    same = anchored_shift_w(feet, planted, fps, (0.02, 0.02), axes_w=axes)
    np.testing.assert_allclose(same, anchored_shift_w(feet, planted, fps, 0.02), atol=1e-9)
    with pytest.raises(ValueError, match="orthonormal"):
        anchored_shift_w(feet, planted, fps, (0.02, 0.1), axes_w=2 * axes)


def test_a_camera_that_dollies_does_not_walk_a_standing_person() -> None:
    """A person standing in place, arms rising and falling, filmed by a camera that slides
    0.3 m sideways (the image is that of the person sliding with planted feet): the
    contact-anchored root trajectory keeps the root path under 0.05 m (without it: ~0.27 m)."""
    import sys
    from pathlib import Path

    from exoactor.perceive.config import PerceiveConfig, WorldConfig
    from exoactor.perceive.reconstruct import reconstruct
    from exoactor.perceive.synthetic import (
        ObservationNoise,
        look_at_camera,
        synthetic_observations,
    )

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from task_video import root_path_m

    i = BODY_33.index
    T, fps = 90, 30.0
    body = np.repeat(_standing_body()[None], T, 0)
    ang = np.pi * 0.5 * (1 - np.cos(np.linspace(0, 2 * np.pi, T)))
    for s, sg in (("left", 1), ("right", -1)):
        sh = body[:, i(f"{s}_shoulder")]
        sh[:, 2] += 0.04 * ang / np.pi  # the shoulders rise with the arms
        for k, r in (("elbow", 0.3), ("wrist", 0.55), ("pinky", 0.62), ("index", 0.63),
                     ("thumb", 0.6)):
            body[:, i(f"{s}_{k}")] = sh + r * np.stack([0 * ang, sg * np.sin(ang),
                                                        -np.cos(ang)], -1)
    body[..., 1] += 0.3 * np.linspace(0, 1, T)[:, None]
    K = intrinsics(1280, 720, 50.0)
    T_c_w = look_at_camera(np.array([4.0, 0.0, 1.8]), np.array([0.0, 0.0, 0.9]))
    obs = synthetic_observations(body, T_c_w, K, (1280, 720), fps, ObservationNoise(), seed=1)
    paths = {}
    for anchor in (False, True):
        cfg = PerceiveConfig(hands=False, world=WorldConfig(anchor_feet=anchor))
        m = reconstruct(obs, fps, K, cfg).motion
        paths[anchor] = root_path_m(m.root_pos, fps)
        if anchor:  # the camera poses carry the shift: the image is unchanged
            frames = m.extras["T_w_c_frames"]
            assert frames.shape == (T, 4, 4)
            assert abs(np.ptp(frames[:, :2, 3], axis=0)).max() > 0.2
    assert paths[False] > 0.2, paths
    assert paths[True] < 0.05, paths
