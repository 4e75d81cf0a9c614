"""Safety layer between any controller and the actuators (simulated or real).

Pure logic on arrays: no MuJoCo, no I/O, so the same object guards the real robot. Each
control step, :meth:`SafetyLayer.filter` turns the controller's joint targets into the command
the PD loop executes:

1. non-finite targets or a non-finite measured state stop the robot;
2. targets are clipped to the joint limits (less a margin);
3. the change of target per second is limited (``max_target_rate_rad_s``);
4. the PD torque is clipped to ``min(controller clip, robot torque limit)`` (``torque_limit_nm``
   of the command; :func:`pd_torque` computes it where the PD loop runs in software).

Fall detection (:func:`is_fallen`) is judged against the reference, not absolutely (a squat
legitimately takes the pelvis to 0.52 m): the robot has fallen when its pelvis is below
``fall_height_m`` *and* more than ``fall_height_margin_m`` below the reference's, or its torso
tilts more than ``fall_tilt_deg`` *and* more than ``fall_tilt_margin_deg`` beyond the
reference's tilt (spec §2). A stop latches the layer in damping mode (``kp = 0``,
``kd = damping_kd``) until :meth:`SafetyLayer.reset`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)


class SafetyConfig(BaseModel):
    """Limits and thresholds of the safety layer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    joint_limit_margin_rad: float = Field(0.0, ge=0.0, le=0.5)
    """Targets are kept this far inside the joint range [rad]."""
    max_target_rate_rad_s: float = Field(50.0, gt=0.0)
    """Largest change of a joint target per second [rad/s]."""
    fall_height_m: float = Field(0.5, gt=0.0)
    """Pelvis height below which a fall is possible [m]."""
    fall_height_margin_m: float = Field(0.2, ge=0.0)
    """...and by how much it must be below the reference pelvis height [m]."""
    fall_tilt_deg: float = Field(60.0, gt=0.0, le=180.0)
    """Torso tilt from vertical above which a fall is possible [deg]."""
    fall_tilt_margin_deg: float = Field(25.0, ge=0.0)
    """...and by how much it must exceed the reference's torso tilt [deg]."""
    damping_kd: float = Field(3.0, ge=0.0)
    """Joint damping in the stopped (damping) mode [N m s / rad]."""
    stop_on_fall: bool = True
    """Switch to damping when a fall is detected."""


@dataclass(frozen=True)
class JointLimits:
    """Limits of the joints a safety layer guards.

    Attributes:
        lower: ``(n,)`` lower position limit [rad].
        upper: ``(n,)`` upper position limit [rad].
        torque_nm: ``(n,)`` symmetric torque limit of the hardware [N m].
    """

    lower: np.ndarray
    upper: np.ndarray
    torque_nm: np.ndarray


@dataclass(frozen=True)
class FallSignals:
    """What fall detection compares, robot against reference.

    Attributes:
        pelvis_height_m: robot pelvis height above the floor [m].
        torso_tilt_rad: robot torso tilt from vertical [rad].
        ref_pelvis_height_m: reference pelvis height [m].
        ref_torso_tilt_rad: reference torso tilt from vertical [rad].
    """

    pelvis_height_m: float
    torso_tilt_rad: float
    ref_pelvis_height_m: float
    ref_torso_tilt_rad: float


@dataclass(frozen=True)
class SafetyCommand:
    """What the PD loop executes for one control period.

    Attributes:
        target: ``(n,)`` joint position targets [rad].
        kp: ``(n,)`` stiffness [N m / rad] (0 in damping mode).
        kd: ``(n,)`` damping [N m s / rad].
        torque_limit_nm: ``(n,)`` torque clip [N m].
        mode: ``"track"`` or ``"damping"``.
        n_clipped: joints whose target was clipped to the joint range this step.
        n_rate_limited: joints whose target change was rate-limited this step.
    """

    target: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    torque_limit_nm: np.ndarray
    mode: Literal["track", "damping"]
    n_clipped: int = 0
    n_rate_limited: int = 0


@dataclass(frozen=True)
class SafetyEvent:
    """Something the safety layer did: ``kind`` in {"stop", "fall"}, with time [s] and detail."""

    time_s: float
    kind: str
    detail: str


def clip_to_limits(target: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                   margin_rad: float = 0.0) -> np.ndarray:
    """``(n,)`` targets clipped to ``[lower + margin, upper - margin]`` [rad]."""
    lo = lower + margin_rad
    hi = np.maximum(upper - margin_rad, lo)
    return np.clip(target, lo, hi)


def rate_limit(target: np.ndarray, previous: np.ndarray, max_step_rad: float) -> np.ndarray:
    """``(n,)`` targets moved at most ``max_step_rad`` from ``previous`` [rad]."""
    return previous + np.clip(target - previous, -max_step_rad, max_step_rad)


def pd_torque(target: np.ndarray, joint_pos: np.ndarray, joint_vel: np.ndarray,
              kp: np.ndarray, kd: np.ndarray, torque_limit_nm: np.ndarray) -> np.ndarray:
    """``(n,)`` PD torque ``clip(kp (target - q) - kd dq, +-limit)`` [N m]."""
    tau = kp * (target - joint_pos) - kd * joint_vel
    return np.clip(tau, -torque_limit_nm, torque_limit_nm)


def is_fallen(signals: FallSignals, config: SafetyConfig) -> bool:
    """The reference-relative fall criterion (see the module docstring)."""
    low = (signals.pelvis_height_m < config.fall_height_m
           and signals.pelvis_height_m < signals.ref_pelvis_height_m - config.fall_height_margin_m)
    tilt = np.degrees(signals.torso_tilt_rad)
    ref_tilt = np.degrees(signals.ref_torso_tilt_rad)
    tilted = tilt > config.fall_tilt_deg and tilt > ref_tilt + config.fall_tilt_margin_deg
    return bool(low or tilted)


