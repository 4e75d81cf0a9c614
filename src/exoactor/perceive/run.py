"""The perceive stage: video file in; ``HUMAN.npz``, ``perceive_overlay.mp4`` and
``perceive_metrics.json`` out."""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor import artefacts
from exoactor.fileio import write_json
from exoactor.formats.motion import HumanMotion
from exoactor.formats.npz import save_npz
from exoactor.perceive.artefacts import (
    CornerTracker,
    FramePlan,
    camera_poses_w,
    plan_frames,
    prepare_observations,
    scan_clip,
)
from exoactor.perceive.backend import PoseObservations, pose_backends
from exoactor.perceive.camera import background_shift_px, horizontal_fov_deg, intrinsics
from exoactor.perceive.config import PerceiveConfig
from exoactor.perceive.leg_depth import BONE_NAMES
from exoactor.perceive.metrics import (
    PerceiveMetrics,
    bone_length_variation_pct,
    contact_height_mm,
    foot_skate_mm,
    reprojection_errors_px,
)
from exoactor.perceive.reconstruct import Reconstruction, reconstruct
from exoactor.perceive.tracking import landmark_box_px
from exoactor.perceive.video import (
    Frame,
    RateView,
    VideoSource,
    open_video,
    select_frames,
    trim_start,
)
from exoactor.signals import runs

logger = logging.getLogger(__name__)

OVERLAY_NAME = artefacts.PERCEIVE_OVERLAY
"""File name of the overlay video, written beside the motion file."""
METRICS_NAME = artefacts.PERCEIVE_METRICS
"""File name of the metrics, written beside the motion file."""
_CAMERA_SAMPLES = 8


@dataclass(frozen=True, eq=False)
class PerceiveResult:
    """What :func:`perceive_video` produced.

    Attributes:
        motion: the world-grounded human motion (also saved to ``motion_path``).
        motion_path: the ``.npz`` written.
        overlay_path: the overlay video, or None when disabled.
        metrics_path: the metrics JSON.
        metrics: the metrics.
    """

    motion: HumanMotion
    motion_path: Path
    overlay_path: Path | None
    metrics_path: Path
    metrics: PerceiveMetrics


