"""End-to-end runs: video → perceive → retarget → track → report, through one run directory.

Every stage goes through :class:`~exoactor.pipeline.RunDir`, so a run can be interrupted
(crash, Ctrl-C) and started again: finished stages whose inputs and config are unchanged are
skipped, ``force`` recomputes named stages. The report is written even when a stage fails, and
says which stage failed and why.

Artefacts (see the design notes): ``video.mp4`` (the input clip, trimmed to the window),
``human_motion.npz`` + ``perceive_overlay.mp4`` + ``perceive_metrics.json``,
``robot_motion.npz`` + ``retarget_metrics.json``, ``scene.json`` (objects inferred from the
robot motion by the ``objects`` stage; edit it and run again: only the track stage and the
report re-run), ``rollout.npz`` + ``metrics.json`` (with ``interaction`` when the scene has
objects), ``robot_in_scene.mp4`` + ``robot_in_scene.jpg`` + ``side_by_side.mp4`` +
``report.html`` + ``verdict.json``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exoactor import artefacts
from exoactor.control.filter import memo as filter_memo
from exoactor.control.filter.config import FilterConfig
from exoactor.control.track import TrackConfig
from exoactor.errors import ExoActorError, StageFailed
from exoactor.fileio import atomic_path
from exoactor.perceive.config import PerceiveConfig
from exoactor.pipeline import (
    COMMANDS,
    RunDir,
    StageCall,
    StageResult,
    failed_stage,
    forced_stages,
    run_stages,
)
from exoactor.pipeline import (
    STAGES as PIPELINE_STAGES,
)
from exoactor.report.config import ReportConfig
from exoactor.retarget.config import RetargetConfig
from exoactor.scene.infer import InferConfig

logger = logging.getLogger(__name__)

STAGES = COMMANDS["run"]
"""Stage names in order (``--force`` takes these; declared in :data:`exoactor.pipeline.STAGES`).
``objects`` writes ``scene.json`` (named so as not to clash with ``imagine``'s ``scene`` stage,
the scene photo, in the same manifest)."""


class RunConfig(BaseModel):
    """One end-to-end run from a video. Written into the manifest stage by stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_s: float | None = Field(None, ge=0.0)
    """Start of the window of the input video to use [s] (default: its start)."""
    end_s: float | None = Field(None, gt=0.0)
    """End of the window [s] (default: its end)."""
    hands: bool = False
    """Retarget and track the Dex3-1 hands (43-DoF model)."""
    perceive: PerceiveConfig = Field(default_factory=PerceiveConfig)
    """Perception stage settings."""
    retarget: RetargetConfig = Field(default_factory=RetargetConfig)
    """Retargeting stage settings."""
    objects: InferConfig = Field(default_factory=InferConfig)
    """``objects`` stage: rules that infer seats, tables and carried boxes from the robot motion."""
    infer_objects: bool = True
    """Infer the objects; ``False`` writes an empty ``scene.json`` (the empty floor; objects can
    still be added to it by hand)."""
    track: TrackConfig = Field(default_factory=TrackConfig)
    """Tracking stage settings (its ``scene`` is taken from ``scene.json``)."""
    filter: FilterConfig = Field(default_factory=FilterConfig)
    """Physics filter of the tracking stage (on by default for TWIST2 without hands; it
    replaces the drift correction and writes ``executable_motion.npz``)."""
    report: ReportConfig = Field(default_factory=ReportConfig)
    """Report stage settings."""

    @property
    def report_fps(self) -> float:
        """``report.fps`` (the name of that setting before :class:`ReportConfig`)."""
        return self.report.fps

    @model_validator(mode="before")
    @classmethod
    def _report_fps(cls, data: Any) -> Any:
        """Configs written before :class:`ReportConfig` gave ``report_fps``: read it as
        ``report.fps``."""
        if isinstance(data, dict) and "report_fps" in data:
            data = dict(data)
            fps = data.pop("report_fps")
            report = data.get("report") or {}
            report = report.model_dump() if isinstance(report, BaseModel) else dict(report)
            data["report"] = {"fps": fps, **report}
        return data


