"""Expand a suite into run jobs: one job per (task, candidate), each with its own run directory.

Layout of a batch folder::

    OUT/runs/<task>/c00/      one run directory per candidate (manifest.json, artefacts)
    OUT/runs/<task>/c00/batch_run.json   the job and its outcome, written when the run ends
    OUT/report.html  OUT/summary.html  OUT/summary.csv  OUT/runs.csv  OUT/failures.csv
    OUT/results.json

Candidates of a task are numbered in the order inputs, then backend combinations, then seeds.
A job's :meth:`RunJob.key` hashes everything that shapes its result, so a finished run whose
job changed (an edited suite) runs again, reusing whatever stages are still current.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exoactor import artefacts
from exoactor.batch.suite import StageConfig, Suite, TaskKind, TaskSpec, deep_merge
from exoactor.errors import ExoActorError

logger = logging.getLogger(__name__)

RUNS_FOLDER = artefacts.BATCH_RUNS
"""Sub-folder of the batch folder that holds the run directories."""

_SEEDS_SHORT = ("suite task '{task}': {n} candidates per combination need {n} seeds, but "
                "'seeds' lists {m}; list more seeds or lower 'candidates'")
_BAD_CONFIG = "suite task '{task}': invalid {stage} config: {problem}"
_BAD_BACKEND = ("suite task '{task}': unknown {kind} '{name}'; available: {available} "
                "(fix 'backends.{field}')")


class RunJob(BaseModel):
    """One (task, candidate): everything a worker needs to produce its run directory."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    """``<task>/c<NN>``, also the run directory below ``OUT/runs``."""
    task: str
    """Task name."""
    candidate: int = Field(ge=0)
    """Candidate index within the task."""
    kind: TaskKind
    """``imagine`` (text + scene), ``video`` or ``motion``."""
    run_dir: Path
    """The run directory (absolute)."""
    input: Path | None = None
    """Video (video tasks) or motion file (motion tasks), absolute."""
    text: str | None = None
    """Task instruction (imagine tasks)."""
    scene: Path | None = None
    """Scene image (imagine tasks), absolute."""
    start_s: float | None = None
    """Window start in the input [s]."""
    end_s: float | None = None
    """Window end in the input [s]."""
    input_fps: float | None = None
    """Rate of a motion file that stores none [Hz]."""
    seed: int = 0
    """Generation seed (imagine) / reference-noise seed of the tracker."""
    backends: dict[str, str] = Field(default_factory=dict)
    """Chosen backend per stage (``imagine``, ``perceive``, ``controller``); unset = default."""
    config: StageConfig = Field(default_factory=StageConfig)
    """Merged stage config overrides."""
    crash_at: str | None = None
    """Crash drill: the worker kills itself (SIGKILL) when this stage starts. Set only from the
    ``EXOACTOR_BATCH_CRASH`` environment variable; not part of :meth:`key`."""

    def key(self) -> str:
        """sha256 of everything that shapes the run's result (not its folder, not drills)."""
        blob = self.model_dump_json(exclude={"run_dir", "crash_at"})
        return hashlib.sha256(blob.encode()).hexdigest()

    @property
    def needs_gpu(self) -> bool:
        """True when the job has a GPU stage (video generation)."""
        return self.kind == "imagine"

    @property
    def report(self) -> bool:
        return self.config.report is not False

    @property
    def report_fps(self) -> float:
        from exoactor.report.config import ReportConfig

        return self.config.report_fps or ReportConfig().fps

    def track_config(self):  # noqa: ANN201 - TrackConfig, imported lazily
        """The tracker's config: overrides, the chosen controller and the seed."""
        from exoactor.control.track import TrackConfig

        data: dict[str, Any] = deep_merge(self.config.track, {"reference": {"noise_seed": self.seed}})
        if "controller" in self.backends:
            data["controller"] = self.backends["controller"]
        return TrackConfig.model_validate(data)

    def run_config(self):  # noqa: ANN201 - RunConfig, imported lazily
        """The end-to-end run's config (video and imagine tasks)."""
        from exoactor.perceive.config import PerceiveConfig
        from exoactor.retarget.config import RetargetConfig
        from exoactor.runner import RunConfig

        perceive = dict(self.config.perceive)
        if "perceive" in self.backends:
            perceive["backend"] = self.backends["perceive"]
        return RunConfig(start_s=self.start_s, end_s=self.end_s,
                         hands=bool(self.config.hands),
                         perceive=PerceiveConfig.model_validate(perceive),
                         retarget=RetargetConfig.model_validate(self.config.retarget),
                         track=self.track_config(), report_fps=self.report_fps)


def _check_backends(task: str, backends: dict[str, str]) -> None:
    checks = []
    if "controller" in backends:
        from exoactor.control.controller import controllers

        checks.append(("controller", "controller", controllers.names()))
    if "perceive" in backends:
        from exoactor.perceive.backend import pose_backends

        checks.append(("perceive", "pose backend", pose_backends.names()))
    for field, kind, names in checks:
        if backends[field] not in names:
            raise ExoActorError(_BAD_BACKEND.format(task=task, kind=kind, name=backends[field],
                                                    available=", ".join(names), field=field))


def _seeds(suite: Suite, task: TaskSpec, n: int) -> list[int]:
    seeds = task.seeds if task.seeds is not None else suite.seeds
    if seeds is None:
        return [suite.seed_base + i for i in range(n)]
    if len(seeds) < n:
        raise ExoActorError(_SEEDS_SHORT.format(task=task.default_name(), n=n, m=len(seeds)))
    return list(seeds[:n])


def plan_runs(suite: Suite, out_dir: str | Path) -> list[RunJob]:
    """Every (task, candidate) of ``suite`` as a job with its run directory under ``out_dir``.

    Configs are validated here, so a bad suite fails before any run starts.

    Raises:
        ExoActorError: too few seeds, an unknown backend, or an invalid stage config (the
            message names the task).
    """
    out_dir = Path(out_dir).resolve()
    jobs: list[RunJob] = []
    for task in suite.tasks:
        name = task.default_name()
        n = task.candidates or suite.candidates
        seeds = _seeds(suite, task, n)
        backends = suite.backends.merged(task.backends).combinations()
        config = suite.config.merged(task.config)
        index = 0
        for source in task.inputs():
            for combo in backends:
                _check_backends(name, combo)
                for seed in seeds:
                    run_id = f"{name}/c{index:02d}"
                    jobs.append(RunJob(
                        run_id=run_id, task=name, candidate=index, kind=task.kind,
                        run_dir=out_dir / RUNS_FOLDER / run_id,
                        input=None if source is None else suite.resolve(source),
                        text=task.text, scene=None if task.scene is None else suite.resolve(
                            task.scene),
                        start_s=task.start_s, end_s=task.end_s, input_fps=task.input_fps,
                        seed=seed, backends=combo, config=config))
                    index += 1
        _validate_configs(jobs[-1])
        noise = jobs[-1].track_config().reference.joint_noise_rad
        if task.kind != "imagine" and len(seeds) > 1 and noise == 0:
            logger.warning("suite task '%s': %d seeds per input, but nothing in a %s task is "
                           "random without config.track.reference.joint_noise_rad > 0; its "
                           "candidates will be identical", name, len(seeds), task.kind)
    return jobs


def _validate_configs(job: RunJob) -> None:
    from pydantic import ValidationError

    try:
        job.run_config() if job.kind != "motion" else job.track_config()
    except ValidationError as exc:
        problem = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                            for e in exc.errors())
        raise ExoActorError(_BAD_CONFIG.format(task=job.task, stage="stage", problem=problem)
                            ) from None
