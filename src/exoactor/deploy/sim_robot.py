"""A MuJoCo G1 that behaves like the real robot on DDS: ``exoactor sim-robot``.

It subscribes ``rt/lowcmd`` (unitree_hg ``LowCmd_``), rejects commands whose CRC is wrong or
whose ``mode_machine`` is not its own (a motor whose ``mode`` is not 1 gives no torque), and
applies the motor PD law of the latest accepted command at every physics step (1 kHz)::

    tau = clip(kp (q_cmd - q) + kd (dq_cmd - dq) + tau_ff, +-motor torque limit)

and publishes ``rt/lowstate`` (``LowState_``: IMU at the pelvis, motor states, the remote's
buttons, tick in ms of simulated time, CRC set) at 500 Hz, paced to the wall clock. Before the
first command the motors are limp (zero torque), as on a G1 in debug mode.

Like a robot on its gantry, the pelvis starts held by an elastic band (a spring-damper on its
position and orientation) until ``release`` arrives on the sim-only control topic
(``rt/exoactor/sim_control``, std_msgs ``String_``), which also takes ``hold`` (band back),
``press BUTTON [MS]`` (a remote button, default 300 ms), ``stall MS`` (publish no state for MS:
fault injection), ``reset`` (limp, back on the gantry in the default pose) and ``quit``.
It reports itself as JSON on ``rt/exoactor/sim_status`` at 10 Hz and, with ``out_dir``,
writes ``sim_robot.json`` (counters, loop timing) and ``sim_rollout.npz``
(ground-truth ``qpos`` at 50 Hz, with ``fps``) when it stops.

``mimic="unitree_mujoco"`` behaves like Unitree's own simulator (``simulate_python`` with its
DDS bridge) where a deployment can tell: ``LowState_`` at 200 Hz with ``tick`` 0, CRC 0,
``mode_machine`` 0, motor ``mode`` 0 and IMU ``rpy`` 0; every ``LowCmd_`` accepted (no CRC,
machine-mode or motor-mode check); the PD torque computed once per received command from the
sensors of one physics step ago (the state before the last integration), then held until the
next command; a 5 ms physics step with the Newton solver and its model's joint armature,
damping and friction loss (:data:`MIMIC_JOINT_DYNAMICS`). ``release_after_command_s`` drops the
band that long after the first command (as an operator pressing the viewer key would).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from exoactor import artefacts
from exoactor.deploy import messages, sdk
from exoactor.deploy.timing import RateLoop

logger = logging.getLogger(__name__)

RECORD_HZ = 50.0
"""Rate of the ground-truth rollout the simulated robot records [Hz]."""
MIMIC_STATE_HZ = {"unitree_mujoco": 200.0}
"""``LowState_`` rate of each mimicked simulator [Hz] (one state per physics step)."""
MIMIC_TIMESTEP_S = {"unitree_mujoco": 0.005}
"""Physics step of each mimicked simulator [s]."""
MIMIC_JOINT_DYNAMICS = {"unitree_mujoco": (0.01, 0.05, 0.2, 0.1)}
"""Joint ``(armature [kg m^2], damping [N m s/rad], friction loss [N m], wrist friction loss
[N m])`` of each mimicked simulator's G1 model (every motor joint of unitree_mujoco's
``g1_29dof.xml``). Its explicit, held PD torque over a 5 ms step is stable only with them: our
model's wrists have no armature."""


