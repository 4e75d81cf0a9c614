"""End to end from a video: run directory, resume after a kill, failure reporting, the report
page checked in headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from exoactor.runner import RunConfig, run_video

WINDOW_S = (2.6, 4.2)
"""A short stretch of the sample clip: the woman walking past on the lawn."""


@pytest.fixture(scope="session")
def finished_run(sample_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "walk"
    summary = run_video(sample_clip, out, RunConfig(start_s=WINDOW_S[0], end_s=WINDOW_S[1]))
    assert summary.ok, summary.error
    return out


@pytest.mark.slow
def test_run_directory_has_every_artefact(finished_run: Path) -> None:
    for name in ("manifest.json", "video.mp4", "human_motion.npz", "perceive_overlay.mp4",
                 "perceive_metrics.json", "robot_motion.npz", "retarget_metrics.json", "scene.json",
                 "rollout.npz", "metrics.json", "robot_in_scene.mp4", "robot_in_scene.jpg",
                 "side_by_side.mp4", "report.html", "verdict.json"):
        assert (finished_run / name).is_file(), name
    manifest = json.loads((finished_run / "manifest.json").read_text())
    assert [s for s, e in manifest["stages"].items() if e["status"] != "ok"] == []
    assert manifest["stages"]["perceive"]["config"]["backend"] == "mediapipe"
    verdict = json.loads((finished_run / "verdict.json").read_text())
    assert (verdict["verdict"] in ("executable", "marginal", "not executable")
            or verdict["verdict"].startswith("executable with changes: "))
    assert verdict["reasons"]


@pytest.mark.slow
def test_side_by_side_is_time_aligned(finished_run: Path) -> None:
    import imageio_ffmpeg

    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(finished_run / "side_by_side.mp4"))
    clip_s = WINDOW_S[1] - WINDOW_S[0]
    assert seconds >= clip_s - 0.1 and frames >= 25 * (clip_s - 0.1)
    gen = imageio_ffmpeg.read_frames(str(finished_run / "side_by_side.mp4"))
    meta = next(gen)
    w, h = meta["size"]
    assert w > 2.5 * h  # robot in the scene (16:9) | world view (4:3), plus a caption strip


@pytest.mark.slow
def test_rerun_is_cached(finished_run: Path, sample_clip: Path) -> None:
    summary = run_video(sample_clip, finished_run, RunConfig(start_s=WINDOW_S[0],
                                                            end_s=WINDOW_S[1]))
    assert {s: r.status for s, r in summary.stages.items()} == {
        "clip": "cached", "perceive": "cached", "retarget": "cached", "objects": "cached",
        "track": "cached", "report": "cached"}


@pytest.mark.slow
def test_edited_scene_json_reruns_only_track_and_report(finished_run: Path, sample_clip: Path,
                                                        tmp_path: Path) -> None:
    """scene.json is the user's to edit: a change re-runs track (with the object in the physics,
    scored in metrics.json) and the report, nothing before."""
    from exoactor.formats.scene import ObjectPose
    from exoactor.scene import Scene, SceneObject, load_scene, save_scene

    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    assert load_scene(run / "scene.json").objects == ()        # a walk on the lawn: no objects
    table = SceneObject(kind="table", name="far away", pose=ObjectPose(pos=(20.0, 0.0, 0.7)),
                        size=(0.6, 1.0, 0.04), evidence=((0, 5),))
    save_scene(Scene(objects=(table,)), run / "scene.json")
    summary = run_video(sample_clip, run, RunConfig(start_s=WINDOW_S[0], end_s=WINDOW_S[1]))
    assert {s: r.status for s, r in summary.stages.items()} == {
        "clip": "cached", "perceive": "cached", "retarget": "cached", "objects": "cached",
        "track": "ok", "report": "ok"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"]["scene"]["objects"][0]["name"] == "far away"
    inter = metrics["interaction"]
    assert not inter["succeeded"] and inter["objects"][0]["hand_distance_m"] > 10
    assert summary.verdict["verdict"] == "not executable"
    assert any("table far away" in r for r in summary.verdict["reasons"])


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="apt-get install chromium")
def test_report_in_chromium(finished_run: Path) -> None:
    from exoactor.report.browser import probe_page, screenshot

    probe = probe_page(finished_run / "report.html")
    assert len(probe.videos) == 3, probe.videos  # robot in scene, side by side, input overlay
    assert probe.videos_playing, probe.videos
    assert len(probe.plots) >= 3 and probe.plots_drawn, probe.plots
    png = screenshot(finished_run / "report.html", finished_run / "report.png", height=1600)
    import imageio.v3 as iio

    image = iio.imread(png)
    assert image.shape[0] == 1600 and image.std() > 20  # not a blank page


def _kill_during_track(cmd: list[str], run_dir: Path, env: dict) -> bool:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    manifest = run_dir / "manifest.json"
    try:
        while proc.poll() is None:
            try:
                stages = json.loads(manifest.read_text())["stages"]
            except (OSError, json.JSONDecodeError, KeyError):
                stages = {}
            if stages.get("track", {}).get("status") == "running":
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.002)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return False


@pytest.mark.slow
def test_killed_during_track_resumes(finished_run: Path, sample_clip: Path,
                                     tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    shutil.copytree(finished_run, run_dir)
    before = json.loads((run_dir / "manifest.json").read_text())["stages"]
    cmd = [sys.executable, "-m", "exoactor.cli", "run", "--video", str(sample_clip), "--out",
           str(run_dir), "--start", str(WINDOW_S[0]), "--end", str(WINDOW_S[1]),
           "--force", "track"]
    env = {**os.environ}
    killed = any(_kill_during_track(cmd, run_dir, env) for _ in range(5))
    assert killed, "could not catch the run inside the track stage"
    stages = json.loads((run_dir / "manifest.json").read_text())["stages"]
    assert stages["track"]["status"] == "running"  # killed hard: the manifest says so
    summary = run_video(sample_clip, run_dir, RunConfig(start_s=WINDOW_S[0], end_s=WINDOW_S[1]))
    status = {s: r.status for s, r in summary.stages.items()}
    assert status["perceive"] == "cached" and status["retarget"] == "cached"
    assert status["track"] == "ok" and summary.ok
    assert json.loads((run_dir / "manifest.json").read_text())["stages"]["perceive"][
        "started"] == before["perceive"]["started"]


def test_video_without_person_fails_at_perceive(tmp_path: Path) -> None:
    import imageio.v3 as iio

    rng = np.random.default_rng(0)
    frames = (rng.random((20, 120, 160, 3)) * 40 + 100).astype(np.uint8)
    video = tmp_path / "empty_scene.mp4"
    iio.imwrite(video, frames, fps=10, codec="libx264")
    summary = run_video(video, tmp_path / "run")
    assert not summary.ok and summary.failed_stage == "perceive"
    assert "person" in summary.error.lower()
    page = (tmp_path / "run" / "report.html").read_text()
    assert "id='failure'" in page and "perceive" in page and "person" in page.lower()
    assert not (tmp_path / "run" / "robot_motion.npz").exists()
    assert (tmp_path / "run" / "video.mp4").is_file()  # the finished stage's artefact stays


def test_run_config_file_overrides_nested_stage_settings(tmp_path: Path) -> None:
    from exoactor.cli import _run_config

    cfg_file = tmp_path / "run.json"
    cfg_file.write_text(json.dumps({"perceive": {"hands": False}, "track": {"start": "blend"}}))
    cfg = _run_config(cfg_file, 1.0, None, False, 55.0, True)
    assert cfg.perceive.hands is False and cfg.perceive.fov_deg == 55.0
    assert cfg.track.start == "blend" and cfg.retarget.reground is True and cfg.start_s == 1.0



def test_video_stages_share_one_filter_memo(tmp_path: Path, monkeypatch) -> None:
    """The objects stage filters the seat pair it chooses and the track stage follows it:
    both run inside one :func:`exoactor.control.filter.memo.remembering` scope, so the
    pair is filtered once; the scope closes with the stages (the stage runner replaced)."""
    from exoactor import runner
    from exoactor.control.filter import memo as filter_memo

    seen = {}

    def fake(run, names, calls, force=(), results=None):  # noqa: ANN001, ANN202
        seen[tuple(names)] = filter_memo.active()
        return {}

    monkeypatch.setattr(runner, "run_stages", fake)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not decoded: the stages are replaced")
    run_video(video, tmp_path / "run", report=False)
    assert seen[runner.STAGES[:-1]] is not None
    assert filter_memo.active() is None
