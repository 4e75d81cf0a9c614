"""The retarget stage's entry points: :func:`retarget` (in memory) and :func:`retarget_file`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor import artefacts
from exoactor.formats.motion import HumanMotion, RobotMotion
from exoactor.metrics import foot_skate_mm
from exoactor.retarget.config import RetargetConfig
from exoactor.retarget.metrics import (
    RetargetMetrics,
    foot_float_mm,
    foot_penetration_mm,
    joint_limit_violations,
    median_p95,
    position_errors_mm,
    self_collision_frames,
)
from exoactor.retarget.targets import IKTargets

logger = logging.getLogger(__name__)

METRICS_FILE = artefacts.RETARGET_METRICS
"""Name of the metrics file written beside the robot motion."""

MAIN_KEYPOINT_WEIGHT = 0.5
"""Correspondence weight from which a keypoint counts in ``keypoint_error_mm``."""


@dataclass(frozen=True)
class RetargetResult:
    """What :func:`retarget` produced.

    Attributes:
        motion: the robot motion at the output rate (``hand_dof`` when hands were asked for).
        metrics: quality and speed figures.
        targets: the IK targets (scaled keypoints, contacts, ...), for reports and debugging.
        iters: ``(T,)`` IK steps per frame.
        fallback: ``(T,)`` bool, frames solved with joint and ground limits only (the full QP
            was infeasible).
        status: ``"ok"``, or ``"degraded"`` when frames fell back or joint limits were violated.
    """

    motion: RobotMotion
    metrics: RetargetMetrics
    targets: IKTargets
    iters: np.ndarray
    fallback: np.ndarray
    status: str


def _output_robot(cfg: RetargetConfig) -> str:
    """Registry name of the robot the motion is written for (the hand variant with hands)."""
    from exoactor.errors import UnknownName
    from exoactor.robots import get_spec

    spec = get_spec(cfg.robot)
    if not cfg.hands or spec.hand_joint_count:
        return cfg.robot
    if "hands" not in spec.variants:
        raise UnknownName(f"robot '{cfg.robot}' has no hand variant; variants: "
                          f"{', '.join(spec.variants) or 'none'}")
    return spec.variants["hands"]


_NOT_INSTALLED = ("the retarget stage needs mink and daqp ({exc}): "
                  "pip install 'exoactor[retarget]'")


def _require_solver() -> None:
    """Raise a clear error when the IK's optional dependencies are missing."""
    try:
        import daqp  # noqa: F401

        from exoactor.mink_loader import import_mink

        import_mink()
    except ImportError as exc:
        from exoactor.errors import ExoActorError

        raise ExoActorError(_NOT_INSTALLED.format(exc=exc)) from exc


