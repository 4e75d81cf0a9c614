"""GMR / TWIST2 motion ``.pkl`` files (and 23-DoF GMT-style files).

Fields: ``fps`` (float), ``root_pos`` (T, 3) [m], ``root_rot`` (T, 4) **xyzw** (norms that drift
from 1, as GMT's files do, are renormalised with a warning naming ``root_rot``), ``dof_pos``
(T, 29) [rad] in the G1's MJCF joint order, ``local_body_pos`` (T, B, 3) body positions in the
root frame [m], ``link_body_list`` (B,) body names. GMT files carry 23 joints (no wrists); on
import zero wrists are inserted at indices 19-21 and 26-28.

Pickles can execute code: only load files you trust. Loading uses a restricted unpickler that
accepts numpy arrays and builtins only.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.fileio import atomic_path
from exoactor.formats.motion import RobotMotion
from exoactor.formats.validate import check_array, check_unit_quat
from exoactor.rotations import wxyz_to_xyzw, xyzw_to_wxyz

GMT_WRIST_INDICES = (19, 20, 21, 26, 27, 28)
"""Indices of the 29-DoF layout that 23-DoF GMT files lack (left then right wrist r/p/y)."""

_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"), ("numpy", "float64"), ("numpy", "float32"),
    ("builtins", "list"), ("builtins", "dict"), ("collections", "OrderedDict"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: ANN201
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_pkl_dict(path: Path) -> dict:
    """Read a motion pickle into a dict with a restricted unpickler."""
    src = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidMotionFile(src, "<file>", "does not exist") from None
    try:
        data = _SafeUnpickler(io.BytesIO(raw)).load()
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file
        raise InvalidMotionFile(src, "<file>", f"is not a readable motion pickle ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidMotionFile(src, "<file>", f"holds a {type(data).__name__}, expected a dict")
    return data


def gmt23_to_29(dof23: np.ndarray) -> np.ndarray:
    """Insert zero wrists into ``(T, 23)`` GMT joint angles -> ``(T, 29)``."""
    out = np.zeros((dof23.shape[0], 29))
    keep = [i for i in range(29) if i not in GMT_WRIST_INDICES]
    out[:, keep] = dof23
    return out


def gmt29_to_23(dof29: np.ndarray) -> np.ndarray:
    """Drop the wrists of ``(T, 29)`` joint angles -> ``(T, 23)`` GMT layout."""
    keep = [i for i in range(29) if i not in GMT_WRIST_INDICES]
    return dof29[:, keep]


def load_gmr_pkl(path: str | Path, robot: str = "g1") -> RobotMotion:
    """Load a GMR/TWIST2 (29-DoF) or GMT (23-DoF) motion pickle as a :class:`RobotMotion`."""
    from exoactor.robots import get_robot

    path = Path(path)
    src = str(path)
    data = read_pkl_dict(path)
    for key in ("fps", "root_pos", "root_rot", "dof_pos"):
        if key not in data:
            raise InvalidMotionFile(src, key, f"is missing; keys present: {sorted(data)}")
    names = get_robot(robot).body_joint_names
    dof = np.asarray(data["dof_pos"], dtype=np.float64)
    if dof.ndim == 2 and dof.shape[1] == 23 and len(names) == 29:
        dof = gmt23_to_29(dof)
    elif dof.ndim != 2 or dof.shape[1] != len(names):
        raise InvalidMotionFile(src, "dof_pos", f"has shape {dof.shape}; robot '{robot}' has "
                                f"{len(names)} joints (23-DoF GMT files are also accepted)")
    rot = check_array(src, "root_rot", data["root_rot"], (None, 4))  # messages: the file's name
    rot = check_unit_quat(src, "root_rot", rot, order="xyzw")
    return RobotMotion(robot=robot, fps=data["fps"], joint_names=tuple(names),
                       root_pos=data["root_pos"], root_quat=xyzw_to_wxyz(rot), dof_pos=dof,
                       source=src)


def save_gmr_pkl(motion: RobotMotion, path: str | Path, dof: int = 29) -> Path:
    """Write ``motion`` as a GMR/TWIST2 pickle (or a 23-DoF GMT one with ``dof=23``).

    ``local_body_pos`` and ``link_body_list`` are computed by forward kinematics over every
    body of the robot model.
    """
    from exoactor.robots import get_robot
    from exoactor.robots.kinematics import body_positions

    robot = get_robot(motion.robot)
    bodies = robot.body_names
    fk = body_positions(robot, motion, bodies)
    dof_pos = motion.dof_pos if dof == 29 else gmt29_to_23(motion.dof_pos)
    data = {
        "fps": float(motion.fps),
        "root_pos": motion.root_pos.astype(np.float64),
        "root_rot": wxyz_to_xyzw(motion.root_quat).astype(np.float64),
        "dof_pos": dof_pos.astype(np.float64),
        "local_body_pos": fk.pos_b.astype(np.float32),
        "link_body_list": list(bodies),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(pickle.dumps(data, protocol=4))
    return path
