"""Track a robot motion in MuJoCo physics: the library entry point of the ``track`` stage.

One run: clean the motion's glitched leading frames, stream it (start, clip, hold, return to
standing), feed a registered controller through drift correction and the safety layer into the
PD-actuated simulator (one :class:`~exoactor.control.loop.TrackingLoop` on a
:class:`~exoactor.control.mujoco_plant.MujocoPlant`), record a
:class:`~exoactor.formats.Rollout` at the control rate and summarise it into
:class:`~exoactor.metrics.TrackingMetrics` (``metrics.json``).

Metrics compare, after every control step, the robot with the *clean* reference (no test
noise, no drift correction) at the streamer's clip time, over the clip only (not the blend-in,
hold or return), and stop at a fall. One figure looks past the clip: the settled xy error, at
the end of the run, after the reference has held its end position for ``hold_s + return_s``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor import artefacts
from exoactor.control.controller import controllers
from exoactor.control.drift import DriftConfig, DriftCorrector, plan_reference
from exoactor.control.hands import HandConfig, grasp_to_hand_pos, hand_joint_names
from exoactor.control.loop import TrackingLoop
from exoactor.control.mujoco_plant import MujocoPlant
from exoactor.control.record import metrics_from_record, rollout_from_record
from exoactor.control.reference import (
    GlitchReport,
    Pose,
    ReferenceStreamer,
    StreamerConfig,
    drop_glitched_leading_frames,
)
from exoactor.control.safety import JointLimits, SafetyConfig, SafetyEvent, SafetyLayer
from exoactor.control.sim import JointGroup, Simulation
from exoactor.errors import ExoActorError, InvalidMotionFile
from exoactor.formats.motion import RobotMotion, Rollout
from exoactor.formats.scene import Scene
from exoactor.metrics import (
    TrackingMetrics,
    real_time_factor,
)
from exoactor.robots.spec import METRIC_KEY_BODIES
from exoactor.rotations import yaw, yaw_quat

logger = logging.getLogger(__name__)

class TrackConfig(BaseModel):
    """Everything that shapes one tracking run (written into ``metrics.json``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    controller: str = "twist2"
    """Registered controller name (``exoactor.control.controllers``)."""
    controller_options: dict[str, Any] = Field(default_factory=dict)
    """Options of the controller's own config (e.g. ``{"intra_op_threads": 2}``)."""
    robot: Literal["g1", "g1_hands"] | None = None
    """Robot model; ``None`` picks ``g1_hands`` when the motion has ``hand_dof`` or a grasp
    is given, else ``g1``."""
    start: Literal["reference", "blend"] = "reference"
    """``reference``: the robot starts in the first frame's pose (feet on the floor), as the
    validated TWIST2 harness did. ``blend``: it starts standing in the default pose at the first
    frame's xy and heading and the reference blends into the first frame over
    ``reference.blend_in_s`` (what a real robot needs)."""
    reference: StreamerConfig = Field(default_factory=StreamerConfig)
    """Streaming, start/end timing, glitch thresholds, test noise."""
    drift: DriftConfig = Field(default_factory=DriftConfig)
    """Global drift correction (on by default)."""
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    """Safety layer limits and fall thresholds."""
    hands: HandConfig = Field(default_factory=HandConfig)
    """Hand PD gains (43-DoF model only)."""
    post_fall_s: float = Field(1.0, ge=0.0, le=10.0)
    """Time simulated in damping mode after a fall before the run stops [s]."""
    success_body_error_m: float = Field(0.5, gt=0.0)
    """A run succeeds without a fall and with the mean world key-body error below this [m]."""
    max_duration_s: float = Field(600.0, gt=0.0)
    """Longest motion accepted [s]."""
    scene: Scene | None = None
    """Objects in the physics (seats, tables, carried boxes; ``scene.json``, see
    :mod:`exoactor.scene`); ``None``: the empty floor."""


@dataclass(frozen=True)
class TrackResult:
    """What :func:`track_motion` produced.

    Attributes:
        metrics: the summary written to ``metrics.json``.
        rollout: the recorded run at the control rate.
        glitches: leading frames the streamer dropped.
        safety_events: stops and falls the safety layer recorded.
        files: files written (``rollout.npz``, ``metrics.json``, ``rollout.mp4``), by name.
    """

    metrics: TrackingMetrics
    rollout: Rollout
    glitches: GlitchReport
    safety_events: tuple[SafetyEvent, ...]
    files: dict[str, Path]


@dataclass
class SimulationRun:
    """A tracking loop on a MuJoCo plant, ready to step (:func:`build_simulation_loop`).

    Attributes:
        loop: the loop (reset: its first :meth:`~TrackingLoop.step` is the run's first).
        sim: the simulation it drives.
        robot: the robot model.
        motion: the motion as streamed (glitched leading frames dropped, grasp as ``hand_dof``).
        glitches: the leading frames dropped.
        max_steps: an upper bound on the run's control steps (clock at its slowest rate).
    """

    loop: TrackingLoop
    sim: Simulation
    robot: Any
    motion: RobotMotion
    glitches: GlitchReport
    max_steps: int


def track_motion(motion: RobotMotion, config: TrackConfig | None = None,
                 out_dir: Path | None = None, grasp: np.ndarray | None = None) -> TrackResult:
    """Execute ``motion`` in MuJoCo physics with a tracking controller.

    Args:
        motion: the robot motion (G1 29-DoF body joints, optional ``hand_dof``).
        config: run configuration (defaults: TWIST2, drift correction on).
        out_dir: folder for ``rollout.npz`` and ``metrics.json``; ``None`` writes nothing.
        grasp: optional ``(T, 2)`` grasp closure per hand in [0, 1] at the motion's frames,
            used for the hands when the motion has no ``hand_dof``.

    Returns:
        The metrics, the rollout and what the streamer and safety layer reported.

    Raises:
        InvalidMotionFile: the motion does not fit the robot or is too short/long.
        PhysicsDiverged: the simulation produced NaN/inf (state dump in ``out_dir``).
    """
    config = config or TrackConfig()
    run = build_simulation_loop(motion, config, grasp, dump_dir=out_dir)
    loop, sim, robot, glitches = run.loop, run.sim, run.robot, run.glitches
    wall0 = time.perf_counter()
    for _ in range(run.max_steps):
        if loop.done:
            break
        loop.step()
    wall = time.perf_counter() - wall0
    sim_time = sim.time_s
    rec = loop.rec
    fall_time = loop.fall_time_s
    end_time = loop.end_s
    rollout = rollout_from_record(rec, robot.name, 1.0 / loop.dt_s, motion.source)
    extras = {**loop.drift.summary(), **{k: float(v) for k, v in loop.counters.items()},
              "simulated_s": sim_time}
    metrics = metrics_from_record(rec, sim, loop.reference.duration_s, end_time, fall_time,
                                  glitches, real_time_factor(sim_time, wall),
                                  config.success_body_error_m, extras)
    files = _write(out_dir, rollout, metrics, config, motion)
    return TrackResult(metrics, rollout, glitches, tuple(loop.safety.events), files)


def build_simulation_loop(motion: RobotMotion, config: TrackConfig | None = None,
                          grasp: np.ndarray | None = None,
                          dump_dir: Path | None = None) -> SimulationRun:
    """The simulator, controller, safety layer, streamers and drift corrector of one
    ``track`` run, wired into a :class:`TrackingLoop` and reset (nothing stepped yet).

    Args:
        motion, config, grasp: as :func:`track_motion`.
        dump_dir: folder for the divergence dump; ``None`` keeps it in memory.

    Raises:
        InvalidMotionFile, ExoActorError: as :func:`track_motion`.
    """
    from exoactor.robots import get_robot

    config = config or TrackConfig()
    _check_motion(motion, config, grasp)
    use_hands = motion.hand_dof is not None or grasp is not None
    robot = get_robot(config.robot or "g1", hands=use_hands and config.robot is None)
    controller = controllers.build(config.controller, config.controller_options,
                                   joint_names=tuple(motion.joint_names))
    if not set(controller.joint_names) <= set(robot.joint_names):
        raise ExoActorError(f"controller '{config.controller}' drives joints the robot "
                            f"'{robot.name}' lacks")
    rc = config.reference
    clean, glitches = (drop_glitched_leading_frames(motion, rc.glitch_pos_m, rc.glitch_rot_deg,
                                                    rc.glitch_joint_rad)
                       if rc.drop_glitches else (motion, GlitchReport(0, ())))
    if glitches.dropped_frames:
        logger.info("%s: dropped %d glitched leading frame(s): %s", motion.source,
                    glitches.dropped_frames, "; ".join(glitches.reasons))
    grasp = None if grasp is None else np.asarray(grasp, float)[glitches.dropped_frames:]

    # ---- simulator with PD actuators on the controller's joints (+ hands) -------------
    jidx = {n: i for i, n in enumerate(robot.joint_names)}
    body_idx = np.array([jidx[n] for n in controller.joint_names])
    gains = controller.gains
    body = JointGroup(controller.joint_names, gains.kp, gains.kd,
                      np.minimum(gains.torque_limit_nm, robot.torque_limits[body_idx]))
    hand_names = hand_joint_names(robot.joint_names) if robot.spec.hand_joint_count else ()
    hand_idx = np.array([jidx[n] for n in hand_names], dtype=int)
    hands = None
    if hand_names:
        n_h = len(hand_names)
        hands = JointGroup(hand_names, np.full(n_h, config.hands.kp), np.full(n_h, config.hands.kd),
                           robot.torque_limits[hand_idx])
    sim = Simulation(robot, body, hands, dump_dir=dump_dir, scene=config.scene)
    all_idx = np.concatenate([body_idx, hand_idx])
    safety = SafetyLayer(
        JointLimits(robot.joint_limits[all_idx, 0], robot.joint_limits[all_idx, 1],
                    robot.torque_limits[all_idx]),
        kp=np.concatenate([body.kp, hands.kp if hands else []]),
        kd=np.concatenate([body.kd, hands.kd if hands else []]),
        torque_limit_nm=np.concatenate([body.torque_limit_nm,
                                        hands.torque_limit_nm if hands else []]),
        config=config.safety)
    hand_limits = robot.joint_limits[hand_idx]
    hand_open = np.zeros(len(hand_names))

    # ---- streamers: clean (metrics) and as controlled (optional test noise) ------------
    hand_motion = clean
    if hand_names and clean.hand_dof is None and grasp is not None:
        hand_motion = clean.replace(hand_dof=grasp_to_hand_pos(grasp, hand_names, hand_limits))
    first = hand_motion.slice(0, 1)
    stand = Pose(np.array([0.0, 0.0, robot.spec.root_height_m]), np.array([1.0, 0, 0, 0]),
                 controller.default_joint_pos, hand_open if hand_names else None)
    if config.start == "reference":
        qpos0 = sim.compose_qpos(first.root_pos[0], first.root_quat[0], first.dof_pos[0],
                                 None if first.hand_dof is None else first.hand_dof[0])
        sim.reset(qpos0)
        start_pose = None
    else:
        heading = yaw_quat(float(yaw(first.root_quat[0])))
        qpos0 = sim.compose_qpos(np.r_[first.root_pos[0, :2], robot.spec.root_height_m], heading,
                                 controller.default_joint_pos, hand_open if hand_names else None)
        sim.reset(qpos0)
        start_pose = Pose(sim.data.qpos[0:3].copy(), heading, controller.default_joint_pos,
                          hand_open if hand_names else None)
    metric_stream = ReferenceStreamer(hand_motion, stand, start_pose, rc)
    control_stream = metric_stream
    if rc.joint_noise_rad > 0:
        rng = np.random.default_rng(rc.noise_seed)
        noisy = hand_motion.replace(
            dof_pos=hand_motion.dof_pos + rng.normal(0.0, rc.joint_noise_rad,
                                                     hand_motion.dof_pos.shape))
        control_stream = ReferenceStreamer(noisy, stand, start_pose, rc)

    # ---- the loop ----------------------------------------------------------------------
    dt = controller.control_dt_s
    key = robot.spec.key_bodies.as_dict()
    body_ids = np.array([robot.body_id(key[k]) for k in METRIC_KEY_BODIES])
    plan = plan_reference(hand_motion, config.drift)
    loop = TrackingLoop(
        MujocoPlant(sim, body_ids), controller, safety, metric_stream,
        clip_time_s=-metric_stream.blend_in_s, lookahead_s=rc.lookahead_s,
        control_reference=control_stream, plan=plan, hand_open=hand_open,
        post_fall_s=config.post_fall_s)
    loop.drift = DriftCorrector(config.drift, dt, plan, controller.default_joint_pos, loop.legs)
    max_steps = int(np.ceil((metric_stream.end_s - loop.clip_time_s) / dt
                            / config.drift.min_rate)) + 1
    loop.reset()
    return SimulationRun(loop, sim, robot, hand_motion, glitches, max_steps)


def _check_motion(motion: RobotMotion, config: TrackConfig, grasp: np.ndarray | None) -> None:
    if not isinstance(motion, RobotMotion):
        raise InvalidMotionFile(str(motion), "<motion>", f"is a {type(motion).__name__}, expected "
                                "a RobotMotion (load files with exoactor.formats.load_motion)")
    if motion.duration_s > config.max_duration_s:
        raise InvalidMotionFile(motion.source, "root_pos",
                                f"lasts {motion.duration_s:.0f} s, more than max_duration_s = "
                                f"{config.max_duration_s:.0f} s; split it or raise the limit")
    if grasp is not None:
        g = np.asarray(grasp, dtype=float)
        if g.shape != (motion.num_frames, 2):
            raise InvalidMotionFile(motion.source, "grasp", f"has shape {g.shape}, expected "
                                    f"({motion.num_frames}, 2): one closure per hand per frame")


def _write(out_dir: Path | None, rollout: Rollout, metrics: TrackingMetrics,
           config: TrackConfig, motion: RobotMotion) -> dict[str, Path]:
    if out_dir is None:
        return {}
    from exoactor.fileio import write_json
    from exoactor.formats.npz import save_npz

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"rollout": save_npz(rollout, out_dir / artefacts.ROLLOUT)}
    payload = {**metrics.to_dict(), "motion": motion.source, "controller": config.controller,
               "config": config.model_dump(mode="json")}
    write_json(out_dir / artefacts.METRICS, payload)
    files["metrics"] = out_dir / artefacts.METRICS
    return files
