"""The MuJoCo simulation as a :class:`~exoactor.control.loop.Plant` of the tracking loop.

State in: the true simulator state (:meth:`Simulation.state`, hand joints). Targets out: the
safety layer's command sets the PD gains and targets of the actuators. Clock: one control
period is ``round(dt / physics_dt)`` physics steps. :meth:`MujocoPlant.assess` judges the
simulated robot against a reference pose (its FK on a second ``MjData``) and gives the record
row ``exoactor track`` writes (``t``, ``qpos``, ``qvel``, mean ``torque``, key-body
positions ``body`` and ``ref_body``).

:meth:`MujocoPlant.save` keeps MuJoCo's ``mjSTATE_INTEGRATION`` (time, qpos, qvel, act,
warm start, ctrl, applied forces ...), the actuator gains (which live in the model), the step
counter and the warning counters, so :meth:`MujocoPlant.restore` continues bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.control.controller import ReferenceFrame
from exoactor.control.loop import Assessment, Observation
from exoactor.control.safety import FallSignals, SafetyCommand
from exoactor.control.sim import Simulation


@dataclass(frozen=True)
class MujocoPlantState:
    """A :class:`MujocoPlant`'s state.

    Attributes:
        integration: MuJoCo's ``mjSTATE_INTEGRATION`` vector.
        kp: ``(nu,)`` actuator stiffness [N m / rad].
        kd: ``(nu,)`` actuator damping [N m s / rad].
        step_count: control steps the simulation has taken.
        warnings: MuJoCo's warning counters.
        torque: ``(nu,)`` mean torque of the last control period [N m].
    """

    integration: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    step_count: int
    warnings: tuple[int, ...]
    torque: np.ndarray


class MujocoPlant:
    """A :class:`Simulation` driven by the tracking loop.

    Args:
        sim: the simulation (PD actuators on the body, then the hand joints).
        body_ids: ``(B,)`` MuJoCo ids of the key bodies recorded in ``body`` / ``ref_body``.
    """

    def __init__(self, sim: Simulation, body_ids: np.ndarray):
        self.sim = sim
        self.body_ids = np.asarray(body_ids, dtype=int)
        self.torque = np.zeros(sim.model.nu)

    def observe(self) -> Observation:
        sim = self.sim
        return Observation(sim.state(), sim.hand_pos(), sim.data.qvel[sim.hand_dof].copy())

    def apply(self, command: SafetyCommand, dt_s: float) -> None:
        sim = self.sim
        sim.set_gains(command.kp, command.kd)
        self.torque = sim.step(command.target, max(1, round(dt_s / sim.physics_dt_s)))

    def assess(self, reference: ReferenceFrame) -> Assessment:
        sim = self.sim
        ref_qpos = sim.compose_qpos(reference.root_pos_w, reference.root_quat_w,
                                    reference.joint_pos, reference.hand_pos)
        ref_body = sim.reference_kinematics(ref_qpos, self.body_ids)
        fall = FallSignals(float(sim.data.qpos[2]), sim.torso_tilt_rad(),
                           float(reference.root_pos_w[2]), sim.reference_torso_tilt_rad())
        row = {"t": sim.time_s, "qpos": sim.data.qpos.copy(), "qvel": sim.data.qvel.copy(),
               "torque": self.torque, "body": sim.body_pos_w(self.body_ids), "ref_body": ref_body}
        return Assessment(fall, row)

    def save(self) -> MujocoPlantState:
        import mujoco

        m, d = self.sim.model, self.sim.data
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        state = np.empty(mujoco.mj_stateSize(m, spec))
        mujoco.mj_getState(m, d, state, spec)
        kp, kd = self.sim.gains
        return MujocoPlantState(state, kp, kd, self.sim.step_count,
                                tuple(int(w.number) for w in d.warning), self.torque.copy())

    def restore(self, state: MujocoPlantState) -> None:
        import mujoco

        m, d = self.sim.model, self.sim.data
        mujoco.mj_setState(m, d, state.integration, mujoco.mjtState.mjSTATE_INTEGRATION)
        mujoco.mj_forward(m, d)
        self.sim.set_gains(state.kp, state.kd)
        self.sim.step_count = state.step_count
        for w, n in zip(d.warning, state.warnings):
            w.number = n
        self.torque = state.torque.copy()