def perceive_video(video_path: str | Path, out_path: str | Path,
                   config: PerceiveConfig | None = None) -> PerceiveResult:
    """Estimate the world-grounded motion (body and hands) of the actor in a video.

    Writes ``out_path`` (a :class:`~exoactor.formats.HumanMotion` ``.npz``) and, beside it,
    ``perceive_metrics.json`` and (unless ``config.overlay`` is False)
    ``perceive_overlay.mp4``.

    Args:
        video_path: the input video (a static camera; any format OpenCV/ffmpeg decodes).
        out_path: the motion file to write (``.npz``).
        config: stage settings (defaults: MediaPipe, FOV from the image diagonal, the
            largest person, hands on).

    Raises:
        VideoError: the video is missing, unreadable or empty.
        NoPersonFound: nobody (or not the requested person) is visible.
        TrackingGap: the actor is lost for longer than ``config.max_gap_s``.
        UnknownName: the backend is not registered or not installed.
    """
    cfg = config or PerceiveConfig()
    out_path = Path(out_path)
    t0 = time.perf_counter()
    video = open_video(video_path)
    backend = pose_backends.build(cfg.backend, cfg.backend_options, stage=cfg)
    t_open = time.perf_counter()
    # the backend imports MediaPipe and loads its models while the artefact scan decodes
    # (OpenCV's decoder releases the GIL): the two overlap on two cores
    warm = threading.Thread(target=backend.warm_up, kwargs={"hands": cfg.hands},
                            name="exoactor-warm-up", daemon=True)
    warm.start()
    try:
        video, plan = _artefact_plan(video, cfg)
    except BaseException:
        warm.join()
        backend.close()
        raise
    warm.join()
    t_scan = time.perf_counter()
    thumbs = _Thumbnails(video)
    corners = (CornerTracker(video.width_px, cfg.artefacts.camera_thumb_width_px,
                             cfg.artefacts.camera_step_s)
               if cfg.artefacts.enabled and cfg.artefacts.camera_rotation else None)

    def sink(frame: Frame) -> None:
        thumbs(frame)
        if corners is not None:
            corners(frame)

    obs = backend.estimate(video, person=cfg.person, hands=cfg.hands, frame_sink=sink)
    K = intrinsics(video.width_px, video.height_px, cfg.fov_deg)
    prep = prepare_observations(obs, corners, plan, K,
                                cfg.artefacts, video.nominal_fps, str(video.path))
    view = prep.view
    overlay_frames = None
    if cfg.overlay:  # its frames decode on the other core while the motion is reconstructed
        from exoactor.perceive.overlay import decode_ahead, write_overlay

        overlay_frames = decode_ahead(video, view.frame_index, cfg.overlay_width_px)
    try:
        scene = scene_lines(video, obs, thumbs, K) if cfg.world.scene_lines else None
        rec = reconstruct(prep.obs, view.fps, K, cfg, source=str(video.path), scene=scene)
        if prep.R_0k is not None and rec.motion.T_w_c is not None:
            poses = camera_poses_w(rec.motion.T_w_c, prep.R_0k)
            if "T_w_c_frames" in rec.motion.extras:  # the anchoring's shift of the scene
                poses[:, :3, 3] = rec.motion.extras["T_w_c_frames"][:, :3, 3]
            extras = dict(rec.motion.extras, T_w_c_frames=poses)
            rec = dataclasses.replace(rec, motion=rec.motion.replace(extras=extras))
        t_rec = time.perf_counter()
        camera = _camera_check(video, obs, thumbs, K, cfg, compensated=prep.R_0k is not None)
        t_cam = time.perf_counter()
        save_npz(rec.motion, out_path)
        t_save = time.perf_counter()
        overlay_path = None
        if overlay_frames is not None:
            overlay_path = write_overlay(video, view.frame_index, rec.motion,
                                         out_path.parent / OVERLAY_NAME, cfg.overlay_width_px,
                                         frames=overlay_frames)
    finally:
        if overlay_frames is not None:
            overlay_frames.close()  # stops its thread when the stage failed before the overlay
    t_overlay = time.perf_counter()
    steps = {"open": t_open - t0, "artefacts": t_scan - t_open + prep.seconds
             + (corners.seconds if corners else 0.0), **obs.step_s,
             **rec.step_s, "camera_check": t_cam - t_rec,
             "write": t_save - t_cam, "overlay": t_overlay - t_save}
    metrics = summarize(video, view, obs, rec, camera, steps, cfg, prep.metrics or None)
    metrics_path = out_path.parent / METRICS_NAME
    write_json(metrics_path, metrics.to_dict())
    logger.info("perceived %s: %d frames, detection %.0f %%, reprojection %.1f px", video.path,
                metrics.frames, 100 * metrics.detection_rate,
                metrics.reprojection_error_px_median or float("nan"))
    return PerceiveResult(rec.motion, out_path, overlay_path, metrics_path, metrics)


class _Thumbnails:
    """Keeps small grey copies of a few evenly spaced frames as the backend decodes them."""

    def __init__(self, video: VideoSource, count: int = _CAMERA_SAMPLES, width_px: int = 480):
        self.every = max(1, video.declared_frames // count) if video.declared_frames else 15
        self.scale = min(1.0, width_px / video.width_px)
        self.frames: list[np.ndarray] = []

    def __call__(self, frame: Frame) -> None:
        import cv2

        if frame.index % self.every == 0:
            g = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY)
            self.frames.append(cv2.resize(g, None, fx=self.scale, fy=self.scale,
                                          interpolation=cv2.INTER_AREA))


def scene_lines(video: VideoSource, obs: PoseObservations, thumbs: _Thumbnails,
                K: np.ndarray) -> list:
    """Line families of the scene in the sampled frames, every place of the actor masked."""
    from exoactor.perceive.scene import scene_families

    boxes = []
    for k in np.flatnonzero(obs.detected):
        b = landmark_box_px(obs.kp_px[k], video.width_px, video.height_px)
        pad = 0.15 * max(b[2] - b[0], b[3] - b[1])
        boxes.append(b + np.array([-pad, -pad, pad, pad]))
    return scene_families(thumbs.frames, thumbs.scale, boxes, K) if thumbs.frames else []


