"""``exoactor deploy``: a robot motion on a G1 over DDS, behind the shared safety layer.

Two threads in one process (the documented split):

- the **low-level loop** (500 Hz, wall clock) publishes ``LowCmd_`` holding the latest PD
  targets, and owns the fault checks that must not wait for the controller: stale state
  (no ``LowState_`` for ``stale_state_ms``), a lost controller heartbeat (no new targets for
  ``heartbeat_ms``), non-finite state, the remote's SELECT. Any of them latches **damping**
  (``kp = 0``, ``kd = damping_kd``), which it keeps publishing for ``damping_s`` before the run
  ends;
- the **operator flow and controller** (main thread): connect (first ``LowState_`` within
  ``connect_timeout_s``) → pre-flight checks (CRC, IMU quaternion, every joint inside its range)
  → soft ramp from the measured pose to the default pose over ``ramp_s`` (PD only) →
  **standby**: the controller runs and holds the standing pose (the operator lowers the robot
  from its gantry; the simulated robot's gantry is released after 0.5 s) → an explicit start
  (Enter, or START on the remote; or ``auto``) → the motion streamed through the controller at
  50 Hz *of the robot's clock* (its ``tick``), every target through
  :class:`~exoactor.control.safety.SafetyLayer` (limits, rate, NaN, fall) → the streamer's
  hold and return to standing → damping. Ctrl-C at any point →
  damping. With ``hands``, Dex3-1 targets (the motion's ``hand_dof``, clipped to the joint
  ranges) go out at 100 Hz from the low-level loop, open outside the motion.

``dry_run`` computes and logs every command and publishes nothing (no ``DataWriter`` is made).
Outputs in ``out_dir``: ``deploy_log.jsonl`` (events, written as they happen),
``deploy_rollout.npz`` (50 Hz: robot tick, measured joints and IMU, targets, reference; with
``fps``) and ``deploy_metrics.json``
(tracking errors as ``exoactor track`` defines them, loop rates and jitter, counters).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.control.controller import RobotState
from exoactor.control.reference import Pose, StreamerConfig, smoothstep
from exoactor.control.safety import SafetyConfig
from exoactor.deploy import messages, sdk
from exoactor.deploy.timing import LoopStats, RateLoop, loop_stats
from exoactor.errors import ExoActorError
from exoactor.formats.motion import RobotMotion

logger = logging.getLogger(__name__)

TICK_CHECK_S = 0.3
"""Wall time over which the robot's tick rate is checked at connect [s]."""
TICK_RATIO_RANGE = (0.3, 3.0)
"""Accepted robot-tick milliseconds per wall millisecond (a simulator may run slow)."""
MAX_LOOP_ERRORS = 50
"""Failing command-loop ticks (0.1 s at 500 Hz) after which the loop gives up."""
RELEASE_AFTER_S = 0.5
"""Simulated robot: controller time on the gantry before it is released [s]."""
EXIT_COMPLETED, EXIT_ERROR, EXIT_SAFETY_STOP, EXIT_INTERRUPTED = 0, 1, 3, 130


class DeployError(ExoActorError):
    """The run could not start (nothing unsafe was sent): no robot, bad state, bad motion."""


