"""Forward kinematics of robot motions through MuJoCo (the one FK of the package)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from exoactor.robots.spec import Robot
from exoactor.rotations import quat_apply_inverse

if TYPE_CHECKING:  # formats reads and writes motions with this FK: it imports robots, not back
    from exoactor.formats.motion import RobotMotion


@dataclass(frozen=True)
class BodyPositions:
    """Body positions over a motion.

    Attributes:
        body_names: ``(B,)`` body names.
        pos_w: ``(T, B, 3)`` positions in world [m].
        pos_b: ``(T, B, 3)`` positions relative to the pelvis, in the pelvis frame [m].
        quat_w: ``(T, B, 4)`` body orientations in world, wxyz.
    """

    body_names: tuple[str, ...]
    pos_w: np.ndarray
    pos_b: np.ndarray
    quat_w: np.ndarray


def motion_qpos(robot: Robot, motion: RobotMotion) -> np.ndarray:
    """``(T, nq)`` MuJoCo qpos of ``motion`` (root pose, body joints, hand joints if present)."""
    T = motion.num_frames
    qpos = np.tile(robot.model.qpos0, (T, 1))
    qpos[:, 0:3] = motion.root_pos
    qpos[:, 3:7] = motion.root_quat
    qpos[:, robot.qpos_adr[robot.body_idx]] = motion.dof_pos
    if motion.hand_dof is not None and robot.spec.hand_joint_count:
        qpos[:, robot.qpos_adr[robot.hand_idx]] = motion.hand_dof
    return qpos


def motion_from_qpos(robot: Robot, like: RobotMotion, qpos: np.ndarray, source: str
                     ) -> RobotMotion:
    """The inverse of :func:`motion_qpos`: ``(T, nq)`` qpos as a motion with ``like``'s robot,
    fps, joint names and hand joints (root quaternions renormalised), named ``source``."""
    quat = qpos[:, 3:7]
    return replace(like, root_pos=qpos[:, 0:3].copy(),
                   root_quat=quat / np.linalg.norm(quat, axis=1, keepdims=True),
                   dof_pos=qpos[:, robot.qpos_adr[robot.body_idx]].copy(), source=source)


def body_positions(robot: Robot, motion: RobotMotion, bodies: list[str] | None = None
                   ) -> BodyPositions:
    """FK of every frame of ``motion`` for ``bodies`` (default: every body of the model)."""
    import mujoco

    names = list(bodies) if bodies is not None else robot.body_names
    ids = np.array([robot.body_id(b) for b in names])
    data = mujoco.MjData(robot.model)
    qpos = motion_qpos(robot, motion)
    T = motion.num_frames
    pos_w = np.empty((T, len(ids), 3))
    quat_w = np.empty((T, len(ids), 4))
    for t in range(T):
        data.qpos[:] = qpos[t]
        mujoco.mj_kinematics(robot.model, data)
        pos_w[t] = data.xpos[ids]
        quat_w[t] = data.xquat[ids]
    rel = pos_w - motion.root_pos[:, None, :]
    pos_b = np.stack([quat_apply_inverse(motion.root_quat[t], rel[t]) for t in range(T)])
    return BodyPositions(tuple(names), pos_w, pos_b, quat_w)
