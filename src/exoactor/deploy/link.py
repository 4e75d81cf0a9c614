"""What the DDS listeners, the command loop and the operator flow share about the robot.

:class:`RobotLink` holds, under one lock, the latest accepted ``LowState_`` (and when it
arrived), the Dex3-1 hand states, the command the 500 Hz loop publishes, the controller's
heartbeat and the latched stop. Its handlers run on the DDS listener threads: a state with a
wrong CRC is counted and dropped, except an unsigned one (CRC 0) when ``accept_unsigned``
(a foreign simulator on loopback that leaves the CRC at 0).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from exoactor.deploy import messages


class RobotLink:
    """Shared robot state (see the module docstring).

    Args:
        accept_unsigned: accept ``LowState_`` whose CRC field is 0.
    """

    def __init__(self, accept_unsigned: bool = False):
        self.accept_unsigned = accept_unsigned
        self.lock = threading.Lock()
        self.state: messages.StateSample | None = None
        self.state_rx_s = 0.0
        self.states = 0
        self.state_crc_bad = 0
        self.states_unsigned = 0
        self.command: messages.MotorCommand | None = None
        self.hand_target: np.ndarray | None = None
        self.hand_q: dict[str, np.ndarray] = {}
        self.heartbeat_s = 0.0
        self.watch_heartbeat = False
        self.stop_reason: str | None = None
        self.stop_kind: str | None = None
        self.stopped = threading.Event()

    # ---- DDS listeners -------------------------------------------------------------------
    def on_state(self, msg) -> None:
        sample = messages.read_lowstate(msg)
        with self.lock:
            if not sample.crc_ok:
                if not (self.accept_unsigned and int(msg.crc) == 0):
                    self.state_crc_bad += 1
                    return
                self.states_unsigned += 1
            self.state, self.state_rx_s = sample, time.monotonic()
            self.states += 1

    def on_hand_state(self, side: str, msg) -> None:
        q = messages.read_handstate(msg)
        with self.lock:
            self.hand_q[side] = q

    # ---- the operator flow's side --------------------------------------------------------
    def latest(self) -> tuple[messages.StateSample | None, float]:
        """The latest accepted state and its arrival time (``time.monotonic``)."""
        with self.lock:
            return self.state, self.state_rx_s

    def set_command(self, command: messages.MotorCommand) -> None:
        """The body command the command loop publishes from now on (also a heartbeat)."""
        with self.lock:
            self.command = command
            self.heartbeat_s = time.monotonic()

    def set_hand_target(self, target: np.ndarray | None) -> None:
        """``(14,)`` hand targets (left 7, right 7) [rad] the command loop publishes."""
        with self.lock:
            self.hand_target = None if target is None else np.asarray(target, float).copy()

    def beat(self) -> None:
        """Keep the heartbeat while the controller waits for the robot."""
        with self.lock:
            self.heartbeat_s = time.monotonic()

    def hand_pos(self, sides: tuple[str, ...]) -> list[np.ndarray | None]:
        """The latest hand states by side (``None`` where none has arrived)."""
        with self.lock:
            return [self.hand_q.get(side) for side in sides]
