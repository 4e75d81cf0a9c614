"""Before anything moves: the robot is there, its clock counts, its IMU and joints are sane.

Each check raises :class:`~exoactor.deploy.config.DeployError` (nothing has been sent yet):

- :func:`connect`: the first accepted ``LowState_`` within ``connect_timeout_s`` (the error
  says whether states arrived with a wrong CRC);
- :func:`check_tick_rate`: the robot's ``tick`` advances about one per millisecond (the
  controller is clocked by it) — skipped for a simulator that leaves it at 0 (the controller
  is then clocked by host time);
- :func:`check_state`: the IMU quaternion has unit norm, every joint is inside its range
  (within ``start_limit_tolerance_rad``).
"""

from __future__ import annotations

import time

import numpy as np

from exoactor.deploy import messages, sdk
from exoactor.deploy.config import DeployConfig, DeployError
from exoactor.deploy.link import RobotLink

TICK_CHECK_S = 0.3
"""Wall time over which the robot's tick rate is checked at connect [s]."""
TICK_RATIO_RANGE = (0.3, 3.0)
"""Accepted robot-tick milliseconds per wall millisecond (a simulator may run slow)."""


def connect(link: RobotLink, config: DeployConfig) -> messages.StateSample:
    """The first accepted ``LowState_``.

    Raises:
        DeployError: none within ``connect_timeout_s``.
    """
    c = config
    deadline = time.monotonic() + c.connect_timeout_s
    while time.monotonic() < deadline:
        state, _ = link.latest()
        if state is not None:
            return state
        time.sleep(0.01)
    bad = link.state_crc_bad
    hint = (f"{bad} LowState_ arrived with a wrong CRC" if bad else
            "is the robot on and in debug mode (L2+R2), or `exoactor sim-robot` running with "
            "the same --domain-id")
    if bad and c.simulator is None:
        hint += ("; Unitree's simulator (unitree_mujoco) leaves the CRC at 0: rehearse against it "
                 "with --simulator unitree_mujoco")
    raise DeployError(f"no LowState_ on '{sdk.LOWSTATE_TOPIC}' within {c.connect_timeout_s:.0f}"
                      f" s on interface '{c.interface}', domain {c.domain_id}: {hint}")


def check_tick_rate(link: RobotLink, first: messages.StateSample) -> None:
    """The controller runs on the robot's ``tick``: check it counts milliseconds.

    Raises:
        DeployError: it advanced outside :data:`TICK_RATIO_RANGE` of wall time.
    """
    t0 = time.monotonic()
    time.sleep(TICK_CHECK_S)
    state, _ = link.latest()
    wall_ms = 1e3 * (time.monotonic() - t0)
    ratio = (state.tick_ms - first.tick_ms) / wall_ms
    if not TICK_RATIO_RANGE[0] <= ratio <= TICK_RATIO_RANGE[1]:
        raise DeployError(f"the robot's tick advanced {state.tick_ms - first.tick_ms} in "
                          f"{wall_ms:.0f} ms of wall time (x{ratio:.2f}); the controller is "
                          "clocked by a tick in milliseconds, so it refuses to run")


def check_state(state: messages.StateSample, names: tuple[str, ...], lower: np.ndarray,
                upper: np.ndarray, tolerance_rad: float) -> None:
    """IMU quaternion norm and joint ranges.

    Args:
        state: the robot's state now.
        names: ``(n,)`` body joint names.
        lower, upper: ``(n,)`` joint range [rad].
        tolerance_rad: how far outside its range a joint may be [rad].

    Raises:
        DeployError: the IMU is not ready, or joints are outside their range (all listed).
    """
    norm = float(np.linalg.norm(state.quat_wxyz))
    if not abs(norm - 1.0) <= 0.05:  # also refuses NaN
        raise DeployError(f"IMU quaternion has norm {norm:.3f}; the IMU is not ready")
    tol = tolerance_rad
    out = [f"{names[i]} at {state.joint_pos[i]:+.2f} rad (range {lower[i]:+.2f} .. "
           f"{upper[i]:+.2f})" for i in range(len(names))
           if not lower[i] - tol <= state.joint_pos[i] <= upper[i] + tol]
    if out:
        raise DeployError("joints outside their range, refusing to move: " + "; ".join(out))
