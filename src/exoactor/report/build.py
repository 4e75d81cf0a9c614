"""Build a run's report from its directory: videos, side-by-side, plots, verdict, HTML page."""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from exoactor import artefacts
from exoactor.fileio import atomic_path, write_json
from exoactor.report.verdict import PhysicsVerdict, physics_verdict

logger = logging.getLogger(__name__)


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


def rollout_frame_index(timeline_s: np.ndarray, sample_time_s: np.ndarray) -> np.ndarray:
    """Index of the rollout sample nearest each timeline time (clamped to the ends).

    ``sample_time_s`` must be non-decreasing (the reference time of each rollout sample).
    """
    idx = np.searchsorted(sample_time_s, timeline_s)
    idx = np.clip(idx, 1, len(sample_time_s) - 1)
    left_closer = (timeline_s - sample_time_s[idx - 1]) < (sample_time_s[idx] - timeline_s)
    return np.where(left_closer, idx - 1, idx)


def build_report(run_dir: str | Path, fps: float = 25.0,
                 render_process: bool | None = None) -> ReportResult:
    """Write the report's videos, ``verdict.json`` and ``report.html`` for whatever stages of
    ``run_dir`` finished.

    With an input video (``video.mp4``): ``robot_in_scene.mp4`` (the robot drawn through the
    estimated camera over every input frame, at the video's rate, when ``human_motion.npz``
    holds the camera), its thumbnail ``robot_in_scene.jpg``, and ``side_by_side.mp4`` (the
    robot in the scene | the world from a fixed camera with the reference robot, the reference
    path and the robot's path). Without one: ``rollout.mp4`` (or ``robot_motion.mp4`` when
    tracking did not finish), the world view alone at ``fps``.

    ``render_process``: draw the videos over the input video with a second process (see
    :func:`~exoactor.report.scene_video.write_scene_videos`); None: as
    :data:`~exoactor.report.scene_video.RENDER_PROCESS` says (by default: in this process).
    The files are the same either way.
    """
    from exoactor.report import scene_video
    from exoactor.report.html import render_html

    run = Path(run_dir)
    if render_process is None:
        render_process = (scene_video.RENDER_PROCESS if scene_video.RENDER_PROCESS is not None
                          else scene_video.render_process_pays())
    with contextlib.ExitStack() as stack:
        renderer = None
        if render_process and _draws_scene_videos(run):
            # started first: it imports MuJoCo while this process loads the run
            from exoactor.report.render_process import RenderProcess

            renderer = stack.enter_context(RenderProcess())
        page, side, verdict = _build(run, fps, renderer if renderer is not None else False)
    html_path = run / artefacts.REPORT
    with atomic_path(html_path) as tmp:
        tmp.write_text(render_html(page, run))
    return ReportResult(html_path, side, verdict)


def _draws_scene_videos(run: Path) -> bool:
    """Whether the report of ``run`` will draw the videos over its input video (a motion to
    draw, an input video)."""
    return (run / artefacts.VIDEO).is_file() and any(
        (run / name).is_file() for name in (artefacts.ROLLOUT, artefacts.ROBOT_MOTION,
                                            artefacts.SEATED_MOTION))


def _build(run: Path, fps: float, render_process):  # noqa: ANN001, ANN202
    """The report's page (plots, videos, verdict), its side-by-side video and its verdict;
    ``render_process``: a started :class:`~exoactor.report.render_process.RenderProcess` or
    a bool, as :func:`~exoactor.report.scene_video.write_scene_videos` takes it."""
    from exoactor.formats import load_npz
    from exoactor.formats.motion import HumanMotion, RobotMotion, Rollout
    from exoactor.report.html import ReportPage
    from exoactor.robots import get_robot

    manifest = _load_json(run / artefacts.MANIFEST) or {}
    page = ReportPage(title=f"exoactor run: {manifest.get('name', run.name)}", manifest=manifest)
    failed = [(s, e.get("error") or "?") for s, e in manifest.get("stages", {}).items()
              if e.get("status") == "failed" and s != "report"]
    page.failure = failed[0] if failed else None

    human = robot_motion = rollout = None
    track_metrics = _load_json(run / artefacts.METRICS)
    if (run / artefacts.HUMAN_MOTION).is_file():
        human = load_npz(run / artefacts.HUMAN_MOTION, expect=HumanMotion)
    reference = run / followed_reference(track_metrics)
    if reference.is_file():
        robot_motion = load_npz(reference, expect=RobotMotion)
    if (run / artefacts.ROLLOUT).is_file():
        rollout = load_npz(run / artefacts.ROLLOUT, expect=Rollout)
        nq = get_robot(rollout.robot).model.nq
        if rollout.qpos.shape[1] > nq:   # free scene objects (scene.json) follow the robot
            rollout = replace(rollout, qpos=rollout.qpos[:, :nq])
    motion = rollout if rollout is not None else robot_motion
    if motion is not None and not isinstance(render_process, bool):
        # the render process loads the model and makes its GL context while this one goes on
        from exoactor.report.scene_video import view_buffer_size

        render_process.preload(get_robot(motion.robot).model,
                               view_buffer_size(run / artefacts.VIDEO))

    for stage, name in (("perceive", artefacts.PERCEIVE_METRICS),
                        ("retarget", artefacts.RETARGET_METRICS), ("track", artefacts.METRICS)):
        metrics = _load_json(run / name)
        if metrics is not None:
            page.metrics[stage] = {k: v for k, v in metrics.items()
                                   if k not in ("config", "video", "input", "output", "motion")}

    verdict = None
    if track_metrics is not None and rollout is not None:
        verdict = physics_verdict(track_metrics)
        write_json(run / artefacts.VERDICT, verdict.as_dict())
    page.verdict = verdict

    # ---- plots (in a second process while the videos render), videos -------------------
    body_adr = None
    if rollout is not None:
        robot = get_robot(rollout.robot)
        body_adr = robot.qpos_adr[robot.body_idx]
    plot_args = (rollout, body_adr, (track_metrics or {}).get("fall_time_s"), human)
    with _Beside(_plots, *plot_args) as plotted:
        side = _videos(run, page, human, robot_motion, rollout, track_metrics, manifest, fps,
                       render_process)
        page.plots.extend(plotted.result())

    return page, side, verdict


