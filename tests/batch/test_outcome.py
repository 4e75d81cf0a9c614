"""Outcomes read back from run directories; the summary tables and the batch report."""

from __future__ import annotations

import csv
import json
from html.parser import HTMLParser
from pathlib import Path

from exoactor.batch import RunJob
from exoactor.batch.outcome import (
    JobEnd,
    WorkerReport,
    is_finished,
    read_outcome,
    record_outcome,
)
from exoactor.batch.ranking import rank_all
from exoactor.batch.report import write_batch_report
from exoactor.batch.summary import write_summary

METRICS = {"fell": False, "fall_time_s": None, "success": True, "global_body_error_max_m": 0.2,
           "key_body_error_mm": 40.0, "mean_joint_error_rad": 0.05, "root_xy_error_end_m": 0.05,
           "yaw_error_end_deg": 2.0, "evaluated_s": 1.2, "clip_duration_s": 1.2}


def make_run(root: Path, run_id: str, stages: dict[str, str], metrics: dict | None = None,
             error: str = "boom", candidate: int = 0) -> RunJob:
    """A job and a hand-written run directory with the given stage statuses."""
    job = RunJob(run_id=run_id, task=run_id.split("/")[0], candidate=candidate, kind="motion",
                 run_dir=root / "runs" / run_id, input=Path("/in/a.npz"))
    job.run_dir.mkdir(parents=True)
    manifest = {"stages": {s: {"status": st, "seconds": 0.5 if st != "running" else None,
                               "error": error if st == "failed" else None}
                           for s, st in stages.items()}}
    (job.run_dir / "manifest.json").write_text(json.dumps(manifest))
    if metrics is not None:
        (job.run_dir / "metrics.json").write_text(json.dumps(metrics))
    return job


def test_finished_run(tmp_path: Path) -> None:
    job = make_run(tmp_path, "t/c00", {"motion": "ok", "track": "ok", "report": "ok"}, METRICS)
    o = read_outcome(job, JobEnd(job, WorkerReport(job.run_id)))
    assert o.ok and o.failed_stage is None and o.verdict == "executable"
    assert o.metrics["global_body_error_max_m"] == 0.2
    assert o.stage_seconds == {"motion": 0.5, "track": 0.5, "report": 0.5}
    assert not is_finished(job)
    record_outcome(job, o)
    assert is_finished(job)
    assert not is_finished(job.model_copy(update={"seed": 3}))  # another job: runs again


def test_failed_stage_comes_from_the_manifest(tmp_path: Path) -> None:
    job = make_run(tmp_path, "t/c00", {"motion": "ok", "track": "failed", "report": "ok"},
                   error="PhysicsDiverged: NaN at step 12")
    o = read_outcome(job, JobEnd(job, WorkerReport(job.run_id, error="ignored")))
    assert (o.status, o.failed_stage, o.error) == ("failed", "track",
                                                   "PhysicsDiverged: NaN at step 12")
    assert o.verdict is None and o.metrics == {}


def test_dead_worker_names_the_running_stage(tmp_path: Path) -> None:
    job = make_run(tmp_path, "t/c00", {"motion": "ok", "track": "running"})
    o = read_outcome(job, JobEnd(job, None, "killed by SIGKILL"))
    assert o.crashed and o.failed_stage == "track" and o.detail == "killed by SIGKILL"
    assert "worker process died while running stage 'track'" in o.error
    assert "resumable" in o.error and "SIGKILL" not in o.error  # executor-independent reason
    early = RunJob(run_id="t/c01", task="t", candidate=1, kind="motion",
                   run_dir=tmp_path / "none", input=Path("/in/a.npz"))
    assert read_outcome(early, JobEnd(early, None, "exit code 1")).failed_stage == "startup"


