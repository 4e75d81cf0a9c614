"""An imagine task's run: task text + scene image → ``imagine`` (GPU) → the video pipeline.

The ``imagine`` stage calls the imagine package's entry point, :data:`IMAGINE_ENTRY`, which must
write a video of a person doing the task and return its path (or an object with a ``video``
attribute)::

    imagine_video(task: str, scene: Path, out_dir: Path, *, seed: int,
                  generator: str | None = None, **options) -> Path

The video is copied into the run directory as ``imagined.mp4`` and the rest of the run is
:func:`exoactor.runner.run_video` on it (clip → perceive → retarget → track → report) in the same
run directory. Until that package is installed the stage fails with :data:`NOT_BUILT`, recorded
in the manifest like any stage failure.

The run splits in two parts so a cluster can place them apart: ``generate`` (the imagine stage,
needs a GPU) and ``process`` (everything after it, CPU only).
"""

from __future__ import annotations

import importlib
import logging
import shutil
from pathlib import Path
from typing import Literal

from exoactor.batch.plan import RunJob
from exoactor.errors import StageFailed, StageNotBuilt
from exoactor.fileio import atomic_path
from exoactor.pipeline import RunDir

logger = logging.getLogger(__name__)

IMAGINE_MODULE = "exoactor.imagine"
IMAGINE_ENTRY = "imagine_video"
"""Function of :data:`IMAGINE_MODULE` the imagine stage calls."""
IMAGINED_VIDEO = "imagined.mp4"
"""The generated video inside the run directory."""

NOT_BUILT = ("imagine stage not installed/built: {module}.{entry} is missing ({why}); imagine "
             "tasks (text + scene) need issue #7's imagine package; meanwhile give the task a "
             "'video' or a 'motion' instead")

Part = Literal["all", "generate", "process"]


def imagine_entry():  # noqa: ANN201 - the imagine package's callable
    """The imagine entry point.

    Raises:
        StageNotBuilt: the imagine package or its entry point is missing.
    """
    try:
        module = importlib.import_module(IMAGINE_MODULE)
    except ImportError as exc:
        raise StageNotBuilt(NOT_BUILT.format(module=IMAGINE_MODULE, entry=IMAGINE_ENTRY,
                                             why=f"import failed: {exc}")) from exc
    fn = getattr(module, IMAGINE_ENTRY, None)
    if fn is None:
        raise StageNotBuilt(NOT_BUILT.format(module=IMAGINE_MODULE, entry=IMAGINE_ENTRY,
                                             why="the package has no such function"))
    return fn


def imagine_available() -> bool:
    """True when the imagine entry point can be imported."""
    try:
        imagine_entry()
    except StageNotBuilt:
        return False
    return True


def _generate(job: RunJob, run: RunDir) -> None:
    fn = imagine_entry()
    result = fn(job.text, job.scene, run.path, seed=job.seed,
                generator=job.backends.get("imagine"), **job.config.imagine)
    video = Path(getattr(result, "video", result))
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
        try:
            run.run_stage("imagine", lambda: _generate(job, run),
                          backend=job.backends.get("imagine", "default"),
                          config={"text": job.text, "seed": job.seed, **job.config.imagine},
                          inputs=[job.scene] if job.scene else [], outputs=[IMAGINED_VIDEO])
        except StageFailed as exc:
            logger.warning("%s: %s", job.run_id, exc)
            return "imagine", str(exc.__cause__ or exc)
    if part == "generate":
        return None
    from exoactor.runner import run_video

    summary = run_video(run.artefact(IMAGINED_VIDEO), job.run_dir, job.run_config())
    return None if summary.ok else (summary.failed_stage or "?", summary.error or "?")
