"""Build a run's report from its directory: videos, side-by-side, plots, verdict, HTML page."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from exoactor.fileio import atomic_path, write_json
from exoactor.report.verdict import PhysicsVerdict, physics_verdict

logger = logging.getLogger(__name__)

VIDEO_HEIGHT_PX = 360
"""Height of each rendered robot video and side-by-side panel [px]."""


@dataclass(frozen=True)
class ReportResult:
    """Files the report wrote, and the verdict (None when tracking did not finish)."""

    html: Path
    side_by_side: Path | None
    verdict: PhysicsVerdict | None


def _load_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except json.JSONDecodeError:
        logger.warning("%s is not valid JSON; left out of the report", path)
        return None


def _fresh(out: Path, *sources: Path) -> bool:
    """True when ``out`` exists and is newer than every existing source."""
    return out.is_file() and all(out.stat().st_mtime >= s.stat().st_mtime
                                 for s in sources if s.is_file())


def rollout_frame_index(timeline_s: np.ndarray, sample_time_s: np.ndarray) -> np.ndarray:
    """Index of the rollout sample nearest each timeline time (clamped to the ends).

    ``sample_time_s`` must be non-decreasing (the reference time of each rollout sample).
    """
    idx = np.searchsorted(sample_time_s, timeline_s)
    idx = np.clip(idx, 1, len(sample_time_s) - 1)
    left_closer = (timeline_s - sample_time_s[idx - 1]) < (sample_time_s[idx] - timeline_s)
    return np.where(left_closer, idx - 1, idx)


def build_report(run_dir: str | Path, fps: float = 25.0) -> ReportResult:
    """Write ``robot_motion.mp4``, ``rollout.mp4``, ``side_by_side.mp4``, ``verdict.json`` and
    ``report.html`` for whatever stages of ``run_dir`` finished."""
    from exoactor.formats import load_npz
    from exoactor.formats.motion import HumanMotion, RobotMotion, Rollout
    from exoactor.report import plots
    from exoactor.report.html import ReportPage, render_html
    from exoactor.report.render import iter_frames, render_motion
    from exoactor.report.side_by_side import Panel, compose_side_by_side, video_frames
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import motion_qpos

    run = Path(run_dir)
    manifest = _load_json(run / "manifest.json") or {}
    page = ReportPage(title=f"exoactor run: {manifest.get('name', run.name)}", manifest=manifest)
    failed = [(s, e.get("error") or "?") for s, e in manifest.get("stages", {}).items()
              if e.get("status") == "failed" and s != "report"]
    page.failure = failed[0] if failed else None

    human = robot_motion = rollout = None
    if (run / "human_motion.npz").is_file():
        human = load_npz(run / "human_motion.npz", expect=HumanMotion)
    if (run / "robot_motion.npz").is_file():
        robot_motion = load_npz(run / "robot_motion.npz", expect=RobotMotion)
    if (run / "rollout.npz").is_file():
        rollout = load_npz(run / "rollout.npz", expect=Rollout)
        nq = get_robot(rollout.robot).model.nq
        if rollout.qpos.shape[1] > nq:   # free scene objects (scene.json) follow the robot
            rollout = replace(rollout, qpos=rollout.qpos[:, :nq])
    track_metrics = _load_json(run / "metrics.json")

    for stage, name in (("perceive", "perceive_metrics.json"),
                        ("retarget", "retarget_metrics.json"), ("track", "metrics.json")):
        metrics = _load_json(run / name)
        if metrics is not None:
            page.metrics[stage] = {k: v for k, v in metrics.items()
                                   if k not in ("config", "video", "input", "output", "motion")}

    verdict = None
    if track_metrics is not None and rollout is not None:
        verdict = physics_verdict(track_metrics)
        write_json(run / "verdict.json", verdict.as_dict())
    page.verdict = verdict

    # ---- videos -------------------------------------------------------------------------
    source_video = run / "perceive_overlay.mp4"
    if not source_video.is_file():
        source_video = run / "video.mp4"
    if source_video.is_file():
        page.videos.append(("input video with the estimated skeleton"
                            if source_video.name.startswith("perceive") else "input video",
                            source_video))
    if robot_motion is not None:
        out = run / "robot_motion.mp4"
        if not _fresh(out, run / "robot_motion.npz"):
            render_motion(robot_motion, out, height=VIDEO_HEIGHT_PX,
                          width=VIDEO_HEIGHT_PX * 4 // 3, fps=fps, caption="retargeted (kinematic)")
        page.videos.append(("retargeted robot motion (kinematic)", out))
    rollout_idx = None
    if rollout is not None:
        robot = get_robot(rollout.robot)
        ref_t = rollout.ref_time_s if rollout.ref_time_s is not None else rollout.time_s
        t_end = float(ref_t[-1])
        timeline = np.arange(0.0, max(t_end, 0.0) + 1e-9, 1.0 / fps)
        rollout_idx = rollout_frame_index(timeline, ref_t) if len(timeline) else None
        out = run / "rollout.mp4"
        if not _fresh(out, run / "rollout.npz") and rollout_idx is not None:
            from exoactor.report.render import render_qpos

            render_qpos(robot.model, rollout.qpos[rollout_idx], fps, out,
                        height=VIDEO_HEIGHT_PX, width=VIDEO_HEIGHT_PX * 4 // 3,
                        caption="physics (MuJoCo + tracker)")
        if out.is_file():
            page.videos.append(("physics rollout (MuJoCo, tracking controller)", out))

    side = None
    if source_video.is_file() and (robot_motion is not None or rollout is not None):
        side = run / "side_by_side.mp4"
        panels = []
        frames, vfps = video_frames(source_video)
        panels.append(Panel("input + skeleton", frames, vfps))
        durations = [_video_duration(source_video)]
        if robot_motion is not None:
            robot = get_robot(robot_motion.robot)
            panels.append(Panel("retargeted (kinematic)", iter_frames(
                robot.model, motion_qpos(robot, robot_motion), robot_motion.fps,
                width=VIDEO_HEIGHT_PX * 4 // 3, height=VIDEO_HEIGHT_PX), robot_motion.fps))
            durations.append(robot_motion.duration_s)
        if rollout is not None and rollout_idx is not None:
            robot = get_robot(rollout.robot)
            durations.append((len(rollout_idx) - 1) / fps)
            panels.append(Panel("physics rollout", iter_frames(
                robot.model, rollout.qpos[rollout_idx], fps, width=VIDEO_HEIGHT_PX * 4 // 3,
                height=VIDEO_HEIGHT_PX), fps))
        fall_t = (track_metrics or {}).get("fall_time_s") if track_metrics else None
        status = _stage_status(manifest)

        def caption(t: float) -> str:
            fell = fall_t is not None and t >= fall_t
            state = "FELL" if fell else ("ok" if rollout is not None else "no physics")
            return f"t = {t:5.2f} s   |   {status}   |   robot: {state}"

        compose_side_by_side(panels, side, max(durations), fps=fps, height=VIDEO_HEIGHT_PX,
                             caption=caption)
        page.videos.insert(0, ("side by side: input | retargeted | physics", side))

    # ---- plots --------------------------------------------------------------------------
    if rollout is not None:
        robot = get_robot(rollout.robot)
        fall_t = (track_metrics or {}).get("fall_time_s")
        page.plots.append(("joint tracking error", plots.joint_error_plot(
            rollout, robot.qpos_adr[robot.body_idx], fall_t)))
        page.plots.append(("root trajectory", plots.root_trajectory_plot(rollout)))
    if human is not None:
        page.plots.append(("foot contacts", plots.contacts_plot(human)))
        grasp = plots.grasp_plot(human)
        if grasp is not None:
            page.plots.append(("grasp closure", grasp))

    html_path = run / "report.html"
    with atomic_path(html_path) as tmp:
        tmp.write_text(render_html(page, run))
    return ReportResult(html_path, side, verdict)


def _stage_status(manifest: dict) -> str:
    marks = {"ok": "✓", "failed": "✗", "running": "…"}
    return "  ".join(f"{s} {marks.get(e.get('status'), '?')}"
                     for s, e in manifest.get("stages", {}).items() if s not in ("clip", "report"))


def _video_duration(path: Path) -> float:
    import imageio_ffmpeg

    n_frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    return float(seconds)
