"""The 500 Hz command loop of ``exoactor deploy`` (its own thread, wall clock).

Each tick it runs the fault checks that must not wait for the controller — stale state (no
``LowState_`` for ``stale_state_ms``), a lost controller heartbeat (no new targets for
``heartbeat_ms``), non-finite state, the remote's SELECT — and publishes ``LowCmd_`` holding
the latest targets (and, every fifth tick, the Dex3-1 hand targets). Any fault latches
**damping** (``kp = 0``, ``kd = damping_kd``), published for ``damping_s`` before the loop
ends. An exception inside a tick stops the run into damping and the loop goes on publishing
damping; after :data:`MAX_LOOP_ERRORS` failing ticks it gives up (the operator flow sees the
thread gone and stops too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from exoactor.deploy import messages, sdk
from exoactor.deploy.config import DeployConfig
from exoactor.deploy.link import RobotLink
from exoactor.deploy.timing import LoopStats, RateLoop

logger = logging.getLogger(__name__)

MAX_LOOP_ERRORS = 50
"""Failing command-loop ticks (0.1 s at 500 Hz) after which the loop gives up."""


class CommandLoop:
    """The command loop (see the module docstring).

    Args:
        config: the deployment's config (rates, limits, gains).
        link: the shared robot state.
        n_body: body motors commanded.
        stop: ``stop(reason, kind)`` latches damping (thread-safe).
        publisher, msg: the ``LowCmd_`` publisher (``None``: dry run) and a message to fill.
        hand_pubs, hand_msg: ``HandCmd_`` publishers by side (empty: no hands) and a message.
    """

    def __init__(self, config: DeployConfig, link: RobotLink, n_body: int,
                 stop: Callable[..., None], publisher, msg, hand_pubs: dict, hand_msg):
        self.config = config
        self.link = link
        self.n_body = n_body
        self.stop = stop
        self.publisher, self.msg = publisher, msg
        self.hand_pubs, self.hand_msg = hand_pubs, hand_msg
        self.computed = 0
        self.published = 0
        self.stats = LoopStats(config.low_rate_hz, 0, 0, 0, 0, 0, 0, 0)
        self._damping_until: float | None = None

    def damping(self, joint_pos: np.ndarray | None) -> messages.MotorCommand:
        """Damping on every body motor, targets at the measured pose."""
        n = self.n_body
        hold = np.zeros(n) if joint_pos is None else np.where(np.isfinite(joint_pos), joint_pos, 0.0)
        return messages.MotorCommand(hold, np.zeros(n), np.full(n, self.config.safety.damping_kd))

    def hand_commands(self, target: np.ndarray | None) -> list[messages.MotorCommand]:
        """Per hand (left, right): PD to ``target`` (``(14,)``), or damping when ``None``."""
        c = self.config
        n = messages.NUM_HAND_MOTORS
        out = []
        for k in range(2):
            if target is None:
                out.append(messages.MotorCommand(np.zeros(n), np.zeros(n), np.full(n, c.hand_kd)))
            else:
                out.append(messages.MotorCommand(target[n * k:n * (k + 1)], np.full(n, c.hand_kp),
                                                 np.full(n, c.hand_kd)))
        return out

    def run(self) -> None:
        """Tick until the damping period after a stop is over (thread target)."""
        c = self.config
        loop = RateLoop(c.low_rate_hz)
        hand_every = max(1, round(c.low_rate_hz / 100.0))
        errors = 0
        tick = 0
        while True:
            now = loop.wait()
            tick += 1
            try:
                if self.tick(now, tick, hand_every):
                    break
            except Exception as exc:  # noqa: BLE001 - any failure here must end in damping
                errors += 1
                logger.exception("command loop error")
                self.stop(f"command loop error: {exc!r}")
                if errors >= MAX_LOOP_ERRORS:
                    logger.error("command loop failed %d times; it stops publishing", errors)
                    break
        self.stats = loop.stats()

    def tick(self, now: float, tick: int, hand_every: int) -> bool:
        """One tick; ``True`` when the damping period is over."""
        c = self.config
        s = self.link
        with s.lock:
            state, rx, command = s.state, s.state_rx_s, s.command
            hand_target = s.hand_target
            heartbeat, watch = s.heartbeat_s, s.watch_heartbeat
        if not s.stopped.is_set():
            if now - rx > c.stale_state_ms / 1e3:
                self.stop(f"stale state: no LowState_ for {1e3 * (now - rx):.0f} ms "
                          f"(limit {c.stale_state_ms:.0f} ms)")
            elif watch and now - heartbeat > c.heartbeat_ms / 1e3:
                self.stop(f"controller heartbeat lost: no new targets for "
                          f"{1e3 * (now - heartbeat):.0f} ms (limit {c.heartbeat_ms:.0f} ms)")
            elif state is not None and not (np.all(np.isfinite(state.joint_pos))
                                            and np.all(np.isfinite(state.joint_vel))
                                            and np.all(np.isfinite(state.quat_wxyz))):
                self.stop("non-finite joint or IMU state")
            elif state is not None and state.pressed("select"):
                self.stop("SELECT pressed on the remote", kind="stop")
        stopped = s.stopped.is_set()
        if stopped:
            self._damping_until = self._damping_until or now + c.damping_s
            command = self.damping(None if state is None else state.joint_pos)
        if command is not None and state is not None:
            self.computed += 1
            if self.publisher is not None:
                messages.fill_lowcmd(self.msg, command, state.mode_machine)
                self.publisher.Write(self.msg)
                self.published += 1
            if self.hand_pubs and tick % hand_every == 0 and (hand_target is not None or stopped):
                hands = self.hand_commands(None if stopped else hand_target)
                for side, hand in zip(sdk.HAND_SIDES, hands):
                    messages.fill_handcmd(self.hand_msg, hand)
                    self.hand_pubs[side].Write(self.hand_msg)
        return stopped and now >= self._damping_until
