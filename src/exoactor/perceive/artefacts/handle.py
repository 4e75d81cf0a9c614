"""Applying the artefact detectors: which frames to observe, at what times, in which camera.

Two steps around pose estimation. Before it, :func:`plan_frames` turns a :class:`ClipScan` into
the frames worth observing (after a start cut, repeats dropped: they cost pose compute and carry
no new observation) and their sample times. After it, :func:`prepare_observations` removes the
camera's rotation from the observations and resamples them to a constant rate when the samples
are slow or irregular; it returns the constant-rate view the rest of the stage works on and the
figures logged in ``perceive_metrics.json`` under ``artefacts``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from exoactor.perceive.artefacts.camera_motion import (
    CornerTracker,
    chain_rotations,
    compensate_px,
    compensate_vectors,
    pair_rotation,
    rotation_angle_deg,
)
from exoactor.perceive.artefacts.cuts import StartCut, find_start_cut
from exoactor.perceive.artefacts.duplicates import Retiming, retime_distinct
from exoactor.perceive.artefacts.resample import (
    constant_grid_s,
    nearest_index,
    resample_observations,
)
from exoactor.perceive.artefacts.scan import ClipScan
from exoactor.perceive.backend import PoseObservations
from exoactor.perceive.config import ArtefactConfig
from exoactor.perceive.errors import CameraMoves
from exoactor.perceive.tracking import landmark_box_px
from exoactor.perceive.video import VFR_TOLERANCE, RateView, constant_rate_view

logger = logging.getLogger(__name__)

CAMERA_TURNS = ("{path}: the camera turns by up to {deg:.1f} deg from the first frame (limit "
                "{limit:g} deg in perceive.artefacts.camera_max_rotation_deg). Use a clip from a "
                "fixed camera, or raise the limit to compensate the rotation.")
BOX_PAD = 0.15
"""Margin added around the person's landmark box when masking the background [box sides]."""


@dataclass(frozen=True, eq=False)
class FramePlan:
    """The frames to observe.

    Attributes:
        keep: ``(N,)`` source indices of the frames to observe, or None: every frame from
            ``cut_source_frame`` on, at the container's times (the scan found no repeat).
        times_s: ``(N,)`` their sample times, from 0 at the first kept frame [s] (None with
            ``keep`` None).
        cut: the start cut (positions count distinct frames).
        cut_source_frame: source index of the first frame after the cut (0: no cut).
        repeats_dropped: repeated frames dropped after the cut.
        retiming: the distinct frames' retiming (None when no repeat was dropped).
        scanned_frames: frames the scan decoded.
        complete_scan: the scan covered the whole clip.
        trimmed_s: time cut from the start [s].
        end_s: the clip's last frame's time on the clock of ``times_s`` [s] (None with
            ``keep`` None). Past the last distinct frame's time when the clip ends on repeats:
            the person held that pose until the clip's end (a still person in a rendered or
            generated clip makes identical frames), which :func:`prepare_observations` keeps.
    """

    keep: np.ndarray | None
    times_s: np.ndarray | None
    cut: StartCut
    cut_source_frame: int
    repeats_dropped: int
    retiming: Retiming | None
    scanned_frames: int
    complete_scan: bool
    trimmed_s: float
    end_s: float | None = None

    @property
    def changed(self) -> bool:
        """The frames observed are not the clip's frames one to one."""
        return self.cut.found or self.repeats_dropped > 0


def plan_frames(scan: ClipScan, cfg: ArtefactConfig, nominal_fps: float) -> FramePlan:
    """Frames after a start cut, without repeats, at their re-timed sample times."""
    first_shown = scan.times_s[scan.distinct]
    cut = find_start_cut(scan.structure_change, first_shown, search_s=cfg.cut_search_s,
                         reference_s=cfg.cut_reference_s, min_change=cfg.cut_min_change,
                         ratio=cfg.cut_ratio)
    start = int(scan.distinct[cut.frame])
    dropped = int(scan.repeat[start:].sum()) if scan.complete else 0
    common = {"cut": cut, "cut_source_frame": start, "repeats_dropped": dropped,
              "scanned_frames": len(scan.times_s), "complete_scan": scan.complete,
              "trimmed_s": float(scan.times_s[start])}
    if not dropped:
        return FramePlan(keep=None, times_s=None, retiming=None, **common)
    keep = scan.distinct[cut.frame:]
    d = np.diff(scan.times_s)
    interval = (1.0 / nominal_fps if nominal_fps > 0
                else float(np.median(d)) if len(d) else 1.0 / 30.0)
    retiming = retime_distinct(first_shown[cut.frame:], interval)
    times = retiming.times_s - retiming.times_s[0]
    end_s = max(float(times[-1]), float(scan.times_s[-1] - first_shown[cut.frame]))
    return FramePlan(keep=keep, times_s=times, retiming=retiming, end_s=end_s, **common)


