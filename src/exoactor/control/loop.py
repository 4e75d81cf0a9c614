"""One tracking loop for the simulator and the robot: reference, controller, safety, fall, record.

A :class:`TrackingLoop` runs one control step at a time against a :class:`Plant` — whatever
executes joint targets: :class:`~exoactor.control.mujoco_plant.MujocoPlant` (MuJoCo physics,
``exoactor track``) or :class:`~exoactor.deploy.plant.RobotPlant` (a G1 over DDS,
``exoactor deploy``). One step:

1. observe the plant (:meth:`Plant.observe`: body state, hand joints);
2. sample the reference the controller sees at ``clip_time + lookahead`` (the *control*
   stream, possibly noisy), correct it for drift when a :class:`DriftCorrector` is given, and
   apply the step's :class:`ReferenceMod` (planner offsets, time warp) when one is given;
3. the controller's body targets (the measured pose once the safety layer has stopped), and
   the hand targets (the reference's, or open), through the :class:`SafetyLayer` on *every*
   joint, hands included (non-finite stop, joint-limit clip, rate limit);
4. :meth:`Plant.apply` holds the command for one control period of the plant's clock
   (physics steps in simulation; the robot's tick on hardware);
5. the clip time advances by ``dt * drift rate * mod.clock_rate``;
6. :meth:`Plant.assess` judges the plant against the *clean* reference at the new clip time
   (fall signals, and the plant's row of the record); the fall check runs; the row is
   recorded with the clip time, the command's targets and the reference.

The whole state of a run is an explicit value: :meth:`TrackingLoop.save` returns a
:class:`LoopState` (the plant's state — MuJoCo's ``mjSTATE_INTEGRATION`` and gains —, the
controller's history and last action, the safety layer's rate-limiter memory and mode, the
clip time, the drift corrector's filters, fall bookkeeping, counters, the record's length) and
:meth:`TrackingLoop.restore` puts it back exactly, so a planner can roll candidates out from
one instant and compare them.

Joint arrays: the controller's body joints, then the hand joints (``n_hand``, 0 without hands).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from exoactor.control.controller import Controller, ReferenceFrame, RobotState
from exoactor.control.drift import DriftCorrector, ReferencePlan, scale_swing
from exoactor.control.reference import ReferenceStreamer
from exoactor.control.safety import FallSignals, SafetyCommand, SafetyLayer, SafetyState
from exoactor.rotations import heading_frame, quat_apply, yaw


@dataclass(frozen=True)
class Observation:
    """What a plant measures at one instant.

    Attributes:
        state: the body state the controller reads.
        hand_pos: ``(n_hand,)`` hand joint angles [rad] (empty without hands).
        hand_vel: ``(n_hand,)`` hand joint velocities [rad/s].
    """

    state: RobotState
    hand_pos: np.ndarray
    hand_vel: np.ndarray


@dataclass(frozen=True)
class Assessment:
    """The plant judged against the reference after a control period.

    Attributes:
        fall: what fall detection compares.
        row: the plant's own entries of the record (e.g. ``qpos`` in simulation, the tick and
            IMU on the robot); one value per key per recorded step.
    """

    fall: FallSignals
    row: dict[str, Any]


class Plant(Protocol):
    """What executes joint targets: state in, targets out, a clock."""

    def observe(self) -> Observation:
        """The latest measured state (does not wait)."""

    def apply(self, command: SafetyCommand, dt_s: float) -> None:
        """Hold ``command`` (body then hand joints) for one control period of ``dt_s`` [s] of
        the plant's own clock (returns when the period is over)."""

    def assess(self, reference: ReferenceFrame) -> Assessment:
        """Fall signals and the record row of the state now, against ``reference``."""

    def save(self) -> Any:
        """The plant's state (only a simulated plant can do this)."""

    def restore(self, state: Any) -> None:
        """Put back a state from :meth:`save`."""


