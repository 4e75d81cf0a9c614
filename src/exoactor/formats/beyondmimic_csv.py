"""BeyondMimic / mjlab motion CSV: one row per frame, no header.

Columns: root ``x y z`` [m], root quaternion ``qx qy qz qw`` (**xyzw**), then the 29 joint angles
[rad] in the robot's joint order. The file carries no frame rate: it is given by the caller.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.fileio import atomic_path
from exoactor.formats.motion import RobotMotion
from exoactor.rotations import wxyz_to_xyzw, xyzw_to_wxyz

MISSING_FPS = ("is not stored in a BeyondMimic CSV; give the frame rate with --input-fps "
               "(python: fps=...); BeyondMimic's LAFAN1 CSVs are 30 fps")


def load_beyondmimic_csv(path: str | Path, fps: float | None, robot: str = "g1") -> RobotMotion:
    """Load a BeyondMimic CSV recorded at ``fps`` [Hz]."""
    from exoactor.robots import get_robot

    path = Path(path)
    src = str(path)
    if fps is None:
        raise InvalidMotionFile(src, "fps", MISSING_FPS)
    names = get_robot(robot).body_joint_names
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise InvalidMotionFile(src, "<file>", "does not exist") from None
    except ValueError as exc:
        raise InvalidMotionFile(src, "<file>", f"is not a numeric CSV ({exc})") from None
    want = 7 + len(names)
    if rows.shape[1] != want:
        raise InvalidMotionFile(src, "columns", f"has {rows.shape[1]} per row; expected {want} "
                                f"(x y z qx qy qz qw + {len(names)} joints of robot '{robot}')")
    return RobotMotion(robot=robot, fps=fps, joint_names=tuple(names), root_pos=rows[:, :3],
                       root_quat=xyzw_to_wxyz(rows[:, 3:7]), dof_pos=rows[:, 7:], source=src)


def save_beyondmimic_csv(motion: RobotMotion, path: str | Path) -> Path:
    """Write ``motion`` as a BeyondMimic CSV (the frame rate is not stored)."""
    rows = np.concatenate([motion.root_pos, wxyz_to_xyzw(motion.root_quat), motion.dof_pos], axis=1)
    path = Path(path)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, rows, delimiter=",", fmt="%.9g")
    return path