class SimRobotConfig(BaseModel):
    """How the simulated robot runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain_id: int = Field(1, ge=0, le=232)
    """DDS domain (keep it apart from a real robot's domain 0)."""
    interface: str = sdk.LOOPBACK
    """Network interface of the DDS participant."""
    hands: bool = False
    """Simulate the 43-DoF model with two Dex3-1 hands (``rt/dex3/*/cmd`` in, ``.../state`` out
    at 100 Hz; fingers held open until their first command)."""
    state_hz: float = Field(500.0, gt=0.0, le=2000.0)
    """Rate of ``rt/lowstate`` [Hz]."""
    gantry: bool = True
    """Start held by the elastic band (released by ``release``)."""
    band_kp: float = Field(2000.0, ge=0.0)
    """Band stiffness on the pelvis position [N/m] (the robot's weight is carried besides)."""
    band_kd: float = Field(300.0, ge=0.0)
    """Band damping on the pelvis velocity [N s/m]."""
    band_rot_kp: float = Field(400.0, ge=0.0)
    """Band stiffness on the pelvis orientation [N m/rad]."""
    band_rot_kd: float = Field(40.0, ge=0.0)
    """Band damping on the pelvis angular velocity [N m s/rad]."""
    duration_s: float | None = Field(None, gt=0.0)
    """Stop after this much wall time [s] (``None``: until ``quit`` or Ctrl-C)."""
    mode_machine: int = 5
    """The machine mode the robot reports (the G1 29-DoF reports 5; a mimic reports 0)."""
    mimic: Literal["unitree_mujoco"] | None = None
    """Behave like a foreign simulator (see the module docstring); ``state_hz`` and
    ``mode_machine`` are then the mimicked simulator's."""
    release_after_command_s: float | None = Field(None, ge=0.0)
    """Drop the band this long after the first accepted command [s] (``None``: only on
    ``release``)."""

    @model_validator(mode="after")
    def _mimic_has_no_hands(self) -> SimRobotConfig:
        if self.mimic is not None and self.hands:
            raise ValueError(f"mimic='{self.mimic}': its Python bridge drives no Dex3-1 hands; "
                             "drop hands")
        return self


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


class SimRobot:
    """The simulated G1 (see the module docstring)."""

    def __init__(self, config: SimRobotConfig | None = None, out_dir: Path | None = None):
        import mujoco

        from exoactor.control.hands import HandConfig
        from exoactor.control.sim import JointGroup, build_pd_model
        from exoactor.robots import get_robot

        self.config = config or SimRobotConfig()
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.robot = get_robot("g1", hands=self.config.hands)
        names = tuple(self.robot.body_joint_names)
        hand_names = tuple(self.robot.hand_joint_names) if self.config.hands else ()
        all_names = names + hand_names
        idx = [self.robot.joint_names.index(n) for n in all_names]
        limits = self.robot.torque_limits[idx]
        # Unit gain: ctrl carries kp q + kd dq + tau, the bias -kp q - kd dq (set per command).
        group = JointGroup(all_names, np.ones(len(all_names)), np.zeros(len(all_names)), limits)
        self.model = build_pd_model(self.robot.mjcf_path, [group])
        self.model.actuator_biasprm[:, 1:3] = 0.0
        mimic = self.config.mimic
        if mimic is not None:
            self.model.opt.timestep = MIMIC_TIMESTEP_S[mimic]
            self.model.opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
            armature, damping, friction, wrist_friction = MIMIC_JOINT_DYNAMICS[mimic]
            for name in names:
                dof = self.model.jnt_dofadr[self.model.joint(name).id]
                self.model.dof_armature[dof] = armature
                self.model.dof_damping[dof] = damping
                self.model.dof_frictionloss[dof] = wrist_friction if "wrist" in name else friction
        self.state_hz = MIMIC_STATE_HZ[mimic] if mimic else self.config.state_hz
        self.mode_machine = 0 if mimic else self.config.mode_machine
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.n_body = len(names)
        self.qadr = np.array([m.jnt_qposadr[m.joint(n).id] for n in all_names])
        self.dadr = np.array([m.jnt_dofadr[m.joint(n).id] for n in all_names])
        self.imu_site = m.site("imu_in_pelvis").id
        self.pelvis = m.body(self.robot.spec.key_bodies.pelvis).id
        hand = HandConfig()
        self.hand_kp, self.hand_kd = hand.kp, hand.kd  # fingers held open until commanded
        self._weight = np.array([0.0, 0.0, -float(m.body_subtreemass[0]) * m.opt.gravity[2]])
        self._inbox = _Inbox()
        self._buttons_until: dict[str, float] = {}
        self._stall_until = 0.0
        self.released = not self.config.gantry
        self._anchor_pos = np.zeros(3)
        self._stop = threading.Event()
        self.published = 0
        self._held_tau = np.zeros(self.model.nu)
        self._held_for = -1
        self._first_command_s: float | None = None
        self._reset_pose()

    # ---- physics ------------------------------------------------------------------------
    def _reset_pose(self) -> None:
        import mujoco

        d = self.data
        mujoco.mj_resetData(self.model, d)
        d.qpos[0:3] = (0.0, 0.0, self.robot.spec.root_height_m + 0.02)
        d.qpos[3:7] = (1.0, 0.0, 0.0, 0.0)
        d.qpos[self.qadr[:self.n_body]] = self.robot.spec.default_joint_pos(
            list(self.robot.body_joint_names))
        mujoco.mj_forward(self.model, d)
        self._anchor_pos = d.qpos[0:3].copy()
        self._sensor_q = d.qpos[self.qadr].copy()   # the state before the last integration
        self._sensor_dq = d.qvel[self.dadr].copy()
        self._held_tau = np.zeros(self.model.nu)
        self._held_for = -1
        self._first_command_s = None

    def _apply_held(self, command: messages.MotorCommand | None, count: int) -> None:
        """Mimic: the torque of a new command from the one-step-old sensors, then held."""
        m, d = self.model, self.data
        n = self.n_body
        if command is None:
            self._held_tau[:] = 0.0
        elif count != self._held_for:
            dq = np.zeros(n) if command.dq is None else command.dq
            tau = np.zeros(n) if command.tau is None else command.tau
            self._held_tau[:n] = (tau + command.kp * (command.q - self._sensor_q[:n])
                                  + command.kd * (dq - self._sensor_dq[:n]))
            self._held_for = count
        m.actuator_biasprm[:, 1:3] = 0.0
        d.ctrl[:] = self._held_tau  # clipped by each actuator's force range

    def _apply(self, command: messages.MotorCommand | None,
               hands: dict[str, messages.MotorCommand]) -> None:
        m, d = self.model, self.data
        n = self.n_body
        kp = np.zeros(m.nu)
        kd = np.zeros(m.nu)
        ctrl = np.zeros(m.nu)
        if command is not None:
            kp[:n], kd[:n] = command.kp, command.kd
            ctrl[:n] = command.kp * command.q + command.kd * command.dq + command.tau
        if m.nu > n:  # hands: their commands, or held open
            for k, side in enumerate(sdk.HAND_SIDES):
                sl = slice(n + 7 * k, n + 7 * (k + 1))
                hand = hands.get(side)
                if hand is None:
                    kp[sl], kd[sl] = self.hand_kp, self.hand_kd
                else:
                    kp[sl], kd[sl] = hand.kp, hand.kd
                    ctrl[sl] = hand.kp * hand.q + hand.kd * hand.dq + hand.tau
        m.actuator_biasprm[:, 1] = -kp
        m.actuator_biasprm[:, 2] = -kd
        d.ctrl[:] = ctrl

    def _band(self) -> None:
        from exoactor.rotations import rotvec

        d = self.data
        d.xfrc_applied[self.pelvis] = 0.0
        if self.released:
            return
        c = self.config
        d.xfrc_applied[self.pelvis, 0:3] = c.band_kp * (self._anchor_pos - d.qpos[0:3]) \
            - c.band_kd * d.qvel[0:3] + self._weight
        rot_err_w = -rotvec(d.qpos[3:7])
        ang_vel_w = d.xmat[self.pelvis].reshape(3, 3) @ d.qvel[3:6]
        d.xfrc_applied[self.pelvis, 3:6] = c.band_rot_kp * rot_err_w - c.band_rot_kd * ang_vel_w

    def _imu(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import mujoco

        m, d = self.model, self.data
        quat = d.qpos[3:7].copy()
        gyro = d.qvel[3:6].copy()  # free-joint angular velocity: pelvis frame
        mujoco.mj_rnePostConstraint(m, d)
        acc = np.zeros(6)
        mujoco.mj_objectAcceleration(m, d, mujoco.mjtObj.mjOBJ_SITE, self.imu_site, acc, 1)
        return quat, gyro, acc[3:6]

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
        import mujoco

        with self._inbox.lock:
            command, hands = self._inbox.command, dict(self._inbox.hand_commands)
            count, first = self._inbox.commands, self._inbox.last_command_s
        d = self.data
        release = self.config.release_after_command_s
        if command is not None and self._first_command_s is None:
            self._first_command_s = time.monotonic() if first is None else first
        if (release is not None and not self.released and self._first_command_s is not None
                and time.monotonic() - self._first_command_s >= release):
            self.released = True
            logger.info("band dropped %.1f s after the first command", release)
        if self.config.mimic is None:
            self._apply(command, hands)
        for _ in range(max(1, round(seconds / float(self.model.opt.timestep)))):
            if self.config.mimic is not None:
                self._apply_held(command, count)
            self._band()
            self._sensor_q, self._sensor_dq = d.qpos[self.qadr].copy(), d.qvel[self.dadr].copy()
            mujoco.mj_step(self.model, self.data)
        if not np.all(np.isfinite(self.data.qpos)):
            from exoactor.errors import PhysicsDiverged

            raise PhysicsDiverged(f"the simulated robot diverged at t = {self.data.time:.3f} s "
                                  "(NaN/inf state); it stops publishing, as a robot that lost power")

    def hand_pos(self) -> np.ndarray:
        """``(14,)`` hand joint angles (left 7, right 7) [rad]; empty without hands."""
        return self.data.qpos[self.qadr[self.n_body:]].copy()

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
