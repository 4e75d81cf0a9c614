"""``exoactor deploy``: a robot motion on a G1 over DDS, behind the shared safety layer.

This module is the **operator flow**; the jobs it drives live beside it: the config and result
(:mod:`~exoactor.deploy.config`), the shared robot state (:mod:`~exoactor.deploy.link`), the
500 Hz command loop and its fault stops (:mod:`~exoactor.deploy.command_loop`), the pre-flight
checks (:mod:`~exoactor.deploy.preflight`), the robot as a plant of the one tracking loop
(:mod:`~exoactor.deploy.plant`, :mod:`exoactor.control.loop`) and the recorder
(:mod:`~exoactor.deploy.recorder`).

The flow (main thread): connect (first ``LowState_`` within ``connect_timeout_s``) →
pre-flight (tick counts milliseconds, IMU quaternion, every joint inside its range) → the
command loop starts → soft ramp from the measured pose to the default pose over ``ramp_s``
(PD only) → **standby**: the tracking loop runs with the reference held at the blend-in's start
(the robot holds the standing pose while the operator lowers it from its gantry; the simulated
robot's gantry is released after 0.5 s; in Unitree's simulator the operator drops the band) →
an explicit start (Enter, or START on the remote; or ``auto``) → the motion streamed through
the same :class:`~exoactor.control.loop.TrackingLoop` as ``exoactor track`` at 50 Hz *of the
robot's clock* (its ``tick``; host time for a foreign simulator), every target — hands included
— through :class:`~exoactor.control.safety.SafetyLayer` (limits, rate, NaN, fall) → the
streamer's hold and return to standing → damping. Ctrl-C at any point → damping. With
``hands``, Dex3-1 targets (the motion's ``hand_dof``) go out at 100 Hz from the command loop,
open outside the motion.

``dry_run`` computes and logs every command and publishes nothing (no ``DataWriter`` is made).
Outputs in ``out_dir``: ``deploy_log.jsonl`` (events, written as they happen),
``deploy_rollout.npz`` and ``deploy_metrics.json`` (:mod:`~exoactor.deploy.recorder`).

Global drift correction is off here: it needs the pelvis position, which the G1 does not
measure (a state estimator or motion capture would supply it).
"""

from __future__ import annotations

import json
import logging
import select
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from exoactor import artefacts
from exoactor.control.loop import ReferenceMod, TrackingLoop
from exoactor.control.reference import Pose
from exoactor.deploy import messages, preflight, sdk
from exoactor.deploy.command_loop import MAX_LOOP_ERRORS, CommandLoop
from exoactor.deploy.config import (
    EXIT_COMPLETED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_SAFETY_STOP,
    DeployConfig,
    DeployError,
    DeployResult,
)
from exoactor.deploy.link import RobotLink
from exoactor.deploy.plant import RobotPlant, Stopped
from exoactor.deploy.recorder import deploy_metrics, deploy_rows, write_outputs
from exoactor.deploy.timing import LoopStats, loop_stats
from exoactor.formats.motion import RobotMotion
from exoactor.signals import smoothstep

logger = logging.getLogger(__name__)

__all__ = ["EXIT_COMPLETED", "EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_SAFETY_STOP",
           "MAX_LOOP_ERRORS", "DeployConfig", "DeployError", "DeployResult", "Deployment",
           "verified_motion"]

RELEASE_AFTER_S = 0.5
"""Simulated robot: controller time on the gantry before it is released [s]."""
BAND_KEY = {"unitree_mujoco": "9"}
"""The viewer key that drops the band in each foreign simulator."""
VERIFIED_MOTIONS = (artefacts.EXECUTABLE_MOTION, artefacts.ROBOT_MOTION)
"""A run folder's motions, in order of preference: the physics filter's output (what the
simulation verified as executable), else the retargeted motion the run tracked."""


