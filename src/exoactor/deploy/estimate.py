"""What a real robot does not measure directly, from its IMU and joint encoders.

The G1 reports the pelvis orientation (IMU) and its joint angles, not where its pelvis is. Fall
detection and the body metrics need the pelvis height and the torso tilt: :class:`BodyEstimator`
runs forward kinematics with the root at the origin in the IMU's orientation and takes the
pelvis height as the height of the pelvis above the lower ankle, plus the ankle's height above
the floor when standing flat (read off the default pose). Valid while a foot is on the ground,
which is what fall detection needs.
"""

from __future__ import annotations

import numpy as np

from exoactor.robots.spec import Robot


class BodyEstimator:
    """Pelvis height, torso tilt and pelvis-frame key bodies from ``(quat, joint angles)``.

    Args:
        robot: the robot model.
        key_bodies: body names whose pelvis-frame positions :meth:`key_bodies_b` returns.
    """

    def __init__(self, robot: Robot, key_bodies: tuple[str, ...] = ()):
        import mujoco

        self.robot = robot
        self.model = robot.model
        self.data = mujoco.MjData(self.model)
        kb = robot.spec.key_bodies
        self.feet = np.array([robot.body_id(kb.left_foot), robot.body_id(kb.right_foot)])
        self.torso = robot.body_id(kb.torso)
        self.key_ids = np.array([robot.body_id(b) for b in key_bodies], dtype=int)
        self.body_qadr = robot.qpos_adr[robot.body_idx]
        default = robot.default_joint_pos[robot.body_idx]
        self._fk(np.array([1.0, 0.0, 0.0, 0.0]), default)
        self.ankle_height_m = robot.spec.root_height_m + float(
            np.min(self.data.xpos[self.feet, 2]))
        """Ankle-link origin above the floor with the robot standing in its default pose [m]."""

    def _fk(self, quat_wxyz: np.ndarray, joint_pos: np.ndarray) -> None:
        import mujoco

        d = self.data
        d.qpos[:] = self.model.qpos0
        d.qpos[0:3] = 0.0
        d.qpos[3:7] = quat_wxyz
        d.qpos[self.body_qadr] = joint_pos
        mujoco.mj_kinematics(self.model, d)

    def height_and_tilt(self, quat_wxyz: np.ndarray, joint_pos: np.ndarray) -> tuple[float, float]:
        """``(pelvis height [m], torso tilt from vertical [rad])``."""
        self._fk(quat_wxyz, joint_pos)
        height = self.ankle_height_m - float(np.min(self.data.xpos[self.feet, 2]))
        tilt = float(np.arccos(np.clip(self.data.xmat[self.torso][8], -1.0, 1.0)))
        return height, tilt

    def key_bodies_b(self, joint_pos: np.ndarray) -> np.ndarray:
        """``(B, 3)`` key-body positions relative to the pelvis, in the pelvis frame [m]."""
        self._fk(np.array([1.0, 0.0, 0.0, 0.0]), joint_pos)
        return self.data.xpos[self.key_ids].copy()
