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
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exoactor.control.filter.config import FilterConfig
from exoactor.control.track import TrackConfig
from exoactor.errors import ExoActorError, StageFailed
from exoactor.fileio import atomic_path
from exoactor.perceive.config import PerceiveConfig
from exoactor.pipeline import RunDir, StageResult
from exoactor.retarget.config import RetargetConfig
from exoactor.scene.infer import InferConfig

logger = logging.getLogger(__name__)

STAGES = ("clip", "perceive", "retarget", "objects", "track", "report")
"""Stage names in order (``--force`` takes these). ``objects`` writes ``scene.json`` (named so
as not to clash with ``imagine``'s ``scene`` stage, the scene photo, in the same manifest)."""


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
    report_fps: float = Field(25.0, gt=0.0, le=60.0)
    """Frame rate of the report's videos [Hz]."""


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
    """Run every stage after the video; always finish with a report.

    Args:
        video: the input clip.
        out_dir: the run directory (created; reused and resumed if it exists).
        config: the run configuration.
        force: stages to recompute even when current (``"all"`` for every stage).
        report: build the report stage (videos, plots, page). False writes only
            ``verdict.json`` (the verdict needs the tracking metrics alone), for benchmarks.

    Returns:
        The summary; ``failed_stage``/``error`` are set when a stage failed (the report still
        exists and says so).
    """
    config = config or RunConfig()
    video = Path(video)
    unknown = set(force) - set(STAGES) - {"all"}
    if unknown:
        raise ExoActorError(f"unknown stage(s) {sorted(unknown)} for --force; stages: "
                            f"{', '.join(STAGES)}")
    forced = set(STAGES) if "all" in force else set(force)
    run = RunDir(out_dir)
    summary = RunSummary(run.path)
    if not video.is_file():
        raise ExoActorError(f"{video}: no such video file")

    def stage(name: str, fn, **kw) -> StageResult:  # noqa: ANN001
        result = run.run_stage(name, fn, force=name in forced, **kw)
        summary.stages[name] = result
        if result.status == "ok":
            # A recomputed stage invalidates everything after it.
            forced.update(STAGES[STAGES.index(name) + 1:])
        return result

    from exoactor.report.build import build_report
    from exoactor.ui import console

    clip = run.artefact("video.mp4")
    try:
        with console().status("clip: cutting the input window"):
            stage("clip", lambda: trim_video(video, clip, config.start_s, config.end_s),
                  backend="ffmpeg", config={"start_s": config.start_s, "end_s": config.end_s},
                  inputs=[video], outputs=["video.mp4"])
        with console().status("perceive: estimating the human motion"):
            stage("perceive", lambda: _perceive(run, config), backend=config.perceive.backend,
                  config=config.perceive, inputs=[clip],
                  outputs=["human_motion.npz", "perceive_metrics.json"])
        with console().status("retarget: solving IK for the robot"):
            stage("retarget", lambda: _retarget(run, config), backend="mink",
                  config=_retarget_cfg(config), inputs=[run.artefact("human_motion.npz")],
                  outputs=["robot_motion.npz", "retarget_metrics.json"])
        with console().status("objects: inferring seats, tables and carried objects"):
            plan = [p for p in (run.artefact("plan.json"),) if p.is_file()]
            stage("objects", lambda: _scene(run, config), backend="rules",
                  config={"infer": config.infer_objects, "rules": config.objects},
                  inputs=[run.artefact("robot_motion.npz"), *plan], outputs=["scene.json"])
        with console().status("track: executing in MuJoCo physics"):
            stage("track", lambda: _track(run, config), backend=config.track.controller,
                  config=config.track, inputs=[run.artefact("robot_motion.npz"),
                                               run.artefact("scene.json")],
                  outputs=["rollout.npz", "metrics.json"])
    except StageFailed as exc:
        failed = next((s for s in STAGES if (run.stage(s) or {}).get("status") == "failed"),
                      None)
        summary.failed_stage = failed or "?"
        summary.error = str(exc.__cause__ or exc)
        logger.warning("%s", exc)
    if not report:
        summary.verdict = write_verdict(run.path)
        return summary
    with console().status("report: rendering videos and the page"):
        inputs = [p for p in (run.artefact(n) for n in (
            "video.mp4", "human_motion.npz", "robot_motion.npz", "rollout.npz", "metrics.json"))
            if p.is_file()]
        try:
            stage("report", lambda: build_report(run.path, fps=config.report_fps),
                        backend="html", config={"fps": config.report_fps,
                                                "failed": summary.failed_stage},
                        inputs=inputs, outputs=["report.html"])
        except StageFailed as exc:
            summary.failed_stage = summary.failed_stage or "report"
            summary.error = summary.error or str(exc.__cause__ or exc)
            return summary
    summary.report = run.artefact("report.html")
    verdict = run.artefact("verdict.json")
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

    metrics, rollout = run_dir / "metrics.json", run_dir / "rollout.npz"
    target = run_dir / "verdict.json"
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

    perceive_video(run.artefact("video.mp4"), run.artefact("human_motion.npz"), config.perceive)