@dataclass(frozen=True)
class ReferenceMod:
    """Per-step changes to the reference the controller sees (a planner's inputs).

    Applied after drift correction, in this order: stride, stance, root velocity, yaw rate,
    then ``transform``. The defaults change nothing.

    Attributes:
        clock_rate: factor on the clip-time advance of this step (time warp; 0 holds the
            reference still) [-], >= 0.
        lookahead: the controller sees the reference ``lookahead_s`` ahead (``False``: at the
            clip time itself, as while standing by before a start).
        root_lin_vel_offset_h: ``(2,)`` added to the reference root velocity, in the
            reference's heading frame (x forward, y left) [m/s].
        yaw_rate_offset_rad_s: added to the reference yaw rate (about the reference pelvis's
            z axis) [rad/s].
        leg_stride_scale: the leg joints' swing about their running mean (the drift plan's
            ``joint_center``; the standing pose without a plan) is scaled by this [-].
        stance_blend: the leg joints blend toward the standing pose by this weight, in [0, 1].
        transform: any further edit of the frame, applied last.
    """

    clock_rate: float = 1.0
    lookahead: bool = True
    root_lin_vel_offset_h: tuple[float, float] = (0.0, 0.0)
    yaw_rate_offset_rad_s: float = 0.0
    leg_stride_scale: float = 1.0
    stance_blend: float = 0.0
    transform: Callable[[ReferenceFrame], ReferenceFrame] | None = None

    def __post_init__(self) -> None:
        if not self.clock_rate >= 0.0:
            raise ValueError(f"ReferenceMod.clock_rate = {self.clock_rate}; it must be >= 0")
        if not 0.0 <= self.stance_blend <= 1.0:
            raise ValueError(f"ReferenceMod.stance_blend = {self.stance_blend}; it must be in "
                             "[0, 1]")
        if not self.leg_stride_scale > 0.0:
            raise ValueError(f"ReferenceMod.leg_stride_scale = {self.leg_stride_scale}; it must "
                             "be > 0")


def apply_mod(frame: ReferenceFrame, mod: ReferenceMod, legs: np.ndarray,
              leg_center: np.ndarray, stand_joint_pos: np.ndarray) -> ReferenceFrame:
    """``frame`` with ``mod``'s joint and root-velocity changes (see :class:`ReferenceMod`).

    Args:
        frame: the reference the controller would see.
        mod: the changes.
        legs: indices of the leg joints in the body-joint order.
        leg_center: ``(len(legs),)`` centre of the leg swing [rad].
        stand_joint_pos: ``(n,)`` the standing pose [rad].
    """
    joints = frame.joint_pos
    if mod.leg_stride_scale != 1.0 or mod.stance_blend > 0.0:
        joints = joints.copy()
        if mod.leg_stride_scale != 1.0:
            joints[legs] = scale_swing(joints[legs], leg_center, mod.leg_stride_scale)
        if mod.stance_blend > 0.0:
            w = mod.stance_blend
            joints[legs] = (1 - w) * joints[legs] + w * stand_joint_pos[legs]
    lin_vel_w, ang_vel_w = frame.root_lin_vel_w, frame.root_ang_vel_w
    if any(mod.root_lin_vel_offset_h):
        lin_vel_w = lin_vel_w.copy()
        lin_vel_w[:2] += heading_frame(float(yaw(frame.root_quat_w))) @ np.asarray(
            mod.root_lin_vel_offset_h, dtype=float)
    if mod.yaw_rate_offset_rad_s:
        up_w = quat_apply(frame.root_quat_w, np.array([0.0, 0.0, 1.0]))
        ang_vel_w = ang_vel_w + up_w * mod.yaw_rate_offset_rad_s
    out = replace(frame, root_lin_vel_w=lin_vel_w, root_ang_vel_w=ang_vel_w, joint_pos=joints)
    return mod.transform(out) if mod.transform is not None else out


@dataclass(frozen=True)
class StepResult:
    """What one :meth:`TrackingLoop.step` did.

    Attributes:
        command: what the plant executed.
        seen: the reference the controller saw.
        reference: the clean reference at the new clip time (what the plant was judged by).
        clip_time_s: the clip time after the step [s].
        fell: a fall was detected after this step (the first or a later one).
    """

    command: SafetyCommand
    seen: ReferenceFrame
    reference: ReferenceFrame
    clip_time_s: float
    fell: bool