def retarget(human: HumanMotion, config: RetargetConfig | None = None) -> RetargetResult:
    """Retarget a human motion to the robot.

    Args:
        human: world-grounded human motion (MediaPipe-33 keypoints, contacts, hands).
        config: stage configuration (defaults: G1, 50 Hz, no hands).

    Returns:
        The robot motion with its metrics.

    Raises:
        InvalidMotionFile: input that cannot be repaired (missing required keypoints, gaps longer
            than ``max_gap_s``, implausible proportions, a person off the ground).
        ExoActorError: mink/daqp are not installed (``pip install 'exoactor[retarget]'``).
    """
    from exoactor.retarget.hands import hand_dof_from_curl, hand_pose_arrays
    from exoactor.retarget.ik import BodyIK
    from exoactor.retarget.model import retarget_model
    from exoactor.retarget.sweep import solve_frames
    from exoactor.retarget.targets import build_targets
    from exoactor.robots import get_robot

    cfg = config or RetargetConfig()
    t_start = time.perf_counter()
    _require_solver()
    out_robot = _output_robot(cfg)
    rmodel = retarget_model(cfg.robot)
    tg = build_targets(human, rmodel, cfg)
    ik = BodyIK(rmodel, cfg, tg.fps)
    q0 = rmodel.rest_qpos.copy()
    q0[:3] = tg.pelvis_pos_w[0]
    q0[3:7] = tg.pelvis_quat_w[0]
    T = tg.num_frames
    t_ik = time.perf_counter()
    sweep = solve_frames(ik, tg, cfg, q0)
    if not sweep.first_converged:
        logger.warning("%s: the first frame's IK did not converge in %d steps; the robot catches "
                       "up over the next frames", human.source, cfg.initial_iterations)
    qpos, iters, fallback = sweep.qpos, sweep.iters, sweep.fallback
    ik_s = time.perf_counter() - t_ik

    robot = rmodel.robot
    hand_dof = None
    if cfg.hands or robot.spec.hand_joint_count:
        hand_robot = get_robot(out_robot)
        open_, closed, finger = hand_pose_arrays(hand_robot.hand_joint_names,
                                                 hand_robot.joint_limits[hand_robot.hand_idx])
        hand_dof = hand_dof_from_curl(tg.hand_curl, open_, closed, finger)
    quat = qpos[:, 3:7] / np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
    motion = RobotMotion(robot=out_robot, fps=tg.fps, joint_names=tuple(robot.body_joint_names),
                         root_pos=qpos[:, :3].copy(), root_quat=quat,
                         dof_pos=qpos[:, robot.qpos_adr[robot.body_idx]].copy(),
                         hand_dof=hand_dof, source=f"retarget({human.source})")

    pts = rmodel.fk(qpos)
    main = np.array([k.weight >= MAIN_KEYPOINT_WEIGHT for k in rmodel.corr.keypoints])
    mask = (tg.keypoint_weight > 0) & main[None] & np.isfinite(tg.scaled_pos_w).all(-1)
    kp_err = median_p95(position_errors_mm(pts.keypoint_pos_w, tg.scaled_pos_w, mask))
    skate = foot_skate_mm(pts.foot_pos_w, tg.foot_contact)
    violations = joint_limit_violations(motion.dof_pos, robot.joint_limits[robot.body_idx])
    wall = time.perf_counter() - t_start
    metrics = RetargetMetrics(
        joint_limit_violations=violations,
        foot_skate_mm=float(skate.mean()) if skate.size else 0.0,
        foot_skate_max_mm=float(skate.max()) if skate.size else 0.0,
        foot_penetration_mm=foot_penetration_mm(pts.sole_height_m),
        foot_float_mm=foot_float_mm(pts.sole_height_m, tg.foot_contact),
        self_collisions=self_collision_frames(pts.arm_clearance_m),
        keypoint_error_mm=kp_err,
        frames_per_second=T / wall,
        ik_frames_per_second=T / ik_s,
        num_frames=T, fps=tg.fps,
        contact_frames=int(tg.foot_contact.any(axis=1).sum()),
        fallback_frames=int(fallback.sum()),
        extras={"input_frames": human.num_frames, "input_fps": human.fps,
                "segment_scales": tg.scales.segment, "root_scale": tg.scales.root,
                "ground_offset_m": tg.ground_offset_m, "regrounded": tg.regrounded,
                "contacts_detected": tg.contacts_detected,
                "filled_frames": tg.repair.filled_frames,
                "low_confidence_frames": tg.repair.low_confidence_frames,
                "dropped_keypoints": list(tg.repair.dropped_keypoints),
                "invalid_frames": tg.repair.invalid_frames,
                "hand_keypoint_frames": int(tg.hand_from_keypoints.sum()),
                "arm_restart_tries": sweep.restart_tries, "arm_restarts": sweep.restarts,
                "arm_resolved_frames": sweep.resolved_frames})
    status = "ok" if not fallback.any() and violations == 0 else "degraded"
    if status != "ok":
        logger.warning("%s: retarget degraded (%d fallback frames, %d limit violations)",
                       human.source, int(fallback.sum()), violations)
    return RetargetResult(motion, metrics, tg, iters, fallback, status)


def retarget_file(human_path: str | Path, out_path: str | Path,
                  config: RetargetConfig | None = None) -> RetargetResult:
    """Retarget ``HUMAN.npz`` and write ``ROBOT.npz`` plus ``retarget_metrics.json`` beside it.

    Args:
        human_path: a :class:`HumanMotion` ``.npz``.
        out_path: where the :class:`RobotMotion` goes (``.npz``; other motion formats by name).
        config: stage configuration.

    Returns:
        The :class:`RetargetResult`; the files are written atomically.
    """
    from exoactor.fileio import write_json
    from exoactor.formats.io import save_motion
    from exoactor.formats.npz import load_npz

    cfg = config or RetargetConfig()
    human = load_npz(human_path, expect=HumanMotion)
    result = retarget(human, cfg)
    out_path = Path(out_path)
    save_motion(result.motion, out_path)
    write_json(out_path.parent / METRICS_FILE,
               {"status": result.status, "input": str(human_path), "output": str(out_path),
                "config": cfg.model_dump(), **result.metrics.to_dict()})
    logger.info("retargeted %s -> %s (%d frames, %.0f frames/s)", human_path, out_path,
                result.metrics.num_frames, result.metrics.frames_per_second)
    return result
