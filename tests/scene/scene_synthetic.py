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


def reach_lift_reference(fps: float = 50.0, ahead_m: float = 0.30, half_gap_m: float = 0.13,
                         hold_z_m: float = 0.75, rise_m: float = 0.20) -> RobotMotion:
    """A standing G1 (feet, pelvis and torso still) reaches forward and down with both hands to
    ``(ahead_m, ±half_gap_m, hold_z_m)`` in 1-2 s, holds there to 2.5 s, raises its hands by
    ``rise_m`` in 2.5-3.5 s and holds them up to 6 s: a two-hand lift with the legs straight,
    which the tracker follows without a fall. Hands placed by differential IK (mink)."""
    import mujoco

    from exoactor.mink_loader import import_mink
    from exoactor.robots import get_robot

    mink = import_mink()
    robot = get_robot("g1")
    m = robot.model
    d = mujoco.MjData(m)
    q0 = m.qpos0.copy()
    q0[2] = robot.spec.root_height_m
    hands_b = ("left_rubber_hand", "right_rubber_hand")
    d.qpos[:] = q0
    mujoco.mj_kinematics(m, d)
    h0 = np.array([d.xpos[m.body(b).id] for b in hands_b])
    t = np.arange(0.0, 6.0, 1.0 / fps)
    hold = np.array([[ahead_m, half_gap_m, hold_z_m], [ahead_m, -half_gap_m, hold_z_m]])
    a = smoothstep((t - 1.0) / 1.0)[:, None, None]
    targets = h0[None] * (1 - a) + hold[None] * a
    targets[:, :, 2] += smoothstep((t - 2.5) / 1.0)[:, None] * rise_m
    still = ["left_ankle_roll_link", "right_ankle_roll_link", "pelvis", "torso_link"]
    fixed = []
    for b in still:
        task = mink.FrameTask(b, "body", position_cost=50.0, orientation_cost=50.0)
        i = m.body(b).id
        task.set_target(mink.SE3.from_rotation_and_translation(
            mink.SO3.from_matrix(d.xmat[i].reshape(3, 3).copy()), d.xpos[i].copy()))
        fixed.append(task)
    hands = [mink.FrameTask(b, "body", position_cost=20.0, orientation_cost=0.0) for b in hands_b]
    posture = mink.PostureTask(m, cost=0.05)
    posture.set_target(q0)
    cfg = mink.Configuration(m)
    cfg.update(q0.copy())
    qs = np.tile(q0, (len(t), 1))
    for k in range(len(t)):
        for task, p in zip(hands, targets[k]):
            task.set_target(mink.SE3.from_rotation_and_translation(mink.SO3.identity(), p))
        for _ in range(80):
            v = mink.solve_ik(cfg, [*fixed, *hands, posture], 1.0, "daqp", damping=1e-3,
                              limits=[mink.ConfigurationLimit(m)])
            cfg.integrate_inplace(v, 0.5)
            if np.linalg.norm(v) < 1e-5:
                break
        qs[k] = cfg.q
    return RobotMotion(robot="g1", fps=fps, joint_names=robot.joint_names,
                       root_pos=qs[:, 0:3].copy(), root_quat=qs[:, 3:7].copy(),
                       dof_pos=qs[:, robot.qpos_adr[robot.body_idx]].copy(),
                       source="<synthetic reach and lift>")
