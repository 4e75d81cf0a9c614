"""A motion task's run: a robot motion file → ``motion`` → ``track`` → ``report``.

The cheap unit of a batch (no video, no perception): the motion file is loaded, cut to the
task's window and saved as ``robot_motion.npz``; the tracker executes it in MuJoCo
(``rollout.npz``, ``metrics.json``); the report (``report.html``, ``verdict.json``, videos) is
written when the job asks for it, after a failed stage too. Every stage goes through
:class:`~exoactor.pipeline.RunDir`, so an interrupted run resumes at the stage it was in.
"""

from __future__ import annotations

import logging

from exoactor import artefacts
from exoactor.batch.plan import RunJob
from exoactor.errors import ExoActorError, StageFailed
from exoactor.pipeline import COMMANDS, RunDir, StageCall, run_stages

logger = logging.getLogger(__name__)


def _prepare_motion(job: RunJob, run: RunDir) -> None:
    from exoactor.formats import load_motion, save_npz

    assert job.input is not None
    motion = load_motion(job.input, fps=job.input_fps)
    first = 0 if job.start_s is None else round(job.start_s * motion.fps)
    stop = None if job.end_s is None else round(job.end_s * motion.fps) + 1
    if first >= motion.num_frames - 1 or (stop is not None and stop - first < 2):
        raise ExoActorError(
            f"{job.input}: the window {job.start_s}-{job.end_s} s leaves fewer than 2 frames of "
            f"a {motion.duration_s:.2f} s motion; fix the task's start_s/end_s")
    save_npz(motion.slice(first, stop), run.artefact(artefacts.ROBOT_MOTION))


def _track(run: RunDir, config) -> None:  # noqa: ANN001 - TrackConfig
    from exoactor.control.track import track_motion
    from exoactor.formats import load_npz
    from exoactor.formats.motion import RobotMotion

    motion = load_npz(run.artefact(artefacts.ROBOT_MOTION), expect=RobotMotion)
    track_motion(motion, config, out_dir=run.path)


def run_motion_task(job: RunJob) -> tuple[str, str] | None:
    """Run (or resume) ``job``'s run directory: the ``motion`` command's stages
    (:data:`exoactor.pipeline.COMMANDS`), the report only when the job asks for it.

    Returns:
        ``(stage, error)`` of the stage that failed, or None when every stage finished.
    """
    assert job.kind == "motion" and job.input is not None
    run = RunDir(job.run_dir, name=job.run_id)
    order = COMMANDS["motion"]
    failure: tuple[str, str] | None = None
    track = job.track_config()

    def report_call() -> StageCall:
        from exoactor.report.build import build_report

        return StageCall(lambda: build_report(run.path, fps=job.report_fps), "html",
                         {"fps": job.report_fps, "failed": failure[0] if failure else None})

    calls = {
        "motion": lambda: StageCall(lambda: _prepare_motion(job, run), "formats",
                                    {"start_s": job.start_s, "end_s": job.end_s,
                                     "input_fps": job.input_fps}, (job.input,)),
        "track": lambda: StageCall(lambda: _track(run, track), track.controller, track),
        "report": report_call,
    }
    try:
        run_stages(run, order[:-1], calls)
    except StageFailed as exc:
        failure = (_failed_stage(run, order), str(exc.__cause__ or exc))
        logger.warning("%s: %s", job.run_id, exc)
    if job.report:
        try:
            run_stages(run, order[-1:], calls)
        except StageFailed as exc:
            failure = failure or ("report", str(exc.__cause__ or exc))
    return failure


def _failed_stage(run: RunDir, order: tuple[str, ...]) -> str:
    for name in order:
        entry = run.stage(name) or {}
        if entry.get("status") != "ok":
            return name
    return order[-1]
