"""exoactor: make a humanoid robot do a task by imagining a person doing it.

Conventions used everywhere in the package (decided once, here):

* SI units: metres, seconds, radians, newtons. Metrics reported in millimetres end in ``_mm``.
* World frame is z-up, gravity along -z, the ground plane at z = 0.
* Quaternions are **wxyz** (scalar first) inside the package. Only converters in
  :mod:`exoactor.formats` see xyzw (GMR/TWIST2 pkl, BeyondMimic CSV), each in one named function.
* Joint arrays follow the MuJoCo joint order of the robot model (see :mod:`exoactor.robots`).
* Every time series carries an explicit ``fps``; resampling is always explicit
  (:func:`exoactor.formats.resample_robot_motion`).
* Arrays are time-major ``(T, ...)``. Name suffixes give the frame: ``_w`` world, ``_b`` robot
  root (pelvis) frame, ``_c`` camera, ``_px`` pixels.

Importing this package has no side effects: no disk, network or GPU access, and heavy
dependencies (mujoco, onnxruntime, torch, mediapipe) are imported only where they are used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ExoActorError": "exoactor.errors",
    "InvalidMotionFile": "exoactor.errors",
    "AssetError": "exoactor.errors",
    "RobotMotion": "exoactor.formats.motion",
    "HumanMotion": "exoactor.formats.motion",
    "Rollout": "exoactor.formats.motion",
    "load_motion": "exoactor.formats.io",
    "save_motion": "exoactor.formats.io",
    "convert_motion": "exoactor.formats.io",
    "resample_robot_motion": "exoactor.formats.resample",
    "get_robot": "exoactor.robots",
    "RobotSpec": "exoactor.robots.spec",
    "resolve_asset": "exoactor.assets",
    "RunDir": "exoactor.pipeline",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'exoactor' has no attribute {name!r}")
    return getattr(import_module(module), name)
