"""``replay``: the reference joint angles themselves as PD targets (kinematic playback).

No balance: the robot must be held (a gantry, or a seated/upper-body motion). Useful to check
a motion's arm trajectories on the hardware with the robot hanging, and as the simplest
controller for link and safety tests. Gains and default pose are TWIST2's (spec §1.3), scaled
by ``kp_scale``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.control.controller import Controller, PDGains, ReferenceFrame, RobotState, controllers


class ReplayConfig(BaseModel):
    """Options of the replay controller."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kp_scale: float = Field(1.0, gt=0.0, le=2.0)
    """Factor on TWIST2's stiffness and damping."""
    control_dt_s: float = Field(0.02, gt=0.0, le=0.1)
    """Control period [s]."""


@controllers.register("replay")
class ReplayController(Controller):
    """Targets = the reference's joint angles."""

    Config = ReplayConfig
    label = "replay"
    """The name in error messages."""

    def __init__(self, joint_names: tuple[str, ...], config: ReplayConfig | None = None):
        from exoactor.control.twist2 import DEFAULT_JOINT_POS, TWIST2_JOINTS, sim2sim_gains

        self.config = config or ReplayConfig()
        self.joint_names = tuple(TWIST2_JOINTS)
        if tuple(joint_names) != self.joint_names:
            from exoactor.errors import ExoActorError

            raise ExoActorError(f"the {self.label} controller drives the G1's 29 body joints in MuJoCo "
                                f"order; got {len(joint_names)} joints")
        self.control_dt_s = self.config.control_dt_s
        g = sim2sim_gains(self.joint_names)
        s = self.config.kp_scale
        self.gains = PDGains(g.kp * s, g.kd * s, g.torque_limit_nm)
        self.default_joint_pos = DEFAULT_JOINT_POS.copy()

    def reset(self, state: RobotState, reference: ReferenceFrame) -> None:
        """Stateless."""

    def act(self, state: RobotState, reference: ReferenceFrame) -> np.ndarray:
        return np.asarray(reference.joint_pos, dtype=float).copy()
