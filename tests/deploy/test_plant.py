"""The robot path runs the same tracking loop as the simulation: hand targets included.

No DDS: the robot plant reads a fixed state from its link and is clocked by host time, so the
test shows what ``deploy`` would send, step by step, next to what ``track`` executes.
"""

from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import pytest

from exoactor.control import DriftConfig, TrackConfig, build_simulation_loop
from exoactor.deploy import messages
from exoactor.deploy.config import DeployConfig
from exoactor.deploy.plant import Stopped


@pytest.fixture(scope="module")
def walk_motion():
    """The first 3 s of a shared walk."""
    from exoactor.assets import resolve_asset
    from exoactor.formats import load_motion

    motion = load_motion(resolve_asset("g1_motions") / "0807_yanjie_walk_001.pkl")
    return motion.slice(0, int(3 * motion.fps))


def _beyond_limit_hands(motion):
    from exoactor.robots import get_robot

    robot = get_robot("g1_hands")
    upper = robot.joint_limits[robot.hand_idx, 1]
    return motion.replace(hand_dof=np.tile(upper + 0.5, (motion.num_frames, 1))), upper


@contextlib.contextmanager
def _still_robot(deployment, rate_hz: float = 200.0):
    """A robot standing still in the default pose, its state arriving at ``rate_hz``."""
    n = messages.NUM_BODY_MOTORS
    link = deployment.link
    link.state = messages.StateSample(
        tick_ms=0, mode_machine=5, quat_wxyz=np.array([1.0, 0, 0, 0]), gyro_b=np.zeros(3),
        acc_b=np.array([0, 0, 9.81]), joint_pos=deployment.controller.default_joint_pos.copy(),
        joint_vel=np.zeros(n), joint_tau=np.zeros(n), buttons=np.zeros(16, dtype=bool),
        crc_ok=True)
    done = threading.Event()

    def arrive():
        while not done.wait(1.0 / rate_hz):
            with link.lock:
                link.state_rx_s = time.monotonic()

    link.state_rx_s = time.monotonic()
    thread = threading.Thread(target=arrive, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_hand_target_beyond_its_limit_is_clipped_on_the_robot_exactly_as_in_simulation(
        walk_motion):
    from exoactor.deploy.runtime import Deployment

    motion, upper = _beyond_limit_hands(walk_motion.slice(0, 45))
    sim = build_simulation_loop(motion, TrackConfig(start="blend", drift=DriftConfig(
        enabled=False))).loop
    dep = Deployment(motion, DeployConfig(hands=True, simulator="unitree_mujoco"))
    robot = dep.loop
    n = sim.safety.kp.shape[0] - 14
    np.testing.assert_array_equal(robot.safety.limits.upper[n:], sim.safety.limits.upper[n:])
    np.testing.assert_array_equal(robot.safety.limits.lower[n:], sim.safety.limits.lower[n:])
    sent, executed = [], []
    with _still_robot(dep):
        robot.reset()
        dep.plant.start(robot.dt_s)
        for _ in range(70):   # the 1 s blend-in, then into the clip
            executed.append(sim.step().command.target[n:])
            robot.step()
            with dep.link.lock:
                sent.append(dep.link.hand_target.copy())
    sent, executed = np.array(sent), np.array(executed)
    np.testing.assert_array_equal(sent, executed)           # the same command, bit for bit
    assert np.all(sent <= upper + 1e-12)
    np.testing.assert_array_equal(sent[-1], upper)           # asked for +0.5 rad, got the limit
    assert robot.counters["safety_clipped_joint_steps"] > 0
    assert robot.counters["safety_rate_limited_joint_steps"] > 0


def test_robot_plant_cannot_be_rewound(walk_motion):
    from exoactor.deploy.runtime import Deployment
    from exoactor.errors import ExoActorError

    dep = Deployment(walk_motion, DeployConfig(simulator="unitree_mujoco"))
    with pytest.raises(ExoActorError, match="cannot be rewound"):
        dep.loop.save()


def test_a_damping_command_stops_the_robot_path(walk_motion):
    from exoactor.deploy.runtime import Deployment

    dep = Deployment(walk_motion, DeployConfig(simulator="unitree_mujoco"))
    with _still_robot(dep):
        dep.loop.reset()
        dep.plant.start(dep.loop.dt_s)
        dep.safety.stop("test", 0.0)
        with pytest.raises(Stopped):
            dep.loop.step()
    assert dep.link.command is None                          # nothing was sent as targets


def test_simulator_needs_a_loopback_interface():
    with pytest.raises(ValueError, match="loopback"):
        DeployConfig(simulator="unitree_mujoco", interface="enp3s0")
    with pytest.raises(ValueError, match="not both"):
        DeployConfig(simulator="unitree_mujoco", sim=True)