def test_error_outside_the_stages(tmp_path: Path) -> None:
    job = make_run(tmp_path, "t/c00", {})
    o = read_outcome(job, JobEnd(job, WorkerReport(job.run_id, error="no such video")))
    assert (o.failed_stage, o.error) == ("motion", "no such video")
    half = make_run(tmp_path, "t/c01", {"motion": "ok"})
    assert read_outcome(half).error == "stage 'track' did not finish"


class _Cards(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cards: list[tuple[str, str]] = []
        self.videos: list[str] = []
        self.thumbs: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "div" and "data-run" in a:
            self.cards.append((a["data-run"], a["class"]))
        if tag == "video":
            self.videos.append(a["src"])
        if tag == "img":
            self.thumbs.append(a["src"])
        if tag == "a":
            self.links.append(a["href"])


def test_tables_and_report(tmp_path: Path) -> None:
    worse = dict(METRICS, global_body_error_max_m=0.4)
    jobs = [make_run(tmp_path, "walk/c00", {"motion": "ok", "track": "ok"}, worse),
            make_run(tmp_path, "walk/c01", {"motion": "ok", "track": "ok"}, METRICS,
                     candidate=1),
            make_run(tmp_path, "walk/c02", {"motion": "ok", "track": "running"}, candidate=2),
            make_run(tmp_path, "jump/c00", {"motion": "failed"}, error="bad window\nmore"),
            make_run(tmp_path, "jump/c01", {"motion": "failed"}, error="bad window",
                     candidate=1)]
    (jobs[1].run_dir / "rollout.mp4").write_bytes(b"\0")
    for name in ("robot_in_scene.jpg", "robot_in_scene.mp4", "rollout.mp4"):
        (jobs[0].run_dir / name).write_bytes(b"\0")  # a video run: the thumbnail wins
    ends = [JobEnd(j, WorkerReport(j.run_id)) for j in jobs]
    ends[2] = JobEnd(jobs[2], None, "killed by SIGKILL")
    runs = [read_outcome(j.model_copy(update={"config": j.config.model_copy(
        update={"report": False})}), e) for j, e in zip(jobs, ends)]
    rankings = rank_all(runs)
    files = write_summary(tmp_path, "s", runs, rankings)
    tasks = list(csv.DictReader(files.tasks_csv.open()))
    assert [(t["task"], t["success"], t["winner"], t["finished"], t["failed"]) for t in tasks] == [
        ("walk", "True", "walk/c01", "2", "1"), ("jump", "False", "", "0", "2")]
    assert tasks[0]["motion_s"] == "0.5" and tasks[0]["track_s"] == "0.5"
    assert tasks[1]["failures"] == "motion: bad window (x2)"
    failures = list(csv.DictReader(files.failures_csv.open()))
    assert [(f["stage"], f["count"], f["runs"]) for f in failures] == [
        ("motion", "2", "jump/c00 jump/c01"), ("track", "1", "walk/c02")]
    rows = list(csv.DictReader(files.runs_csv.open()))
    assert [(r["run"], r["rank"], r["winner"]) for r in rows][:3] == [
        ("walk/c00", "2", "False"), ("walk/c01", "1", "True"), ("walk/c02", "", "False")]
    assert rows[2]["crash"] == "killed by SIGKILL" and rows[0]["run_dir"] == "runs/walk/c00"
    assert "failures by stage and reason" in files.html.read_text()

    page = write_batch_report(tmp_path, "s", runs, rankings)
    parser = _Cards()
    parser.feed(page.read_text())
    assert parser.cards == [("walk/c01", "cand is-winner"), ("walk/c00", "cand"),
                            ("walk/c02", "cand"), ("jump/c00", "cand"), ("jump/c01", "cand")]
    assert parser.videos == ["runs/walk/c01/rollout.mp4"]
    assert parser.thumbs == ["runs/walk/c00/robot_in_scene.jpg"]
    assert "runs/walk/c00/robot_in_scene.mp4" in parser.links
    assert "WINNER" in page.read_text() and "killed by SIGKILL" in page.read_text()
