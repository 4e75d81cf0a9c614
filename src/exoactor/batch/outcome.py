"""What one run ended as, read back from its run directory.

The driver builds every outcome from the run directory (manifest, ``metrics.json``) plus what
the executor saw of the worker (an exception outside the stages, or the worker process dying).
The run directory is the single source of truth, so both executors report identical outcomes
for identical runs, and a restarted batch reads a finished run back without running it.
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from exoactor import artefacts
from exoactor.batch.plan import RunJob
from exoactor.fileio import write_json
from exoactor.pipeline import COMMANDS

logger = logging.getLogger(__name__)

OUTCOME_FILE = artefacts.BATCH_OUTCOME
"""Written into a run directory when its run ends: the job, its key and the outcome."""

MOTION_STAGES = COMMANDS["motion"]
"""Stages of a motion task (``report`` only when reports are on)."""
VIDEO_STAGES = COMMANDS["run"]
"""Stages of a video task (:data:`exoactor.runner.STAGES`)."""
IMAGINE_STAGES = (*COMMANDS["batch-imagine"], *VIDEO_STAGES)
"""Stages of an imagine task."""

METRIC_KEYS = ("fell", "fall_time_s", "success", "global_body_error_max_m", "key_body_error_mm",
               "mean_joint_error_rad", "root_xy_error_end_m", "yaw_error_end_deg",
               "evaluated_s", "clip_duration_s")
"""Tracking metrics an outcome carries (from ``metrics.json``)."""

_WORKER_DIED = ("the worker process died while running stage '{stage}'; the run directory is "
                "resumable: run the batch again to finish it")

Status = Literal["ok", "failed"]


@dataclass(frozen=True)
class WorkerReport:
    """What a worker returns for one job. Stage errors live in the manifest; this carries only
    an error raised outside any stage (e.g. a missing input) and where the job ran."""

    run_id: str
    error: str | None = None
    """Message of an exception outside the stages (None: the run function returned)."""
    failed_stage: str | None = None
    """Stage the run function reported as failed, when the manifest cannot say."""
    host: str = field(default_factory=socket.gethostname)
    pid: int = 0
    seconds: float = 0.0
    """Wall time of the job in the worker [s]."""


@dataclass(frozen=True)
class JobEnd:
    """An executor's report that a job ended."""

    job: RunJob
    report: WorkerReport | None
    """None when the worker died."""
    crash: str | None = None
    """Why the worker died (exit code or signal, or the Ray error), when it did."""


