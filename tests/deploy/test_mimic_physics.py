"""The deployment's loop on the mimic's physics, in process (no DDS, no wall clock).

The same :class:`~exoactor.control.loop.TrackingLoop` a ``deploy --simulator unitree_mujoco``
builds, stepping ``sim-robot --mimic unitree_mujoco``'s physics directly: state one physics step
old (as its bridge publishes it), a new command every 5 ms step (the 500 Hz command loop), the PD
torque computed per command from one-step-old sensors, the band dropped as the standby starts.
What the DDS test shows when the machine is quiet, shown here deterministically.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # the deploy loop walking on the mimic's physics

sdk = pytest.importorskip("exoactor.deploy.sdk")


class _MimicPlant:
    """``SimRobot(mimic)`` as a plant: what its bridge would publish, what deploy would send."""

    def __init__(self, robot, estimator):
        self.robot, self.estimator = robot, estimator

    def observe(self):
        from exoactor.control.controller import RobotState
        from exoactor.control.loop import Observation

        r, n = self.robot, self.robot.n_body
        d = r.data
        state = RobotState(0.0, np.zeros(3), d.qpos[3:7].copy(), np.zeros(3), d.qvel[3:6].copy(),
                           r._sensor_q[:n].copy(), r._sensor_dq[:n].copy())
        return Observation(state, np.zeros(0), np.zeros(0))

    def apply(self, command, dt_s):
        from exoactor.deploy import messages

        r, n = self.robot, self.robot.n_body
        with r._inbox.lock:
            r._inbox.command = messages.MotorCommand(command.target, command.kp, command.kd,
                                                     np.zeros(n), np.zeros(n))
        step = float(r.model.opt.timestep)
        for _ in range(round(dt_s / step)):
            with r._inbox.lock:
                r._inbox.commands += 1    # the command loop resends it every 2 ms
            r.advance(step)

    def assess(self, reference):
        from exoactor.control.loop import Assessment
        from exoactor.control.safety import FallSignals

        r = self.robot
        q = r.data.qpos[r.qadr[:r.n_body]]
        height, tilt = self.estimator.height_and_tilt(r.data.qpos[3:7], q)
        _, ref_tilt = self.estimator.height_and_tilt(reference.root_quat_w, reference.joint_pos)
        return Assessment(FallSignals(height, tilt, float(reference.root_pos_w[2]), ref_tilt),
                          {"q": q.copy(), "z": float(r.data.qpos[2])})

    def save(self):
        raise NotImplementedError

    def restore(self, state):
        raise NotImplementedError


def test_the_deploy_loop_walks_on_the_mimic_physics():
    sdk.import_sdk()
    from exoactor.assets import resolve_asset
    from exoactor.control.loop import ReferenceMod
    from exoactor.deploy import messages
    from exoactor.deploy.config import DeployConfig
    from exoactor.deploy.runtime import Deployment
    from exoactor.deploy.sim_robot import SimRobot, SimRobotConfig
    from exoactor.formats import load_motion
    from exoactor.metrics import joint_error_rad

    motion = load_motion(resolve_asset("g1_motions") / "0807_yanjie_walk_010.pkl")
    dep = Deployment(motion, DeployConfig(simulator="unitree_mujoco"))
    robot = SimRobot(SimRobotConfig(mimic="unitree_mujoco"))
    assert robot.model.opt.timestep == 0.005 and robot.state_hz == 200.0
    loop = dep.loop
    loop.plant = _MimicPlant(robot, dep.estimator)
    gains = dep.controller.gains
    n = robot.n_body
    with robot._inbox.lock:   # the ramp's end: PD on the default pose, on the band
        robot._inbox.command = messages.MotorCommand(dep.controller.default_joint_pos, gains.kp,
                                                     gains.kd, np.zeros(n), np.zeros(n))
    for _ in range(200):
        with robot._inbox.lock:
            robot._inbox.commands += 1
        robot.advance(0.005)
    loop.reset()
    robot.released = True     # the operator drops the band as the standby starts
    hold = ReferenceMod(clock_rate=0.0, lookahead=False)
    for _ in range(75):       # 1.5 s standing
        assert not loop.step(hold, record=False).fell
    while not loop.done:
        assert not loop.step().fell, f"fell at clip time {loop.clip_time_s:.2f} s"
    rec = loop.rec
    clip_t = np.array(rec["clip_t"])
    sel = (clip_t >= 0) & (clip_t <= motion.duration_s)
    err = float(joint_error_rad(np.array(rec["q"])[sel], np.array(rec["ref_dof"])[sel]).mean())
    # the same motion in `exoactor track`, started the same way (standing, blend-in, no drift)
    from exoactor.control import DriftConfig, TrackConfig, track_motion

    ref = track_motion(motion, TrackConfig(start="blend", drift=DriftConfig(enabled=False)))
    ratio = err / ref.metrics.mean_joint_error_rad
    print(f"mimic physics, in process: joint error {err:.4f} rad vs track "
          f"{ref.metrics.mean_joint_error_rad:.4f} (x{ratio:.2f}), min pelvis {min(rec['z']):.2f} m")
    assert min(rec["z"]) > 0.6
    assert 0.8 <= ratio <= 1.2
