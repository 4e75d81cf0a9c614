"""The temporal skeleton fit: one set of bone lengths for the clip, fitted to the 2D landmarks.

A synthetic stick body (33 landmarks, constant bones) raises its arms in front of a camera;
the fit starts from a wrong 3D (torso 15 % long, depths squashed and jittered, as MediaPipe's
template and depth errors are) and sees the true 2D with 1 px noise; every segment rigid,
the trunk's sides too (``rigid_trunk``: a stick body's shoulders do not ride on a girdle).
The rendered Anny clip (slow, needs ``anny``) checks the same on a real detector's output
and the accuracy gain.
"""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.perceive.camera import intrinsics, project
from exoactor.perceive.filtering import bone_index_pairs, bone_lengths, reference_lengths
from exoactor.perceive.metrics import pa_mpjpe_mm
from exoactor.perceive.skeleton_fit import (
    SkeletonFitConfig,
    fit_skeleton,
    length_groups,
    reprojection_px,
    scale_about_camera,
)
from exoactor.skeleton import BODY_33

N = BODY_33.index


def _stick_body(T: int = 45) -> np.ndarray:
    """``(T, 33, 3)`` camera-frame points [m] (x right, y down, z forward) of a body facing
    the camera 4 m away that raises both arms forward and up, and bends its right knee."""
    P = np.zeros((T, 33, 3))
    hip_y = 0.0
    for s, x in (("left", 0.1), ("right", -0.1)):
        P[:, N(f"{s}_hip")] = (x, hip_y, 0.0)
        P[:, N(f"{s}_shoulder")] = (1.7 * x, hip_y - 0.48, 0.0)
        P[:, N(f"{s}_ear")] = (0.7 * x, hip_y - 0.68, 0.05)
    for j, off in (("nose", (0.0, -0.66, -0.08)), ("left_eye_inner", (0.015, -0.69, -0.07)),
                   ("left_eye", (0.03, -0.69, -0.065)), ("left_eye_outer", (0.045, -0.69, -0.06)),
                   ("right_eye_inner", (-0.015, -0.69, -0.07)), ("right_eye", (-0.03, -0.69, -0.065)),
                   ("right_eye_outer", (-0.045, -0.69, -0.06)), ("mouth_left", (0.02, -0.62, -0.07)),
                   ("mouth_right", (-0.02, -0.62, -0.07))):
        P[:, N(j)] = off
    t = np.arange(T) / (T - 1)
    arm = np.radians(150.0) * np.sin(np.pi * t)  # flexion about x, forward and up
    knee = np.radians(40.0) * np.sin(np.pi * t)
    for s in ("left", "right"):
        sh = P[:, N(f"{s}_shoulder")]
        down = np.stack([np.zeros(T), np.cos(arm), -np.sin(arm)], -1)  # toward -z: the camera
        P[:, N(f"{s}_elbow")] = sh + 0.26 * down
        P[:, N(f"{s}_wrist")] = sh + 0.50 * down
        w = P[:, N(f"{s}_wrist")]
        sx = 1.0 if s == "left" else -1.0
        P[:, N(f"{s}_pinky")] = w + 0.08 * down + (0.02 * sx, 0, 0)
        P[:, N(f"{s}_index")] = w + 0.09 * down
        P[:, N(f"{s}_thumb")] = w + 0.05 * down - (0.02 * sx, 0, 0)
        hip = P[:, N(f"{s}_hip")]
        bend = knee if s == "right" else np.zeros(T)
        P[:, N(f"{s}_knee")] = hip + (0.0, 0.42, 0.0)
        shin = np.stack([np.zeros(T), np.cos(bend), np.sin(bend)], -1)  # knee bends backward
        P[:, N(f"{s}_ankle")] = P[:, N(f"{s}_knee")] + 0.40 * shin
        P[:, N(f"{s}_heel")] = P[:, N(f"{s}_ankle")] + (0.0, 0.05, 0.05)
        P[:, N(f"{s}_foot_index")] = P[:, N(f"{s}_ankle")] + (0.0, 0.07, -0.15)
    return P + np.array([0.1, 0.0, 4.0])


