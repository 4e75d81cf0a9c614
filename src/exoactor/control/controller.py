"""The controller interface every tracking backend implements, and its registry.

A controller maps what the robot measures (:class:`RobotState`) and what it should do
(:class:`ReferenceFrame`) to joint position targets for a PD loop whose gains it declares
(:class:`PDGains`). It knows nothing of MuJoCo: the same object drives the simulator and,
later, the real robot. Targets always pass through :mod:`exoactor.control.safety` before they
reach the actuators.

Conventions: quaternions wxyz; ``_w`` world frame (z up), ``_b`` pelvis (root) frame; joint
arrays in the robot model's body-joint order (29 joints for the G1).

A new backend is one new file in this package (see :mod:`exoactor.registry`): subclass
:class:`Controller`, give it a ``Config`` model and decorate it with
``@controllers.register("name")``; ``controllers.build(name, options, joint_names=...)`` builds
it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel

from exoactor.errors import ExoActorError
from exoactor.registry import Registry
from exoactor.rotations import quat_apply_inverse


@dataclass(frozen=True)
class PDGains:
    """Joint-space PD gains and torque limits a controller expects.

    Attributes:
        kp: ``(n,)`` stiffness [N m / rad].
        kd: ``(n,)`` damping [N m s / rad].
        torque_limit_nm: ``(n,)`` symmetric torque clip [N m].
    """

    kp: np.ndarray
    kd: np.ndarray
    torque_limit_nm: np.ndarray


@dataclass(frozen=True)
class RobotState:
    """What the robot measures at one control step.

    Attributes:
        time_s: time since the start of the run [s].
        root_pos_w: ``(3,)`` pelvis position in world [m] (simulation or a state estimator).
        root_quat_w: ``(4,)`` pelvis orientation in world, wxyz.
        root_lin_vel_w: ``(3,)`` pelvis linear velocity in world [m/s].
        root_ang_vel_b: ``(3,)`` pelvis angular velocity in the pelvis frame [rad/s] (IMU gyro).
        joint_pos: ``(n,)`` body joint angles [rad].
        joint_vel: ``(n,)`` body joint velocities [rad/s].
    """

    time_s: float
    root_pos_w: np.ndarray
    root_quat_w: np.ndarray
    root_lin_vel_w: np.ndarray
    root_ang_vel_b: np.ndarray
    joint_pos: np.ndarray
    joint_vel: np.ndarray


@dataclass(frozen=True)
class ReferenceFrame:
    """The reference motion at one instant, as a controller consumes it.

    Attributes:
        root_pos_w: ``(3,)`` reference pelvis position in world [m].
        root_quat_w: ``(4,)`` reference pelvis orientation in world, wxyz.
        root_lin_vel_w: ``(3,)`` reference pelvis linear velocity in world [m/s].
        root_ang_vel_w: ``(3,)`` reference pelvis angular velocity in world [rad/s].
        joint_pos: ``(n,)`` reference body joint angles [rad].
        hand_pos: optional ``(14,)`` reference hand joint angles [rad] (left 7, right 7).
    """

    root_pos_w: np.ndarray
    root_quat_w: np.ndarray
    root_lin_vel_w: np.ndarray
    root_ang_vel_w: np.ndarray
    joint_pos: np.ndarray
    hand_pos: np.ndarray | None = None

    @property
    def root_lin_vel_b(self) -> np.ndarray:
        """``(3,)`` reference linear velocity in the reference pelvis frame [m/s]."""
        return quat_apply_inverse(self.root_quat_w, self.root_lin_vel_w)

    @property
    def root_ang_vel_b(self) -> np.ndarray:
        """``(3,)`` reference angular velocity in the reference pelvis frame [rad/s]."""
        return quat_apply_inverse(self.root_quat_w, self.root_ang_vel_w)


class Controller(abc.ABC):
    """A joint-space tracking controller running at a fixed control rate.

    Subclasses are built as ``Backend(joint_names, config=...)`` with ``config`` an instance of
    their ``Config`` (a frozen pydantic model), and set in ``__init__``: ``joint_names`` (the body
    joints they drive, in order), ``control_dt_s`` (their control period [s]), ``gains``
    (:class:`PDGains`) and ``default_joint_pos`` (``(n,)`` standing pose [rad]).
    """

    Config: ClassVar[type[BaseModel]]
    joint_names: tuple[str, ...]
    control_dt_s: float
    gains: PDGains
    default_joint_pos: np.ndarray

    @abc.abstractmethod
    def reset(self, state: RobotState, reference: ReferenceFrame) -> None:
        """Clear internal state (history, last action) before a run starts at ``state``."""

    @abc.abstractmethod
    def act(self, state: RobotState, reference: ReferenceFrame) -> np.ndarray:
        """Joint position targets ``(n,)`` [rad] for the next control period.

        Args:
            state: the robot's measured state now.
            reference: the reference the controller should track, already taken at the
                controller's look-ahead and corrected for drift by the caller.
        """

    def get_state(self) -> Any:
        """The controller's internal state (history, last action), to :meth:`set_state` later.

        Stateless controllers keep the default (``None``); stateful ones must override both.
        """
        return None

    def set_state(self, state: Any) -> None:
        """Put back a :meth:`get_state` value exactly.

        The default serves stateless controllers: their state is ``None``; any other value was
        saved from another controller and is refused.
        """
        if state is not None:
            raise ExoActorError(
                f"{type(self).__name__} keeps no internal state, but was given one "
                f"({type(state).__name__}): restore a state saved by this controller's own "
                "get_state(), or give the controller get_state/set_state if it has state")


controllers: Registry[type[Controller]] = Registry(
    kind="controller", package="exoactor.control", variable="controllers")
"""Controller classes by name, one module each in :mod:`exoactor.control`;
``controllers.build("twist2", options, joint_names=names)`` builds one."""
