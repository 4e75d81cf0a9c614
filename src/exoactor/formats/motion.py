"""Typed motion containers: :class:`RobotMotion`, :class:`HumanMotion`, :class:`Rollout`.

All arrays are time-major, float64, SI units, world frame z-up, quaternions wxyz. Each
container validates itself on construction (``source`` names the file in error messages) and
saves to / loads from ``.npz`` (no pickles) via :mod:`exoactor.formats.npz`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.formats.validate import check_array, check_fps, check_length, check_unit_quat


@dataclass(frozen=True, eq=False)
class RobotMotion:
    """A robot motion: floating-base pose and joint angles over time.

    Attributes:
        robot: robot registry name (e.g. ``"g1"``).
        fps: frame rate [Hz].
        joint_names: ``(n,)`` body joint names, in the robot model's joint order.
        root_pos: ``(T, 3)`` pelvis position in world [m].
        root_quat: ``(T, 4)`` pelvis orientation in world, wxyz, unit.
        dof_pos: ``(T, n)`` body joint angles [rad].
        hand_dof: optional ``(T, 14)`` Dex3-1 joint angles [rad] (left 7 then right 7).
        source: where the motion came from, for error messages.
    """

    robot: str
    fps: float
    joint_names: tuple[str, ...]
    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray
    hand_dof: np.ndarray | None = None
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        src = self.source
        object.__setattr__(self, "fps", check_fps(src, self.fps))
        object.__setattr__(self, "joint_names", tuple(str(n) for n in self.joint_names))
        n = len(self.joint_names)
        root_pos = check_array(src, "root_pos", self.root_pos, (None, 3))
        T = root_pos.shape[0]
        if T == 0:
            raise InvalidMotionFile(src, "root_pos", "has 0 frames; a motion needs at least one")
        quat = check_array(src, "root_quat", self.root_quat, (None, 4))
        check_length(src, "root_quat", quat, T)
        quat = check_unit_quat(src, "root_quat", quat)
        dof = check_array(src, "dof_pos", self.dof_pos, (None, n))
        check_length(src, "dof_pos", dof, T)
        object.__setattr__(self, "root_pos", root_pos)
        object.__setattr__(self, "root_quat", quat)
        object.__setattr__(self, "dof_pos", dof)
        if self.hand_dof is not None:
            hand = check_array(src, "hand_dof", self.hand_dof, (None, 14))
            check_length(src, "hand_dof", hand, T)
            object.__setattr__(self, "hand_dof", hand)

    @property
    def num_frames(self) -> int:
        return self.root_pos.shape[0]

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame [s]."""
        return (self.num_frames - 1) / self.fps

    @property
    def times_s(self) -> np.ndarray:
        """``(T,)`` sample times [s] from 0."""
        return np.arange(self.num_frames) / self.fps

    def replace(self, **changes: Any) -> RobotMotion:
        return replace(self, **changes)

    def slice(self, start: int, stop: int | None = None) -> RobotMotion:
        """Frames ``[start, stop)`` as a new motion."""
        s = slice(start, stop)
        return self.replace(root_pos=self.root_pos[s], root_quat=self.root_quat[s],
                            dof_pos=self.dof_pos[s],
                            hand_dof=None if self.hand_dof is None else self.hand_dof[s])