@dataclass(frozen=True)
class LoopState:
    """Everything a :class:`TrackingLoop` needs to continue from one instant, exactly.

    Attributes:
        plant: the plant's :meth:`Plant.save` value.
        controller: the controller's :meth:`Controller.get_state` value.
        safety: the safety layer's mode, events and rate-limiter memory.
        drift: the drift corrector's :meth:`DriftCorrector.get_state` value, or ``None``.
        clip_time_s: the clip time [s].
        fall_time_s: clip time of the first fall [s], or ``None``.
        stop_after_s: clip time at which the run ends after a fall [s], or ``None``.
        counters: the loop's counters (``safety_clipped_joint_steps`` ...).
        recorded: rows in the record (later ones are dropped on restore).
        steps: control steps taken.
    """

    plant: Any
    controller: Any
    safety: SafetyState
    drift: Any
    clip_time_s: float
    fall_time_s: float | None
    stop_after_s: float | None
    counters: tuple[tuple[str, int], ...]
    recorded: int
    steps: int


@dataclass
class TrackingLoop:
    """The control loop of one run (see the module docstring).

    Args:
        plant: executes the commands.
        controller: body-joint targets from state and reference.
        safety: guards body then hand joints (``n_body + n_hand`` joints).
        reference: the clean reference (metrics, fall check, drift "now").
        clip_time_s: the clip time to start at (``-reference.blend_in_s``) [s].
        lookahead_s: the controller sees the reference this far ahead [s].
        control_reference: the reference the controller sees (e.g. with test noise);
            ``None``: ``reference``.
        drift: drift corrector (edits what the controller sees, sets the clock rate);
            ``None``: none, rate 1.
        plan: the reference plan (leg swing centre of :attr:`ReferenceMod.leg_stride_scale`).
        hand_open: ``(n_hand,)`` hand targets when the reference has none [rad].
        post_fall_s: the run ends this long (clip time) after a fall [s]; ``inf``: never.
        record: keep a record of every step (:attr:`rec`).
    """

    plant: Plant
    controller: Controller
    safety: SafetyLayer
    reference: ReferenceStreamer
    clip_time_s: float
    lookahead_s: float
    control_reference: ReferenceStreamer | None = None
    drift: DriftCorrector | None = None
    plan: ReferencePlan | None = None
    hand_open: np.ndarray = field(default_factory=lambda: np.zeros(0))
    post_fall_s: float = float("inf")
    record: bool = True
    fall_time_s: float | None = None
    stop_after_s: float | None = None
    steps: int = 0
    rec: dict[str, list] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: {
        "safety_clipped_joint_steps": 0, "safety_rate_limited_joint_steps": 0})

    def __post_init__(self) -> None:
        if self.control_reference is None:
            self.control_reference = self.reference
        self.dt_s = float(self.controller.control_dt_s)
        self.n_hand = len(self.hand_open)
        names = self.controller.joint_names
        self.legs = np.array([i for i, n in enumerate(names)
                              if any(k in n for k in ("hip", "knee", "ankle"))], dtype=int)

    # ---- run -----------------------------------------------------------------------------
    @property
    def end_s(self) -> float:
        """Clip time at which the reference has returned to standing [s]."""
        return self.reference.end_s

    @property
    def done(self) -> bool:
        """The reference has ended, or ``post_fall_s`` has passed since a fall."""
        return (self.clip_time_s >= self.end_s - 1e-9
                or (self.stop_after_s is not None and self.clip_time_s >= self.stop_after_s - 1e-9))

    def reset(self) -> None:
        """Arm the safety layer at the measured pose and reset the controller."""
        obs = self.plant.observe()
        self.safety.reset(np.concatenate([obs.state.joint_pos, obs.hand_pos]))
        self.controller.reset(obs.state,
                              self.control_reference.sample(self.clip_time_s + self.lookahead_s))

    def step(self, mod: ReferenceMod | None = None, record: bool | None = None) -> StepResult:
        """One control step (see the module docstring).

        Args:
            mod: this step's reference changes; ``None`` changes nothing.
            record: record this step; ``None``: the loop's :attr:`record`.
        """
        obs = self.plant.observe()
        state = obs.state
        t = self.clip_time_s
        lookahead = self.lookahead_s if mod is None or mod.lookahead else 0.0
        seen = self.control_reference.sample(t + lookahead)
        rate = 1.0
        if self.drift is not None:
            seen = self.drift.correct(seen, self.reference.sample(t), state, t, lookahead)
            rate = self.drift.rate
        if mod is not None:
            seen = apply_mod(seen, mod, self.legs, self._leg_center(t + lookahead),
                             self.controller.default_joint_pos)
            rate *= mod.clock_rate
        target = self.controller.act(state, seen) if not self.safety.stopped else state.joint_pos
        hand_target = np.zeros(0)
        if self.n_hand:
            hand_target = seen.hand_pos if seen.hand_pos is not None else self.hand_open
        cmd = self.safety.filter(np.concatenate([target, hand_target]),
                                 np.concatenate([state.joint_pos, obs.hand_pos]),
                                 np.concatenate([state.joint_vel, obs.hand_vel]), self.dt_s, t)
        self.counters["safety_clipped_joint_steps"] += cmd.n_clipped
        self.counters["safety_rate_limited_joint_steps"] += cmd.n_rate_limited
        self.plant.apply(cmd, self.dt_s)
        self.clip_time_s = t = t + self.dt_s * rate
        self.steps += 1
        ref = self.reference.sample(t)
        judged = self.plant.assess(ref)
        fell = self.safety.check_fall(judged.fall, t)
        if fell and self.fall_time_s is None:
            self.fall_time_s = t
            self.stop_after_s = t + self.post_fall_s
        if self.record if record is None else record:
            self._record(t, cmd.target, ref, judged.row)
        return StepResult(cmd, seen, ref, t, fell)

    def _leg_center(self, t_s: float) -> np.ndarray:
        if self.plan is not None and self.plan.joint_center is not None:
            return np.array([np.interp(t_s, self.plan.time_s, self.plan.joint_center[:, j])
                             for j in self.legs])
        return self.controller.default_joint_pos[self.legs]

    def _record(self, clip_time_s: float, target: np.ndarray, ref: ReferenceFrame,
                row: dict[str, Any]) -> None:
        entries = {"clip_t": clip_time_s, "target": target, "ref_dof": ref.joint_pos,
                   "ref_pos": ref.root_pos_w, "ref_quat": ref.root_quat_w,
                   "ref_hand": ref.hand_pos, **row}
        for key, value in entries.items():
            self.rec.setdefault(key, []).append(value)

    # ---- state ---------------------------------------------------------------------------
    def save(self) -> LoopState:
        """The loop's whole state now (see :class:`LoopState`)."""
        return LoopState(
            plant=self.plant.save(), controller=self.controller.get_state(),
            safety=self.safety.get_state(),
            drift=None if self.drift is None else self.drift.get_state(),
            clip_time_s=self.clip_time_s, fall_time_s=self.fall_time_s,
            stop_after_s=self.stop_after_s, counters=tuple(self.counters.items()),
            recorded=len(self.rec.get("clip_t", ())), steps=self.steps)

    def restore(self, state: LoopState) -> None:
        """Continue from ``state`` exactly (the record is cut back to its length then)."""
        self.plant.restore(state.plant)
        self.controller.set_state(state.controller)
        self.safety.set_state(state.safety)
        if self.drift is not None:
            self.drift.set_state(state.drift)
        self.clip_time_s = state.clip_time_s
        self.fall_time_s = state.fall_time_s
        self.stop_after_s = state.stop_after_s
        self.counters = dict(state.counters)
        self.steps = state.steps
        for values in self.rec.values():
            del values[state.recorded:]
