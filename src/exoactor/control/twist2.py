"""TWIST2 general motion-tracking policy (amazon-far/TWIST2, MIT) as a :class:`Controller`.

Interface facts from ``shared/specs/twist2-policy.md`` (the ONNX graph, the sim2sim script and
training configs):

* 50 Hz policy (``control_dt_s = 0.02``) over 1 kHz physics; one float32 ``(1, 1432)`` input.
* Observation = ``[mimic 35, proprio 92, history 10 x 127 (oldest first, current frame not
  included), future mimic 35]``; the future slot gets the same mimic vector (as sim2sim does).
* Mimic (from the reference at ``t + 0.02 s``): root linear velocity x, y in the reference
  root frame [m/s]; root height [m]; root roll, pitch [rad] (ZYX Euler); root yaw rate in the
  root frame [rad/s]; the 29 absolute joint angles [rad].
* Proprio: pelvis angular velocity in the pelvis frame x 0.25; pelvis roll, pitch; joint
  angles minus the default pose; joint velocities x 0.05 with the four ankle entries set to
  exactly 0 (the normaliser's std there is 2e-4); the last raw policy output.
* Action: ``target = default + 0.5 * clip(a, -10, 10)``.
* PD gains and torque clips: the sim2sim table (wrists 4 / 0.2 N m/rad, 4 N m).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.control.controller import Controller, PDGains, ReferenceFrame, RobotState, controllers
from exoactor.errors import ExoActorError
from exoactor.rotations import roll_pitch_yaw

if TYPE_CHECKING:
    import onnxruntime

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install onnxruntime"
"""Shown when this backend's dependencies are missing."""

NUM_JOINTS = 29
MIMIC_DIM = 35
PROPRIO_DIM = 92
FRAME_DIM = MIMIC_DIM + PROPRIO_DIM
HISTORY_LEN = 10
OBS_DIM = FRAME_DIM + HISTORY_LEN * FRAME_DIM + MIMIC_DIM  # 1432

ANG_VEL_SCALE = 0.25
JOINT_VEL_SCALE = 0.05
ANKLE_JOINTS = (4, 5, 10, 11)
"""Joint indices whose velocity observation must be exactly 0."""

TWIST2_JOINTS = (
    "left_hip_pitch_joint", "left_hip_roll_joint", "left_hip_yaw_joint", "left_knee_joint",
    "left_ankle_pitch_joint", "left_ankle_roll_joint",
    "right_hip_pitch_joint", "right_hip_roll_joint", "right_hip_yaw_joint", "right_knee_joint",
    "right_ankle_pitch_joint", "right_ankle_roll_joint",
    "waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint",
    "left_shoulder_pitch_joint", "left_shoulder_roll_joint", "left_shoulder_yaw_joint",
    "left_elbow_joint", "left_wrist_roll_joint", "left_wrist_pitch_joint",
    "left_wrist_yaw_joint",
    "right_shoulder_pitch_joint", "right_shoulder_roll_joint", "right_shoulder_yaw_joint",
    "right_elbow_joint", "right_wrist_roll_joint", "right_wrist_pitch_joint",
    "right_wrist_yaw_joint",
)
"""The policy's joint order (spec §1.4); it is also the G1 MJCF order."""

DEFAULT_JOINT_POS = np.array(
    [-0.2, 0.0, 0.0, 0.4, -0.2, 0.0] * 2 + [0.0, 0.0, 0.0]
    + [0.0, 0.4, 0.0, 1.2, 0.0, 0.0, 0.0] + [0.0, -0.4, 0.0, 1.2, 0.0, 0.0, 0.0])
"""Default pose and action offset [rad], in :data:`TWIST2_JOINTS` order (spec §1.3)."""

# sim2sim gains (spec §1.3): regex on joint name -> (kp [N m/rad], kd [N m s/rad], clip [N m]).
# The effective clip is also bounded by the MJCF actuatorfrcrange, which the simulator applies.
SIM2SIM_GAINS: dict[str, tuple[float, float, float]] = {
    r".*_hip_(pitch|roll|yaw)_joint": (100.0, 2.0, 100.0),
    r".*_knee_joint": (150.0, 4.0, 150.0),
    r".*_ankle_(pitch|roll)_joint": (40.0, 2.0, 40.0),
    r"waist_(yaw|roll|pitch)_joint": (150.0, 4.0, 150.0),
    r".*_(shoulder_(pitch|roll|yaw)|elbow)_joint": (40.0, 5.0, 40.0),
    r".*_wrist_(roll|pitch|yaw)_joint": (4.0, 0.2, 4.0),
}

