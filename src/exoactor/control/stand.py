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

from exoactor.control.controller import ReferenceFrame, RobotState, controllers
from exoactor.control.replay import ReplayConfig, ReplayController


class StandConfig(ReplayConfig):
    """Options of the stand controller (those of ``replay``: gains scale, control period)."""


@controllers.register("stand")
class StandController(ReplayController):
    """Targets = the default standing pose (``replay``'s gains, pose and joint check)."""

    Config = StandConfig
    label = "stand"

    def __init__(self, joint_names: tuple[str, ...], config: StandConfig | None = None):
        super().__init__(joint_names, config or StandConfig())

    def act(self, state: RobotState, reference: ReferenceFrame) -> np.ndarray:
        return self.default_joint_pos.copy()
