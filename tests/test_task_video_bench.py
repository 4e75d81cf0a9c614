"""The task-video benchmark's measures and executable rule, and the runner's report-free verdict
(the benchmark itself runs in ``benchmarks/task_video.py``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from exoactor.fileio import write_json
from exoactor.runner import write_verdict
from exoactor.skeleton import BODY_33

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "task_video.py"


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("task_video_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _standing(T: int = 30, lean_deg: float = 0.0) -> np.ndarray:
    """A stick person 1.70 m tall (nose at 1.59 m), leaning forward by ``lean_deg`` at the hip."""
    j = np.zeros((T, len(BODY_33), 3))
    a = np.radians(lean_deg)
    up = np.array([0.0, np.sin(a), np.cos(a)])
    for side, x in (("left", 0.1), ("right", -0.1)):
        i = BODY_33.index
        j[:, i(f"{side}_ankle")] = [x, 0, 0.08]
        j[:, i(f"{side}_heel")] = [x, -0.05, 0.03]
        j[:, i(f"{side}_foot_index")] = [x, 0.15, 0.02]
        j[:, i(f"{side}_knee")] = [x, 0, 0.50]
        j[:, i(f"{side}_hip")] = [x, 0, 0.92]
        j[:, i(f"{side}_shoulder")] = np.array([x, 0, 0.92]) + 0.50 * up
    j[:, BODY_33.index("nose")] = np.array([0, 0, 0.92]) + 0.67 * up
    return j


def test_tilt_stature_and_path(bench) -> None:  # noqa: ANN001
    names = BODY_33
    upright = _standing()
    assert np.allclose(bench.torso_tilt_deg(upright, names), 0.0, atol=1e-6)
    assert np.allclose(bench.torso_tilt_deg(_standing(lean_deg=10.0), names), 10.0, atol=1e-6)
    assert bench.stature_nose_m(upright, names) == pytest.approx(1.59 - 0.02 + 0.11)
    # (0.42 + 0.42 + 0.50) / 0.779
    assert bench.stature_bones_m(upright, names) == pytest.approx(1.34 / 0.779, rel=1e-6)
    # Jitter faster than 5 Hz does not count; a 1 m walk does, whatever the frame rate.
    t = np.arange(90) / 30.0
    root = np.zeros((90, 3))
    root[:, 0] = 0.01 * (-1.0) ** np.arange(90)
    assert bench.root_path_m(root, 30.0) < 0.05
    walk = np.zeros((31, 3))
    walk[:, 0] = np.linspace(0.0, 1.0, 31)
    assert 0.9 < bench.root_path_m(walk, 10.0) <= 1.0  # ends lose half a window each
    assert 0.9 < bench.root_path_m(np.c_[t / 3.0, 0 * t, 0 * t], 30.0) <= 1.0


def _seated(T: int = 30) -> np.ndarray:
    """The stick person of :func:`_standing` seated: hips at 0.45 m, thighs horizontal
    (forward), shanks and trunk vertical."""
    j = _standing(T)
    i = BODY_33.index
    for side, x in (("left", 0.1), ("right", -0.1)):
        j[:, i(f"{side}_knee")] = [x, 0.42, 0.45]
        j[:, i(f"{side}_ankle")] = [x, 0.42, 0.08]
        j[:, i(f"{side}_heel")] = [x, 0.37, 0.03]
        j[:, i(f"{side}_foot_index")] = [x, 0.57, 0.02]
        j[:, i(f"{side}_hip")] = [x, 0.0, 0.45]
        j[:, i(f"{side}_shoulder")] = [x, 0.0, 0.95]
    j[:, i("nose")] = [0.0, 0.0, 1.12]
    return j


def test_stature_is_the_standing_height_of_someone_who_sits_most_of_the_clip(bench) -> None:  # noqa: ANN001, E501
    names = BODY_33
    # stands for 4 frames of 60, then sits (the bench clip: 8 of 151): the standing height,
    # not the seated one (over all frames, the old measure gave 1.12 - 0.02 + 0.11 = 1.21 m)
    clip = np.concatenate([_standing(4), _seated(56)])
    assert bench.standing_frames(clip, names).tolist() == [True] * 4 + [False] * 56
    assert bench.stature_nose_m(clip, names) == pytest.approx(1.59 - 0.02 + 0.11)
    assert bench.stature_nose_m(_seated(60), names) is None  # never stands: not measured
    # a lean of 40 deg at the hip is not standing straight; 20 deg is
    assert not bench.standing_frames(_standing(lean_deg=40.0), names).any()
    assert bench.standing_frames(_standing(lean_deg=20.0), names).all()
    row = {"labels": {"stands": True}, "tilt_deg": 10.0, "root_path_m": 0.1, "stature_m": None}
    assert bench.perception_checks(row) == {"stature": False}


def test_executable_rule(bench) -> None:  # noqa: ANN001
    good = {"failed_stage": None, "fell": False, "verdict": "marginal", "key_body_error_mm": 80.0,
            "end_drift_m": 0.3, "fraction_not_executed": None}
    assert bench.not_executable_reasons(good) == []
    assert bench.not_executable_reasons({**good, "fraction_not_executed": 0.2}) == [
        "not executed 20%"]
    assert bench.not_executable_reasons({**good, "end_drift_m": 0.6}) == ["end drift 0.6 m"]
    assert bench.not_executable_reasons({**good, "key_body_error_mm": 101.0}) == [
        "key-body 101 mm"]
    assert bench.not_executable_reasons({**good, "fell": True, "verdict": "not executable"}) == [
        "fell", "verdict not executable"]
    assert bench.not_executable_reasons({**good, "failed_stage": "perceive"}) == [
        "perceive failed"]


def test_write_verdict_without_report(tmp_path: Path) -> None:
    assert write_verdict(tmp_path) is None
    write_json(tmp_path / "metrics.json", {"fell": True, "fall_time_s": 1.5})
    (tmp_path / "rollout.npz").write_bytes(b"")
    v = write_verdict(tmp_path)
    assert v["verdict"] == "not executable" and "1.50 s" in v["reasons"][0]
    assert json.loads((tmp_path / "verdict.json").read_text()) == v
    (tmp_path / "rollout.npz").unlink()
    assert write_verdict(tmp_path) is None and not (tmp_path / "verdict.json").exists()


def test_settings_reach_the_run_config(bench, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """``--set``: the clip runs with those RunConfig fields over the defaults; a field that
    does not exist is the clip's error, not a silent default."""
    import exoactor.runner

    seen = []
    monkeypatch.setattr(exoactor.runner, "run_video",
                        lambda video, run_dir, config, **kw: seen.append((config, kw["force"])))
    video = str(tmp_path / "clip.mp4")
    bench.run_clip(video, str(tmp_path / "run"), False, ["retarget"],
                   {"perceive": {"contact_from_planted": True}})
    seen[0], force = seen[0]
    assert force == {"retarget"}  # --force retarget: perception reused
    assert seen[0].perceive.contact_from_planted
    assert seen[0].perceive.min_visibility == exoactor.runner.RunConfig().perceive.min_visibility
    row = bench.run_clip(video, str(tmp_path / "run"), False, None,
                         {"perceive": {"no_such_switch": True}})
    assert len(seen) == 1 and "no_such_switch" in row["error"]