def _plots(rollout, body_qpos_adr, fall_time_s, human) -> list[tuple[str, str]]:  # noqa: ANN001
    """The report's plots: ``(title, inline SVG)``."""
    from exoactor.report import plots

    out = []
    if rollout is not None:
        out.append(("joint tracking error", plots.joint_error_plot(
            rollout, body_qpos_adr, fall_time_s)))
        out.append(("root trajectory", plots.root_trajectory_plot(rollout)))
    if human is not None:
        out.append(("foot contacts", plots.contacts_plot(human)))
        grasp = plots.grasp_plot(human)
        if grasp is not None:
            out.append(("grasp closure", grasp))
    return out


class _Beside:
    """``fn(*args)`` computed in a forked child process while the caller goes on (the plots,
    ~0.6 s of matplotlib, beside the video rendering); where fork is unavailable or the child
    fails to start or dies, :meth:`result` computes it in this process instead. A context
    manager: leaving it stops the child.
    """

    def __init__(self, fn, *args):  # noqa: ANN001
        self._fn, self._args = fn, args
        self._pool = self._future = None

    def __enter__(self) -> _Beside:
        import concurrent.futures
        import multiprocessing

        if "fork" in multiprocessing.get_all_start_methods():
            try:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("fork"))
                self._future = self._pool.submit(self._fn, *self._args)
            except (OSError, RuntimeError) as err:
                logger.debug("no child process for the plots (%s); drawing them here", err)
                self._future = None
        return self

    def result(self):  # noqa: ANN201
        """What ``fn(*args)`` returned (its exceptions propagate)."""
        import concurrent.futures.process

        if self._future is not None:
            try:
                return self._future.result()
            except concurrent.futures.process.BrokenProcessPool as err:
                logger.warning("the plot process died (%s); drawing the plots here", err)
        return self._fn(*self._args)

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _stage_status(manifest: dict) -> str:
    """Plain-text stage states for the caption strip (no symbols a font could lack)."""
    words = {"ok": "ok", "failed": "FAILED", "running": "running"}
    return "  ".join(f"{s} {words.get(e.get('status'), 'n/a')}"
                     for s, e in manifest.get("stages", {}).items() if s not in ("clip", "report"))


def _poses(robot, robot_motion, rollout, human):  # noqa: ANN001, ANN202
    """What the report videos draw at each time (see :class:`~exoactor.report.scene_video.Poses`)."""
    from exoactor.report.scene_video import Poses
    from exoactor.robots.kinematics import motion_qpos

    ref_q = ref_fps = None
    if robot_motion is not None and robot_motion.robot == robot.spec.name:
        ref_q = motion_qpos(robot, robot_motion)
        ref_fps = robot_motion.fps

    def nearest(arr: np.ndarray, rate: float):  # noqa: ANN202
        return lambda t: arr[min(max(int(round(t * rate)), 0), len(arr) - 1)]

    ref_at = nearest(ref_q, ref_fps) if ref_q is not None else None
    human_at = None
    if human is not None:
        human_at = nearest(human.joints, human.fps)
    if rollout is not None:
        ref_t = rollout.ref_time_s if rollout.ref_time_s is not None else rollout.time_s

        def qpos_at(t: float) -> np.ndarray:
            return rollout.qpos[int(rollout_frame_index(np.array([t]), ref_t)[0])]

        ref_path = ref_q[:, :3] if ref_q is not None else rollout.ref_root_pos
        return Poses(qpos_at, ref_at, ref_path, rollout.qpos[:, :3], ref_t, human_at)
    return Poses(ref_at, None, ref_q[:, :3], None, None, human_at)


_OBJECT_RGBA = {"seat": (0.55, 0.40, 0.25, 0.85), "table": (0.45, 0.45, 0.55, 0.75),
                "box": (0.85, 0.55, 0.20, 0.9)}
"""Colours of the scene objects in the report's views, by kind (others: the box colour)."""