@dataclass
class RunSummary:
    """What :func:`run_video` did."""

    run_dir: Path
    stages: dict[str, StageResult] = field(default_factory=dict)
    failed_stage: str | None = None
    error: str | None = None
    report: Path | None = None
    verdict: dict | None = None

    @property
    def ok(self) -> bool:
        return self.failed_stage is None


def trim_video(src: Path, dst: Path, start_s: float | None, end_s: float | None) -> Path:
    """Copy ``src`` to ``dst``, cut to ``[start_s, end_s]`` (re-encoded, frame accurate)."""
    if start_s is None and end_s is None:
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return dst
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error", "-i", str(src)]
    if start_s is not None:
        cmd += ["-ss", f"{start_s:.3f}"]
    if end_s is not None:
        cmd += ["-to", f"{end_s:.3f}"]
    with atomic_path(dst) as tmp:
        cmd += ["-an", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-crf", "18",
                str(tmp)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise ExoActorError(f"{src}: could not cut the window {start_s}-{end_s} s: "
                                f"{proc.stderr.strip()[-300:]}")
    return dst


def run_video(video: str | Path, out_dir: str | Path, config: RunConfig | None = None,
              force: set[str] | frozenset[str] = frozenset(), report: bool = True) -> RunSummary:
    """Run every stage after the video (:data:`STAGES`); always finish with a report.

    Args:
        video: the input clip.
        out_dir: the run directory (created; reused and resumed if it exists).
        config: the run configuration.
        force: stages to run even when current (``"all"`` for every stage); the stages after a
            stage that runs run too (:mod:`exoactor.pipeline`).
        report: build the report stage (videos, plots, page). False writes only
            ``verdict.json`` (the verdict needs the tracking metrics alone), for benchmarks.

    Returns:
        The summary; ``failed_stage``/``error`` are set when a stage failed (the report still
        exists and says so).
    """
    config = config or RunConfig()
    video = Path(video)
    forced_stages(force, STAGES)
    run = RunDir(out_dir)
    summary = RunSummary(run.path)
    if not video.is_file():
        raise ExoActorError(f"{video}: no such video file")
    calls = video_stage_calls(run, video, config, summary)
    try:
        # the objects stage filters the seat pair it chooses, the track stage that pair again
        with filter_memo.remembering():
            run_stages(run, STAGES[:-1], calls, force=_only(force, STAGES[:-1]),
                       results=summary.stages)
    except StageFailed as exc:
        summary.failed_stage = failed_stage(run, STAGES) or "?"
        summary.error = str(exc.__cause__ or exc)
        logger.warning("%s", exc)
    if not report:
        summary.verdict = write_verdict(run.path)
        return summary
    return finish_report(run, summary, calls, force)


def _only(force: set[str] | frozenset[str], names: tuple[str, ...]) -> set[str]:
    """The names of ``force`` that are in ``names`` (``all`` kept)."""
    return {s for s in force if s in names or s == "all"}


def video_stage_calls(run: RunDir, video: Path, config: RunConfig,
                      summary: RunSummary) -> dict[str, Callable[[], StageCall]]:
    """How ``run`` executes each stage of :data:`STAGES` for ``video`` with ``config``."""
    from exoactor.report.build import build_report

    clip = run.artefact(artefacts.VIDEO)
    return {
        "clip": lambda: StageCall(
            lambda: trim_video(video, clip, config.start_s, config.end_s), "ffmpeg",
            {"start_s": config.start_s, "end_s": config.end_s}, (video,)),
        "perceive": lambda: StageCall(lambda: _perceive(run, config), config.perceive.backend,
                                      config.perceive),
        "retarget": lambda: StageCall(lambda: _retarget(run, config), "mink",
                                      _retarget_cfg(config)),
        "objects": lambda: StageCall(lambda: _scene(run, config), "rules",
                                     {"infer": config.infer_objects, "rules": config.objects,
                                      "track": config.track, "filter": config.filter}),
        "track": lambda: StageCall(lambda: _track(run, config), config.track.controller,
                                   config.track),
        "report": lambda: StageCall(lambda: build_report(run.path, fps=config.report.fps), "html",
                                    {"fps": config.report.fps, "failed": summary.failed_stage}),
    }


def finish_report(run: RunDir, summary: RunSummary,
                  calls: dict[str, Callable[[], StageCall]],
                  force: set[str] | frozenset[str] = frozenset()) -> RunSummary:
    """Run the ``report`` stage (after a failed stage too) and read the verdict back."""
    try:
        run_stages(run, ("report",), calls, force=_only(force, ("report",)),
                   results=summary.stages)
    except StageFailed as exc:
        summary.failed_stage = summary.failed_stage or "report"
        summary.error = summary.error or str(exc.__cause__ or exc)
        return summary
    summary.report = run.artefact(artefacts.REPORT)
    verdict = run.artefact(artefacts.VERDICT)
    if verdict.is_file():
        import json

        summary.verdict = json.loads(verdict.read_text())
    return summary


def write_verdict(run_dir: Path) -> dict | None:
    """Write ``verdict.json`` from the run's tracking metrics, without the report's videos.

    Returns:
        The verdict as a dict, or None when tracking did not finish (the stale file, if any,
        is removed).
    """
    import json

    from exoactor.fileio import write_json
    from exoactor.report.verdict import physics_verdict

    metrics, rollout = run_dir / artefacts.METRICS, run_dir / artefacts.ROLLOUT
    target = run_dir / artefacts.VERDICT
    if not (metrics.is_file() and rollout.is_file()):
        target.unlink(missing_ok=True)
        return None
    verdict = physics_verdict(json.loads(metrics.read_text())).as_dict()
    write_json(target, verdict)
    return verdict


def _retarget_cfg(config: RunConfig):  # noqa: ANN202
    return config.retarget.model_copy(update={"hands": config.hands})


def _perceive(run: RunDir, config: RunConfig) -> None:
    from exoactor.perceive import perceive_video

    perceive_video(run.artefact(artefacts.VIDEO), run.artefact(artefacts.HUMAN_MOTION), config.perceive)


def _retarget(run: RunDir, config: RunConfig) -> None:
    from exoactor.retarget import retarget_file

    retarget_file(run.artefact(artefacts.HUMAN_MOTION), run.artefact(artefacts.ROBOT_MOTION),
                  _retarget_cfg(config))


def _scene(run: RunDir, config: RunConfig) -> None:
    from exoactor.formats import load_npz
    from exoactor.formats.motion import RobotMotion
    from exoactor.imagine.plan.base import plan_actions
    from exoactor.scene import Scene, save_scene
    from exoactor.scene.contact_ref import choose_seated
    from exoactor.scene.grip_ref import squeeze_for_boxes
    from exoactor.scene.infer import infer_scene
    from exoactor.scene.place import place_seats_ranked

    motion = load_npz(run.artefact(artefacts.ROBOT_MOTION), expect=RobotMotion)
    if not config.infer_objects:
        save_scene(Scene(source=motion.source, fps=motion.fps), run.artefact(artefacts.SCENE))
        _save_seated(run, motion, Scene(), "no objects inferred (infer_objects off)")
        return
    scene = infer_scene(motion, config.objects, plan_actions=plan_actions(run.artefact(artefacts.PLAN)))
    scenes = place_seats_ranked(motion, scene, config.objects.place, config.track,
                                keep=config.objects.contact.placements)
    filtered = config.filter.applies(config.track.controller, motion)  # as the track stage
    scene, seated, note = choose_seated(motion, scenes, config.objects.contact, config.track,
                                        config.filter if filtered else None)
    grip = squeeze_for_boxes(seated, scene, config.objects.grip)
    if grip.motion is not seated:
        note = f"{note}; grip: {grip.summary()}"
    save_scene(scene, run.artefact(artefacts.SCENE))
    _save_seated(run, grip.motion, scene, note)


def _save_seated(run: RunDir, motion, scene, note: str) -> None:
    """``seated_motion.npz`` (the reference the track stage follows with the objects) and
    ``seated_motion.json`` (for which seats and carried boxes it was made, and how it was
    chosen)."""
    from exoactor.fileio import write_json
    from exoactor.formats import save_npz
    from exoactor.scene.contact_ref import seats_digest
    from exoactor.scene.grip_ref import boxes_digest

    save_npz(motion, run.artefact(artefacts.SEATED_MOTION))
    meta = {"seats": seats_digest(scene), "note": note}
    if boxes_digest(scene):
        meta["boxes"] = boxes_digest(scene)
    write_json(run.artefact(artefacts.SEATED_MOTION_META), meta)


def _track(run: RunDir, config: RunConfig) -> None:
    """Track ``robot_motion.npz`` (or, with seats, ``seated_motion.npz``) with the scene's
    objects; ``metrics.json`` → ``reference`` names the seated reference when it was followed."""
    import json

    from exoactor.fileio import write_json
    from exoactor.formats import load_npz
    from exoactor.formats.motion import RobotMotion
    from exoactor.scene import load_scene

    motion = load_npz(run.artefact(artefacts.ROBOT_MOTION), expect=RobotMotion)
    scene = load_scene(run.artefact(artefacts.SCENE)) if run.artefact(artefacts.SCENE).is_file() \
        else None
    if scene is None or not scene.objects:
        _track_into(run.path, motion, config, None)
        return
    seated = _seated_motion(run, scene)
    kept = _track_with_objects(run.path, seated or motion, config, scene, plain=motion)
    if seated is not None and kept:  # the report draws the reference the robot followed
        metrics = json.loads(run.artefact(artefacts.METRICS).read_text())
        metrics["reference"] = artefacts.SEATED_MOTION
        write_json(run.artefact(artefacts.METRICS), metrics)


def _seated_motion(run: RunDir, scene):
    """The objects stage's seat-contact and grip reference when it was made for ``scene``'s
    seats and carried boxes (``None`` otherwise, e.g. after an edit of ``scene.json``: the
    retargeted motion is used)."""
    import json

    from exoactor.formats import load_npz
    from exoactor.formats.motion import RobotMotion
    from exoactor.scene.contact_ref import seats_digest
    from exoactor.scene.grip_ref import boxes_digest

    npz, meta = run.artefact(artefacts.SEATED_MOTION), run.artefact(artefacts.SEATED_MOTION_META)
    if not (npz.is_file() and meta.is_file()):
        return None
    made_for = json.loads(meta.read_text())
    if (made_for.get("seats") != seats_digest(scene)
            or made_for.get("boxes", "") != boxes_digest(scene)):
        logger.info("%s was made for other seats or boxes than %s's: tracking %s",
                    artefacts.SEATED_MOTION, artefacts.SCENE, artefacts.ROBOT_MOTION)
        return None
    return load_npz(npz, expect=RobotMotion)


def _track_into(out: Path, motion, config: RunConfig, scene) -> None:
    """One tracking run (the physics filter when on) with ``scene``'s objects, into ``out``."""
    from exoactor.control.track import track_motion

    track = config.track.model_copy(update={"scene": scene})
    if config.filter.applies(config.track.controller, motion):
        from exoactor.control.drift import DriftConfig
        from exoactor.control.filter import filter_motion

        track = track.model_copy(update={"drift": DriftConfig(enabled=False)})
        filter_motion(motion, config.filter, track, out_dir=out, show_progress=False)
    else:
        track_motion(motion, track, out_dir=out)


def _track_with_objects(run_dir: Path, motion, config: RunConfig, scene, plain=None) -> bool:
    """Track with the objects; when the robot falls with them, track again without them and
    keep the run without them unless it falls too, and no later (objects must never make the
    robot fall where it stands without them; :func:`exoactor.scene.place.worse_than_without`).
    ``metrics.json`` → ``interaction`` says which was kept and why. ``motion`` is tracked with
    the objects, ``plain`` (default ``motion``: the reference without the seat-contact change)
    without them. Returns whether the run with the objects was kept."""
    import json
    import shutil
    import tempfile

    from exoactor.fileio import write_json
    from exoactor.scene.place import Trial, worse_than_without

    def trial(d: Path) -> Trial:
        m = json.loads((d / artefacts.METRICS).read_text())
        return Trial(bool(m.get("fell")), m.get("fall_time_s") if m.get("fell") else None,
                     0.0, 0.0, 0.0, "")

    with tempfile.TemporaryDirectory(dir=run_dir, prefix=".track_") as tmp:
        with_dir, without_dir = Path(tmp) / "with", Path(tmp) / "without"
        with_dir.mkdir()
        _track_into(with_dir, motion, config, scene)
        inter = add_interaction_metrics(with_dir, scene, motion.fps)
        keep, dropped = with_dir, None
        if trial(with_dir).fell:
            without_dir.mkdir()
            _track_into(without_dir, plain if plain is not None else motion, config, None)
            a, b = trial(with_dir), trial(without_dir)
            if worse_than_without(a, b):
                keep = without_dir
                fall = f"fell at {a.fall_time_s:.2f} s" if a.fell else "no fall"
                alone = f"fell at {b.fall_time_s:.2f} s" if b.fell else "no fall"
                dropped = {"succeeded": False, "kept_without_objects": True,
                           "failures": [f"objects left out: with them the robot {fall}, "
                                        f"without them {alone}; the run without them is kept"],
                           "with_objects": inter, "objects": []}
                logger.warning("%s: the robot fell with the scene's objects (%s) and not, or "
                               "later, without them (%s): keeping the run without them",
                               run_dir, fall, alone)
        for f in keep.iterdir():
            if (run_dir / f.name).is_dir():
                shutil.rmtree(run_dir / f.name)
            shutil.move(str(f), str(run_dir / f.name))
    if dropped is not None:
        metrics = json.loads((run_dir / artefacts.METRICS).read_text())
        metrics["interaction"] = dropped
        write_json(run_dir / artefacts.METRICS, metrics)
    return dropped is None


def add_interaction_metrics(run_dir: Path, scene, fps: float) -> dict:
    """Score ``scene``'s objects in the run's ``rollout.npz`` and add them to ``metrics.json``
    under ``interaction`` (:func:`exoactor.scene.score.interaction_metrics`)."""
    import json

    from exoactor.fileio import write_json
    from exoactor.formats import load_npz
    from exoactor.formats.motion import Rollout
    from exoactor.scene.score import interaction_metrics

    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / artefacts.METRICS).read_text())
    rollout = load_npz(run_dir / artefacts.ROLLOUT, expect=Rollout)
    inter = interaction_metrics(rollout, scene, fps=fps,
                                dropped_frames=int(metrics.get("dropped_frames", 0) or 0),
                                fall_time_s=metrics.get("fall_time_s") if metrics.get("fell")
                                else None)
    metrics["interaction"] = inter
    write_json(run_dir / artefacts.METRICS, metrics)
    return inter