def _camera_check(video: VideoSource, obs: PoseObservations, thumbs: _Thumbnails,
                  K: np.ndarray, cfg: PerceiveConfig, compensated: bool = False) -> dict:
    """Background motion between sampled frames; warns when the camera seems to move (and its
    rotation was not compensated, :mod:`exoactor.perceive.artefacts.camera_motion`)."""
    boxes = []
    for k in np.flatnonzero(obs.detected):  # mask every place the actor has been
        b = landmark_box_px(obs.kp_px[k], video.width_px, video.height_px)
        pad = 0.15 * max(b[2] - b[0], b[3] - b[1])
        boxes.append(b + np.array([-pad, -pad, pad, pad]))
    grays = thumbs.frames
    shift = background_shift_px(grays, boxes, thumbs.scale) if len(grays) > 1 else np.zeros(1)
    diag = math.hypot(video.width_px, video.height_px)
    worst = float(np.nanmax(shift)) if np.isfinite(shift).any() else float("nan")
    static = not (np.isfinite(worst) and worst > cfg.camera_motion_warn * diag)
    if not static and compensated:
        logger.info("%s: the background moves by up to %.0f px between frames; the camera's "
                    "rotation is compensated (perceive_metrics.json: artefacts.camera_rotation)",
                    video.path, worst)
    elif not static:
        logger.warning("%s: the background moves by up to %.0f px between frames; the camera "
                       "does not look static, so the world trajectory (root translation, "
                       "ground) will be wrong. Use a clip filmed from a fixed camera.",
                       video.path, worst)
    return {"focal_px": float(K[0, 0]),
            "horizontal_fov_deg": horizontal_fov_deg(K, video.width_px),
            "fov_source": "given" if cfg.fov_deg is not None else "image-diagonal default",
            "image_size_px": [video.width_px, video.height_px],
            "background_shift_px_max": worst, "static": static}


def _artefact_plan(video: VideoSource, cfg: PerceiveConfig
                   ) -> tuple[VideoSource, FramePlan | None]:
    """Scan the clip for a start cut and repeated frames; the view of it to observe (after
    the cut, without repeats) and the plan (None when the artefacts are off)."""
    a = cfg.artefacts
    if not a.enabled:
        return video, None
    scan = scan_clip(video, a, max(a.repeat_probe_s, a.cut_search_s + a.cut_reference_s + 0.1))
    if len(scan.times_s) == 0:
        return video, None
    plan = plan_frames(scan, a, video.nominal_fps)
    if plan.keep is not None:
        video = select_frames(video, plan.keep, plan.times_s)
    elif plan.cut.found:
        video = trim_start(video, plan.cut_source_frame)
    return video, plan