_BAD_JOINTS = ("TWIST2 drives the 29 G1 body joints in its own order; got {got} joints{detail}. "
               "Fix: pass the G1 body joint names (exoactor.robots.get_robot('g1').joint_names).")


def sim2sim_gains(joint_names: tuple[str, ...]) -> PDGains:
    """The sim2sim PD gains of ``joint_names`` from :data:`SIM2SIM_GAINS`."""
    rows = []
    for name in joint_names:
        row = next((v for k, v in SIM2SIM_GAINS.items() if re.fullmatch(k, name)), None)
        if row is None:
            raise ExoActorError(f"TWIST2 has no gains for joint '{name}'")
        rows.append(row)
    table = np.array(rows)
    return PDGains(kp=table[:, 0], kd=table[:, 1], torque_limit_nm=table[:, 2])


def mimic_obs(reference: ReferenceFrame) -> np.ndarray:
    """The 35 mimic entries of one reference frame (spec §1.2).

    Returns:
        ``(35,)`` float64: ``[v_x_b, v_y_b, z_w, roll, pitch, omega_z_b, joint_pos (29)]``.
    """
    lin_vel_b = reference.root_lin_vel_b
    ang_vel_b = reference.root_ang_vel_b
    rpy = roll_pitch_yaw(reference.root_quat_w)
    return np.concatenate([lin_vel_b[:2], reference.root_pos_w[2:3], rpy[:2], ang_vel_b[2:3],
                           reference.joint_pos])


def proprio_obs(root_ang_vel_b: np.ndarray, root_quat_w: np.ndarray, joint_pos: np.ndarray,
                joint_vel: np.ndarray, last_action: np.ndarray,
                default_joint_pos: np.ndarray = DEFAULT_JOINT_POS) -> np.ndarray:
    """The 92 proprioception entries (spec §1.2).

    Args:
        root_ang_vel_b: ``(3,)`` pelvis angular velocity in the pelvis frame [rad/s].
        root_quat_w: ``(4,)`` pelvis orientation in world, wxyz.
        joint_pos: ``(29,)`` joint angles [rad].
        joint_vel: ``(29,)`` joint velocities [rad/s].
        last_action: ``(29,)`` the previous raw policy output (before clipping).
        default_joint_pos: ``(29,)`` default pose [rad].

    Returns:
        ``(92,)``: ``[0.25 omega_b, roll, pitch, q - q_default, 0.05 dq (ankles 0), action]``.
    """
    rpy = roll_pitch_yaw(root_quat_w)
    vel = JOINT_VEL_SCALE * np.asarray(joint_vel, dtype=float)
    vel[list(ANKLE_JOINTS)] = 0.0
    return np.concatenate([ANG_VEL_SCALE * np.asarray(root_ang_vel_b, dtype=float), rpy[:2],
                           np.asarray(joint_pos) - default_joint_pos, vel, last_action])


def assemble_obs(mimic: np.ndarray, proprio: np.ndarray, history: np.ndarray,
                 future_mimic: np.ndarray) -> np.ndarray:
    """The full ``(1432,)`` policy input.

    Args:
        mimic: ``(35,)`` current mimic entries.
        proprio: ``(92,)`` current proprioception.
        history: ``(10, 127)`` previous frames ``[mimic, proprio]``, oldest first.
        future_mimic: ``(35,)`` the "future" mimic block (the graph reads its first 34).
    """
    return np.concatenate([mimic, proprio, history.reshape(-1), future_mimic])


def action_to_target(action: np.ndarray, default_joint_pos: np.ndarray = DEFAULT_JOINT_POS,
                     scale: float = 0.5, clip: float = 10.0) -> np.ndarray:
    """Joint targets [rad] of a raw policy output: ``default + scale * clip(a, -clip, clip)``."""
    return default_joint_pos + scale * np.clip(action, -clip, clip)