@dataclass(frozen=True, eq=False)
class HumanMotion:
    """World-grounded human motion estimated from a video (or imported).

    Attributes:
        fps: frame rate [Hz].
        joint_names: ``(J,)`` body keypoint names (e.g. MediaPipe's 33 landmarks).
        joints: ``(T, J, 3)`` keypoint positions in world [m], z up, ground at z = 0.
        confidence: ``(T, J)`` per-keypoint confidence in [0, 1].
        root_pos: ``(T, 3)`` pelvis (hip centre) position in world [m].
        root_quat: ``(T, 4)`` pelvis orientation in world, wxyz.
        foot_contact: ``(T, 2)`` bool, left/right foot in contact with the ground.
        valid: ``(T,)`` bool, frames with a real detection (others interpolated).
        hand_keypoints: optional ``(T, 2, 21, 3)`` hand keypoints in world [m] (left, right).
        hand_confidence: optional ``(T, 2)`` hand detection confidence.
        grasp: optional ``(T, 2)`` grasp closure in [0, 1] (0 open, 1 closed).
        camera_K: optional ``(3, 3)`` pinhole intrinsics [px].
        T_w_c: optional ``(4, 4)`` camera pose in world (maps camera -> world).
        extras: further named arrays (e.g. SMPL parameters from an importer).
    """

    fps: float
    joint_names: tuple[str, ...]
    joints: np.ndarray
    confidence: np.ndarray
    root_pos: np.ndarray
    root_quat: np.ndarray
    foot_contact: np.ndarray
    valid: np.ndarray
    hand_keypoints: np.ndarray | None = None
    hand_confidence: np.ndarray | None = None
    grasp: np.ndarray | None = None
    camera_K: np.ndarray | None = None
    T_w_c: np.ndarray | None = None
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        src = self.source
        set_ = object.__setattr__
        set_(self, "fps", check_fps(src, self.fps))
        set_(self, "joint_names", tuple(str(n) for n in self.joint_names))
        J = len(self.joint_names)
        joints = check_array(src, "joints", self.joints, (None, J, 3))
        T = joints.shape[0]
        if T == 0:
            raise InvalidMotionFile(src, "joints", "has 0 frames; a motion needs at least one")
        set_(self, "joints", joints)
        set_(self, "confidence", check_array(src, "confidence", self.confidence, (T, J)))
        set_(self, "root_pos", check_array(src, "root_pos", self.root_pos, (T, 3)))
        quat = check_array(src, "root_quat", self.root_quat, (T, 4))
        set_(self, "root_quat", check_unit_quat(src, "root_quat", quat))
        set_(self, "foot_contact",
             check_array(src, "foot_contact", self.foot_contact, (T, 2)).astype(bool))
        set_(self, "valid", check_array(src, "valid", self.valid, (T,)).astype(bool))
        for name, shape in (("hand_keypoints", (T, 2, 21, 3)), ("hand_confidence", (T, 2)),
                            ("grasp", (T, 2)), ("camera_K", (3, 3)), ("T_w_c", (4, 4))):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, check_array(src, name, value, shape))
        if self.grasp is not None and (self.grasp.min() < 0 or self.grasp.max() > 1):
            raise InvalidMotionFile(src, "grasp", "must lie in [0, 1] (0 open, 1 closed)")

    @property
    def num_frames(self) -> int:
        return self.joints.shape[0]

    def replace(self, **changes: Any) -> HumanMotion:
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Rollout:
    """A simulated (or real) execution sampled at the control rate.

    Attributes:
        robot: robot registry name.
        fps: control rate [Hz].
        time_s: ``(T,)`` time of each sample [s].
        qpos: ``(T, nq)`` MuJoCo generalized positions (free joint root pos, wxyz quat, joints).
        qvel: ``(T, nv)`` MuJoCo generalized velocities.
        torque: ``(T, nu)`` applied actuator torques [N m] (mean over the control period).
        target: ``(T, nu)`` joint position targets sent to the PD loop [rad].
        ref_dof_pos: optional ``(T, n)`` reference joint angles the controller tracked [rad].
        ref_root_pos: optional ``(T, 3)`` reference root position [m].
        ref_root_quat: optional ``(T, 4)`` reference root orientation, wxyz.
        ref_time_s: optional ``(T,)`` time in the reference motion of each sample [s]: negative
            while blending in, past the motion's end while holding/blending out, and advancing
            at another rate than ``time_s`` when the tracker re-times the reference.
    """

    robot: str
    fps: float
    time_s: np.ndarray
    qpos: np.ndarray
    qvel: np.ndarray
    torque: np.ndarray
    target: np.ndarray
    ref_dof_pos: np.ndarray | None = None
    ref_root_pos: np.ndarray | None = None
    ref_root_quat: np.ndarray | None = None
    ref_time_s: np.ndarray | None = None
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        src = self.source
        set_ = object.__setattr__
        set_(self, "fps", check_fps(src, self.fps))
        t = check_array(src, "time_s", self.time_s, (None,))
        T = t.shape[0]
        set_(self, "time_s", t)
        for name in ("qpos", "qvel", "torque", "target"):
            set_(self, name, check_array(src, name, getattr(self, name), (T, None)))
        for name, width in (("ref_dof_pos", None), ("ref_root_pos", 3), ("ref_root_quat", 4)):
            value = getattr(self, name)
            if value is not None:
                set_(self, name, check_array(src, name, value, (T, width)))
        if self.ref_time_s is not None:
            set_(self, "ref_time_s", check_array(src, "ref_time_s", self.ref_time_s, (T,)))

    @property
    def num_frames(self) -> int:
        return self.time_s.shape[0]


def array_fields(cls: type) -> list[str]:
    """Names of a container's dataclass fields, in declaration order."""
    return [f.name for f in fields(cls)]
