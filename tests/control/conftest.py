"""Fixtures of the tracking-stage tests: small in-memory motions and the shared reference files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

_SHARED = Path(__file__).resolve().parents[3] / "shared" / "assets"
if "EXOACTOR_ASSETS" not in os.environ and _SHARED.is_dir():
    os.environ["EXOACTOR_ASSETS"] = str(_SHARED)
os.environ.setdefault("MUJOCO_GL", "egl")

STAND_HEIGHT_M = 0.78
"""Pelvis height of the G1 default pose with the feet flat on the floor (approximately) [m]."""


def standing_motion(seconds: float = 2.0, fps: float = 50.0, hands: bool = False):
    """A motion that stands still in the default pose."""
    from exoactor.formats import RobotMotion
    from exoactor.robots import get_robot

    robot = get_robot("g1")
    n = round(seconds * fps) + 1
    return RobotMotion(
        robot="g1", fps=fps, joint_names=tuple(robot.joint_names),
        root_pos=np.tile([0.0, 0.0, STAND_HEIGHT_M], (n, 1)),
        root_quat=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        dof_pos=np.tile(robot.default_joint_pos, (n, 1)),
        hand_dof=np.zeros((n, 14)) if hands else None, source="<standing>")


@pytest.fixture
def standing():
    return standing_motion


@pytest.fixture(scope="session")
def walk_motion():
    """The first 3 s of a shared walk (with its glitched first frame)."""
    from exoactor.formats import load_motion

    root = Path(os.environ["EXOACTOR_ASSETS"]) / "twist2" / "motions"
    motion = load_motion(root / "0807_yanjie_walk_001.pkl")
    return motion.slice(0, int(3 * motion.fps))
