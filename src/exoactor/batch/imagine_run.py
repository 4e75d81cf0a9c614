"""An imagine task's run: task text + scene image → ``imagine`` (GPU) → the video stages.

The ``imagine`` stage (declared in :data:`exoactor.pipeline.STAGES`) calls
:func:`exoactor.imagine.api.imagine_video`, which runs the imagine stages in the sub-folder
``imagine/`` of the run directory (its own manifest) and returns the checked video; the video is
copied into the run directory as ``imagined.mp4`` and the rest of the run is
:func:`exoactor.runner.run_video` on it (clip → perceive → retarget → objects → track → report)
in the same run directory.

The run splits in two parts so a cluster can place them apart: ``generate`` (the imagine stage,
needs a GPU) and ``process`` (everything after it, CPU only).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Literal

from exoactor import artefacts
from exoactor.batch.plan import RunJob
from exoactor.errors import StageFailed
from exoactor.fileio import atomic_path
from exoactor.pipeline import COMMANDS, RunDir, StageCall, run_stages

logger = logging.getLogger(__name__)

IMAGINED_VIDEO = artefacts.IMAGINED_VIDEO
"""The generated video inside the run directory."""

Part = Literal["all", "generate", "process"]


def _generate(job: RunJob, run: RunDir) -> None:
    from exoactor.imagine import api

    video = Path(api.imagine_video(job.text, job.scene, run.path, seed=job.seed,
                                   generator=job.backends.get("imagine"), **job.config.imagine))
    target = run.artefact(IMAGINED_VIDEO)
    if video.resolve() != target.resolve():
        with atomic_path(target) as tmp:
            shutil.copyfile(video, tmp)


def run_imagine_task(job: RunJob, part: Part = "all") -> tuple[str, str] | None:
    """Run (or resume) ``job``'s run directory, or one part of it.

    Returns:
        ``(stage, error)`` of the stage that failed, or None.
    """
    assert job.kind == "imagine"
    run = RunDir(job.run_dir, name=job.run_id)
    if part in ("all", "generate"):
        calls = {"imagine": lambda: StageCall(
            lambda: _generate(job, run), job.backends.get("imagine", "default"),
            {"text": job.text, "seed": job.seed, **job.config.imagine},
            (job.scene,) if job.scene else ())}
        try:
            run_stages(run, COMMANDS["batch-imagine"], calls)
        except StageFailed as exc:
            logger.warning("%s: %s", job.run_id, exc)
            return "imagine", str(exc.__cause__ or exc)
    if part == "generate":
        return None
    from exoactor.runner import run_video

    summary = run_video(run.artefact(IMAGINED_VIDEO), job.run_dir, job.run_config())
    return None if summary.ok else (summary.failed_stage or "?", summary.error or "?")
