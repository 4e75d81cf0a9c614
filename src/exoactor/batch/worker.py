"""The function every executor runs for a job, in a worker process.

:func:`execute_run` dispatches on the task kind and never raises for a failed run: stage
failures are recorded in the run directory's manifest, and an exception outside the stages is
returned in the :class:`~exoactor.batch.outcome.WorkerReport`.

Crash drill: when a job's ``crash_at`` names a stage (the batch sets it from the environment
variable ``EXOACTOR_BATCH_CRASH=<task>/<cNN>:<stage>``), a watcher thread kills the worker
process with SIGKILL as soon as the manifest shows that stage running: the same end as an
out-of-memory kill, used by the tests to check that a crashed run stays resumable and is
reported. Meant for stages that last longer than a few milliseconds (track, perceive).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import traceback

from exoactor import artefacts
from exoactor.batch.imagine_run import Part, run_imagine_task
from exoactor.batch.motion_run import run_motion_task
from exoactor.batch.outcome import WorkerReport
from exoactor.batch.plan import RunJob
from exoactor.errors import ExoActorError

logger = logging.getLogger(__name__)

CRASH_ENV = "EXOACTOR_BATCH_CRASH"
"""Crash drill variable: ``<run_id>:<stage>`` (e.g. ``walk/c01:track``)."""

_POLL_S = 0.002


def _crash_drill(job: RunJob) -> None:
    """Start a daemon thread that SIGKILLs this process once ``job.crash_at`` is running."""
    manifest = job.run_dir / artefacts.MANIFEST

    def watch() -> None:
        last = None
        while True:
            try:
                stamp = manifest.stat().st_mtime_ns
                if stamp != last:
                    last = stamp
                    stages = json.loads(manifest.read_text()).get("stages", {})
                    if stages.get(job.crash_at, {}).get("status") == "running":
                        logger.warning("crash drill: killing worker %d in %s stage %s",
                                       os.getpid(), job.run_id, job.crash_at)
                        os.kill(os.getpid(), signal.SIGKILL)
            except (OSError, json.JSONDecodeError):
                pass
            time.sleep(_POLL_S)

    threading.Thread(target=watch, name="crash-drill", daemon=True).start()


def execute_run(job: RunJob, part: Part = "all") -> WorkerReport:
    """Run (or resume) one job in this process.

    Args:
        job: the job.
        part: ``all``; or, for imagine jobs on a cluster, ``generate`` (GPU stage only) or
            ``process`` (the CPU stages after it).

    Returns:
        Where it ran, how long it took, and an error raised outside the stages (if any).
    """
    t0 = time.perf_counter()
    if job.crash_at:
        _crash_drill(job)
    error = failed_stage = None
    try:
        if job.kind == "motion":
            failure = run_motion_task(job)
        elif job.kind == "imagine":
            failure = run_imagine_task(job, part)
        else:
            from exoactor.runner import run_video

            summary = run_video(job.input, job.run_dir, job.run_config())  # type: ignore[arg-type]
            failure = None if summary.ok else (summary.failed_stage or "?", summary.error or "?")
        if failure is not None:
            failed_stage, error = failure
    except ExoActorError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug in a run must not stop the batch
        logger.error("%s raised:\n%s", job.run_id, traceback.format_exc())
        error = f"{type(exc).__name__}: {exc}"
    return WorkerReport(run_id=job.run_id, error=error, failed_stage=failed_stage,
                        pid=os.getpid(), seconds=time.perf_counter() - t0)