def verified_motion(run_dir: Path) -> Path:
    """The motion a run folder verified in simulation (:data:`VERIFIED_MOTIONS`).

    Raises:
        DeployError: the folder holds none of them.
    """
    run_dir = Path(run_dir)
    for name in VERIFIED_MOTIONS:
        if (run_dir / name).is_file():
            return run_dir / name
    raise DeployError(f"{run_dir}: no {' or '.join(VERIFIED_MOTIONS)} in this folder; give a "
                      "run folder of `exoactor run` (or a motion file)")


class Deployment:
    """One run of a motion on a robot over DDS (see the module docstring)."""

    def __init__(self, motion: RobotMotion, config: DeployConfig | None = None,
                 out_dir: Path | None = None):
        from exoactor.control.controller import controllers
        from exoactor.control.reference import ReferenceStreamer, drop_glitched_leading_frames
        from exoactor.control.safety import JointLimits, SafetyLayer
        from exoactor.deploy.estimate import BodyEstimator
        from exoactor.robots import get_robot
        from exoactor.robots.spec import METRIC_KEY_BODIES
        from exoactor.rotations import yaw, yaw_quat

        self.config = c = config or DeployConfig()
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.robot = get_robot("g1")
        self.controller = controllers.build(c.controller, c.controller_options,
                                            joint_names=tuple(self.robot.body_joint_names))
        rc = c.reference
        self.motion, self.glitches = (
            drop_glitched_leading_frames(motion, rc.glitch_pos_m, rc.glitch_rot_deg,
                                         rc.glitch_joint_rad) if rc.drop_glitches else (motion, None))
        body_idx = self.robot.body_idx
        limits = self.robot.joint_limits[body_idx]
        torque = self.robot.torque_limits[body_idx]
        gains = self.controller.gains
        kp, kd, clip = gains.kp, gains.kd, gains.torque_limit_nm
        self.lower, self.upper = limits[:, 0], limits[:, 1]
        n_hand = 0
        if c.hands:
            if self.motion.hand_dof is None:
                raise DeployError(f"{motion.source}: --hands needs a motion with hand_dof (14 "
                                  "Dex3-1 joints); retarget with --hands")
            hands_robot = get_robot("g1", hands=True)
            hand_idx = hands_robot.hand_idx
            n_hand = len(hand_idx)
            limits = np.concatenate([limits, hands_robot.joint_limits[hand_idx]])
            torque = np.concatenate([torque, hands_robot.torque_limits[hand_idx]])
            kp = np.concatenate([kp, np.full(n_hand, c.hand_kp)])
            kd = np.concatenate([kd, np.full(n_hand, c.hand_kd)])
            clip = np.concatenate([clip, hands_robot.torque_limits[hand_idx]])
        self.safety = SafetyLayer(JointLimits(limits[:, 0], limits[:, 1], torque), kp, kd, clip,
                                  c.safety)
        kb = self.robot.spec.key_bodies.as_dict()
        self.estimator = BodyEstimator(self.robot, tuple(kb[k] for k in METRIC_KEY_BODIES))
        self.link = RobotLink(accept_unsigned=c.simulator is not None)
        self.events: list[dict[str, Any]] = []
        self._t0 = time.monotonic()
        self._phase = "init"
        self._log_fh = None
        self._low: threading.Thread | None = None
        self._command_loop: CommandLoop | None = None
        self.plant = RobotPlant(self.link, len(self.lower), n_hand, self.estimator,
                                BodyEstimator(self.robot), self._stop, self._check_stopped,
                                c.heartbeat_ms, "host" if c.simulator else "tick", self._t0)
        # the robot starts standing in the default pose at the first frame's xy and heading
        first = self.motion.slice(0, 1)
        heading = yaw_quat(float(yaw(first.root_quat[0])))
        default = self.controller.default_joint_pos
        h0 = self.robot.spec.root_height_m
        hand_open = np.zeros(n_hand) if n_hand else None
        start = Pose(np.r_[first.root_pos[0, :2], h0], heading, default, hand_open)
        stand = Pose(np.array([0.0, 0.0, h0]), np.array([1.0, 0, 0, 0]), default, hand_open)
        streamer = ReferenceStreamer(self.motion, stand, start, rc)
        self.loop = TrackingLoop(self.plant, self.controller, self.safety, streamer,
                                 clip_time_s=-streamer.blend_in_s, lookahead_s=rc.lookahead_s,
                                 hand_open=np.zeros(n_hand))

    # ---- events and faults ---------------------------------------------------------------
    def _event(self, kind: str, detail: str) -> None:
        entry = {"t_s": round(time.monotonic() - self._t0, 4), "monotonic_s": time.monotonic(),
                 "phase": self._phase, "kind": kind, "detail": detail}
        self.events.append(entry)
        log = logger.warning if kind in ("fault", "stop", "interrupt") else logger.info
        log("[%s] %s: %s", self._phase, kind, detail)
        if self._log_fh is not None:  # live, one JSON line per event
            self._log_fh.write(json.dumps(entry) + "\n")
            self._log_fh.flush()

    def _stop(self, reason: str, kind: str = "fault") -> None:
        s = self.link
        with s.lock:
            if s.stopped.is_set():
                return
            s.stop_reason, s.stop_kind = reason, kind
            s.stopped.set()
        if kind != "done":
            self.safety.stop(reason, time.monotonic() - self._t0)
        self._event(kind, f"{reason} -> damping")

    def _check_stopped(self) -> None:
        if self._low is not None and not self._low.is_alive() and not self.link.stopped.is_set():
            self._stop("the command loop ended unexpectedly")
        if self.link.stopped.is_set():
            raise Stopped

    # ---- operator flow -------------------------------------------------------------------
    def run(self) -> DeployResult:
        """Connect, check, ramp, wait for start, stream, return, damp; write the outputs."""
        c = self.config
        sdk.init_dds(c.domain_id, c.interface)
        LowCmd_, LowState_, String_ = sdk.hg_types()
        from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

        self._phase = "connect"
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            self._log_fh = open(self.out_dir / artefacts.DEPLOY_LOG, "w")  # noqa: SIM115
        sub = sdk.subscriber(sdk.LOWSTATE_TOPIC, LowState_, self.link.on_state, 1)
        publisher = None if c.dry_run else sdk.publisher(sdk.LOWCMD_TOPIC, LowCmd_)
        self._sim_control = (sdk.publisher(sdk.SIM_CONTROL_TOPIC, String_)
                             if c.sim and not c.dry_run else None)
        self._string = String_
        hand_pubs, hand_msg, hand_subs = {}, None, []
        if c.hands:
            from unitree_sdk2py.idl.default import unitree_hg_msg_dds__HandCmd_

            HandCmd_, HandState_ = sdk.hand_types()
            hand_msg = unitree_hg_msg_dds__HandCmd_()
            for side in sdk.HAND_SIDES:
                if not c.dry_run:
                    hand_pubs[side] = sdk.publisher(sdk.DEX3_CMD_TOPIC.format(side=side), HandCmd_)
                hand_subs.append(sdk.subscriber(
                    sdk.DEX3_STATE_TOPIC.format(side=side), HandState_,
                    lambda m, side=side: self.link.on_hand_state(side, m), 1))
        self._command_loop = CommandLoop(c, self.link, len(self.lower), self._stop, publisher,
                                         unitree_hg_msg_dds__LowCmd_(), hand_pubs, hand_msg)
        self._event("info", f"domain {c.domain_id} on '{c.interface}'"
                    + (" (dry run: nothing is published)" if c.dry_run else "")
                    + (f"; simulator {c.simulator}: unsigned state accepted, controller on host "
                       "time" if c.simulator else ""))
        low = None
        status, exit_code, reason = "not_started", EXIT_ERROR, None
        try:
            state = self._connect()
            self._phase = "check"
            preflight.check_state(state, self.robot.body_joint_names, self.lower, self.upper,
                                  c.start_limit_tolerance_rad)
            self._event("info", "pre-flight checks passed ("
                        + ("unsigned state from the simulator" if c.simulator else "CRC")
                        + ", IMU, joint ranges)")
            low = self._low = threading.Thread(target=self._command_loop.run,
                                               name="lowcmd-500hz", daemon=True)
            low.start()
            self._ramp(state)
            self._control()
            self._phase = "done"
            self._stop("motion finished", kind="done")
            status, exit_code = "completed", EXIT_COMPLETED
        except KeyboardInterrupt:
            self._stop("operator interrupt (Ctrl-C)", kind="interrupt")
            status, exit_code = "interrupted", EXIT_INTERRUPTED
        except Stopped:
            status, exit_code = "safety_stop", EXIT_SAFETY_STOP
        except DeployError as exc:
            self._event("error", str(exc))
            self.link.stopped.set()
            status, exit_code, reason = "not_started", EXIT_ERROR, str(exc)
        except Exception as exc:  # noqa: BLE001 - end in damping, keep the record, then report
            logger.exception("deploy failed")
            self._stop(f"error: {exc!r}")
            status, exit_code = "error", EXIT_ERROR
        finally:
            self.link.stopped.set()
            if low is not None:
                try:
                    low.join()
                except KeyboardInterrupt:
                    low.join()
            sub.Close()
            for hsub in hand_subs:
                hsub.Close()
        reason = self.link.stop_reason if status != "not_started" else reason
        metrics = self._metrics(status, reason)
        files = self._write(metrics)
        return DeployResult(status, reason, exit_code, metrics, files)

    def _connect(self) -> messages.StateSample:
        c = self.config
        state = preflight.connect(self.link, c)
        self._event("info", f"robot connected: tick {state.tick_ms} ms, mode_machine "
                    f"{state.mode_machine}")
        if c.simulator is None:
            preflight.check_tick_rate(self.link, state)
        else:
            self._event("info", f"{c.simulator}: its tick is not checked (it leaves it at "
                        f"{state.tick_ms}); the controller runs on host time")
        return self.link.latest()[0]

    def _ramp(self, state: messages.StateSample) -> None:
        self._phase = "ramp"
        c = self.config
        q0 = state.joint_pos.copy()
        goal = self.controller.default_joint_pos
        gains = self.controller.gains
        self._event("info", f"ramping to the default pose over {c.ramp_s:.1f} s")
        with self.link.lock:
            self.link.watch_heartbeat = True
        if c.hands:
            self.link.set_hand_target(np.zeros(2 * messages.NUM_HAND_MOTORS))
        t0 = time.monotonic()
        while True:
            self._check_stopped()
            x = (time.monotonic() - t0) / c.ramp_s
            target = q0 + (goal - q0) * smoothstep(min(x, 1.0))
            self.link.set_command(messages.MotorCommand(np.clip(target, self.lower, self.upper),
                                                        gains.kp, gains.kd))
            if x >= 1.0:
                return
            time.sleep(0.02)

    def _start_requested(self, standby_s: float, released_s: float | None) -> bool:
        c = self.config
        if c.start == "auto":
            return released_s is not None and standby_s - released_s >= c.settle_s + c.auto_start_s
        state, _ = self.link.latest()
        if state is not None and state.pressed("start"):
            return True
        if sys.stdin is not None and sys.stdin.isatty():
            ready, _, _ = select.select([sys.stdin], [], [], 0)
            if ready:
                sys.stdin.readline()
                return True
        return False

    def _standby_message(self) -> str:
        c = self.config
        text = "controller on, holding the standing pose"
        if c.simulator is not None:
            text += (f"; {c.simulator}: drop the band now (key {BAND_KEY[c.simulator]} in its "
                     "viewer)")
        if c.start == "auto":
            return text + (f"; the motion starts in {c.settle_s + c.auto_start_s:.1f} s"
                           if c.simulator is not None else "")
        return text + ("; press Enter or START on the remote to stream the motion, SELECT or "
                       "Ctrl-C stops into damping")

    def _control(self) -> None:
        """Standby (the loop holds the reference still), then the motion, at 50 Hz."""
        self._phase = "standby"
        c = self.config
        loop = self.loop
        dt = loop.dt_s
        loop.reset()
        self.plant.start(dt)
        hold = ReferenceMod(clock_rate=0.0, lookahead=False)
        standby_s, released_s, streaming = 0.0, None if self._sim_control else 0.0, False
        self._event("info", self._standby_message())
        t_wait = time.monotonic()
        while loop.clip_time_s < loop.end_s - 1e-9:
            if not streaming:
                if released_s is None and standby_s >= RELEASE_AFTER_S:
                    self._sim_control.Write(self._string("release"))
                    self._event("info", "simulated robot: gantry released")
                    released_s = standby_s
                if self._start_requested(standby_s, released_s):
                    streaming = True
                    self._phase = "stream"
                    ref = loop.reference
                    self._event("info", f"start: streaming {Path(self.motion.source).name} "
                                f"({ref.duration_s:.1f} s clip, blend-in {ref.blend_in_s:.1f} s, "
                                f"ends at {ref.end_s:.1f} s)")
                elif time.monotonic() - t_wait > c.max_wait_start_s:
                    self._stop(f"nobody started within {c.max_wait_start_s:.0f} s", kind="stop")
                    raise Stopped
            try:
                result = loop.step(None if streaming else hold, record=streaming)
            except Stopped:
                if not self.link.stopped.is_set():  # the safety layer answered with damping
                    self._stop(self.safety.stop_reason or "safety layer stop")
                raise
            if result.fell:
                f = self.plant.last_fall
                self._stop(f"fall: pelvis ~{f.pelvis_height_m:.2f} m, torso tilt "
                           f"{np.degrees(f.torso_tilt_rad):.0f} deg")
                raise Stopped
            if not streaming:
                standby_s += dt

    # ---- outputs -------------------------------------------------------------------------
    def _metrics(self, status: str, reason: str | None) -> dict[str, Any]:
        c = self.config
        rows = deploy_rows(self.loop.rec, len(self.lower), c.hands)
        out: dict[str, Any] = {"status": status, "reason": reason, "motion": self.motion.source,
                               "clip_duration_s": self.motion.duration_s, "dry_run": c.dry_run}
        out["fell"] = any(e["kind"] == "fault" and e["detail"].startswith("fall")
                          for e in self.events)
        out.update(deploy_metrics(rows, self.motion.duration_s, c.hands, self.estimator))
        s = self.link
        cl = self._command_loop
        low = cl.stats if cl is not None else LoopStats(c.low_rate_hz, 0, 0, 0, 0, 0, 0, 0)
        control = loop_stats(np.array(self.plant.control_ticks), 1.0 / self.loop.dt_s, 0)
        out.update(low_level_loop=low.as_dict(), control_loop=control.as_dict(),
                   commands_computed=cl.computed if cl else 0,
                   commands_published=cl.published if cl else 0,
                   states_received=s.states, states_crc_rejected=s.state_crc_bad,
                   states_unsigned_accepted=s.states_unsigned,
                   **{k: v for k, v in self.loop.counters.items()},
                   dropped_frames=self.glitches.dropped_frames if self.glitches else 0,
                   events=self.events, config=c.model_dump(mode="json"))
        if low.ticks > 1 and not low.held:
            logger.warning("the %.0f Hz command loop was not held: %.1f Hz, %d overruns, p99 "
                           "jitter %.2f ms", c.low_rate_hz, low.achieved_hz, low.overruns,
                           low.jitter_p99_ms)
        self._rows = rows
        return out

    def _write(self, metrics: dict[str, Any]) -> dict[str, Path]:
        if self.out_dir is None:
            return {}
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        files = {"log": self.out_dir / artefacts.DEPLOY_LOG}
        files.update(write_outputs(self.out_dir, self._rows, 1.0 / self.loop.dt_s,
                                   tuple(self.robot.body_joint_names), metrics))
        return files
