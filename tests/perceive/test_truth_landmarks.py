"""The ``truth-landmarks`` attribution backend: named landmarks from the rendered truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict

from exoactor.errors import ExoActorError
from exoactor.perceive.backend import PoseBackend, PoseObservations, pose_backends
from exoactor.perceive.camera import project
from exoactor.perceive.grounding import transform
from exoactor.perceive.truth.landmarks import (
    BACKEND_NAME,
    TruthLandmarksConfig,
    swap_landmarks,
    truth_frames,
)
from exoactor.skeleton import BODY_33

_IDX = BODY_33.index
K = np.array([[500.0, 0.0, 320.0], [0.0, 500.0, 240.0], [0.0, 0.0, 1.0]])
FPS = 30.0


def _camera() -> np.ndarray:
    """World (z up) -> camera (x right, y down, z forward), 4 m in front of the body."""
    T = np.eye(4)
    T[:3, :3] = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    T[:3, 3] = [0.0, 1.0, 4.0]
    return T


def _truth(frames: int = 12) -> np.ndarray:
    rng = np.random.default_rng(0)
    j = rng.normal(0.0, 0.3, (frames, 33, 3)) + np.array([0.0, 0.0, 1.0])
    j[:, _IDX("left_eye")] = np.nan  # a point the body does not define
    return j


def _obs(frames: int, times_s: np.ndarray) -> PoseObservations:
    rng = np.random.default_rng(1)
    det = np.ones(frames, bool)
    det[3] = False
    kp = rng.uniform(0, 400, (frames, 33, 2))
    kp[~det] = np.nan
    rel = rng.normal(0.0, 0.3, (frames, 33, 3))
    rel[~det] = np.nan
    return PoseObservations(times_s=times_s, image_size_px=(640, 480), detected=det, kp_px=kp,
                            kp_vis=np.where(det[:, None], 0.9, 0.0) * np.ones((frames, 33)),
                            kp_rel_c=rel)


def test_named_landmarks_become_the_truth_and_the_rest_stay() -> None:
    truth = _truth()
    times = np.arange(2, 10) / FPS  # the observations start at rendered frame 2 (a trimmed cut)
    obs = _obs(len(times), times)
    names_px, names_rel = ("left_hip", "right_hip", "left_eye"), ("left_knee",)
    out = swap_landmarks(obs, truth, _camera(), K, FPS, names_px, names_rel)
    truth_c = transform(_camera(), truth[2:10])
    det = obs.detected
    for n in ("left_hip", "right_hip"):
        np.testing.assert_allclose(out.kp_px[det, _IDX(n)], project(truth_c[det, _IDX(n)], K))
    hips = truth_c[:, [_IDX("left_hip"), _IDX("right_hip")]].mean(1)
    np.testing.assert_allclose(out.kp_rel_c[det, _IDX("left_knee")],
                               (truth_c[:, _IDX("left_knee")] - hips)[det])
    # the undefined truth point, the undetected frame and every other landmark: as observed
    np.testing.assert_array_equal(out.kp_px[:, _IDX("left_eye")], obs.kp_px[:, _IDX("left_eye")])
    np.testing.assert_array_equal(out.kp_px[~det], obs.kp_px[~det])
    np.testing.assert_array_equal(out.kp_rel_c[~det], obs.kp_rel_c[~det])
    keep = [j for j in range(33) if BODY_33[j] not in names_px]
    np.testing.assert_array_equal(out.kp_px[:, keep], obs.kp_px[:, keep])
    keep = [j for j in range(33) if BODY_33[j] not in names_rel]
    np.testing.assert_array_equal(out.kp_rel_c[:, keep], obs.kp_rel_c[:, keep])
    assert out.notes["truth_swapped"] == {"px": list(names_px), "rel_c": list(names_rel)}
    assert not np.shares_memory(out.kp_px, obs.kp_px)  # the input is not changed


def test_times_outside_the_rendered_clip_are_refused() -> None:
    np.testing.assert_array_equal(truth_frames(np.array([0.0, 0.034, 0.066]), FPS, 3),
                                  [0, 1, 2])
    with pytest.raises(ExoActorError, match="outside the rendered clip"):
        truth_frames(np.array([0.0, 0.2]), FPS, 3)


def test_unknown_landmark_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown landmark names"):
        TruthLandmarksConfig(truth_path="x_truth.npz", joints_px=("left_hips",))


class _FixedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def test_the_backend_wraps_its_inner_backend(tmp_path: Path, monkeypatch) -> None:
    truth = _truth()
    path = tmp_path / "clip_truth.npz"
    np.savez(path, joints_w=truth, fps=FPS, K=K, T_c_w=_camera(), image_size_px=[640, 480],
             fov_deg=65.0)
    times = np.arange(len(truth)) / FPS
    seen: dict = {}

    class Fixed(PoseBackend):
        Config = _FixedConfig

        def __init__(self, config, **context) -> None:
            seen["context"] = context

        def estimate(self, video, *, person=None, hands=True, frame_sink=None):
            seen["call"] = (video, person, hands)
            return _obs(len(times), times)

    # registered for this test only (the registry is shared by the session)
    monkeypatch.setitem(pose_backends._entries, "test-fixed-observations", Fixed)

    backend = pose_backends.build(BACKEND_NAME, {
        "truth_path": str(path), "joints_px": ["right_knee"], "inner": "test-fixed-observations"},
        stage="the stage's config")
    assert seen["context"] == {"stage": "the stage's config"}
    out = backend.estimate("video", person=0, hands=False)
    assert seen["call"] == ("video", 0, False)
    det = out.detected
    np.testing.assert_allclose(out.kp_px[det, _IDX("right_knee")],
                               project(transform(_camera(), truth[det, _IDX("right_knee")]), K))
    with pytest.raises(ExoActorError, match="no truth file"):
        pose_backends.build(BACKEND_NAME, {"truth_path": str(tmp_path / "none.npz"),
                                           "inner": "test-fixed-observations"})
    with pytest.raises(ExoActorError, match="set backend_options.truth_path"):
        pose_backends.build(BACKEND_NAME, {"inner": "test-fixed-observations"})


def _scene_truth_bench():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "scene_truth.py"
    spec = importlib.util.spec_from_file_location("scene_truth_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_scene_truth_benchmark_builds_its_attribution_variants(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from exoactor.perceive.config import PerceiveConfig

    bench = _scene_truth_bench()
    clip = SimpleNamespace(fov_deg=50.0, truth_path=tmp_path / "sit_truth.npz")
    plain = bench.perceive_config(clip, [], [], {})
    assert plain == PerceiveConfig(hands=False, overlay=False, fov_deg=50.0)
    assert bench.variant_tag([], [], {}) == ""
    cfg = bench.perceive_config(clip, ["left_hip", "right_hip"], ["left_knee"],
                                {"direction_sigma_m": 0.3})
    assert cfg.backend == BACKEND_NAME and cfg.skeleton_fit.direction_sigma_m == 0.3
    opts = pose_backends.validate(cfg.backend, cfg.backend_options)
    assert opts.joints_px == ("left_hip", "right_hip") and opts.joints_rel_c == ("left_knee",)
    assert opts.inner == "mediapipe" and opts.truth_path == str(clip.truth_path)
    assert bench.variant_tag(["left_hip"], ["left_knee"], {"direction_sigma_m": 0.3}) == \
        "_px-left_hip_rel-left_knee_fit-direction_sigma_m=0.3"
    with pytest.raises(ValueError, match="no_such_weight"):
        bench.perceive_config(clip, [], [], {"no_such_weight": 1.0})
