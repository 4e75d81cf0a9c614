"""Motion containers and the file formats of the field (npz, GMR/TWIST2 pkl, GMT pkl, CSV)."""

from exoactor.formats.io import convert_motion, load_motion, motion_format, save_motion
from exoactor.formats.motion import HumanMotion, RobotMotion, Rollout
from exoactor.formats.npz import load_npz, save_npz
from exoactor.formats.resample import resample_robot_motion

__all__ = ["HumanMotion", "RobotMotion", "Rollout", "convert_motion", "load_motion", "load_npz",
           "motion_format", "resample_robot_motion", "save_motion", "save_npz"]