@dataclass(frozen=True)
class SafetyState:
    """A :class:`SafetyLayer`'s state, to restore it exactly.

    Attributes:
        mode: ``"track"`` or ``"damping"``.
        events: the events recorded so far.
        previous: ``(n,)`` the rate limiter's previous target [rad], or ``None`` before the
            first step.
    """

    mode: Literal["track", "damping"]
    events: tuple[SafetyEvent, ...]
    previous: np.ndarray | None


@dataclass
class SafetyLayer:
    """Stateful guard of one robot's joints (rate limit memory, latched stop).

    Args:
        limits: the joints' position and torque limits.
        kp, kd: ``(n,)`` the controller's PD gains.
        torque_limit_nm: ``(n,)`` the controller's torque clip (combined with the hardware's).
        config: thresholds.
    """

    limits: JointLimits
    kp: np.ndarray
    kd: np.ndarray
    torque_limit_nm: np.ndarray
    config: SafetyConfig = field(default_factory=SafetyConfig)
    mode: Literal["track", "damping"] = "track"
    events: list[SafetyEvent] = field(default_factory=list)
    _previous: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.limits.lower)
        for name in ("kp", "kd", "torque_limit_nm"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (n,):
                raise ValueError(f"SafetyLayer.{name} has shape {value.shape}, expected ({n},)")
            setattr(self, name, value)
        self.torque_limit_nm = np.minimum(self.torque_limit_nm, self.limits.torque_nm)

    @property
    def stopped(self) -> bool:
        return self.mode == "damping"

    @property
    def stop_reason(self) -> str | None:
        stops = [e for e in self.events if e.kind == "stop"]
        return stops[0].detail if stops else None

    def reset(self, joint_pos: np.ndarray) -> None:
        """Start tracking again from the measured ``joint_pos`` (``(n,)`` [rad])."""
        self.mode = "track"
        self.events = []
        self._previous = np.asarray(joint_pos, dtype=float).copy()

    def get_state(self) -> SafetyState:
        """Mode, events and rate-limiter memory now."""
        return SafetyState(self.mode, tuple(self.events),
                           None if self._previous is None else self._previous.copy())

    def set_state(self, state: SafetyState) -> None:
        """Put back a :meth:`get_state` value."""
        self.mode = state.mode
        self.events = list(state.events)
        self._previous = None if state.previous is None else state.previous.copy()

    def stop(self, reason: str, time_s: float) -> None:
        """Latch damping mode."""
        if self.mode != "damping":
            logger.warning("safety stop at t = %.2f s: %s", time_s, reason)
            self.events.append(SafetyEvent(time_s, "stop", reason))
        self.mode = "damping"

    def damping_command(self, joint_pos: np.ndarray) -> SafetyCommand:
        """Damping only: ``kp = 0``, ``kd = damping_kd``; the target is the current pose."""
        n = len(self.kp)
        hold = np.where(np.isfinite(joint_pos), joint_pos, 0.0)
        return SafetyCommand(hold, np.zeros(n), np.full(n, self.config.damping_kd),
                             self.torque_limit_nm.copy(), "damping")

    def filter(self, target: np.ndarray, joint_pos: np.ndarray, joint_vel: np.ndarray,
               dt_s: float, time_s: float = 0.0) -> SafetyCommand:
        """The safe command for one control period of ``dt_s`` [s].

        Args:
            target: ``(n,)`` the controller's joint targets [rad].
            joint_pos: ``(n,)`` measured joint angles [rad].
            joint_vel: ``(n,)`` measured joint velocities [rad/s].
            dt_s: control period [s].
            time_s: time now, for the event log [s].
        """
        target = np.asarray(target, dtype=float)
        if not np.all(np.isfinite(target)):
            bad = np.flatnonzero(~np.isfinite(target)).tolist()
            self.stop(f"non-finite target on joints {bad}", time_s)
        elif not (np.all(np.isfinite(joint_pos)) and np.all(np.isfinite(joint_vel))):
            self.stop("non-finite joint state", time_s)
        if self.stopped:
            return self.damping_command(np.asarray(joint_pos, dtype=float))
        clipped = clip_to_limits(target, self.limits.lower, self.limits.upper,
                                 self.config.joint_limit_margin_rad)
        n_clipped = int(np.count_nonzero(clipped != target))
        previous = self._previous if self._previous is not None else np.asarray(joint_pos)
        max_step = self.config.max_target_rate_rad_s * dt_s
        limited = rate_limit(clipped, previous, max_step)
        n_limited = int(np.count_nonzero(limited != clipped))
        self._previous = limited
        return SafetyCommand(limited, self.kp.copy(), self.kd.copy(),
                             self.torque_limit_nm.copy(), "track", n_clipped, n_limited)

    def check_fall(self, signals: FallSignals, time_s: float) -> bool:
        """Record a fall (and stop, if configured) when :func:`is_fallen`; returns it."""
        if not is_fallen(signals, self.config):
            return False
        detail = (f"pelvis {signals.pelvis_height_m:.2f} m (ref {signals.ref_pelvis_height_m:.2f}"
                  f" m), torso tilt {np.degrees(signals.torso_tilt_rad):.0f} deg (ref "
                  f"{np.degrees(signals.ref_torso_tilt_rad):.0f} deg)")
        if not any(e.kind == "fall" for e in self.events):
            self.events.append(SafetyEvent(time_s, "fall", detail))
        if self.config.stop_on_fall:
            self.stop(f"fall: {detail}", time_s)
        return True
