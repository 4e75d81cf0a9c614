"""The physics of the simulated G1 (:mod:`exoactor.deploy.sim_robot` puts it on DDS).

The motor PD law of the latest command is applied at every physics step (1 kHz)::

    tau = clip(kp (q_cmd - q) + kd (dq_cmd - dq) + tau_ff, +-motor torque limit)

with the motors limp (zero torque) before the first command, as on a G1 in debug mode, and the
Dex3-1 fingers held open until theirs. Like a robot on its gantry, the pelvis starts held by an
elastic band (a spring-damper on its position and orientation, carrying the robot's weight)
until it is released. The IMU reads the pelvis site's orientation, angular velocity and
acceleration.

``mimic="unitree_mujoco"`` reproduces Unitree's own simulator where a deployment can tell: the
PD torque computed once per received command from the sensors of one physics step ago (the
state before the last integration), then held until the next command; a 5 ms physics step with
the Newton solver and its model's joint armature, damping and friction loss
(:data:`MIMIC_JOINT_DYNAMICS`).
"""

from __future__ import annotations

import numpy as np

from exoactor.deploy import messages, sdk
from exoactor.deploy.config import SimRobotConfig

MIMIC_TIMESTEP_S = {"unitree_mujoco": 0.005}
"""Physics step of each mimicked simulator [s]."""
MIMIC_JOINT_DYNAMICS = {"unitree_mujoco": (0.01, 0.05, 0.2, 0.1)}
"""Joint ``(armature [kg m^2], damping [N m s/rad], friction loss [N m], wrist friction loss
[N m])`` of each mimicked simulator's G1 model (every motor joint of unitree_mujoco's
``g1_29dof.xml``). Its explicit, held PD torque over a 5 ms step is stable only with them: our
model's wrists have no armature."""


class SimPhysics:
    """The simulated G1's MuJoCo model and state (see the module docstring)."""

    def __init__(self, config: SimRobotConfig | None = None):
        import mujoco

        from exoactor.control.hands import HandConfig
        from exoactor.control.sim import JointGroup, build_pd_model
        from exoactor.robots import get_robot

        self.config = config or SimRobotConfig()
        self.robot = get_robot("g1_hands" if self.config.hands else "g1")
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
        self.released = not self.config.gantry
        self._anchor_pos = np.zeros(3)
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

    def integrate(self, seconds: float, command: messages.MotorCommand | None,
                  hands: dict[str, messages.MotorCommand], count: int) -> None:
        """Step the physics ``seconds`` under ``command`` (the ``count``-th accepted one) and
        the hands' commands."""
        import mujoco

        d = self.data
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