DEMO_WINDOW_S = (2.6, 6.2)
"""Window of the sample clip used by ``exoactor demo`` [s]. The clip's man spends it on top of a
utility box ~1.8 m up and back-flips off it (nothing a G1 should try); in this window a woman
walks past on the lawn (flat ground), and she is the largest person in view, so perception
follows her: a walk a G1 can do."""


def demo_config() -> RunConfig:
    """The demo's configuration: the window above, everything else default."""
    return RunConfig(start_s=DEMO_WINDOW_S[0], end_s=DEMO_WINDOW_S[1])


@dataclass
class TaskRunSummary:
    """What :func:`imagine_and_run` did: the imagine part, then the video part's summary."""

    imagine: Any
    """The :class:`~exoactor.imagine.run.ImagineSummary` (None when an imagine stage failed)."""
    run: RunSummary | None = None
    failed_stage: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed_stage is None and (self.run is None or self.run.ok)


def imagine_and_run(task: str, scene: str | Path, out_dir: str | Path, config: Any = None,
                    run_config: RunConfig | None = None,
                    force: set[str] | frozenset[str] = frozenset()) -> TaskRunSummary:
    """Task + scene -> video (:func:`exoactor.imagine.run.imagine`) -> perceive -> retarget ->
    objects -> track -> report, all in one run directory: the stages of the ``imagine`` command
    then :data:`STAGES`, by the one rule of :mod:`exoactor.pipeline` (the video stages run again
    when an imagine stage ran since they did).

    Args:
        task, scene, out_dir: as :func:`~exoactor.imagine.run.imagine`.
        config: the :class:`~exoactor.imagine.config.ImagineConfig`.
        run_config: the video stages' config (its ``start_s``/``end_s`` must stay unset: the
            generated clip is used whole).
        force: stages to run even when current, imagine's or the video's (``"all"``: every one).
    """
    from exoactor.imagine.run import IMAGINE_STAGES, imagine

    run_config = run_config or RunConfig()
    if run_config.start_s is not None or run_config.end_s is not None:
        raise ExoActorError("start/end windows apply to a given video; with --task the "
                            "generated clip is used whole: drop --start/--end")
    forced_stages(force, IMAGINE_STAGES + STAGES)
    try:
        summary = imagine(task, scene, out_dir, config, force=_only(force, IMAGINE_STAGES))
    except StageFailed as exc:
        failed = failed_stage(RunDir(out_dir), IMAGINE_STAGES) or "imagine"
        return TaskRunSummary(None, None, failed, str(exc.__cause__ or exc))
    result = run_video(summary.video, out_dir, run_config, force=_only(force, STAGES))
    return TaskRunSummary(summary, result, result.failed_stage, result.error)


