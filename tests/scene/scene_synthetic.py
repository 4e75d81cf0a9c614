"""Synthetic G1 references with known objects: a sit-down on a stool and a two-hand lift.

Built by forward kinematics from hand-set joint angles (no perception): the feet stay flat on
the floor at fixed xy (the root is moved so that they do), joints and root blend with a smooth
step between key poses.
"""

from __future__ import annotations

import numpy as np

from exoactor.formats.motion import RobotMotion
from exoactor.signals import smoothstep


def _pose(robot, **angles) -> np.ndarray:
    q = np.array(robot.default_joint_pos if hasattr(robot, "default_joint_pos") else
                 np.zeros(len(robot.joint_names)), dtype=float).copy()
    q[:] = 0.0
    names = list(robot.joint_names)
    for side in ("left", "right"):
        for k, v in angles.items():
            j = f"{side}_{k}_joint"
            if j in names:
                sign = -1.0 if (side == "right" and k in ("shoulder_roll", "hip_roll")) else 1.0
                q[names.index(j)] = sign * v
    for k, v in angles.items():
        if f"{k}_joint" in names:
            q[names.index(f"{k}_joint")] = v
    return q


def _feet_root(robot, joints: np.ndarray, feet_xy: np.ndarray | None):
    """Root position that puts the lowest foot sphere on z = 0 (and the feet's mean xy at
    ``feet_xy``), for an upright pelvis."""
    import mujoco

    m = robot.model
    d = mujoco.MjData(m)
    d.qpos[:] = m.qpos0
    d.qpos[0:3] = 0.0
    d.qpos[3:7] = [1, 0, 0, 0]
    d.qpos[robot.qpos_adr[robot.body_idx]] = joints
    mujoco.mj_kinematics(m, d)
    feet = [m.body(robot.spec.key_bodies.left_foot).id, m.body(robot.spec.key_bodies.right_foot).id]
    spheres = [g for g in range(m.ngeom) if m.geom_bodyid[g] in feet
               and m.geom_type[g] == mujoco.mjtGeom.mjGEOM_SPHERE]
    low = np.min(d.geom_xpos[spheres, 2] - m.geom_size[spheres, 0])
    mean_xy = d.xpos[feet, :2].mean(axis=0)
    root = np.array([0.0, 0.0, -low])
    if feet_xy is not None:
        root[:2] = feet_xy - mean_xy
    return root, mean_xy


def sit_reference(hip_deg: float = 96.0, lean_deg: float = 30.0, fps: float = 50.0,
                  stand_s: float = 1.0, down_s: float = 2.0, seated_s: float = 3.0,
                  up_s: float = 2.0, yaw_rad: float = 0.0) -> RobotMotion:
    """Stand, sit down (hips and knees to ``hip_deg``, torso leaning ``lean_deg`` forward),
    stay seated, stand up; the feet stay where they are. Heading ``yaw_rad``."""
    from exoactor.robots import get_robot
    from exoactor.rotations import rot, yaw_quat

    robot = get_robot("g1")
    stand = _pose(robot, hip_pitch=-0.1, knee=0.3, ankle_pitch=-0.2, shoulder_roll=0.2,
                  elbow=1.0)
    th = np.radians(hip_deg)
    sit = _pose(robot, hip_pitch=-th, knee=th, ankle_pitch=0.0, shoulder_roll=0.2, elbow=1.2,
                waist_pitch=np.radians(lean_deg))
    root_stand, feet_xy = _feet_root(robot, stand, None)
    root_sit, _ = _feet_root(robot, sit, feet_xy + root_stand[:2])
    t = np.arange(0.0, stand_s + down_s + seated_s + up_s + stand_s, 1.0 / fps)
    a = smoothstep((t - stand_s) / down_s) - smoothstep((t - stand_s - down_s - seated_s) / up_s)
    joints = (1 - a)[:, None] * stand + a[:, None] * sit
    root = (1 - a)[:, None] * root_stand + a[:, None] * root_sit
    q = yaw_quat(np.full(len(t), yaw_rad))
    root = rot(yaw_quat(yaw_rad)).apply(root)
    return RobotMotion(robot="g1", fps=fps, joint_names=robot.joint_names, root_pos=root,
                       root_quat=q, dof_pos=joints, source="<synthetic sit>")


def lift_reference(fps: float = 50.0, hold_s: float = 1.0, rise_s: float = 2.0,
                   shoulder_roll: float = 0.15) -> RobotMotion:
    """Crouch with both arms reaching forward (fixed arm joints, so the hands keep their distance
    apart), then stand up holding them there: a two-hand lift. The feet stay put."""
    from exoactor.robots import get_robot

    robot = get_robot("g1")
    arms = dict(shoulder_pitch=-0.9, shoulder_roll=shoulder_roll, elbow=0.3)
    crouch = _pose(robot, hip_pitch=-1.3, knee=1.9, ankle_pitch=-0.6, waist_pitch=0.5, **arms)
    stand = _pose(robot, hip_pitch=-0.1, knee=0.3, ankle_pitch=-0.2, **arms)
    root_c, feet_xy = _feet_root(robot, crouch, None)
    root_s, _ = _feet_root(robot, stand, feet_xy + root_c[:2])
    t = np.arange(0.0, hold_s + rise_s + hold_s, 1.0 / fps)
    a = smoothstep((t - hold_s) / rise_s)
    joints = (1 - a)[:, None] * crouch + a[:, None] * stand
    root = (1 - a)[:, None] * root_c + a[:, None] * root_s
    q = np.tile([1.0, 0, 0, 0], (len(t), 1))
    return RobotMotion(robot="g1", fps=fps, joint_names=robot.joint_names, root_pos=root,
                       root_quat=q, dof_pos=joints, source="<synthetic lift>")