def test_a_mirrored_clip_is_the_clip_flipped_frame_for_frame(bench, tmp_path: Path) -> None:  # noqa: ANN001
    """``--mirror``: every frame flipped left-right, the frame count and rate kept, the labels
    of the original carried over, and the summary counts originals and mirrors apart."""
    import imageio.v3 as iio

    from exoactor.media import write_h264

    frames = np.zeros((12, 64, 96, 3), np.uint8)
    for t in range(12):
        frames[t, 16:48, 8 + 2 * t:24 + 2 * t] = 255  # a block left of centre, moving right
    src = tmp_path / "clip_a.mp4"
    write_h264(frames, 10.0, src)
    labels = {"clip_a": {"upright": True, "in_place": True, "stands": True}}
    clips = bench.with_mirrors([src], tmp_path / "out", labels)
    mirror = clips[1]
    assert clips[0] == src and mirror.name == "clip_a_mirrored.mp4"
    assert labels["clip_a_mirrored"] == labels["clip_a"]
    a, b = iio.imread(src), iio.imread(mirror)
    assert a.shape == b.shape
    assert np.abs(a[:, :, ::-1].astype(int) - b.astype(int)).mean() < 2.0  # flipped, near-lossless
    assert np.abs(a.astype(int) - b.astype(int)).mean() > 20.0  # and not the same picture
    assert iio.immeta(mirror)["fps"] == iio.immeta(src)["fps"]
    rows = [{"clip": "clip_a", "executable": True}, {"clip": "clip_a_mirrored", "executable": False},
            {"clip": "clip_b", "executable": True}]
    assert bench.mirror_summary(rows) == ["executable: originals 1 of 1, mirrored 0 of 1",
                                          "- clip_a: original yes, mirrored no"]