class Twist2Config(BaseModel):
    """Options of the TWIST2 backend."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_path: Path | None = None
    """ONNX file; ``None`` resolves the ``twist2_policy`` asset."""
    intra_op_threads: int = Field(1, ge=1, le=64)
    """onnxruntime intra-op threads (1 = one core, the benchmarked setting)."""
    action_scale: float = Field(0.5, gt=0)
    """Scale from raw action to joint offset [rad]."""
    action_clip: float = Field(10.0, gt=0)
    """Clip of the raw action before scaling (training: 5 / 0.5 = 10)."""
    history_init: Literal["first", "zeros"] = "first"
    """History at reset: copies of the first frame (training) or zeros (sim2sim script)."""


@controllers.register("twist2")
class Twist2Controller(Controller):
    """TWIST2 on onnxruntime (CPU), 50 Hz, sim2sim gains."""

    Config = Twist2Config

    def __init__(self, joint_names: tuple[str, ...] = TWIST2_JOINTS,
                 config: Twist2Config | None = None):
        if tuple(joint_names) != TWIST2_JOINTS:
            diff = next((i for i, (a, b) in enumerate(zip(joint_names, TWIST2_JOINTS))
                         if a != b), None)
            detail = "" if diff is None else f"; entry {diff} is '{joint_names[diff]}'"
            raise ExoActorError(_BAD_JOINTS.format(got=len(joint_names), detail=detail))
        self.config = config or Twist2Config()
        self.joint_names = TWIST2_JOINTS
        self.control_dt_s = 0.02
        self.gains = sim2sim_gains(TWIST2_JOINTS)
        self.default_joint_pos = DEFAULT_JOINT_POS.copy()
        self._session = _load_session(self.config.policy_path, self.config.intra_op_threads)
        self._input = self._session.get_inputs()[0].name
        self._history = np.zeros((HISTORY_LEN, FRAME_DIM))
        self._last_action = np.zeros(NUM_JOINTS)
        self._fresh = True

    def reset(self, state: RobotState, reference: ReferenceFrame) -> None:
        self._history[:] = 0.0
        self._last_action = np.zeros(NUM_JOINTS)
        self._fresh = True

    def get_state(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """``(history (10, 127), last action (29,), fresh)``: copies."""
        return self._history.copy(), self._last_action.copy(), self._fresh

    def set_state(self, state: tuple[np.ndarray, np.ndarray, bool]) -> None:
        history, last_action, fresh = state
        self._history[:] = history
        self._last_action = np.array(last_action, dtype=np.float64)
        self._fresh = bool(fresh)

    def observation(self, state: RobotState, reference: ReferenceFrame) -> np.ndarray:
        """The ``(1432,)`` input for this step (does not advance the history)."""
        mimic = mimic_obs(reference)
        proprio = proprio_obs(state.root_ang_vel_b, state.root_quat_w, state.joint_pos,
                              state.joint_vel, self._last_action, self.default_joint_pos)
        history = self._history
        if self._fresh and self.config.history_init == "first":
            history = np.tile(np.concatenate([mimic, proprio]), (HISTORY_LEN, 1))
        return assemble_obs(mimic, proprio, history, mimic)

    def act(self, state: RobotState, reference: ReferenceFrame) -> np.ndarray:
        obs = self.observation(state, reference)
        action = self._session.run(None, {self._input: obs[None].astype(np.float32)})[0][0]
        action = action.astype(np.float64)
        frame = obs[:FRAME_DIM]
        if self._fresh and self.config.history_init == "first":
            self._history[:] = frame
        self._history[:-1] = self._history[1:]
        self._history[-1] = frame
        self._fresh = False
        self._last_action = action
        return action_to_target(action, self.default_joint_pos, self.config.action_scale,
                                self.config.action_clip)


def _load_session(path: Path | None, threads: int) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session of the policy with ``threads`` intra-op threads."""
    import onnxruntime

    from exoactor.assets import resolve_asset

    policy = Path(path) if path is not None else resolve_asset("twist2_policy")
    if not policy.is_file():
        raise ExoActorError(f"{policy}: TWIST2 policy file does not exist; pass an existing "
                            "ONNX file or unset policy_path to use the 'twist2_policy' asset")
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(policy), sess_options=opts,
                                           providers=["CPUExecutionProvider"])
    shape = session.get_inputs()[0].shape
    if shape[-1] != OBS_DIM:
        raise ExoActorError(f"{policy}: input width {shape[-1]}, TWIST2 expects {OBS_DIM}")
    return session
