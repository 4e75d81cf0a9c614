"""SONIC reference-motion folders (NVIDIA GR00T-WholeBodyControl's C++ deployment stack).

A motion is a folder (exoactor names it ``*.sonic``) holding, every file a CSV with one header
row and one row per 50 Hz step (SI units, world frame z-up):

* ``joint_pos.csv`` / ``joint_vel.csv``: the 29 joint angles [rad] / velocities [rad/s] in
  **IsaacLab** joint order (:data:`ISAACLAB_G1_JOINTS`), columns ``joint_i`` / ``joint_vel_i``;
* ``body_pos.csv`` / ``body_quat.csv``: positions [m] and orientations (**wxyz**) of the tracked
  bodies, ``body_k_x..z`` / ``body_k_w..z``; group 0 is the pelvis (the root);
* ``body_lin_vel.csv`` / ``body_ang_vel.csv``: their world-frame velocities [m/s], [rad/s];
* ``metadata.txt``: ``Body part indexes:`` then ``[i0 i1 ...]``, the IsaacLab body index of each
  body group (:data:`SONIC_BODY_INDEXES`), and the step count;
* ``info.txt``: a readable summary (not read by SONIC).

Format: GR00T-WholeBodyControl's docs, ``docs/source/references/motion_reference`` ("Reference
motion data": 50 Hz, IsaacLab order, wxyz, header rows, ``Body part indexes``), and its
``gear_sonic_deploy/scripts/gmr_pkl_to_sonic_motion.py``. Body positions and orientations come
from MuJoCo forward kinematics of the robot model (:mod:`exoactor.robots.kinematics`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from exoactor.errors import InvalidMotionFile, UnknownName
from exoactor.formats.motion import RobotMotion
from exoactor.formats.resample import resample_robot_motion
from exoactor.formats.validate import check_array, check_unit_quat

logger = logging.getLogger(__name__)

SONIC_FPS = 50.0
"""Rate of every SONIC reference motion [Hz]."""

# IsaacLab's G1 (29 DoF) joint order: IsaacLab lists an articulation's joints breadth-first from
# the root, so left/right (and waist) alternate. Source: NVlabs/GR00T-WholeBodyControl, docs
# "Reference motion data" (joint_pos.csv "in IsaacLab order") with the permutation
# ``G1_ISAACLAB_TO_MUJOCO_DOF = [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19,
# 21, 23, 25, 27, 12, 16, 20, 22, 24, 26, 28]`` of gear_sonic/envs/manager_env/robots/g1.py
# (also ISAACLAB_TO_MUJOCO in gear_sonic_deploy/scripts/gmr_pkl_to_sonic_motion.py); the test
# suite checks these names against that permutation and the MJCF's joint order.
ISAACLAB_G1_JOINTS: tuple[str, ...] = (
    "left_hip_pitch_joint", "right_hip_pitch_joint", "waist_yaw_joint",
    "left_hip_roll_joint", "right_hip_roll_joint", "waist_roll_joint",
    "left_hip_yaw_joint", "right_hip_yaw_joint", "waist_pitch_joint",
    "left_knee_joint", "right_knee_joint",
    "left_shoulder_pitch_joint", "right_shoulder_pitch_joint",
    "left_ankle_pitch_joint", "right_ankle_pitch_joint",
    "left_shoulder_roll_joint", "right_shoulder_roll_joint",
    "left_ankle_roll_joint", "right_ankle_roll_joint",
    "left_shoulder_yaw_joint", "right_shoulder_yaw_joint",
    "left_elbow_joint", "right_elbow_joint",
    "left_wrist_roll_joint", "right_wrist_roll_joint",
    "left_wrist_pitch_joint", "right_wrist_pitch_joint",
    "left_wrist_yaw_joint", "right_wrist_yaw_joint",
)

# IsaacLab's G1 body order (breadth-first, as the joints); same source (G1 body list of
# gear_sonic/envs/manager_env/robots/g1.py).
ISAACLAB_G1_BODIES: tuple[str, ...] = (
    "pelvis", "left_hip_pitch_link", "right_hip_pitch_link", "waist_yaw_link",
    "left_hip_roll_link", "right_hip_roll_link", "waist_roll_link",
    "left_hip_yaw_link", "right_hip_yaw_link", "torso_link",
    "left_knee_link", "right_knee_link", "left_shoulder_pitch_link", "right_shoulder_pitch_link",
    "left_ankle_pitch_link", "right_ankle_pitch_link", "left_shoulder_roll_link",
    "right_shoulder_roll_link", "left_ankle_roll_link", "right_ankle_roll_link",
    "left_shoulder_yaw_link", "right_shoulder_yaw_link", "left_elbow_link", "right_elbow_link",
    "left_wrist_roll_link", "right_wrist_roll_link", "left_wrist_pitch_link",
    "right_wrist_pitch_link", "left_wrist_yaw_link", "right_wrist_yaw_link",
)

SONIC_BODY_INDEXES: tuple[int, ...] = (0, 4, 10, 18, 5, 11, 19, 9, 16, 22, 28, 17, 23, 29)
"""IsaacLab indexes of the 14 bodies SONIC's released motions carry (the docs' example
``metadata.txt``): pelvis, left hip roll, knee, ankle roll, right hip roll, knee, ankle roll,
torso, left shoulder roll, elbow, wrist yaw, right shoulder roll, elbow, wrist yaw."""

FILES = ("joint_pos.csv", "joint_vel.csv", "body_pos.csv", "body_quat.csv", "body_lin_vel.csv",
         "body_ang_vel.csv", "metadata.txt")
"""Files written to every reference folder (plus the informational ``info.txt``)."""

_NOT_G1 = ("robot '{robot}' has joints {got}...; SONIC reference folders are written for the "
           "29-DoF G1 only (IsaacLab joint order)")
_NOT_SONIC = ("exists and is not a SONIC reference folder (no metadata.txt); pick another "
              "output name or remove it")


def isaaclab_permutation(joint_names: tuple[str, ...], robot: str = "g1") -> np.ndarray:
    """``(29,)`` index into MuJoCo-ordered joints of each IsaacLab joint.

    Raises:
        UnknownName: ``joint_names`` are not the G1's 29 body joints.
    """
    if sorted(joint_names) != sorted(ISAACLAB_G1_JOINTS):
        raise UnknownName(_NOT_G1.format(robot=robot, got=", ".join(joint_names[:3])))
    return np.array([joint_names.index(n) for n in ISAACLAB_G1_JOINTS])


def angular_velocity_w(quat_wxyz: np.ndarray, fps: float) -> np.ndarray:
    """``(T, B, 3)`` world-frame angular velocity [rad/s] of ``(T, B, 4)`` wxyz orientations
    (central differences inside, one-sided at the ends)."""
    from exoactor.rotations import rot

    T, B = quat_wxyz.shape[:2]
    out = np.zeros((T, B, 3))
    if T < 2:
        return out
    flat = rot(quat_wxyz.reshape(-1, 4))
    r = [flat[b::B] for b in range(B)]
    for b in range(B):
        step = (r[b][1:] * r[b][:-1].inv()).as_rotvec() * fps  # (T-1, 3)
        out[1:-1, b] = 0.5 * (step[1:] + step[:-1])
        out[0, b], out[-1, b] = step[0], step[-1]
    return out


def _write_csv(path: Path, header: list[str], rows: np.ndarray) -> None:
    np.savetxt(path, rows.reshape(len(rows), -1), delimiter=",", header=",".join(header),
               comments="", fmt="%.9g")


def save_sonic(motion: RobotMotion, path: str | Path) -> Path:
    """Write ``motion`` as a SONIC reference folder ``path`` (resampled to 50 Hz).

    The folder is written beside ``path`` under a temporary name and renamed into place; an
    existing SONIC folder there is replaced, any other existing path is refused.
    """
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import body_positions

    path = Path(path)
    if path.exists() and not (path / "metadata.txt").is_file():
        raise InvalidMotionFile(str(path), "<file>", _NOT_SONIC)
    perm = isaaclab_permutation(motion.joint_names, motion.robot)
    if abs(motion.fps - SONIC_FPS) > 1e-9:
        logger.info("%s: resampled from %g Hz to SONIC's %g Hz", path, motion.fps, SONIC_FPS)
        motion = resample_robot_motion(motion, SONIC_FPS)
    robot = get_robot(motion.robot)
    bodies = [ISAACLAB_G1_BODIES[i] for i in SONIC_BODY_INDEXES]
    fk = body_positions(robot, motion, bodies)
    T, B = motion.num_frames, len(bodies)
    joint_pos = motion.dof_pos[:, perm]
    edge = 2 if T > 2 else 1
    joint_vel = (np.gradient(joint_pos, 1.0 / SONIC_FPS, axis=0, edge_order=edge) if T > 1
                 else np.zeros_like(joint_pos))
    lin_vel = (np.gradient(fk.pos_w, 1.0 / SONIC_FPS, axis=0, edge_order=edge) if T > 1
               else np.zeros_like(fk.pos_w))
    ang_vel = angular_velocity_w(fk.quat_w, SONIC_FPS)
    n = len(perm)
    xyz = [f"body_{k}_{a}" for k in range(B) for a in "xyz"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        _write_csv(tmp / "joint_pos.csv", [f"joint_{i}" for i in range(n)], joint_pos)
        _write_csv(tmp / "joint_vel.csv", [f"joint_vel_{i}" for i in range(n)], joint_vel)
        _write_csv(tmp / "body_pos.csv", xyz, fk.pos_w)
        _write_csv(tmp / "body_quat.csv", [f"body_{k}_{a}" for k in range(B) for a in "wxyz"],
                   fk.quat_w)
        _write_csv(tmp / "body_lin_vel.csv",
                   [f"body_{k}_vel_{a}" for k in range(B) for a in "xyz"], lin_vel)
        _write_csv(tmp / "body_ang_vel.csv",
                   [f"body_{k}_angvel_{a}" for k in range(B) for a in "xyz"], ang_vel)
        name = path.name.removesuffix(".sonic")
        (tmp / "metadata.txt").write_text(
            f"Metadata for: {name}\n{'=' * 30}\n\nBody part indexes:\n"
            f"[{' '.join(str(i) for i in SONIC_BODY_INDEXES)}]\n\nTotal timesteps: {T}\n\n"
            f"Data arrays summary:\n  joint_pos: ({T}, {n}) (float64)\n"
            f"  joint_vel: ({T}, {n}) (float64)\n  body_pos_w: ({T}, {B}, 3) (float64)\n"
            f"  body_quat_w: ({T}, {B}, 4) (float64)\n  body_lin_vel_w: ({T}, {B}, 3) (float64)\n"
            f"  body_ang_vel_w: ({T}, {B}, 3) (float64)\n")
        (tmp / "info.txt").write_text(
            f"Written by exoactor from {motion.source}\nRobot: {motion.robot}\n"
            f"Frame rate: {SONIC_FPS:g} Hz ({T} steps)\nJoint order: IsaacLab\n"
            f"Bodies: {', '.join(bodies)}\nQuaternions: w x y z, world frame z-up\n")
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _read_csv(folder: Path, name: str, width: int | None) -> np.ndarray:
    src = str(folder / name)
    try:
        rows = np.loadtxt(folder / name, delimiter=",", skiprows=1, ndmin=2)
    except FileNotFoundError:
        raise InvalidMotionFile(src, "<file>", "does not exist; a SONIC reference folder holds "
                                + ", ".join(FILES)) from None
    except ValueError as exc:
        raise InvalidMotionFile(src, "<file>", f"is not a numeric CSV with a header row "
                                f"({exc})") from None
    if width is not None and rows.shape[1] != width:
        raise InvalidMotionFile(src, "columns", f"has {rows.shape[1]} per row; expected {width}")
    return rows


def body_indexes(folder: str | Path) -> tuple[int, ...]:
    """The IsaacLab body index of each body group, from ``metadata.txt``."""
    meta = Path(folder) / "metadata.txt"
    try:
        text = meta.read_text()
    except FileNotFoundError:
        raise InvalidMotionFile(str(meta), "<file>", "does not exist") from None
    m = re.search(r"Body part indexes:\s*\[([^\]]*)\]", text)
    if m is None:
        raise InvalidMotionFile(str(meta), "Body part indexes", "is missing (expected a line "
                                "'Body part indexes:' then '[0 4 10 ...]')")
    return tuple(int(v) for v in m.group(1).replace(",", " ").split())


def load_sonic(path: str | Path, robot: str = "g1") -> RobotMotion:
    """Read a SONIC reference folder as a :class:`RobotMotion` at 50 Hz (root from body 0)."""
    from exoactor.robots import get_robot

    folder = Path(path)
    if not folder.is_dir():
        raise InvalidMotionFile(str(folder), "<file>", "is not a folder; a SONIC reference "
                                "motion is a folder holding " + ", ".join(FILES))
    names = tuple(get_robot(robot).body_joint_names)
    perm = isaaclab_permutation(names, robot)
    idx = body_indexes(folder)
    if not idx or idx[0] != 0:
        raise InvalidMotionFile(str(folder / "metadata.txt"), "Body part indexes",
                                f"starts with {idx[:1]}; body group 0 must be the pelvis (0)")
    joint_pos = _read_csv(folder, "joint_pos.csv", len(perm))
    body_pos = _read_csv(folder, "body_pos.csv", None)
    body_quat = _read_csv(folder, "body_quat.csv", None)
    for name, arr, per in (("body_pos.csv", body_pos, 3), ("body_quat.csv", body_quat, 4)):
        if arr.shape[1] < per or arr.shape[1] % per:
            raise InvalidMotionFile(str(folder / name), "columns", f"has {arr.shape[1]} per "
                                    f"row; expected {per} per body")
        if len(arr) != len(joint_pos):
            raise InvalidMotionFile(str(folder / name), "rows", f"has {len(arr)} steps but "
                                    f"joint_pos.csv has {len(joint_pos)}")
    quat_src = str(folder / "body_quat.csv")
    quat = check_unit_quat(quat_src, "body_0_w..body_0_z",
                           check_array(quat_src, "body_0_w..body_0_z", body_quat[:, :4], (None, 4)))
    dof = np.empty_like(joint_pos)
    dof[:, perm] = joint_pos
    return RobotMotion(robot=robot, fps=SONIC_FPS, joint_names=names, root_pos=body_pos[:, :3],
                       root_quat=quat, dof_pos=dof, source=str(folder))
