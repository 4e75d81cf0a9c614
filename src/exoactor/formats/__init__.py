"""Motion containers and the file formats of the field (npz, GMR/TWIST2 pkl, GMT pkl,
BeyondMimic and Kimodo CSV, SONIC reference folders)."""

from exoactor.formats.io import convert_motion, load_motion, motion_format, save_motion
from exoactor.formats.motion import HumanMotion, RobotMotion, Rollout
from exoactor.formats.npz import load_npz, save_npz
from exoactor.formats.resample import resample_robot_motion
from exoactor.formats.robot_csv import CSV_QUAT_ORDER, load_robot_csv, save_robot_csv
from exoactor.formats.sonic import load_sonic, save_sonic

__all__ = ["CSV_QUAT_ORDER", "HumanMotion", "RobotMotion", "Rollout", "convert_motion",
           "load_motion", "load_npz", "load_robot_csv", "load_sonic", "motion_format",
           "resample_robot_motion", "save_motion", "save_npz", "save_robot_csv", "save_sonic"]