@dataclass(frozen=True, eq=False)
class Prepared:
    """Observations ready for reconstruction.

    Attributes:
        obs: observations at the view's constant rate, in the first frame's camera.
        view: the constant-rate view (``frame_index`` counts observed frames).
        R_0k: ``(T, 3, 3)`` camera rotation of each output frame relative to the first
            (bearings of camera 0 to camera k), or None when not compensated.
        metrics: the ``artefacts`` block of ``perceive_metrics.json``.
        seconds: wall time spent here [s].
    """

    obs: PoseObservations
    view: RateView
    R_0k: np.ndarray | None
    metrics: dict = field(default_factory=dict)
    seconds: float = 0.0


def _person_boxes(obs: PoseObservations, k: int) -> list[np.ndarray]:
    w, h = obs.image_size_px
    if not obs.detected[k]:
        return [np.array([0.0, 0.0, float(w), float(h)])]  # nobody found: trust nothing
    b = landmark_box_px(obs.kp_px[k], w, h)
    pad = BOX_PAD * max(b[2] - b[0], b[3] - b[1])
    return [b + np.array([-pad, -pad, pad, pad])]


def camera_rotations(tracker: CornerTracker, obs: PoseObservations,
                     K: np.ndarray) -> tuple[np.ndarray, dict]:
    """``(S, 3, 3)`` ``R_0k`` of the observed frames (chained over the tracker's key frames,
    interpolated between them), and its figures.

    Args:
        tracker: background corners tracked between key frames of the observed frames.
        obs: the observations (the person's boxes are masked out).
        K: ``(3, 3)`` intrinsics [px].
    """
    keys = [k for k in tracker.keys if k < obs.num_frames]
    pairs, points, resid, reliable = [], [], [], 0
    for i in range(1, len(keys)):
        a, b = keys[i - 1], keys[i]
        r = pair_rotation(tracker.matches[i], K, _person_boxes(obs, a) + _person_boxes(obs, b))
        pairs.append(r.R_ab)
        points.append(r.points)
        if r.reliable:
            reliable += 1
            resid.append(r.residual_px)
    R_keys = chain_rotations(pairs)
    key_t = np.asarray(obs.times_s, dtype=float)[keys]
    R = _slerp(R_keys, key_t, np.asarray(obs.times_s, dtype=float))
    angle = rotation_angle_deg(R_keys)
    info = {"max_rotation_deg": round(float(angle.max()), 3),
            "end_rotation_deg": round(float(angle[-1]), 3),
            "reliable_pairs": reliable, "pairs": len(pairs),
            "background_points_median": int(np.median(points)) if points else 0,
            "residual_px_median": round(float(np.median(resid)), 3) if resid else None}
    return R, info