def _retarget(run: RunDir, config: RunConfig) -> None:
    from exoactor.retarget import retarget_file

    retarget_file(run.artefact("human_motion.npz"), run.artefact("robot_motion.npz"),
                  _retarget_cfg(config))


def _scene(run: RunDir, config: RunConfig) -> None:
    from exoactor.formats import load_npz
    from exoactor.formats.motion import RobotMotion
    from exoactor.imagine.plan.base import plan_actions
    from exoactor.scene import Scene, save_scene
    from exoactor.scene.infer import infer_scene

    motion = load_npz(run.artefact("robot_motion.npz"), expect=RobotMotion)
    if not config.infer_objects:
        save_scene(Scene(source=motion.source, fps=motion.fps), run.artefact("scene.json"))
        return
    scene = infer_scene(motion, config.objects, plan_actions=plan_actions(run.artefact("plan.json")))
    save_scene(scene, run.artefact("scene.json"))


def _track(run: RunDir, config: RunConfig) -> None:
    from exoactor.control.track import track_motion
    from exoactor.formats import load_npz
    from exoactor.formats.motion import RobotMotion
    from exoactor.scene import load_scene

    motion = load_npz(run.artefact("robot_motion.npz"), expect=RobotMotion)
    scene = load_scene(run.artefact("scene.json")) if run.artefact("scene.json").is_file() \
        else None
    track = config.track.model_copy(update={"scene": scene if scene and scene.objects else None})
    if (config.filter.enabled and config.track.controller == "twist2"
            and motion.hand_dof is None):
        from exoactor.control.drift import DriftConfig
        from exoactor.control.filter import filter_motion

        track = track.model_copy(update={"drift": DriftConfig(enabled=False)})
        filter_motion(motion, config.filter, track, out_dir=run.path, show_progress=False)
    else:
        track_motion(motion, track, out_dir=run.path)
    if track.scene is not None:
        add_interaction_metrics(run.path, track.scene, motion.fps)


def add_interaction_metrics(run_dir: Path, scene, fps: float) -> dict:
    """Score ``scene``'s objects in the run's ``rollout.npz`` and add them to ``metrics.json``
    under ``interaction`` (:func:`exoactor.scene.score.interaction_metrics`)."""
    import json

    from exoactor.fileio import write_json
    from exoactor.formats import load_npz
    from exoactor.formats.motion import Rollout
    from exoactor.scene.score import interaction_metrics

    run_dir = Path(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    rollout = load_npz(run_dir / "rollout.npz", expect=Rollout)
    inter = interaction_metrics(rollout, scene, fps=fps,
                                dropped_frames=int(metrics.get("dropped_frames", 0) or 0),
                                fall_time_s=metrics.get("fall_time_s") if metrics.get("fell")
                                else None)
    metrics["interaction"] = inter
    write_json(run_dir / "metrics.json", metrics)
    return inter


DEMO_WINDOW_S = (2.6, 6.2)
"""Window of the sample clip used by ``exoactor demo`` [s]. The clip's man spends it on top of a
utility box ~1.8 m up and back-flips off it (nothing a G1 should try); in this window a woman
walks past on the lawn (flat ground), and she is the largest person in view, so perception
follows her: a walk a G1 can do."""


def demo_config() -> RunConfig:
    """The demo's configuration: the window above, everything else default."""
    return RunConfig(start_s=DEMO_WINDOW_S[0], end_s=DEMO_WINDOW_S[1])
