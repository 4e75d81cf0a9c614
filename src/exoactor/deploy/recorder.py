"""What a deployment leaves behind: ``deploy_rollout.npz`` and ``deploy_metrics.json``.

The rows come from the tracking loop's record (:attr:`TrackingLoop.rec`: the clip time, the
command's targets, the clean reference, and the robot plant's row — tick, wall time, measured
joints and IMU, estimated pelvis height and torso tilt, measured hand joints). Only streaming
steps are recorded (not the standby before the start). The rollout keeps its historical keys
(``ref_q``, ``ref_height``, ``target`` = body targets; ``hand_target`` with hands) and ``fps``.

Metrics are tracking errors as ``exoactor track`` defines them (joint error; key bodies in the
pelvis frame, since the pelvis position is not measured), over the clip only, plus loop rates
and jitter and the run's counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from exoactor import artefacts
from exoactor.deploy.estimate import BodyEstimator

ROWS = ("clip_t", "tick_ms", "wall_s", "q", "dq", "quat", "gyro", "target", "ref_q",
        "ref_height", "height", "tilt", "ref_tilt")
HAND_ROWS = ("hand_q", "ref_hand_q", "hand_target")


def deploy_rows(rec: dict[str, list], n_body: int, hands: bool) -> dict[str, np.ndarray]:
    """The loop's record as the rollout's arrays (see the module docstring)."""
    if not rec.get("clip_t"):
        return {k: np.zeros(0) for k in ROWS + (HAND_ROWS if hands else ())}
    target = np.array(rec["target"])
    out = {k: np.array(rec[k]) for k in ("clip_t", "tick_ms", "wall_s", "q", "dq", "quat", "gyro",
                                          "height", "tilt", "ref_tilt")}
    out.update(target=target[:, :n_body], ref_q=np.array(rec["ref_dof"]),
               ref_height=np.array(rec["ref_pos"])[:, 2])
    if hands:
        out.update(hand_q=np.array(rec["hand_q"]), ref_hand_q=np.array(rec["ref_hand"]),
                   hand_target=target[:, n_body:])
    return out


def deploy_metrics(rows: dict[str, np.ndarray], clip_duration_s: float, hands: bool,
                   estimator: BodyEstimator) -> dict[str, Any]:
    """Tracking errors over the clip; only ``evaluated_s`` = 0 when no clip step was recorded
    (the loop stopped in the ramp or the standby)."""
    from exoactor.metrics import body_error_mm, joint_error_rad

    clip_t = rows["clip_t"]
    sel = (np.flatnonzero((clip_t >= -1e-9) & (clip_t <= clip_duration_s + 1e-9))
           if len(clip_t) else np.array([], dtype=int))
    if not len(sel):
        return {"evaluated_s": 0.0}
    q, ref_q = rows["q"][sel], rows["ref_q"][sel]
    jerr = joint_error_rad(q, ref_q)
    body = np.array([estimator.key_bodies_b(x) for x in q])
    ref_body = np.array([estimator.key_bodies_b(x) for x in ref_q])
    out: dict[str, Any] = {}
    if hands and len(rows["hand_q"]):
        herr = np.abs(rows["hand_q"][sel] - rows["ref_hand_q"][sel])
        out["mean_hand_joint_error_rad"] = (float(np.nanmean(herr)) if np.isfinite(herr).any()
                                            else None)
    out.update(mean_joint_error_rad=float(jerr.mean()), max_joint_error_rad=float(jerr.max()),
               key_body_error_mm=float(body_error_mm(body, ref_body).mean()),
               evaluated_s=float(clip_t[sel[-1]] - clip_t[sel[0]]),
               min_pelvis_height_est_m=float(rows["height"][sel].min()),
               max_torso_tilt_deg=float(np.degrees(rows["tilt"][sel].max())))
    return out


def write_outputs(out_dir: Path, rows: dict[str, np.ndarray], fps: float,
                  joint_names: tuple[str, ...], metrics: dict[str, Any]) -> dict[str, Path]:
    """``deploy_rollout.npz`` and ``deploy_metrics.json`` in ``out_dir`` (atomic writes)."""
    from exoactor.fileio import atomic_path, write_json

    out_dir.mkdir(parents=True, exist_ok=True)
    rollout = out_dir / artefacts.DEPLOY_ROLLOUT
    with atomic_path(rollout) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, fps=fps, joint_names=np.array(joint_names), **rows)
    write_json(out_dir / artefacts.DEPLOY_METRICS, metrics)
    return {"rollout": rollout, "metrics": out_dir / artefacts.DEPLOY_METRICS}