class DeployConfig(BaseModel):
    """Everything that shapes one deployment (written into ``deploy_metrics.json``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    domain_id: int = Field(0, ge=0, le=232)
    """DDS domain (the G1 uses 0; ``exoactor sim-robot`` defaults to 1)."""
    interface: str = sdk.LOOPBACK
    """Network interface wired to the robot (``lo`` for the simulated robot)."""
    sim: bool = False
    """The robot is ``exoactor sim-robot``: release its gantry after the ramp."""
    dry_run: bool = False
    """Compute and log every command, publish nothing."""
    controller: str = "twist2"
    controller_options: dict[str, Any] = Field(default_factory=dict)
    hands: bool = False
    """Drive the Dex3-1 hands (``rt/dex3/*/cmd``, 100 Hz) from the motion's ``hand_dof``;
    open before and after the motion."""
    hand_kp: float = Field(1.0, gt=0.0, le=20.0)
    """Hand motor stiffness [N m / rad]."""
    hand_kd: float = Field(0.01, ge=0.0, le=1.0)
    """Hand motor damping [N m s / rad] (also their damping in a stop)."""
    start: Literal["operator", "auto"] = "operator"
    """``operator``: Enter on the terminal or START on the remote; ``auto``: after
    ``auto_start_s`` (simulated robot, tests)."""
    auto_start_s: float = Field(0.5, ge=0.0)
    """``auto`` start: delay after the settle time [s]."""
    max_wait_start_s: float = Field(120.0, gt=0.0)
    """Damping and exit if nobody starts within this [s]."""
    low_rate_hz: float = Field(500.0, gt=0.0, le=2000.0)
    """Rate of the command loop (the G1 expects 500 Hz) [Hz]."""
    connect_timeout_s: float = Field(5.0, gt=0.0)
    """The first ``LowState_`` must arrive within this [s]."""
    stale_state_ms: float = Field(100.0, gt=0.0)
    """No ``LowState_`` for this long → damping [ms]."""
    heartbeat_ms: float = Field(100.0, gt=0.0)
    """No new controller targets for this long → damping [ms]."""
    ramp_s: float = Field(3.0, gt=0.0)
    """Soft ramp from the measured pose to the default pose [s]."""
    settle_s: float = Field(1.0, ge=0.0)
    """``auto`` start: standing time after the gantry is released, before ``auto_start_s`` [s]."""
    damping_s: float = Field(1.0, ge=0.0)
    """Damping commands keep being published this long before the run ends [s]."""
    start_limit_tolerance_rad: float = Field(0.05, ge=0.0)
    """A joint further than this outside its range at connect refuses the start [rad]."""
    reference: StreamerConfig = Field(default_factory=StreamerConfig)
    safety: SafetyConfig = Field(default_factory=SafetyConfig)


@dataclass
class DeployResult:
    """How a deployment ended.

    Attributes:
        status: ``completed``, ``safety_stop``, ``interrupted`` or ``not_started``.
        reason: why it stopped (the first safety event), or ``None``.
        exit_code: the CLI's exit code for it.
        metrics: what ``deploy_metrics.json`` holds.
        files: written files by name.
    """

    status: str
    reason: str | None
    exit_code: int
    metrics: dict[str, Any]
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class _Shared:
    """State shared by the DDS listener, the low-level loop and the main thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    state: messages.StateSample | None = None
    state_rx_s: float = 0.0
    states: int = 0
    state_crc_bad: int = 0
    command: messages.MotorCommand | None = None
    hand_target: np.ndarray | None = None
    hand_q: dict[str, np.ndarray] = field(default_factory=dict)
    heartbeat_s: float = 0.0
    watch_heartbeat: bool = False
    stop_reason: str | None = None
    stop_kind: str | None = None
    stopped: threading.Event = field(default_factory=threading.Event)


class Deployment:
    """One run of a motion on a robot over DDS (see the module docstring)."""

    def __init__(self, motion: RobotMotion, config: DeployConfig | None = None,
                 out_dir: Path | None = None):
        from exoactor.control.controller import make_controller
        from exoactor.control.reference import drop_glitched_leading_frames
        from exoactor.control.safety import JointLimits, SafetyLayer
        from exoactor.deploy.estimate import BodyEstimator
        from exoactor.robots import get_robot

        self.config = config or DeployConfig()
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.robot = get_robot("g1")
        self.controller = make_controller(self.config.controller, self.robot.body_joint_names,
                                          self.config.controller_options)
        rc = self.config.reference
        self.motion, self.glitches = (
            drop_glitched_leading_frames(motion, rc.glitch_pos_m, rc.glitch_rot_deg,
                                         rc.glitch_joint_rad) if rc.drop_glitches else (motion, None))
        limits = self.robot.joint_limits[self.robot.body_idx]
        gains = self.controller.gains
        self.hand_limits = np.zeros((0, 2))
        if self.config.hands:
            if self.motion.hand_dof is None:
                raise DeployError(f"{motion.source}: --hands needs a motion with hand_dof (14 "
                                  "Dex3-1 joints); retarget with --hands")
            hands_robot = get_robot("g1_hands")
            self.hand_limits = hands_robot.joint_limits[hands_robot.hand_idx]
        self.lower, self.upper = limits[:, 0], limits[:, 1]
        self.safety = SafetyLayer(
            JointLimits(self.lower, self.upper, self.robot.torque_limits[self.robot.body_idx]),
            gains.kp, gains.kd, gains.torque_limit_nm, self.config.safety)
        from exoactor.control.track import KEY_BODIES

        kb = self.robot.spec.key_bodies.as_dict()
        self.estimator = BodyEstimator(self.robot, tuple(kb[k] for k in KEY_BODIES))
        self.ref_estimator = BodyEstimator(self.robot)
        self._shared = _Shared()
        self._low: threading.Thread | None = None
        self._log_fh = None
        self.events: list[dict[str, Any]] = []
        self._t0 = time.monotonic()
        self._published = 0
        self._computed = 0
        self._clipped = 0
        self._phase = "init"
        self._rows: dict[str, list] = {k: [] for k in (
            "clip_t", "tick_ms", "wall_s", "q", "dq", "quat", "gyro", "target", "ref_q",
            "ref_height", "height", "tilt", "ref_tilt", "hand_q", "ref_hand_q")}

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
        s = self._shared
        with s.lock:
            if s.stopped.is_set():
                return
            s.stop_reason, s.stop_kind = reason, kind
            s.stopped.set()
        if kind != "done":
            self.safety.stop(reason, time.monotonic() - self._t0)
        self._event(kind, f"{reason} -> damping")

    # ---- DDS side ------------------------------------------------------------------------
    def _on_state(self, msg) -> None:
        sample = messages.read_lowstate(msg)
        s = self._shared
        with s.lock:
            if not sample.crc_ok:
                s.state_crc_bad += 1
                return
            s.state, s.state_rx_s = sample, time.monotonic()
            s.states += 1

    def _on_hand_state(self, side: str, msg) -> None:
        q = messages.read_handstate(msg)
        with self._shared.lock:
            self._shared.hand_q[side] = q

    def _latest(self) -> tuple[messages.StateSample | None, float]:
        with self._shared.lock:
            return self._shared.state, self._shared.state_rx_s

    def _set_command(self, command: messages.MotorCommand) -> None:
        with self._shared.lock:
            self._shared.command = command
            self._shared.heartbeat_s = time.monotonic()

    def _damping(self, joint_pos: np.ndarray | None) -> messages.MotorCommand:
        n = len(self.lower)
        hold = np.zeros(n) if joint_pos is None else np.where(np.isfinite(joint_pos), joint_pos, 0.0)
        return messages.MotorCommand(hold, np.zeros(n), np.full(n, self.config.safety.damping_kd))

    def _hand_commands(self, target: np.ndarray | None) -> list[messages.MotorCommand]:
        """Per hand (left, right): PD to ``target`` (``(14,)``), or damping when ``None``."""
        c = self.config
        n = messages.NUM_HAND_MOTORS
        out = []
        for k in range(2):
            if target is None:
                out.append(messages.MotorCommand(np.zeros(n), np.zeros(n), np.full(n, c.hand_kd)))
            else:
                out.append(messages.MotorCommand(target[n * k:n * (k + 1)], np.full(n, c.hand_kp),
                                                 np.full(n, c.hand_kd)))
        return out

    def _low_loop(self, publisher, msg, hand_pubs, hand_msg) -> None:
        """The 500 Hz loop: fault checks, then publish the held (or damping) command.

        An exception inside a tick stops the run into damping and the loop goes on publishing
        damping; after :data:`MAX_LOOP_ERRORS` failing ticks it gives up (the main thread sees
        the thread gone and stops too).
        """
        c = self.config
        loop = RateLoop(c.low_rate_hz)
        hand_every = max(1, round(c.low_rate_hz / 100.0))
        self._damping_until: float | None = None
        errors = 0
        tick = 0
        while True:
            now = loop.wait()
            tick += 1
            try:
                if self._low_tick(now, tick, hand_every, publisher, msg, hand_pubs, hand_msg):
                    break
            except Exception as exc:  # noqa: BLE001 - any failure here must end in damping
                errors += 1
                logger.exception("command loop error")
                self._stop(f"command loop error: {exc!r}")
                if errors >= MAX_LOOP_ERRORS:
                    logger.error("command loop failed %d times; it stops publishing", errors)
                    break
        self._low_stats = loop.stats()

    def _low_tick(self, now: float, tick: int, hand_every: int, publisher, msg, hand_pubs,
                  hand_msg) -> bool:
        """One tick of the command loop; ``True`` when the damping period is over."""
        c = self.config
        s = self._shared
        with s.lock:
            state, rx, command = s.state, s.state_rx_s, s.command
            hand_target = s.hand_target
            heartbeat, watch = s.heartbeat_s, s.watch_heartbeat
        if not s.stopped.is_set():
            if now - rx > c.stale_state_ms / 1e3:
                self._stop(f"stale state: no LowState_ for {1e3 * (now - rx):.0f} ms "
                           f"(limit {c.stale_state_ms:.0f} ms)")
            elif watch and now - heartbeat > c.heartbeat_ms / 1e3:
                self._stop(f"controller heartbeat lost: no new targets for "
                           f"{1e3 * (now - heartbeat):.0f} ms (limit {c.heartbeat_ms:.0f} ms)")
            elif state is not None and not (np.all(np.isfinite(state.joint_pos))
                                            and np.all(np.isfinite(state.joint_vel))
                                            and np.all(np.isfinite(state.quat_wxyz))):
                self._stop("non-finite joint or IMU state")
            elif state is not None and state.pressed("select"):
                self._stop("SELECT pressed on the remote", kind="stop")
        stopped = s.stopped.is_set()
        if stopped:
            self._damping_until = self._damping_until or now + c.damping_s
            command = self._damping(None if state is None else state.joint_pos)
        if command is not None and state is not None:
            self._computed += 1
            if publisher is not None:
                messages.fill_lowcmd(msg, command, state.mode_machine)
                publisher.Write(msg)
                self._published += 1
            if hand_pubs and tick % hand_every == 0 and (hand_target is not None or stopped):
                hands = self._hand_commands(None if stopped else hand_target)
                for side, hand in zip(sdk.HAND_SIDES, hands):
                    messages.fill_handcmd(hand_msg, hand)
                    hand_pubs[side].Write(hand_msg)
        return stopped and now >= self._damping_until

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
            self._log_fh = open(self.out_dir / "deploy_log.jsonl", "w")  # noqa: SIM115
        sub = sdk.subscriber(sdk.LOWSTATE_TOPIC, LowState_, self._on_state, 1)
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
                hand_subs.append(sdk.subscriber(sdk.DEX3_STATE_TOPIC.format(side=side), HandState_,
                                                lambda m, side=side: self._on_hand_state(side, m),
                                                1))
        self._event("info", f"domain {c.domain_id} on '{c.interface}'"
                    + (" (dry run: nothing is published)" if c.dry_run else ""))
        low = None
        status, exit_code = "not_started", EXIT_ERROR
        self._low_stats = LoopStats(c.low_rate_hz, 0, 0, 0, 0, 0, 0, 0)
        self._control_ticks: list[float] = []
        try:
            state = self._connect()
            self._preflight(state)
            low = self._low = threading.Thread(target=self._low_loop, name="lowcmd-500hz",
                                               daemon=True,
                                   args=(publisher, unitree_hg_msg_dds__LowCmd_(), hand_pubs,
                                         hand_msg))
            low.start()
            self._ramp(state)
            self._control()
            self._phase = "done"
            self._stop("motion finished", kind="done")
            status, exit_code = "completed", EXIT_COMPLETED
        except KeyboardInterrupt:
            self._stop("operator interrupt (Ctrl-C)", kind="interrupt")
            status, exit_code = "interrupted", EXIT_INTERRUPTED
        except _Stopped:
            status, exit_code = "safety_stop", EXIT_SAFETY_STOP
        except DeployError as exc:
            self._event("error", str(exc))
            self._shared.stopped.set()
            status, exit_code, reason = "not_started", EXIT_ERROR, str(exc)
        except Exception as exc:  # noqa: BLE001 - end in damping, keep the record, then report
            logger.exception("deploy failed")
            self._stop(f"error: {exc!r}")
            status, exit_code = "error", EXIT_ERROR
        finally:
            self._shared.stopped.set()
            if low is not None:
                try:
                    low.join()
                except KeyboardInterrupt:
                    low.join()
            sub.Close()
            for hsub in hand_subs:
                hsub.Close()
        reason = self._shared.stop_reason if status != "not_started" else reason
        metrics = self._metrics(status, reason)
        files = self._write(metrics)
        return DeployResult(status, reason, exit_code, metrics, files)

    def _connect(self) -> messages.StateSample:
        c = self.config
        deadline = time.monotonic() + c.connect_timeout_s
        while time.monotonic() < deadline:
            state, _ = self._latest()
            if state is not None:
                self._event("info", f"robot connected: tick {state.tick_ms} ms, mode_machine "
                            f"{state.mode_machine}")
                self._check_tick_rate(state)
                return self._latest()[0]
            time.sleep(0.01)
        bad = self._shared.state_crc_bad
        hint = (f"{bad} LowState_ arrived with a wrong CRC" if bad else
                "is the robot on and in debug mode (L2+R2), or `exoactor sim-robot` running with "
                "the same --domain-id")
        raise DeployError(f"no LowState_ on '{sdk.LOWSTATE_TOPIC}' within {c.connect_timeout_s:.0f}"
                          f" s on interface '{c.interface}', domain {c.domain_id}: {hint}")

    def _check_tick_rate(self, first: messages.StateSample) -> None:
        """The controller runs on the robot's ``tick``: check it counts milliseconds."""
        t0 = time.monotonic()
        time.sleep(TICK_CHECK_S)
        state, _ = self._latest()
        wall_ms = 1e3 * (time.monotonic() - t0)
        ratio = (state.tick_ms - first.tick_ms) / wall_ms
        if not TICK_RATIO_RANGE[0] <= ratio <= TICK_RATIO_RANGE[1]:
            raise DeployError(f"the robot's tick advanced {state.tick_ms - first.tick_ms} in "
                              f"{wall_ms:.0f} ms of wall time (x{ratio:.2f}); the controller is "
                              "clocked by a tick in milliseconds, so it refuses to run")

    def _preflight(self, state: messages.StateSample) -> None:
        self._phase = "check"
        c = self.config
        norm = float(np.linalg.norm(state.quat_wxyz))
        if not abs(norm - 1.0) <= 0.05:  # also refuses NaN
            raise DeployError(f"IMU quaternion has norm {norm:.3f}; the IMU is not ready")
        tol = c.start_limit_tolerance_rad
        names = self.robot.body_joint_names
        out = [f"{names[i]} at {state.joint_pos[i]:+.2f} rad (range {self.lower[i]:+.2f} .. "
               f"{self.upper[i]:+.2f})" for i in range(len(names))
               if not self.lower[i] - tol <= state.joint_pos[i] <= self.upper[i] + tol]
        if out:
            raise DeployError("joints outside their range, refusing to move: " + "; ".join(out))
        self._event("info", "pre-flight checks passed (CRC, IMU, joint ranges)")

    def _check_stopped(self) -> None:
        if self._low is not None and not self._low.is_alive() and not self._shared.stopped.is_set():
            self._stop("the command loop ended unexpectedly")
        if self._shared.stopped.is_set():
            raise _Stopped

    def _ramp(self, state: messages.StateSample) -> None:
        self._phase = "ramp"
        c = self.config
        q0 = state.joint_pos.copy()
        goal = self.controller.default_joint_pos
        gains = self.controller.gains
        self._event("info", f"ramping to the default pose over {c.ramp_s:.1f} s")
        with self._shared.lock:
            self._shared.watch_heartbeat = True
            if c.hands:
                self._shared.hand_target = np.zeros(2 * messages.NUM_HAND_MOTORS)
        t0 = time.monotonic()
        while True:
            self._check_stopped()
            x = (time.monotonic() - t0) / c.ramp_s
            target = q0 + (goal - q0) * smoothstep(min(x, 1.0))
            self._set_command(messages.MotorCommand(np.clip(target, self.lower, self.upper),
                                                    gains.kp, gains.kd))
            if x >= 1.0:
                return
            time.sleep(0.02)

    def _start_requested(self, standby_s: float, released_s: float | None) -> bool:
        c = self.config
        if c.start == "auto":
            return released_s is not None and standby_s - released_s >= c.settle_s + c.auto_start_s
        state, _ = self._latest()
        if state is not None and state.pressed("start"):
            return True
        if sys.stdin is not None and sys.stdin.isatty():
            ready, _, _ = select.select([sys.stdin], [], [], 0)
            if ready:
                sys.stdin.readline()
                return True
        return False

    def _control(self) -> None:
        """Standby (the controller holds the standing pose), then the motion, at 50 Hz."""
        from exoactor.control.reference import ReferenceStreamer
        from exoactor.control.safety import FallSignals
        from exoactor.rotations import yaw, yaw_quat

        self._phase = "standby"
        c = self.config
        rc = c.reference
        first = self.motion.slice(0, 1)
        heading = yaw_quat(float(yaw(first.root_quat[0])))
        default = self.controller.default_joint_pos
        h0 = self.robot.spec.root_height_m
        hand_open = np.zeros(2 * messages.NUM_HAND_MOTORS) if c.hands else None
        start = Pose(np.r_[first.root_pos[0, :2], h0], heading, default, hand_open)
        stand = Pose(np.array([0.0, 0.0, h0]), np.array([1.0, 0, 0, 0]), default, hand_open)
        streamer = ReferenceStreamer(self.motion, stand, start, rc)
        dt = self.controller.control_dt_s
        dt_ms = dt * 1e3
        clip_time = -streamer.blend_in_s
        state, _ = self._latest()
        self.controller.reset(_robot_state(state, 0.0), streamer.sample(clip_time + rc.lookahead_s))
        self.safety.reset(state.joint_pos)
        next_tick = state.tick_ms
        standby_s, released_s, streaming = 0.0, None if self._sim_control else 0.0, False
        self._event("info", "controller on, holding the standing pose"
                    + ("" if c.start == "auto" else "; press Enter or START on the remote to "
                       "stream the motion, SELECT or Ctrl-C stops into damping"))
        t_wait = time.monotonic()
        while clip_time < streamer.end_s - 1e-9:
            last_tick, waited_from = state.tick_ms, time.monotonic()
            while True:  # 50 Hz of the robot's clock
                self._check_stopped()
                state, _ = self._latest()
                if state.tick_ms < last_tick:
                    self._stop(f"robot tick went backwards ({last_tick} -> {state.tick_ms} ms)")
                    raise _Stopped
                if state.tick_ms >= next_tick:
                    break
                if time.monotonic() - waited_from > (dt + c.heartbeat_ms / 1e3):
                    self._stop(f"robot tick stalled at {state.tick_ms} ms for more than "
                               f"{1e3 * dt + c.heartbeat_ms:.0f} ms while its state arrives")
                    raise _Stopped
                with self._shared.lock:  # keep the heartbeat while waiting for the robot
                    self._shared.heartbeat_s = time.monotonic()
                time.sleep(0.0005)
            next_tick = max(next_tick + dt_ms, state.tick_ms)
            self._control_ticks.append(time.monotonic())
            if not streaming:
                if released_s is None and standby_s >= RELEASE_AFTER_S:
                    self._sim_control.Write(self._string("release"))
                    self._event("info", "simulated robot: gantry released")
                    released_s = standby_s
                if self._start_requested(standby_s, released_s):
                    streaming = True
                    self._phase = "stream"
                    self._event("info", f"start: streaming {Path(self.motion.source).name} "
                                f"({streamer.duration_s:.1f} s clip, blend-in "
                                f"{streamer.blend_in_s:.1f} s, ends at {streamer.end_s:.1f} s)")
                elif time.monotonic() - t_wait > c.max_wait_start_s:
                    self._stop(f"nobody started within {c.max_wait_start_s:.0f} s", kind="stop")
                    raise _Stopped
            seen = streamer.sample(clip_time + (rc.lookahead_s if streaming else 0.0))
            target = self.controller.act(_robot_state(state, clip_time), seen)
            cmd = self.safety.filter(target, state.joint_pos, state.joint_vel, dt, clip_time)
            self._clipped += cmd.n_clipped
            if cmd.mode == "damping":
                self._stop(self.safety.stop_reason or "safety layer stop")
                raise _Stopped
            self._check_stopped()
            self._set_command(messages.MotorCommand(cmd.target, cmd.kp, cmd.kd))
            if c.hands and seen.hand_pos is not None:
                hand = seen.hand_pos
                if not np.all(np.isfinite(hand)):
                    self._stop("non-finite hand target")
                    raise _Stopped
                clipped = np.clip(hand, self.hand_limits[:, 0], self.hand_limits[:, 1])
                self._clipped += int(np.count_nonzero(clipped != hand))
                with self._shared.lock:
                    self._shared.hand_target = clipped
            ref = streamer.sample(clip_time)
            height, tilt = self.estimator.height_and_tilt(state.quat_wxyz, state.joint_pos)
            _, ref_tilt = self.ref_estimator.height_and_tilt(ref.root_quat_w, ref.joint_pos)
            if self.safety.check_fall(FallSignals(height, tilt, float(ref.root_pos_w[2]), ref_tilt),
                                      time.monotonic() - self._t0):
                self._stop(f"fall: pelvis ~{height:.2f} m, torso tilt {np.degrees(tilt):.0f} deg")
                raise _Stopped
            if streaming:
                self._record(clip_time, state, cmd.target, ref.joint_pos, float(ref.root_pos_w[2]),
                             height, tilt, ref_tilt, ref.hand_pos)
                clip_time += dt
            else:
                standby_s += dt

    def _record(self, clip_t, state, target, ref_q, ref_height, height, tilt, ref_tilt,
                ref_hand) -> None:
        r = self._rows
        if self.config.hands:
            with self._shared.lock:
                hq = [self._shared.hand_q.get(side) for side in sdk.HAND_SIDES]
            n = messages.NUM_HAND_MOTORS
            r["hand_q"].append(np.concatenate([np.full(n, np.nan) if q is None else q for q in hq]))
            r["ref_hand_q"].append(ref_hand)
        for k, v in (("clip_t", clip_t), ("tick_ms", state.tick_ms),
                     ("wall_s", time.monotonic() - self._t0), ("q", state.joint_pos),
                     ("dq", state.joint_vel), ("quat", state.quat_wxyz), ("gyro", state.gyro_b),
                     ("target", target), ("ref_q", ref_q), ("ref_height", ref_height),
                     ("height", height), ("tilt", tilt), ("ref_tilt", ref_tilt)):
            r[k].append(v)

    # ---- outputs -------------------------------------------------------------------------
    def _metrics(self, status: str, reason: str | None) -> dict[str, Any]:
        from exoactor.metrics import body_error_mm, joint_error_rad

        r = {k: np.array(v) for k, v in self._rows.items()}
        duration = self.motion.duration_s
        sel = np.flatnonzero((r["clip_t"] >= -1e-9) & (r["clip_t"] <= duration + 1e-9)) \
            if len(r["clip_t"]) else np.array([], dtype=int)
        out: dict[str, Any] = {"status": status, "reason": reason, "motion": self.motion.source,
                               "clip_duration_s": duration, "dry_run": self.config.dry_run}
        fell = any(e["kind"] == "fault" and e["detail"].startswith("fall") for e in self.events)
        out["fell"] = fell
        if len(sel):
            jerr = joint_error_rad(r["q"][sel], r["ref_q"][sel])
            body = np.array([self.estimator.key_bodies_b(q) for q in r["q"][sel]])
            ref_body = np.array([self.estimator.key_bodies_b(q) for q in r["ref_q"][sel]])
            if self.config.hands and len(r["hand_q"]):
                herr = np.abs(r["hand_q"][sel] - r["ref_hand_q"][sel])
                out["mean_hand_joint_error_rad"] = (float(np.nanmean(herr))
                                                    if np.isfinite(herr).any() else None)
            out.update(mean_joint_error_rad=float(jerr.mean()), max_joint_error_rad=float(jerr.max()),
                       key_body_error_mm=float(body_error_mm(body, ref_body).mean()),
                       evaluated_s=float(r["clip_t"][sel[-1]] - r["clip_t"][sel[0]]),
                       min_pelvis_height_est_m=float(r["height"][sel].min()),
                       max_torso_tilt_deg=float(np.degrees(r["tilt"][sel].max())))
        s = self._shared
        control = loop_stats(np.array(self._control_ticks), 1.0 / self.controller.control_dt_s, 0)
        out.update(low_level_loop=self._low_stats.as_dict(), control_loop=control.as_dict(),
                   commands_computed=self._computed, commands_published=self._published,
                   states_received=s.states, states_crc_rejected=s.state_crc_bad,
                   safety_clipped_joint_steps=self._clipped,
                   dropped_frames=self.glitches.dropped_frames if self.glitches else 0,
                   events=self.events, config=self.config.model_dump(mode="json"))
        if self._low_stats.ticks > 1 and not self._low_stats.held:
            logger.warning("the %.0f Hz command loop was not held: %.1f Hz, %d overruns, p99 "
                           "jitter %.2f ms", self.config.low_rate_hz, self._low_stats.achieved_hz,
                           self._low_stats.overruns, self._low_stats.jitter_p99_ms)
        return out

    def _write(self, metrics: dict[str, Any]) -> dict[str, Path]:
        if self.out_dir is None:
            return {}
        from exoactor.fileio import atomic_path, write_json

        self.out_dir.mkdir(parents=True, exist_ok=True)
        files = {}
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        files["log"] = self.out_dir / "deploy_log.jsonl"
        rollout = self.out_dir / "deploy_rollout.npz"
        with atomic_path(rollout) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, fps=1.0 / self.controller.control_dt_s,
                     joint_names=np.array(self.robot.body_joint_names),
                     **{k: np.array(v) for k, v in self._rows.items()})
        files["rollout"] = rollout
        write_json(self.out_dir / "deploy_metrics.json", metrics)
        files["metrics"] = self.out_dir / "deploy_metrics.json"
        return files


class _Stopped(Exception):
    """The run was stopped into damping (the reason is in the shared state)."""


def _robot_state(state: messages.StateSample, time_s: float) -> RobotState:
    zeros = np.zeros(3)
    return RobotState(time_s=time_s, root_pos_w=zeros, root_quat_w=state.quat_wxyz,
                      root_lin_vel_w=zeros, root_ang_vel_b=state.gyro_b,
                      joint_pos=state.joint_pos, joint_vel=state.joint_vel)
