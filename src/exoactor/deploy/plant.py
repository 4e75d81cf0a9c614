"""A G1 over DDS as a :class:`~exoactor.control.loop.Plant` of the one tracking loop.

State in: the latest accepted ``LowState_`` (IMU orientation and gyro, joint encoders; the
pelvis position and velocity are not measured and read as 0 — drift correction is off on the
robot) and the Dex3-1 hand states. Targets out: the safety layer's command goes to the
:class:`~exoactor.deploy.link.RobotLink`, from which the 500 Hz command loop publishes it
(body) and the hand targets (every fifth tick). A damping command from the safety layer
stops the run (:class:`Stopped`) instead of being sent as targets.

The clock: :meth:`RobotPlant.apply` returns when one control period has passed on the robot's
own ``tick`` (milliseconds; a tick that goes backwards or stalls while states arrive stops the
run), or, with ``clock="host"`` (a simulator that leaves the tick at 0), on host time at the
state's rate: the host arrival time of the latest state, so that a control step starts as a
fresh state arrives (no state: no step; the command loop's stale-state check stops the run).
While it waits it keeps the controller's heartbeat.

:meth:`RobotPlant.assess` estimates the pelvis height and torso tilt from the IMU and joints
(:class:`~exoactor.deploy.estimate.BodyEstimator`) for the fall check, and gives the row of
``deploy_rollout.npz``. A robot cannot be rewound: :meth:`RobotPlant.save` raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from exoactor.control.controller import ReferenceFrame, RobotState
from exoactor.control.loop import Assessment, Observation
from exoactor.control.safety import FallSignals, SafetyCommand
from exoactor.deploy import messages, sdk
from exoactor.deploy.estimate import BodyEstimator
from exoactor.deploy.link import RobotLink
from exoactor.errors import ExoActorError


class Stopped(Exception):
    """The run was stopped into damping (the reason is in the link)."""


class RobotPlant:
    """The robot behind a :class:`RobotLink` (see the module docstring).

    Args:
        link: the shared robot state.
        n_body: body joints commanded.
        n_hand: hand joints commanded (14 or 0).
        estimator: pelvis height and torso tilt of the robot (with the key bodies).
        ref_estimator: the same for reference poses.
        stop: ``stop(reason)`` latches damping.
        check_stopped: raises :class:`Stopped` when the run was stopped (or the command loop
            died).
        heartbeat_ms: the command loop's heartbeat limit [ms] (a stalled tick stops the run
            after one control period plus this).
        clock: ``"tick"``: the robot's millisecond tick; ``"host"``: host monotonic time.
        t0_s: ``time.monotonic()`` at the run's start (``wall_s`` of the record).
    """

    def __init__(self, link: RobotLink, n_body: int, n_hand: int, estimator: BodyEstimator,
                 ref_estimator: BodyEstimator, stop: Callable[[str], None],
                 check_stopped: Callable[[], None], heartbeat_ms: float,
                 clock: Literal["tick", "host"] = "tick", t0_s: float | None = None):
        self.link = link
        self.n_body, self.n_hand = n_body, n_hand
        self.estimator, self.ref_estimator = estimator, ref_estimator
        self.stop, self.check_stopped = stop, check_stopped
        self.heartbeat_ms = heartbeat_ms
        self.clock = clock
        self.t0_s = time.monotonic() if t0_s is None else t0_s
        self.hand_sent = np.zeros(n_hand)
        self.last_fall: FallSignals | None = None
        self.control_ticks: list[float] = []
        self._next_ms = 0.0
        self._last_tick = 0
        self._start_ms = 0.0

    # ---- clock ---------------------------------------------------------------------------
    def _clock_ms(self, state: messages.StateSample) -> float:
        if self.clock == "tick":
            return float(state.tick_ms)
        _, received_s = self.link.latest()  # host time at the state's rate: a control step
        return 1e3 * (received_s - self.t0_s)  # starts on the state that crosses its period

    def start(self, dt_s: float) -> None:
        """Begin the control periods now (the first step runs at once)."""
        state = self._latest()
        now_ms = self._clock_ms(state)
        self._start_ms = now_ms
        self._next_ms = now_ms + 1e3 * dt_s
        self._last_tick = state.tick_ms
        self.control_ticks.append(time.monotonic())

    def _wait(self, dt_s: float) -> None:
        waited_from = time.monotonic()
        while True:
            self.check_stopped()
            state = self._latest()
            if self.clock == "tick" and state.tick_ms < self._last_tick:
                self.stop(f"robot tick went backwards ({self._last_tick} -> {state.tick_ms} ms)")
                raise Stopped
            now_ms = self._clock_ms(state)
            if now_ms >= self._next_ms:
                break
            if self.clock == "tick" and time.monotonic() - waited_from > \
                    dt_s + self.heartbeat_ms / 1e3:
                self.stop(f"robot tick stalled at {state.tick_ms} ms for more than "
                          f"{1e3 * dt_s + self.heartbeat_ms:.0f} ms while its state arrives")
                raise Stopped
            self.link.beat()  # keep the heartbeat while waiting for the robot
            time.sleep(0.0005)
        self._next_ms = max(self._next_ms + 1e3 * dt_s, now_ms)
        self._last_tick = state.tick_ms
        self.control_ticks.append(time.monotonic())

    def _latest(self) -> messages.StateSample:
        state, _ = self.link.latest()
        if state is None:
            raise ExoActorError("RobotPlant used before the robot's first LowState_")
        return state

    # ---- Plant ---------------------------------------------------------------------------
    def observe(self) -> Observation:
        state = self._latest()
        zeros = np.zeros(3)
        body = RobotState(time_s=(self._clock_ms(state) - self._start_ms) / 1e3,
                          root_pos_w=zeros, root_quat_w=state.quat_wxyz, root_lin_vel_w=zeros,
                          root_ang_vel_b=state.gyro_b, joint_pos=state.joint_pos,
                          joint_vel=state.joint_vel)
        return Observation(body, self.hand_pos(), np.zeros(self.n_hand))

    def hand_pos(self) -> np.ndarray:
        """``(n_hand,)`` measured hand angles [rad]; a hand without a state yet reads as the
        targets last sent to it."""
        if not self.n_hand:
            return np.zeros(0)
        n = messages.NUM_HAND_MOTORS
        parts = self.link.hand_pos(sdk.HAND_SIDES)
        return np.concatenate([self.hand_sent[n * k:n * (k + 1)] if q is None else q
                               for k, q in enumerate(parts)])

    def apply(self, command: SafetyCommand, dt_s: float) -> None:
        if command.mode == "damping":
            raise Stopped
        self.check_stopped()
        n = self.n_body
        self.link.set_command(messages.MotorCommand(command.target[:n], command.kp[:n],
                                                    command.kd[:n]))
        if self.n_hand:
            self.hand_sent = command.target[n:].copy()
            self.link.set_hand_target(self.hand_sent)
        self._wait(dt_s)

    def assess(self, reference: ReferenceFrame) -> Assessment:
        state = self._latest()
        height, tilt = self.estimator.height_and_tilt(state.quat_wxyz, state.joint_pos)
        _, ref_tilt = self.ref_estimator.height_and_tilt(reference.root_quat_w,
                                                         reference.joint_pos)
        row: dict[str, Any] = {
            "tick_ms": state.tick_ms, "wall_s": time.monotonic() - self.t0_s,
            "q": state.joint_pos, "dq": state.joint_vel, "quat": state.quat_wxyz,
            "gyro": state.gyro_b, "height": height, "tilt": tilt, "ref_tilt": ref_tilt}
        if self.n_hand:
            n = messages.NUM_HAND_MOTORS
            row["hand_q"] = np.concatenate([np.full(n, np.nan) if q is None else q
                                            for q in self.link.hand_pos(sdk.HAND_SIDES)])
        self.last_fall = FallSignals(height, tilt, float(reference.root_pos_w[2]), ref_tilt)
        return Assessment(self.last_fall, row)

    def save(self) -> Any:
        raise ExoActorError("a robot cannot be rewound: save/restore the loop on a simulated "
                            "plant (exoactor.control.build_simulation_loop)")

    def restore(self, state: Any) -> None:
        self.save()