@dataclass(frozen=True)
class RunOutcome:
    """One run of a batch: status, failure, physics verdict, key metrics and stage times."""

    run_id: str
    task: str
    candidate: int
    kind: str
    run_dir: Path
    status: Status
    """``ok``: every stage finished (the verdict may still be *not executable*)."""
    failed_stage: str | None = None
    error: str | None = None
    verdict: str | None = None
    """Physics verdict from the tracking metrics (None when tracking did not finish)."""
    verdict_reasons: tuple[str, ...] = ()
    metrics: dict[str, float | bool | None] = field(default_factory=dict)
    """The :data:`METRIC_KEYS` found in ``metrics.json``."""
    stage_seconds: dict[str, float] = field(default_factory=dict)
    """Compute time of each stage that ran [s] (cached stages keep their first time)."""
    seed: int = 0
    backends: dict[str, str] = field(default_factory=dict)
    input: str | None = None
    skipped: bool = False
    """True when a restarted batch found the run finished and did not run it again."""
    crashed: bool = False
    """True when the worker process died during the run."""
    detail: str | None = None
    """How the worker died (exit status or the Ray error); executor-specific, so kept out of
    :attr:`error`."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def result_dict(self) -> dict:
        """The executor-independent result (no times, no paths, no skip flag)."""
        return {"run_id": self.run_id, "status": self.status, "failed_stage": self.failed_stage,
                "error": self.error, "verdict": self.verdict, "metrics": dict(self.metrics)}

    def to_json(self) -> dict:
        out = asdict(self)
        out["run_dir"] = str(self.run_dir)
        out["verdict_reasons"] = list(self.verdict_reasons)
        return out


def expected_stages(job: RunJob) -> tuple[str, ...]:
    """Stages a finished run of ``job`` has, in order."""
    if job.kind == "motion":
        return MOTION_STAGES if job.report else MOTION_STAGES[:-1]
    return IMAGINE_STAGES if job.kind == "imagine" else VIDEO_STAGES


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, json.JSONDecodeError):
        logger.warning("%s is unreadable; ignored", path)
        return None


def read_outcome(job: RunJob, end: JobEnd | None = None, skipped: bool = False) -> RunOutcome:
    """Build the outcome of ``job`` from its run directory and the executor's report.

    Args:
        job: the job.
        end: how the job ended (None: read a finished run back, nothing ran).
        skipped: mark the outcome as read back from a finished run.
    """
    from exoactor.report.verdict import physics_verdict

    manifest = _read_json(job.run_dir / artefacts.MANIFEST) or {}
    stages: dict = manifest.get("stages", {})
    order = list(expected_stages(job)) + [s for s in stages if s not in expected_stages(job)]
    seconds = {s: float(stages[s]["seconds"]) for s in order
               if s in stages and stages[s].get("seconds") is not None}
    failed_stage = error = None
    crashed = end is not None and end.report is None
    if crashed:
        failed_stage = next((s for s in order if stages.get(s, {}).get("status") == "running"),
                            "startup")
        error = _WORKER_DIED.format(stage=failed_stage)
    else:
        failed = next((s for s in order if stages.get(s, {}).get("status") == "failed"), None)
        if failed is not None:
            failed_stage, error = failed, stages[failed].get("error") or "unknown error"
        elif end is not None and end.report is not None and end.report.error:
            failed_stage = end.report.failed_stage or next(
                (s for s in order if stages.get(s, {}).get("status") != "ok"), "startup")
            error = end.report.error
        else:
            missing = [s for s in expected_stages(job) if stages.get(s, {}).get("status") != "ok"]
            if missing:
                failed_stage, error = missing[0], f"stage '{missing[0]}' did not finish"

    verdict = None
    reasons: tuple[str, ...] = ()
    metrics: dict = {}
    track_ok = stages.get("track", {}).get("status") == "ok"
    raw = _read_json(job.run_dir / artefacts.METRICS) if track_ok else None
    if raw is not None:
        metrics = {k: raw[k] for k in METRIC_KEYS if k in raw}
        v = physics_verdict(raw)
        verdict, reasons = v.verdict, v.reasons
    return RunOutcome(
        run_id=job.run_id, task=job.task, candidate=job.candidate, kind=job.kind,
        run_dir=job.run_dir, status="failed" if failed_stage else "ok",
        failed_stage=failed_stage, error=error, verdict=verdict, verdict_reasons=reasons,
        metrics=metrics, stage_seconds=seconds, seed=job.seed, backends=dict(job.backends),
        input=None if job.input is None else str(job.input), skipped=skipped, crashed=crashed,
        detail=end.crash if crashed and end is not None else None)


def record_outcome(job: RunJob, outcome: RunOutcome) -> None:
    """Write :data:`OUTCOME_FILE` into the run directory."""
    write_json(job.run_dir / OUTCOME_FILE, {"job_key": job.key(),
                                            "job": job.model_dump(mode="json"),
                                            "outcome": outcome.to_json()})


def is_finished(job: RunJob) -> bool:
    """True when the run directory holds a finished (``ok``) run of this very job."""
    record = _read_json(job.run_dir / OUTCOME_FILE)
    return bool(record and record.get("job_key") == job.key()
                and record.get("outcome", {}).get("status") == "ok"
                and (job.run_dir / artefacts.MANIFEST).is_file())
