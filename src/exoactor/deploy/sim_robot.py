"""A MuJoCo G1 that behaves like the real robot on DDS: ``exoactor sim-robot``.

The physics (PD law at 1 kHz, limp before the first command, the gantry's elastic band, the
IMU, the unitree_mujoco mimic's held torque) is :mod:`exoactor.deploy.sim_physics`; this module
is the robot's DDS side. It subscribes ``rt/lowcmd`` (unitree_hg ``LowCmd_``), rejects commands
whose CRC is wrong or whose ``mode_machine`` is not its own (a motor whose ``mode`` is not 1
gives no torque), and publishes ``rt/lowstate`` (``LowState_``: IMU at the pelvis, motor
states, the remote's buttons, tick in ms of simulated time, CRC set) at 500 Hz, paced to the
wall clock.

The sim-only control topic (``rt/exoactor/sim_control``, std_msgs ``String_``) takes
``release`` (drop the band), ``hold`` (band back), ``press BUTTON [MS]`` (a remote button,
default 300 ms), ``stall MS`` (publish no state for MS: fault injection), ``reset`` (limp, back
on the gantry in the default pose) and ``quit``. It reports itself as JSON on
``rt/exoactor/sim_status`` at 10 Hz and, with ``out_dir``, writes ``sim_robot.json`` (counters,
loop timing) and ``sim_rollout.npz`` (ground-truth ``qpos`` at 50 Hz, with ``fps``) when it
stops.

``mimic="unitree_mujoco"`` behaves like Unitree's own simulator (``simulate_python`` with its
DDS bridge) where a deployment can tell: ``LowState_`` at 200 Hz with ``tick`` 0, CRC 0,
``mode_machine`` 0, motor ``mode`` 0 and IMU ``rpy`` 0; every ``LowCmd_`` accepted (no CRC,
machine-mode or motor-mode check). ``release_after_command_s`` drops the band that long after
the first command (as an operator pressing the viewer key would).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from exoactor import artefacts
from exoactor.deploy import messages, sdk
from exoactor.deploy.config import SimRobotConfig
from exoactor.deploy.sim_physics import SimPhysics
from exoactor.deploy.timing import RateLoop

logger = logging.getLogger(__name__)

RECORD_HZ = 50.0
"""Rate of the ground-truth rollout the simulated robot records [Hz]."""
MIMIC_STATE_HZ = {"unitree_mujoco": 200.0}
"""``LowState_`` rate of each mimicked simulator [Hz] (one state per physics step)."""


@dataclass
class _Inbox:
    """What the DDS listener threads hand to the physics loop (guarded by ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    command: messages.MotorCommand | None = None
    commands: int = 0
    crc_rejected: int = 0
    mode_rejected: int = 0
    last_command_s: float | None = None
    hand_commands: dict[str, messages.MotorCommand] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)


