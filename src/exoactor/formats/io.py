"""Load, save and convert robot motions; the format is picked from the file name.

| file name       | format                                               |
|-----------------|------------------------------------------------------|
| ``*.npz``       | exoactor :class:`RobotMotion` (wxyz)                 |
| ``*.gmt.pkl``   | GMT 23-DoF pickle (wrists dropped on export)          |
| ``*.pkl``       | GMR / TWIST2 29-DoF pickle (xyzw)                    |
| ``*.csv``       | headerless CSV: BeyondMimic / mjlab (xyzw, default) or |
|                 | Kimodo / ProtoMotions / ARDY (wxyz), ``csv_format``;   |
|                 | frame rate given                                      |
| ``*.sonic``     | SONIC reference folder (50 Hz, IsaacLab joint order)  |
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor.errors import InvalidMotionFile, UnknownFormat
from exoactor.formats.gmr_pkl import GMT_WRIST_INDICES, load_gmr_pkl, save_gmr_pkl
from exoactor.formats.motion import RobotMotion
from exoactor.formats.npz import load_npz, save_npz
from exoactor.formats.resample import resample_robot_motion
from exoactor.formats.robot_csv import check_csv_format, load_robot_csv, save_robot_csv
from exoactor.formats.sonic import SONIC_FPS, load_sonic, save_sonic

logger = logging.getLogger(__name__)

FORMATS = {"npz": "exoactor RobotMotion .npz", "gmt": "GMT 23-DoF .gmt.pkl",
           "pkl": "GMR/TWIST2 .pkl", "csv": "BeyondMimic or Kimodo .csv",
           "sonic": "SONIC reference folder .sonic"}


def motion_format(path: str | Path) -> str:
    """Format key of ``path`` from its name; unknown extensions list the supported ones."""
    name = Path(path).name.lower()
    if name.endswith(".gmt.pkl"):
        return "gmt"
    suffix = Path(name.rstrip("/")).suffix.lstrip(".")
    if suffix in ("npz", "pkl", "csv", "sonic"):
        return suffix
    raise UnknownFormat(f"{path}: unknown motion format '{Path(name).suffix}'; supported: "
                        + ", ".join(f"{v}" for v in FORMATS.values()))


def load_motion(path: str | Path, robot: str = "g1", fps: float | None = None,
                csv_format: str = "beyondmimic") -> RobotMotion:
    """Load a robot motion in any supported format and check it against ``robot``.

    Args:
        path: motion file (or ``.sonic`` folder).
        robot: robot registry name the motion must fit (joint count and names).
        fps: frame rate of formats that store none (CSV) [Hz].
        csv_format: convention of a headerless CSV: ``"beyondmimic"`` (quaternion xyzw) or
            ``"kimodo"`` (wxyz; Kimodo, ProtoMotions, ARDY). See :mod:`exoactor.formats.robot_csv`.
    """
    check_csv_format(csv_format)
    fmt = motion_format(path)
    if fmt == "npz":
        motion = load_npz(path, expect=RobotMotion)
        check_robot(motion, robot)
        return motion
    if fmt in ("pkl", "gmt"):
        return load_gmr_pkl(path, robot=robot)
    if fmt == "sonic":
        return load_sonic(path, robot=robot)
    return load_robot_csv(path, fps=fps, robot=robot, csv_format=csv_format)


def check_robot(motion: RobotMotion, robot: str) -> None:
    """Raise if the motion's joints do not match the robot model's body joints."""
    from exoactor.robots import get_robot, get_spec

    spec = get_spec(robot)
    if len(motion.joint_names) != spec.body_joint_count:
        raise InvalidMotionFile(motion.source, "joint_names",
                                f"has {len(motion.joint_names)} joints; robot '{robot}' has "
                                f"{spec.body_joint_count}")
    names = get_robot(robot).body_joint_names
    if list(motion.joint_names) != list(names):
        i = next(i for i, (a, b) in enumerate(zip(motion.joint_names, names)) if a != b)
        raise InvalidMotionFile(motion.source, "joint_names",
                                f"entry {i} is '{motion.joint_names[i]}', robot '{robot}' has "
                                f"'{names[i]}' there; joints must follow the model's order")


def save_motion(motion: RobotMotion, path: str | Path, csv_format: str = "beyondmimic") -> Path:
    """Save ``motion`` in the format of ``path``'s name (atomically).

    Args:
        csv_format: convention of a CSV output (``"beyondmimic"`` or ``"kimodo"``).
    """
    check_csv_format(csv_format)
    fmt = motion_format(path)
    if fmt == "npz":
        return save_npz(motion, path)
    if fmt == "gmt":
        if np.any(np.abs(motion.dof_pos[:, list(GMT_WRIST_INDICES)]) > 1e-9):
            logger.warning("%s: the GMT 23-DoF format has no wrists; non-zero wrist angles are "
                           "dropped", path)
        return save_gmr_pkl(motion, path, dof=23)
    if fmt == "pkl":
        return save_gmr_pkl(motion, path)
    if fmt == "sonic":
        return save_sonic(motion, path)
    return save_robot_csv(motion, path, csv_format=csv_format)


@dataclass(frozen=True)
class ConvertResult:
    """What :func:`convert_motion` did."""

    src: Path
    dst: Path
    src_format: str
    dst_format: str
    frames_in: int
    frames_out: int
    fps_in: float
    fps_out: float


def convert_motion(src: str | Path, dst: str | Path, fps: float | None = None,
                   input_fps: float | None = None, robot: str = "g1",
                   csv_format: str = "beyondmimic",
                   out_csv_format: str | None = None) -> ConvertResult:
    """Convert a motion file to the format of ``dst``, optionally resampled to ``fps`` [Hz].

    Args:
        csv_format: convention of a CSV input (and of a CSV output unless ``out_csv_format``).
        out_csv_format: convention of a CSV output.
    """
    if motion_format(dst) == "sonic" and fps is not None and abs(fps - SONIC_FPS) > 1e-9:
        raise UnknownFormat(f"{dst}: SONIC reference folders are {SONIC_FPS:g} Hz; drop --fps "
                            f"{fps:g} (the motion is resampled to {SONIC_FPS:g} Hz)")
    motion = load_motion(src, robot=robot, fps=input_fps, csv_format=csv_format)
    frames_in, fps_in = motion.num_frames, motion.fps
    if fps is not None:
        motion = resample_robot_motion(motion, fps)
    elif motion_format(dst) == "sonic":
        motion = resample_robot_motion(motion, SONIC_FPS)
    save_motion(motion, dst, csv_format=out_csv_format or csv_format)
    return ConvertResult(Path(src), Path(dst), motion_format(src), motion_format(dst),
                         frames_in, motion.num_frames, fps_in, motion.fps)