def followed_reference(track_metrics: dict | None) -> str:
    """The run-directory file of the reference the tracker followed: ``seated_motion.npz`` when
    the track stage says so (``metrics.json`` → ``reference``), else ``robot_motion.npz``."""
    named = (track_metrics or {}).get("reference")
    return artefacts.SEATED_MOTION if named == artefacts.SEATED_MOTION else artefacts.ROBOT_MOTION


def objects_in_physics(track_metrics: dict | None) -> bool:
    """Whether the final rollout had ``scene.json``'s objects (the track stage's guard may have
    kept the run without them: ``interaction`` → ``kept_without_objects``)."""
    inter = (track_metrics or {}).get("interaction") or {}
    return not inter.get("kept_without_objects", False)


def _scene_geoms(path: Path) -> tuple:
    """The objects of ``scene.json`` as shapes for both views, at their initial poses (robot
    world); a carried box is drawn where it starts."""
    from exoactor.formats.scene import load_scene
    from exoactor.report.views import SceneGeom
    from exoactor.rotations import yaw_matrix

    geoms = []
    for obj in load_scene(path).objects:
        rot = tuple(tuple(float(v) for v in row) for row in yaw_matrix(obj.pose.yaw_rad))
        half = tuple(0.5 * float(v) for v in obj.size)
        geoms.append(SceneGeom("box", half, tuple(float(v) for v in obj.pose.pos), rot,
                               _OBJECT_RGBA.get(obj.kind, _OBJECT_RGBA["box"])))
    return tuple(geoms)


def _videos(run: Path, page, human, robot_motion, rollout, track_metrics: dict | None,  # noqa: ANN001
            manifest: dict, fps: float, render_process=False) -> Path | None:
    """Render the report's videos into ``run`` and list them on ``page``; the side-by-side's
    path (None when there is no input video)."""
    from exoactor.report.in_scene import person_to_robot
    from exoactor.report.scene_video import SceneCamera, write_scene_videos, write_world_video
    from exoactor.robots import get_robot

    motion = rollout if rollout is not None else robot_motion
    source = run / artefacts.VIDEO
    overlay = run / artefacts.PERCEIVE_OVERLAY
    if motion is None:
        for path, label in ((overlay, "input video with the estimated skeleton"),
                            (source, "input video")):
            if path.is_file():
                page.videos.append((label, path))
                break
        return None
    robot = get_robot(motion.robot)
    poses = _poses(robot, robot_motion, rollout, human)
    if (run / artefacts.SCENE).is_file() and objects_in_physics(track_metrics):
        poses = replace(poses, objects=_scene_geoms(run / artefacts.SCENE))
    kind = "physics" if rollout is not None else "kinematic, tracking did not finish"
    if not source.is_file():
        name = artefacts.ROLLOUT_VIDEO if rollout is not None else artefacts.ROBOT_MOTION_VIDEO
        duration = (float(poses.robot_path_t[-1]) if rollout is not None
                    else robot_motion.duration_s)
        out = write_world_video(robot.model, poses, max(duration, 0.0), fps, run / name,
                                f"robot ({kind}) | blue: reference")
        page.videos.append((f"robot ({kind}) and the reference (blue), fixed camera", out))
        return None
    camera = None
    if human is not None and human.camera_K is not None and human.T_w_c is not None:
        p2r = person_to_robot(human.joints, human.joint_names, human.root_pos,
                              _load_json(run / artefacts.RETARGET_METRICS))
        frames_T = human.extras.get("T_w_c_frames")
        camera = SceneCamera(human.camera_K, human.T_w_c, p2r,
                             None if frames_T is None else np.asarray(frames_T), human.fps)
    else:
        logger.warning("%s: no estimated camera in human_motion.npz; no robot_in_scene.mp4",
                       run)
    fall_t = (track_metrics or {}).get("fall_time_s")
    status = _stage_status(manifest)

    def caption(t: float) -> str:
        fell = fall_t is not None and t >= fall_t
        state = "FELL" if fell else ("ok" if rollout is not None else "no physics")
        return f"t = {t:5.2f} s   |   {status}   |   robot: {state}"

    scene_out, side, thumb = (run / artefacts.ROBOT_IN_SCENE, run / artefacts.SIDE_BY_SIDE,
                              run / artefacts.ROBOT_IN_SCENE_THUMB)
    res = write_scene_videos(robot.model, source, camera, poses, scene_out=scene_out,
                             side_out=side, thumbnail_out=thumb, caption=caption,
                             scene_label=f"robot ({kind}) in the scene",
                             world_label="world, fixed camera | blue: reference",
                             render_process=render_process)
    if res.robot_in_scene is not None:
        page.videos.append((f"robot in the scene: the robot ({kind}) through the estimated "
                            "camera, over the input video", res.robot_in_scene))
    page.videos.append(("side by side: robot in the scene | world from a fixed camera "
                        "(blue: reference robot and path; orange: robot path)", side))
    page.first_captions[side] = caption(0.0)
    for path, label in ((overlay, "input video with the estimated skeleton"),
                        (source, "input video")):
        if path.is_file():
            page.videos.append((label, path))
            break
    return side