def _synthetic():
    rng = np.random.default_rng(7)
    fps = 30.0
    truth = _stick_body()
    K = intrinsics(640, 480, 60.0)
    kp = project(truth, K) + rng.normal(scale=1.0, size=truth.shape[:2] + (2,))
    hips = truth[:, [N("left_hip"), N("right_hip")]].mean(1, keepdims=True)
    rel = truth - hips
    # the model's errors: a template torso 15 % long, depths squashed and jittered
    upper = [N(n) for n in BODY_33 if not any(k in n for k in ("hip", "knee", "ankle", "heel",
                                                                "foot"))]
    rel[:, upper, 1] -= 0.15 * 0.48
    rel[..., 2] = 0.5 * rel[..., 2] + rng.normal(scale=0.03, size=rel.shape[:2])
    start = rel + hips
    pairs = bone_index_pairs()
    lengths0 = reference_lengths(start, np.ones(len(start), bool), pairs)
    weight = np.ones(truth.shape[:2])
    fit = fit_skeleton(start, start, kp, weight, K, fps, lengths0,
                       SkeletonFitConfig(iterations=10, rigid_trunk=True), pairs)
    return truth, start, kp, K, pairs, fit


@pytest.fixture(scope="module")
def synthetic():
    return _synthetic()


def test_fit_keeps_one_length_per_bone(synthetic) -> None:
    truth, start, kp, K, pairs, fit = synthetic
    lengths = bone_lengths(fit.points_c, pairs)  # (T, B)
    assert lengths.std(0).max() < 0.003  # [m] per frame around the clip's length
    np.testing.assert_allclose(np.median(lengths, 0), fit.lengths_m, atol=0.003)
    groups = length_groups(pairs)
    for g in set(groups.tolist()):  # left = right
        assert np.ptp(fit.lengths_m[groups == g]) < 1e-9
    # the start's bones vary: the fit is what made them constant
    assert bone_lengths(start, pairs).std(0).max() > 0.01


def test_fit_reprojects_and_recovers_the_pose(synthetic) -> None:
    truth, start, kp, K, pairs, fit = synthetic
    before = np.median(reprojection_px(start, kp, K))
    after = np.median(reprojection_px(fit.points_c, kp, K))
    assert after < 0.5 * before and after < 2.0, (before, after)
    assert fit.reprojection_px_after < fit.reprojection_px_before
    assert fit.cost_after < fit.cost_before
    pa_before, pa_after = pa_mpjpe_mm(start, truth), pa_mpjpe_mm(fit.points_c, truth)
    assert pa_after < 0.7 * pa_before, (pa_before, pa_after)
    torso = [i for i, (a, b) in enumerate(pairs) if BODY_33[a] == "left_shoulder"
             and BODY_33[b] == "left_hip"][0]
    true_torso = np.linalg.norm(truth[0, N("left_shoulder")] - truth[0, N("left_hip")])
    scale = np.median(reference_lengths(truth, np.ones(len(truth), bool), pairs)[:12]
                      / fit.lengths_m[:12])  # size is not observable: compare proportions
    assert abs(scale * fit.lengths_m[torso] / true_torso - 1) < 0.05


def test_scaling_about_the_camera_keeps_the_image(synthetic) -> None:
    truth, start, kp, K, pairs, fit = synthetic
    np.testing.assert_allclose(project(scale_about_camera(fit.points_c, 1.07), K),
                               project(fit.points_c, K), atol=1e-9)


def test_trunk_sides_follow_the_prior_unless_rigid(synthetic) -> None:
    truth, start, kp, K, pairs, fit = synthetic
    lengths0 = reference_lengths(start, np.ones(len(start), bool), pairs)
    soft = fit_skeleton(start, start, kp, np.ones(truth.shape[:2]), K, 30.0, lengths0,
                        SkeletonFitConfig(iterations=10), pairs)
    torso = [i for i, (a, b) in enumerate(pairs) if BODY_33[b].endswith("_hip")
             and BODY_33[a].endswith("_shoulder")]
    side = bone_lengths(soft.points_c, pairs)[:, torso]
    assert side.std(0).min() > 0.005  # free to follow each frame
    assert np.median(reprojection_px(soft.points_c, kp, K)) < 2.0