def summarize(video: VideoSource, view: RateView, obs: PoseObservations, rec: Reconstruction,
              camera: dict, steps: dict[str, float], cfg: PerceiveConfig,
              artefacts: dict | None = None) -> PerceiveMetrics:
    """Collect the :class:`PerceiveMetrics` of one run."""
    m = rec.motion
    T = m.num_frames
    det = rec.detected
    first, last = np.flatnonzero(det)[[0, -1]]
    gaps = [b - a for a, b in runs(~det)]
    visible = (rec.kp_vis >= cfg.min_visibility) & det[:, None]
    reproj = reprojection_errors_px(rec.joints_c, m.camera_K, rec.kp_px, visible)
    bones = bone_length_variation_pct(m.joints, det)
    skate = foot_skate_mm(m.joints, m.foot_contact)
    skate_before = foot_skate_mm(rec.joints_w_unlocked, m.foot_contact)
    height = contact_height_mm(m.joints, m.foot_contact, rec.support_w)
    shift = 1000.0 * rec.lock_shift_m[m.foot_contact]
    hands = None
    if rec.hands_detected is not None:
        hands = {"detection_rate": rec.hands_detected.mean(0).round(4).tolist(),
                 "handedness_label_agreement": obs.notes.get("hand_label_agreement"),
                 "grasp_mean": m.grasp.mean(0).round(3).tolist() if m.grasp is not None else None}
    camera = dict(camera, pitch_deg=rec.up.camera_pitch_deg, roll_deg=rec.up.camera_roll_deg,
                  up_source=rec.up.source, up_frames=rec.up.frames)
    duration = T / view.fps
    ms = {k: 1000.0 * v / max(T, 1) for k, v in steps.items()}
    body_keys = ("open", "artefacts", "decode", "body", "tracking", "cleanup", "grounding",
                 "skeleton_fit")
    per_s = {"body_and_grounding": sum(steps.get(k, 0.0) for k in body_keys) / duration,
             "hands": (steps.get("hands", 0.0) + steps.get("hands_world", 0.0)) / duration,
             "total": sum(steps.values()) / duration}
    identity = {k: obs.notes[k] for k in ("people_at_start", "actor_index", "gate",
                                          "gate_rejections_by_reason") if k in obs.notes}
    return PerceiveMetrics(
        video=str(video.path), frames=T, fps=view.fps, duration_s=duration,
        variable_frame_rate=view.variable, detection_rate=float(det.mean()),
        interpolated_frames=int((~det[first:last + 1]).sum()),
        held_frames=int(first + (T - 1 - last)), longest_gap_s=max(gaps, default=0) / view.fps,
        identity=identity, left_right_repairs=len(rec.swapped_frames),
        reprojection_error_px_median=_pct(reproj, 50), reprojection_error_px_p90=_pct(reproj, 90),
        bone_length_variation_pct_mean=float(bones.mean()),
        bone_length_variation_pct_max=float(bones.max()), stature_m=rec.stature_m,
        camera=camera, support_levels_m=[float(x) for x in rec.levels.levels_m],
        contact_fraction=m.foot_contact.mean(0).round(4).tolist(),
        foot_skate_mm_per_frame=_mean(skate), foot_skate_before_lock_mm_per_frame=_mean(skate_before),
        foot_lock_shift_mm=_mean(shift), contact_height_error_mm_mean_abs=_mean(np.abs(height)),
        contact_height_error_mm_p95=_pct(np.abs(height), 95),
        penetration_max_mm=float(max(0.0, -height.min())) if height.size else None,
        float_max_mm=float(max(0.0, height.max())) if height.size else None,
        hands=hands, ms_per_frame={k: round(v, 3) for k, v in ms.items()},
        seconds_per_video_second={k: round(v, 4) for k, v in per_s.items()},
        config=cfg.model_dump(mode="json"), artefacts=artefacts,
        stature_measured_m=rec.stature_measured_m, leg_depth=_leg_depth_summary(rec),
        flat_feet=_flat_feet_summary(rec))


def _flat_feet_summary(rec: Reconstruction) -> dict | None:
    """``perceive_metrics.json``'s ``flat_feet`` block (None when the step did not run)."""
    flat = rec.flat_feet
    if flat is None:
        return None
    pitch = np.abs(flat.pitch_before_deg[flat.planted])
    return {"frames_levelled": flat.planted.sum(0).tolist(),
            "sole_pitch_before_deg": {"median": _pct(pitch, 50), "max": _pct(pitch, 100)}}


def _leg_depth_summary(rec: Reconstruction) -> dict | None:
    """``perceive_metrics.json``'s ``leg_depth`` block (None when the step did not run)."""
    legs = rec.leg_depth
    if legs is None:
        return None
    stance = legs.stance
    return {"frames_flipped": int(legs.flips.any(1).sum()),
            "flipped_frames_per_bone": dict(zip(BONE_NAMES, legs.flips.sum(0).tolist())),
            "stance_frames": int(stance.sum()),
            "com_ahead_of_feet_max_m": {
                "before": float(legs.com_ahead_before_m[stance].max(initial=0.0)),
                "after": float(legs.com_ahead_after_m[stance].max(initial=0.0))}}


def _pct(x: np.ndarray, q: float) -> float | None:
    return float(np.percentile(x, q)) if x.size else None


def _mean(x: np.ndarray) -> float | None:
    return float(np.mean(x)) if x.size else None