class SimRobot(SimPhysics):
    """The simulated G1 on DDS (see the module docstring)."""

    def __init__(self, config: SimRobotConfig | None = None, out_dir: Path | None = None):
        super().__init__(config)
        mimic = self.config.mimic
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.state_hz = MIMIC_STATE_HZ[mimic] if mimic else self.config.state_hz
        self.mode_machine = 0 if mimic else self.config.mode_machine
        self._inbox = _Inbox()
        self._buttons_until: dict[str, float] = {}
        self._stall_until = 0.0
        self._stop = threading.Event()
        self.published = 0

    # ---- DDS handlers (listener threads) --------------------------------------------------
    def _on_lowcmd(self, msg) -> None:
        command, crc_ok = messages.read_lowcmd(msg)
        if self.config.mimic is not None:  # no CRC, machine-mode or motor-mode check
            if np.all(np.isfinite(command.q)) and np.all(np.isfinite(command.kp)) \
                    and np.all(np.isfinite(command.kd)):
                with self._inbox.lock:
                    self._inbox.command = command
                    self._inbox.commands += 1
                    self._inbox.last_command_s = time.monotonic()
            return
        enabled = np.array([m.mode == messages.MOTOR_ENABLE for m in msg.motor_cmd[:self.n_body]])
        if not enabled.all():  # a disabled motor produces no torque, as on the robot
            off = ~enabled
            command = messages.MotorCommand(
                np.where(off, 0.0, command.q), np.where(off, 0.0, command.kp),
                np.where(off, 0.0, command.kd), np.where(off, 0.0, command.dq),
                np.where(off, 0.0, command.tau))
        with self._inbox.lock:
            if crc_ok and msg.mode_machine != self.config.mode_machine:
                self._inbox.mode_rejected += 1
                if self._inbox.mode_rejected in (1, 10, 100):
                    logger.warning("rejected LowCmd_ with mode_machine %d (robot: %d; copy it from "
                                   "LowState_)", msg.mode_machine, self.config.mode_machine)
                return
            if not crc_ok:
                self._inbox.crc_rejected += 1
                if self._inbox.crc_rejected in (1, 10, 100) or self._inbox.crc_rejected % 1000 == 0:
                    logger.warning("rejected LowCmd_ with a wrong CRC (%d so far)",
                                   self._inbox.crc_rejected)
                return
            if not (np.all(np.isfinite(command.q)) and np.all(np.isfinite(command.kp))
                    and np.all(np.isfinite(command.kd))):
                self._inbox.crc_rejected += 1
                return
            self._inbox.command = command
            self._inbox.commands += 1
            self._inbox.last_command_s = time.monotonic()

    def _on_handcmd(self, side: str, msg) -> None:
        try:
            command = messages.read_handcmd(msg)
        except ValueError as exc:
            logger.warning("rejected HandCmd_ (%s): %s", side, exc)
            return
        if np.all(np.isfinite(command.q)) and np.all(np.isfinite(command.kp)):
            with self._inbox.lock:
                self._inbox.hand_commands[side] = command

    def _on_control(self, msg) -> None:
        with self._inbox.lock:
            self._inbox.controls.append(str(msg.data))

    def _handle_controls(self, now: float) -> None:
        with self._inbox.lock:
            controls, self._inbox.controls = self._inbox.controls, []
        for text in controls:
            words = text.split()
            if not words:
                continue
            verb = words[0]
            if verb == "release":
                self.released = True
                logger.info("gantry released")
            elif verb == "reset":
                with self._inbox.lock:
                    self._inbox.command = None
                    self._inbox.hand_commands = {}
                self._stall_until = 0.0
                self._buttons_until.clear()
                self.released = not self.config.gantry
                self._reset_pose()
                logger.info("reset: limp, on the gantry, default pose")
            elif verb == "hold":
                self.released = False
                self._anchor_pos = self.data.qpos[0:3].copy()
            elif verb == "press" and len(words) >= 2 and words[1] in messages.REMOTE_BUTTONS:
                ms = float(words[2]) if len(words) > 2 else 300.0
                self._buttons_until[words[1]] = now + ms / 1e3
            elif verb == "stall" and len(words) == 2:
                self._stall_until = now + float(words[1]) / 1e3
                logger.info("stalling the state stream for %s ms", words[1])
            elif verb == "quit":
                self._stop.set()
            else:
                logger.warning("unknown sim control %r", text)

    def stop(self) -> None:
        """Ask :meth:`run` to return (thread-safe)."""
        self._stop.set()

    def advance(self, seconds: float) -> None:
        """Step the physics ``seconds`` under the latest accepted commands (no DDS, no pacing)."""
        with self._inbox.lock:
            command, hands = self._inbox.command, dict(self._inbox.hand_commands)
            count, first = self._inbox.commands, self._inbox.last_command_s
        release = self.config.release_after_command_s
        if command is not None and self._first_command_s is None:
            self._first_command_s = time.monotonic() if first is None else first
        if (release is not None and not self.released and self._first_command_s is not None
                and time.monotonic() - self._first_command_s >= release):
            self.released = True
            logger.info("band dropped %.1f s after the first command", release)
        self.integrate(seconds, command, hands, count)

    # ---- the loop -----------------------------------------------------------------------
    def run(self) -> dict:
        """Run until ``duration_s``, ``quit`` or :meth:`stop`; returns the summary."""

        c = self.config
        sdk.init_dds(c.domain_id, c.interface)
        LowCmd_, LowState_, String_ = sdk.hg_types()
        from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowState_

        state_pub = sdk.publisher(sdk.LOWSTATE_TOPIC, LowState_)
        status_pub = sdk.publisher(sdk.SIM_STATUS_TOPIC, String_)
        subs = [sdk.subscriber(sdk.LOWCMD_TOPIC, LowCmd_, self._on_lowcmd, 1),
                sdk.subscriber(sdk.SIM_CONTROL_TOPIC, String_, self._on_control, 10)]
        msg = unitree_hg_msg_dds__LowState_()
        hand_pubs, hand_msg = {}, None
        if self.config.hands:
            from unitree_sdk2py.idl.default import unitree_hg_msg_dds__HandState_

            HandCmd_, HandState_ = sdk.hand_types()
            hand_msg = unitree_hg_msg_dds__HandState_()
            for side in sdk.HAND_SIDES:
                hand_pubs[side] = sdk.publisher(sdk.DEX3_STATE_TOPIC.format(side=side), HandState_)
                subs.append(sdk.subscriber(sdk.DEX3_CMD_TOPIC.format(side=side), HandCmd_,
                                           lambda m, side=side: self._on_handcmd(side, m), 1))
        state_hz = self.state_hz
        hand_every = max(1, round(state_hz / 100.0))
        physics_dt = float(self.model.opt.timestep)
        substeps = max(1, round(1.0 / state_hz / physics_dt))
        loop = RateLoop(state_hz)
        record_every = max(1, round(state_hz / RECORD_HZ))
        rec_t, rec_q = [], []
        wall0 = time.monotonic()
        tick = 0
        logger.info("sim-robot up: domain %d on '%s', %s, state at %.0f Hz, gantry %s%s",
                    c.domain_id, c.interface, self.robot.name, state_hz,
                    "holding" if not self.released else "off",
                    f", mimicking {c.mimic}" if c.mimic else "")
        try:
            while not self._stop.is_set():
                now = loop.wait()
                if c.duration_s is not None and now - wall0 >= c.duration_s:
                    break
                self._handle_controls(now)
                self.advance(substeps * physics_dt)
                if tick % record_every == 0:
                    rec_t.append(float(self.data.time))
                    rec_q.append(self.data.qpos.copy())
                if now >= self._stall_until:
                    self._publish_state(msg, state_pub, now)
                    if hand_pubs and tick % hand_every == 0:
                        self._publish_hands(hand_msg, hand_pubs)
                if tick % max(1, round(state_hz / 10)) == 0:
                    status_pub.Write(String_(json.dumps(self.status(now - wall0))))
                tick += 1
        except KeyboardInterrupt:
            logger.info("sim-robot interrupted")
        finally:
            for sub in subs:
                sub.Close()
        summary = {**self.status(time.monotonic() - wall0), "loop": loop.stats().as_dict()}
        if summary["loop"]["ticks"] > 1 and not summary["loop"]["held"]:
            logger.warning("the %.0f Hz state loop was not held: %.1f Hz achieved, %d overruns",
                           state_hz, summary["loop"]["achieved_hz"], summary["loop"]["overruns"])
        self._write(summary, np.array(rec_t), np.array(rec_q))
        return summary

    def _publish_state(self, msg, pub, now: float) -> None:
        d = self.data
        quat, gyro, acc = self._imu()
        pressed = [b for b, until in self._buttons_until.items() if now < until]
        mimic = self.config.mimic is not None
        n = self.n_body
        messages.fill_lowstate(
            msg, tick_ms=0 if mimic else round(d.time * 1e3), mode_machine=self.mode_machine,
            quat_wxyz=quat, gyro_b=gyro, acc_b=acc,
            joint_pos=self._sensor_q[:n] if mimic else d.qpos[self.qadr[:n]],
            joint_vel=self._sensor_dq[:n] if mimic else d.qvel[self.dadr[:n]],
            joint_tau=d.actuator_force[:n], buttons=messages.button_bits(*pressed))
        if mimic:  # what Unitree's bridge leaves at 0
            msg.crc = 0
            msg.imu_state.rpy = [0.0, 0.0, 0.0]
            for m in msg.motor_state[:n]:
                m.mode = 0
        pub.Write(msg)
        self.published += 1

    def _publish_hands(self, msg, pubs: dict) -> None:
        d = self.data
        for k, side in enumerate(sdk.HAND_SIDES):
            sl = slice(self.n_body + 7 * k, self.n_body + 7 * (k + 1))
            messages.fill_handstate(msg, d.qpos[self.qadr[sl]], d.qvel[self.dadr[sl]],
                                    d.actuator_force[sl])
            pubs[side].Write(msg)

    def status(self, wall_s: float) -> dict:
        """Counters and the robot's true state, as published on the status topic."""
        d = self.data
        with self._inbox.lock:
            cmd = self._inbox.command
            inbox = (self._inbox.commands, self._inbox.crc_rejected, self._inbox.last_command_s,
                     self._inbox.mode_rejected)
        return {"time_s": float(d.time), "wall_s": float(wall_s),
                "real_time_factor": float(d.time / wall_s) if wall_s > 0 else 0.0,
                "commands": inbox[0], "crc_rejected": inbox[1], "mode_rejected": inbox[3],
                "states_published": self.published,
                "released": self.released, "stalled": time.monotonic() < self._stall_until,
                "pelvis_z_m": float(d.qpos[2]),
                "damping": bool(cmd is not None and cmd.damping),
                "limp": cmd is None,
                "max_abs_target_rad": (float(np.max(np.abs(cmd.q))) if cmd is not None else 0.0),
                "hand_pos_rad": [round(float(v), 4) for v in self.hand_pos()],
                "last_command_age_ms": (None if inbox[2] is None
                                        else 1e3 * (time.monotonic() - inbox[2]))}

    def _write(self, summary: dict, rec_t: np.ndarray, rec_q: np.ndarray) -> None:
        if self.out_dir is None:
            return
        from exoactor.fileio import atomic_path, write_json

        self.out_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.out_dir / artefacts.SIM_ROBOT_SUMMARY, summary)
        with atomic_path(self.out_dir / artefacts.SIM_ROLLOUT) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, time_s=rec_t, qpos=rec_q, fps=RECORD_HZ, robot=self.robot.name)
