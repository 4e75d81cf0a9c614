"""Headerless robot-motion CSVs, one row per frame, in two conventions of the field.

Columns: root ``x y z`` [m], the root quaternion, then the robot's joint angles [rad] in its
MuJoCo joint order (36 columns for the G1). The conventions differ in the quaternion's order:

| convention    | quaternion columns 4-7 | written by                                          |
|---------------|------------------------|-----------------------------------------------------|
| ``beyondmimic`` | ``qx qy qz qw``      | BeyondMimic / mjlab (LAFAN1 retargets: 30 fps)       |
| ``kimodo``    | ``qw qx qy qz``        | Kimodo / ProtoMotions (30 fps), ARDY (25 fps)         |

Nothing in the file tells them apart, nor gives the frame rate: both are the caller's. Rows
that make an implausible robot under the chosen convention (the pelvis upside down, or below the
floor, in most frames) are refused, naming the convention that fits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.fileio import atomic_path
from exoactor.formats.motion import RobotMotion
from exoactor.formats.validate import check_unit_quat
from exoactor.rotations import wxyz_to_xyzw, xyzw_to_wxyz

CsvFormat = Literal["beyondmimic", "kimodo"]

CSV_QUAT_ORDER: dict[str, str] = {"beyondmimic": "xyzw", "kimodo": "wxyz"}
"""Order of the root quaternion's columns (4-7) in each convention."""

CSV_SOURCES: dict[str, str] = {
    "beyondmimic": "BeyondMimic / mjlab, quaternion x y z w; LAFAN1 retargets are 30 fps",
    "kimodo": "Kimodo / ProtoMotions / ARDY, quaternion w x y z; Kimodo is 30 fps, ARDY 25 fps",
}

MISSING_FPS = ("is not stored in a robot-motion CSV; give the frame rate with --input-fps "
               "(python: fps=...): BeyondMimic's LAFAN1 CSVs and Kimodo's are 30 fps, ARDY's 25")
_QUAT_FIELD = "columns 4-7 ({cols})"
_IMPLAUSIBLE = "gives an implausible robot read as a {fmt} CSV ({why}){fix}"
_FITS = ("; the rows fit the {other} convention ({desc}): pass --csv-format {other} "
         "(python: csv_format='{other}')")
_NONE_FITS = ("; no supported convention ({names}) fits: check the columns are root x y z, a "
              "quaternion, then the joints in the robot's MuJoCo order")


def check_csv_format(csv_format: str) -> str:
    """Return ``csv_format`` if it names a convention, else raise listing them."""
    if csv_format not in CSV_QUAT_ORDER:
        from exoactor.errors import UnknownName

        raise UnknownName(f"unknown CSV convention '{csv_format}'; available: "
                          + ", ".join(f"{k} ({v})" for k, v in CSV_SOURCES.items()))
    return csv_format


def _quat_wxyz(rows: np.ndarray, csv_format: str) -> np.ndarray:
    """The ``(T, 4)`` root quaternions of ``rows`` read in ``csv_format``, as wxyz."""
    q = rows[:, 3:7]
    return xyzw_to_wxyz(q) if CSV_QUAT_ORDER[csv_format] == "xyzw" else q


def implausible_root(root_pos: np.ndarray, root_quat_wxyz: np.ndarray) -> str | None:
    """Why a root trajectory cannot be a standing robot's, or None if it can.

    A root is implausible when, in more than half of the frames, the pelvis is upside down (its
    z axis points below the horizon) or below the floor (z < 0).

    Args:
        root_pos: ``(T, 3)`` pelvis position in world [m].
        root_quat_wxyz: ``(T, 4)`` pelvis orientation (any norm), wxyz.
    """
    q = root_quat_wxyz / np.maximum(np.linalg.norm(root_quat_wxyz, axis=1, keepdims=True), 1e-12)
    up_z = 1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2)  # world z of the pelvis z axis
    T = len(q)
    why = []
    flipped = int((up_z < 0.0).sum())
    if flipped > T / 2:
        why.append(f"the pelvis is upside down in {flipped} of {T} frames")
    below = int((root_pos[:, 2] < 0.0).sum())
    if below > T / 2:
        why.append(f"the pelvis is below the floor in {below} of {T} frames")
    return ", ".join(why) or None


def load_robot_csv(path: str | Path, fps: float | None, robot: str = "g1",
                   csv_format: str = "beyondmimic") -> RobotMotion:
    """Load a headerless robot-motion CSV recorded at ``fps`` [Hz] in convention ``csv_format``.

    Raises:
        InvalidMotionFile: no ``fps``, a wrong column count, non-finite values, quaternions far
            from unit norm, or rows implausible under ``csv_format`` (the message names the
            convention that fits).
    """
    from exoactor.robots import get_robot

    check_csv_format(csv_format)
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
    order = CSV_QUAT_ORDER[csv_format]
    want = 7 + len(names)
    if rows.shape[1] != want:
        quat_cols = " ".join(f"q{c}" for c in order)
        raise InvalidMotionFile(src, "columns", f"has {rows.shape[1]} per row; expected {want} "
                                f"(x y z {quat_cols} + {len(names)} joints of robot '{robot}')")
    if not np.all(np.isfinite(rows)):
        t, c = np.argwhere(~np.isfinite(rows))[0]
        raise InvalidMotionFile(src, f"column {c + 1}", "holds NaN/inf", frame=int(t))
    why = implausible_root(rows[:, :3], _quat_wxyz(rows, csv_format))
    if why is not None:
        fits = [f for f in CSV_QUAT_ORDER
                if f != csv_format and implausible_root(rows[:, :3], _quat_wxyz(rows, f)) is None]
        fix = (_FITS.format(other=fits[0], desc=CSV_SOURCES[fits[0]]) if fits
               else _NONE_FITS.format(names=", ".join(CSV_QUAT_ORDER)))
        raise InvalidMotionFile(src, "root (columns 1-7)",
                                _IMPLAUSIBLE.format(fmt=csv_format, why=why, fix=fix))
    field = _QUAT_FIELD.format(cols=" ".join(f"q{c}" for c in order))
    quat = check_unit_quat(src, field, rows[:, 3:7], order=order)
    quat = xyzw_to_wxyz(quat) if order == "xyzw" else quat
    return RobotMotion(robot=robot, fps=fps, joint_names=tuple(names), root_pos=rows[:, :3],
                       root_quat=quat, dof_pos=rows[:, 7:], source=src)


def save_robot_csv(motion: RobotMotion, path: str | Path,
                   csv_format: str = "beyondmimic") -> Path:
    """Write ``motion`` as a headerless CSV in convention ``csv_format`` (no frame rate)."""
    check_csv_format(csv_format)
    quat = (wxyz_to_xyzw(motion.root_quat) if CSV_QUAT_ORDER[csv_format] == "xyzw"
            else motion.root_quat)
    rows = np.concatenate([motion.root_pos, quat, motion.dof_pos], axis=1)
    path = Path(path)
    with atomic_path(path) as tmp:
        np.savetxt(tmp, rows, delimiter=",", fmt="%.9g")
    return path


def load_beyondmimic_csv(path: str | Path, fps: float | None, robot: str = "g1") -> RobotMotion:
    """Load a BeyondMimic CSV (quaternion xyzw) recorded at ``fps`` [Hz]."""
    return load_robot_csv(path, fps, robot, "beyondmimic")


def save_beyondmimic_csv(motion: RobotMotion, path: str | Path) -> Path:
    """Write ``motion`` as a BeyondMimic CSV (the frame rate is not stored)."""
    return save_robot_csv(motion, path, "beyondmimic")
