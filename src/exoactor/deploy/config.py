"""What shapes one ``exoactor deploy`` run, and how it ended (config, result, errors, exits)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exoactor.control.reference import StreamerConfig
from exoactor.control.safety import SafetyConfig
from exoactor.deploy import sdk
from exoactor.errors import ExoActorError

EXIT_COMPLETED, EXIT_ERROR, EXIT_SAFETY_STOP, EXIT_INTERRUPTED = 0, 1, 3, 130
SIMULATORS = ("unitree_mujoco",)
"""Foreign simulators ``deploy --simulator`` rehearses against."""


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
    simulator: Literal["unitree_mujoco"] | None = None
    """The robot is a foreign simulator on loopback (``unitree_mujoco``: Unitree's
    ``simulate_python``): its unsigned state (CRC 0) and zero tick are accepted, the controller
    is clocked by host time, and the operator drops the band in its viewer. Every other check
    stays on. Loopback interface only."""
    dry_run: bool = False
    """Compute and log every command, publish nothing."""
    controller: str = "twist2"
    controller_options: dict[str, Any] = Field(default_factory=dict)
    hands: bool = False
    """Drive the Dex3-1 hands (``rt/dex3/*/cmd``, 100 Hz) from the motion's ``hand_dof``;
    open before and after the motion. Their targets pass the safety layer like the body's."""
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

    @model_validator(mode="after")
    def _simulator_on_loopback(self) -> DeployConfig:
        if self.simulator is not None:
            if self.interface != sdk.LOOPBACK:
                raise ValueError(f"simulator='{self.simulator}' runs on the loopback interface "
                                 f"only ('{sdk.LOOPBACK}'), got interface '{self.interface}': "
                                 "unsigned state is never accepted from a network")
            if self.sim:
                raise ValueError("give either sim (exoactor sim-robot) or simulator "
                                 f"('{self.simulator}'), not both")
        return self


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