def test_fit_refuses_gaps() -> None:
    P = _stick_body(5)
    kp = project(P, intrinsics(640, 480, 60.0))
    kp[2, 3] = np.nan
    with pytest.raises(ValueError, match="fill the gaps"):
        fit_skeleton(P, P, kp, np.ones((5, 33)), intrinsics(640, 480, 60.0), 30.0,
                     np.full(len(bone_index_pairs()), 0.3))


@pytest.mark.slow
def test_fit_on_the_rendered_raise_arms_clip(tmp_path_factory: pytest.TempPathFactory) -> None:
    """On MediaPipe's output for a rendered clip (frontal, camera pitched 20 deg down): the
    fit reprojects better, keeps the bones, and the reconstruction's pose is closer to the
    truth than without it (measured: PA-MPJPE 51.3 -> 43.2 mm, MPJPE 92.8 -> 77.4 mm).

    The inputs are the stage's own (gravity from the scene's lines as in
    :func:`~exoactor.perceive.perceive_video`): the fit takes the upright pose as its prior,
    and with gravity 10.9 deg off (the body alone) it measured PA-MPJPE 49.1 -> 51.1 mm
    (MPJPE 78 -> 76, W2-MPJPE 160 -> 131 mm)."""
    import os

    if not os.environ.get("CI"):
        pytest.importorskip("anny")
    from exoactor.perceive.backend import pose_backends
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.perceive.reconstruct import reconstruct
    from exoactor.perceive.run import _Thumbnails, scene_lines
    from exoactor.perceive.truth import frontal_pitched_config, make_truth_clip, score_motion
    from exoactor.perceive.video import open_video

    clip = make_truth_clip(tmp_path_factory.mktemp("truth") / "raise.mp4",
                           frontal_pitched_config(frames=60, pitch_deg=20.0))
    cfg = PerceiveConfig(hands=False, overlay=False, fov_deg=clip.fov_deg)
    video = open_video(clip.video_path)
    thumbs = _Thumbnails(video)
    backend = pose_backends.build(cfg.backend, cfg.backend_options, stage=cfg)
    obs = backend.estimate(video, person=None, hands=False, frame_sink=thumbs)
    K = intrinsics(video.width_px, video.height_px, clip.fov_deg)
    scene = scene_lines(video, obs, thumbs, K)
    off = cfg.model_copy(update={"skeleton_fit": SkeletonFitConfig(enabled=False)})
    with_fit = reconstruct(obs, 30.0, K, cfg, scene=scene)
    without = reconstruct(obs, 30.0, K, off, scene=scene)
    s_on = score_motion(with_fit.motion.joints, clip.joints_w)
    s_off = score_motion(without.motion.joints, clip.joints_w)
    assert s_on.pa_mpjpe_mm < s_off.pa_mpjpe_mm - 3.0, (s_on, s_off)
    assert s_on.pa_mpjpe_mm < 45.0, s_on  # issue 15's target
    assert s_on.mpjpe_mm < s_off.mpjpe_mm, (s_on, s_off)
    # reprojection of the scored body against the detector's 2D (upper body: foot locking
    # moves the feet afterwards)
    upper = [N(n) for n in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                            "left_wrist", "right_wrist", "left_hip", "right_hip")]
    def err(rec) -> float:
        return float(np.median(reprojection_px(rec.joints_c[:, upper], rec.kp_px[:, upper], K)
                               [obs.detected]))
    assert err(with_fit) < err(without), (err(with_fit), err(without))
    arms = [i for i, (a, b) in enumerate(bone_index_pairs())
            if any(k in BODY_33[a] for k in ("shoulder", "elbow"))
            and any(k in BODY_33[b] for k in ("elbow", "wrist"))]
    assert bone_lengths(with_fit.joints_c, bone_index_pairs())[:, arms].std(0).max() < 0.005
