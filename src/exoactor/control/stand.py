"""``stand``: hold the default standing pose, whatever the reference does (a baseline).

The targets are TWIST2's default standing pose (spec §1.3) with its gains scaled by
``kp_scale``: what the robot does with no tracking at all. It is the reference point of the
tracking metrics (a controller that tracks must beat it on the key-body error of any motion
that moves) and a way to check a deployment's link, ramp and safety layer without the policy.
No balance beyond the PD stiffness: like ``replay`` it needs a gantry (measured on 2 s of the
shared walk, start ``blend``: stand fell, 0.18 rad mean joint error; replay fell, 0.04 rad;
twist2 stood, 0.05 rad).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.control.controller import Controller, PDGains, ReferenceFrame, RobotState, controllers
from exoactor.errors import ExoActorError


class StandConfig(BaseModel):
    """Options of the stand controller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kp_scale: float = Field(1.0, gt=0.0, le=2.0)
    """Factor on TWIST2's stiffness and damping."""
    control_dt_s: float = Field(0.02, gt=0.0, le=0.1)
    """Control period [s]."""


@controllers.register("stand")
class StandController(Controller):
    """Targets = the default standing pose."""

    Config = StandConfig

    def __init__(self, joint_names: tuple[str, ...], config: StandConfig | None = None):
        from exoactor.control.twist2 import DEFAULT_JOINT_POS, TWIST2_JOINTS, sim2sim_gains

        self.config = config or StandConfig()
        self.joint_names = tuple(TWIST2_JOINTS)
        if tuple(joint_names) != self.joint_names:
            raise ExoActorError("the stand controller drives the G1's 29 body joints in MuJoCo "
                                f"order; got {len(joint_names)} joints")
        self.control_dt_s = self.config.control_dt_s
        g = sim2sim_gains(self.joint_names)
        s = self.config.kp_scale
        self.gains = PDGains(g.kp * s, g.kd * s, g.torque_limit_nm)
        self.default_joint_pos = DEFAULT_JOINT_POS.copy()

    def reset(self, state: RobotState, reference: ReferenceFrame) -> None:
        """Stateless."""

    def act(self, state: RobotState, reference: ReferenceFrame) -> np.ndarray:
        return self.default_joint_pos.copy()