def _slerp(R: np.ndarray, times_s: np.ndarray, grid_s: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation, Slerp

    if len(R) < 2:
        return np.repeat(R[:1], len(grid_s), axis=0)
    return Slerp(times_s, Rotation.from_matrix(R))(np.clip(grid_s, times_s[0],
                                                           times_s[-1])).as_matrix()


def prepare_observations(obs: PoseObservations, tracker: CornerTracker | None,
                         plan: FramePlan | None, K: np.ndarray, cfg: ArtefactConfig,
                         nominal_fps: float, video_name: str = "video") -> Prepared:
    """Camera-rotation compensation and constant-rate resampling (see the module docstring).

    Args:
        obs: the backend's observations of the planned frames (or of every frame when
            ``plan`` is None), their ``times_s`` the planned sample times. With
            ``cfg.enabled`` False they only go through the container-rate view.
        tracker: background corners tracked between key frames of the observed frames
            (None: no camera-rotation estimate).
        plan: the frame plan.
        K: ``(3, 3)`` intrinsics [px].
        cfg: settings.
        nominal_fps: the container's frame rate [Hz] (0 if unknown).
        video_name: named in errors.

    Raises:
        CameraMoves: the camera turns more than ``cfg.camera_max_rotation_deg``.
    """
    t0 = time.perf_counter()
    metrics: dict = {}
    if plan is not None:
        metrics["scan"] = {"frames": plan.scanned_frames, "complete": plan.complete_scan}
        metrics["observed_frames"] = obs.num_frames
        metrics["repeats"] = {"dropped": plan.repeats_dropped,
                              "fraction": round(plan.repeats_dropped / max(plan.scanned_frames, 1),
                                                4),
                              "max_grey": cfg.repeat_max_grey}
        if plan.retiming is not None:
            metrics["repeats"] |= {"distinct_rate_hz": round(plan.retiming.rate_hz, 3),
                                   "uniform_retiming": plan.retiming.uniform,
                                   "retiming_residual_s": round(plan.retiming.max_residual_s, 4)}
        metrics["cut"] = {"found": plan.cut.found, "first_frame": plan.cut_source_frame,
                          "trimmed_s": round(plan.trimmed_s, 4),
                          "change": round(plan.cut.change, 4),
                          "reference_change": round(plan.cut.reference_change, 4)}
        if plan.cut.found:
            logger.warning("%s: a scene cut at frame %d (%.2f s); the frames before it are "
                           "left out", video_name, plan.cut_source_frame, plan.trimmed_s)
    R = None
    if tracker is not None and len(tracker.keys) > 1 and obs.num_frames > 1:
        R_obs, info = camera_rotations(tracker, obs, K)
        info["compensated"] = bool(info["max_rotation_deg"] >= cfg.camera_min_rotation_deg)
        metrics["camera_rotation"] = info
        limit = cfg.camera_max_rotation_deg
        if limit is not None and info["max_rotation_deg"] > limit:
            raise CameraMoves(CAMERA_TURNS.format(path=video_name, deg=info["max_rotation_deg"],
                                                  limit=limit))
        if info["compensated"]:
            from dataclasses import replace

            changes = {"kp_px": compensate_px(obs.kp_px, R_obs, K),
                       "kp_rel_c": compensate_vectors(obs.kp_rel_c, R_obs)}
            if obs.has_hands:
                changes |= {"hand_px": compensate_px(obs.hand_px, R_obs, K),
                            "hand_rel_c": compensate_vectors(obs.hand_rel_c, R_obs)}
            obs = replace(obs, **changes)
            R = R_obs
    t = np.asarray(obs.times_s, dtype=float)
    d = np.diff(t)
    med = float(np.median(d)) if len(d) else 0.0
    rate = 1.0 / med if med > 0 else 0.0
    irregular = bool(len(d) and np.max(np.abs(d - med)) > VFR_TOLERANCE * med)
    slow = cfg.enabled and rate < cfg.min_fps
    # the clip ends on repeats of its last distinct frame: that pose is held to the clip's end
    held_s = (plan.end_s - float(t[-1]) if plan is not None and plan.end_s is not None
              and len(d) and med > 0 else 0.0)
    held = held_s > 0.5 * med
    if plan is not None and plan.keep is not None:
        metrics["repeats"]["held_end_s"] = round(held_s if held else 0.0, 4)
    if len(d) and med > 0 and (slow or (plan is not None and plan.changed
                                        and (irregular or held))):
        fps = nominal_fps if nominal_fps >= cfg.min_fps else cfg.resample_fps
        grid = constant_grid_s(np.append(t, t[-1] + held_s) if held else t, fps)
        out = resample_observations(obs, grid)
        view = RateView(fps, nearest_index(t, grid), True, (float(d.min()), float(d.max())))
        metrics["resampled"] = {"from_hz": round(rate, 3), "to_hz": fps,
                                "irregular": irregular}
        R_out = _slerp(R, t, grid) if R is not None else None
    else:
        view = constant_rate_view(t, nominal_fps)
        out = obs.take(view.frame_index)
        R_out = R[view.frame_index] if R is not None else None
    return Prepared(out, view, R_out, metrics, time.perf_counter() - t0)


def camera_poses_w(T_w_c0: np.ndarray, R_0k: np.ndarray) -> np.ndarray:
    """``(T, 4, 4)`` camera pose of each frame, from the first frame's pose and ``R_0k``."""
    out = np.repeat(T_w_c0[None], len(R_0k), axis=0)
    out[:, :3, :3] = T_w_c0[:3, :3] @ np.transpose(R_0k, (0, 2, 1))
    return out