def run_task_command(task: str, scene: Path, out: Path, run_config: RunConfig | None = None, *,
                     force: set[str] | None = None, **flags: Any) -> TaskRunSummary:
    """``exoactor run --task --scene``: imagine flags (:func:`exoactor.imagine.api.build_config`)
    -> :func:`imagine_and_run`."""
    from exoactor.imagine.api import build_config

    return imagine_and_run(task, scene, out, build_config(**flags), run_config,
                           force=set(force or ()))


def report_run(run_dir: str | Path, fps: float | None = None):  # noqa: ANN201 - ReportResult
    """``exoactor report``: the ``report`` command's one stage (:data:`exoactor.pipeline.COMMANDS`),
    forced (the command exists to rebuild the page), recorded in the run's manifest.

    Returns:
        The :class:`~exoactor.report.build.ReportResult`.

    Raises:
        ExoActorError: ``run_dir`` is not a folder.
        StageFailed: the report failed (recorded in the manifest).
    """
    from exoactor.report.build import build_report

    if not Path(run_dir).is_dir():
        raise ExoActorError(f"{run_dir}: no such run directory; give the --out folder of a run")
    fps = ReportConfig().fps if fps is None else fps
    run = RunDir(run_dir)
    failed = failed_stage(run, [s.name for s in PIPELINE_STAGES if s.name != "report"])
    calls = {"report": lambda: StageCall(lambda: build_report(run.path, fps=fps), "html",
                                         {"fps": fps, "failed": failed})}
    return run_stages(run, COMMANDS["report"], calls, force={"report"})["report"].value
