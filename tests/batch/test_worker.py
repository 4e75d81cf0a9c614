"""The worker entry in-process: what a video job hands to the end-to-end runner, and import
hygiene of the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from exoactor.batch import RunJob
from exoactor.batch.outcome import JobEnd, read_outcome
from exoactor.batch.suite import StageConfig
from exoactor.batch.worker import execute_run


@pytest.mark.slow
def test_video_job_runs_the_end_to_end_runner(tmp_path: Path, monkeypatch) -> None:
    from exoactor import runner

    calls = []

    def fake_run_video(video, out_dir, config, force=frozenset()):  # noqa: ANN001, ANN202
        calls.append((Path(video), Path(out_dir), config))
        return runner.RunSummary(Path(out_dir), failed_stage="perceive",
                                 error="NoPersonFound: nobody in frame 0")

    monkeypatch.setattr(runner, "run_video", fake_run_video)
    job = RunJob(run_id="walk/c00", task="walk", candidate=0, kind="video",
                 run_dir=tmp_path / "run", input=tmp_path / "clip.mp4", start_s=2.6, end_s=4.2,
                 seed=3, backends={"perceive": "mediapipe", "controller": "twist2"},
                 config=StageConfig(hands=True, report_fps=12, perceive={"fov_deg": 60},
                                    track={"drift": {"enabled": False}}))
    report = execute_run(job)
    ((video, out, cfg),) = calls
    assert (video, out) == (tmp_path / "clip.mp4", tmp_path / "run")
    assert (cfg.start_s, cfg.end_s, cfg.hands, cfg.report_fps) == (2.6, 4.2, True, 12)
    assert cfg.perceive.backend == "mediapipe" and cfg.perceive.fov_deg == 60
    assert cfg.track.controller == "twist2" and cfg.track.drift.enabled is False
    assert cfg.track.reference.noise_seed == 3 and cfg.retarget.hands is False
    assert (report.failed_stage, report.error) == ("perceive", "NoPersonFound: nobody in frame 0")
    outcome = read_outcome(job, JobEnd(job, report))
    assert (outcome.status, outcome.failed_stage) == ("failed", "perceive")


def test_bugs_in_a_run_become_its_error(tmp_path: Path, monkeypatch) -> None:
    from exoactor.batch import worker

    def boom(job):  # noqa: ANN001, ANN202
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(worker, "run_motion_task", boom)
    job = RunJob(run_id="t/c00", task="t", candidate=0, kind="motion", run_dir=tmp_path,
                 input=tmp_path / "m.npz")
    assert execute_run(job).error == "ZeroDivisionError: division by zero"


def test_import_pulls_in_neither_ray_nor_the_simulator() -> None:
    code = ("import sys, exoactor.batch, exoactor.batch.executors.local; "
            "print(','.join(m for m in ('ray', 'mujoco', 'onnxruntime', 'mediapipe', 'yaml') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
