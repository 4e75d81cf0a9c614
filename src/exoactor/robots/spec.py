"""Declarative robot descriptions and the model-backed :class:`Robot` built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from exoactor.errors import UnknownName


@dataclass(frozen=True)
class KeyBodies:
    """Names of the MJCF bodies that play a role in retargeting, tracking and metrics."""

    pelvis: str
    torso: str
    head: str
    left_hand: str
    right_hand: str
    left_foot: str
    right_foot: str
    left_elbow: str
    right_elbow: str
    left_knee: str
    right_knee: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


METRIC_KEY_BODIES = ("left_hand", "right_hand", "left_foot", "right_foot", "left_elbow",
                     "right_elbow", "left_knee", "right_knee")
"""Key bodies (names of :class:`KeyBodies` fields) of the body-error metrics, in this order:
tracking, the physics filter and the robot's body estimator index them alike."""


@dataclass(frozen=True)
class RobotSpec:
    """A robot described once. Joint order and limits are read from the MJCF, never retyped."""

    name: str
    """Registry name, e.g. ``"g1"``."""
    asset: str
    """Asset name of the MJCF (see :mod:`exoactor.assets`)."""
    body_joint_count: int
    """Number of body joints a :class:`~exoactor.formats.RobotMotion` carries in ``dof_pos``."""
    default_pos: dict[str, float]
    """Regex on joint name -> default (standing) joint position [rad]; unmatched joints are 0."""
    key_bodies: KeyBodies
    hand_joint_count: int = 0
    """Number of hand joints (``hand_dof``) the model carries after the body joints."""
    root_height_m: float = 0.793
    """Pelvis height of the default standing pose [m]."""
    foot_sole_offset_m: float = 0.0
    """Height of the ankle-roll body above the sole when standing flat [m]."""
    hand_joint_pattern: str = r".*_hand_.*"
    """Regex on joint name marking hand joints; every other hinge joint is a body joint."""
    variants: dict[str, str] = field(default_factory=dict)
    """Named variants (e.g. ``"hands"``) -> registry name of the variant spec."""

    def default_joint_pos(self, joint_names: list[str]) -> np.ndarray:
        """Default pose ``(n,)`` [rad] for ``joint_names``, from the regex table."""
        out = np.zeros(len(joint_names))
        for i, name in enumerate(joint_names):
            for pattern, value in self.default_pos.items():
                if re.fullmatch(pattern, name):
                    out[i] = value
                    break
        return out


class Robot:
    """A :class:`RobotSpec` bound to its compiled MuJoCo model.

    ``joint_names`` are the MJCF's hinge joints in model order. Body joints (``dof_pos``) and hand
    joints (``hand_dof``) are told apart by ``spec.hand_joint_pattern``: the hand MJCF interleaves
    each hand's joints after its arm, so ``body_idx`` / ``hand_idx`` index the hinge arrays.
    """

    def __init__(self, spec: RobotSpec, mjcf_path: Path):
        import mujoco

        self.spec = spec
        self.mjcf_path = Path(mjcf_path)
        self.model = mujoco.MjModel.from_xml_path(str(self.mjcf_path))
        hinge = [j for j in range(self.model.njnt)
                 if self.model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE]
        names = [self.model.joint(j).name for j in hinge]
        expected = spec.body_joint_count + spec.hand_joint_count
        if len(names) != expected:
            raise UnknownName(
                f"{self.mjcf_path}: has {len(names)} hinge joints, robot '{spec.name}' expects "
                f"{expected}; is the asset for another robot?")
        self.joint_names: list[str] = names
        self._hinge_ids = np.array(hinge)
        if len(self.body_idx) != spec.body_joint_count:
            raise UnknownName(f"{self.mjcf_path}: {len(self.body_idx)} body joints after removing "
                              f"hand joints, robot '{spec.name}' expects {spec.body_joint_count}")
        for body in spec.key_bodies.as_dict().values():
            self.body_id(body)

    @property
    def name(self) -> str:
        return self.spec.name

    @cached_property
    def hand_idx(self) -> np.ndarray:
        """Indices (into the hinge-joint arrays) of the hand joints, in model order."""
        pat = re.compile(self.spec.hand_joint_pattern)
        return np.array([i for i, n in enumerate(self.joint_names) if pat.fullmatch(n)], dtype=int)

    @cached_property
    def body_idx(self) -> np.ndarray:
        """Indices (into the hinge-joint arrays) of the body joints, in model order."""
        hand = set(self.hand_idx.tolist())
        return np.array([i for i in range(len(self.joint_names)) if i not in hand], dtype=int)

    @cached_property
    def body_joint_names(self) -> list[str]:
        return [self.joint_names[i] for i in self.body_idx]

    @cached_property
    def hand_joint_names(self) -> list[str]:
        return [self.joint_names[i] for i in self.hand_idx]

    @cached_property
    def joint_limits(self) -> np.ndarray:
        """``(n, 2)`` lower/upper position limits [rad] of every hinge joint, from the MJCF."""
        return self.model.jnt_range[self._hinge_ids].copy()

    @cached_property
    def qpos_adr(self) -> np.ndarray:
        """Index into ``qpos`` of each hinge joint."""
        return self.model.jnt_qposadr[self._hinge_ids].copy()

    @cached_property
    def dof_adr(self) -> np.ndarray:
        """Index into ``qvel`` of each hinge joint."""
        return self.model.jnt_dofadr[self._hinge_ids].copy()

    @cached_property
    def torque_limits(self) -> np.ndarray:
        """``(n,)`` actuator force limit [N m] per hinge joint from ``actuatorfrcrange`` (inf if none)."""
        rng = self.model.jnt_actfrcrange[self._hinge_ids]
        limited = self.model.jnt_actfrclimited[self._hinge_ids].astype(bool)
        return np.where(limited, np.abs(rng).max(axis=1), np.inf)

    @cached_property
    def default_joint_pos(self) -> np.ndarray:
        """Default standing pose ``(n,)`` [rad] of every hinge joint."""
        return self.spec.default_joint_pos(self.joint_names)

    def body_id(self, name: str) -> int:
        """MuJoCo body id of ``name``; unknown names list the available bodies."""
        import mujoco

        bid = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name)
        if bid < 0:
            names = [self.model.body(i).name for i in range(1, self.model.nbody)]
            raise UnknownName(
                f"robot '{self.spec.name}' has no body '{name}'; bodies: {', '.join(names)}")
        return bid

    @cached_property
    def body_names(self) -> list[str]:
        """All body names except the world body, in model order."""
        return [self.model.body(i).name for i in range(1, self.model.nbody)]
