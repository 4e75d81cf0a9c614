"""Two-process DDS fixtures: a simulated G1 (``exoactor sim-robot``) and ``exoactor deploy``.

Everything runs on the loopback interface (``EXOACTOR_DDS_LOOPBACK_ONLY=1`` refuses any other)
in one DDS domain per test session; this test process joins it to watch the link.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

DOMAIN = 60 + os.getpid() % 150
LIMP_SETTLE_S = 3.0
"""Simulated time a reset robot hangs limp before a test starts [s] (see ``fresh_robot``)."""


def _sdk_or_skip():
    from exoactor.errors import ExoActorError

    try:
        from exoactor.deploy import sdk

        sdk.import_sdk()
        return sdk
    except ExoActorError as exc:
        if os.environ.get("CI"):
            raise  # the install script provides the SDK: in CI its absence is a failure
        pytest.skip(str(exc))


def cli(*args: str, out: Path) -> subprocess.Popen:
    """Start ``exoactor ARGS`` in its own process, output to ``out``."""
    env = {**os.environ, "EXOACTOR_DDS_LOOPBACK_ONLY": "1", "PYTHONUNBUFFERED": "1"}
    fh = open(out, "w")  # noqa: SIM115 - closed by the caller through the process's lifetime
    return subprocess.Popen([sys.executable, "-m", "exoactor.cli", *args], stdout=fh,
                            stderr=subprocess.STDOUT, env=env)


class Link:
    """This process's window on the DDS domain: sim status, sim control, optional LowCmd log."""

    def __init__(self, sdk):
        self.sdk = sdk
        self.domain = DOMAIN
        sdk.init_dds(DOMAIN, "lo")
        LowCmd_, _, String_ = sdk.hg_types()
        self.String_ = String_
        self.lock = threading.Lock()
        self.status: dict | None = None
        self.status_at = 0.0
        self.commands: list[tuple[float, np.ndarray, np.ndarray]] = []
        self.hand_commands: list[tuple[float, np.ndarray, np.ndarray]] = []
        self.record_commands = False
        self.control = sdk.publisher(sdk.SIM_CONTROL_TOPIC, String_)
        self.cmd_pub = sdk.publisher(sdk.LOWCMD_TOPIC, LowCmd_)
        HandCmd_, _ = sdk.hand_types()
        self._subs = [sdk.subscriber(sdk.SIM_STATUS_TOPIC, String_, self._on_status, 10),
                      sdk.subscriber(sdk.LOWCMD_TOPIC, LowCmd_, self._on_cmd, 1),
                      sdk.subscriber(sdk.DEX3_CMD_TOPIC.format(side="left"), HandCmd_,
                                     self._on_hand_cmd, 1)]

    def _on_status(self, msg) -> None:
        with self.lock:
            self.status, self.status_at = json.loads(msg.data), time.monotonic()

    def _on_cmd(self, msg) -> None:
        if not self.record_commands:
            return
        from exoactor.deploy.messages import read_lowcmd

        cmd, _ = read_lowcmd(msg)
        with self.lock:
            self.commands.append((time.monotonic(), cmd.q, cmd.kp))

    def _on_hand_cmd(self, msg) -> None:
        if not self.record_commands:
            return
        from exoactor.deploy.messages import read_handcmd

        cmd = read_handcmd(msg)
        with self.lock:
            self.hand_commands.append((time.monotonic(), cmd.q, cmd.kp))

    def send(self, text: str) -> None:
        self.control.Write(self.String_(text))

    def latest(self) -> dict:
        with self.lock:
            return dict(self.status or {})

    def wait_for(self, predicate, timeout_s: float, what: str) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            st = self.latest()
            if st and predicate(st):
                return st
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; last status "
                             f"{self.latest()}")

    def fresh_robot(self) -> None:
        """Reset the simulated robot (limp, on its gantry) and let it hang for LIMP_SETTLE_S.

        Reset puts the limp robot in the default pose. For its first ~3 s its undamped limbs
        swing and strike their end stops, up to 0.08 rad past a wrist's range (measured with
        :class:`SimPhysics`), which ``deploy``'s start check rightly refuses; from 3 s to 20 s
        no joint is more than 0.03 rad past its range (the check allows 0.05). An operator
        starts a robot that hangs on its gantry, and so do the tests.
        """
        t = time.monotonic()
        self.send("reset")
        self.wait_for(lambda s: s["limp"] and not s["released"] and self.status_at > t + 0.15,
                      10.0, "the sim-robot to reset")
        self.wait_for(lambda s: s["time_s"] >= LIMP_SETTLE_S, 20.0,
                      f"the reset sim-robot to hang limp for {LIMP_SETTLE_S} s")
        with self.lock:
            self.commands.clear()
            self.hand_commands.clear()


@pytest.fixture(scope="session")
def link(tmp_path_factory):
    """A running sim-robot and this process's DDS window onto it."""
    sdk = _sdk_or_skip()
    folder = tmp_path_factory.mktemp("sim_robot")
    proc = cli("sim-robot", "--domain-id", str(DOMAIN), "--out", str(folder),
               out=folder / "sim_robot.log")
    view = Link(sdk)
    try:
        view.wait_for(lambda s: s["states_published"] > 0, 60.0, "the sim-robot to publish")
        yield view
    finally:
        view.send("quit")
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def deploy(motion: Path, out: Path, *extra: str, gantry_only: bool = False) -> subprocess.Popen:
    """Start ``exoactor deploy`` against the session's sim-robot (auto start).

    ``gantry_only`` talks to it as to a real robot (``--interface lo``): the gantry is never
    released, so the robot hangs while the motion plays.
    """
    mode = ["--interface", "lo", "--start", "auto"] if gantry_only else ["--sim"]
    if "--stale-ms" not in extra:  # three 500 Hz Python processes share 2 cores in CI
        extra = ("--stale-ms", "300", *extra)
    return cli("deploy", str(motion), *mode, "--domain-id", str(DOMAIN), "--out", str(out),
               "--ramp", "1", *extra, out=out.with_suffix(".log"))


def events(out: Path) -> list[dict]:
    path = out / "deploy_log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def run_deploy():
    """:func:`deploy`, for the tests."""
    return deploy


@pytest.fixture
def read_events():
    """:func:`events`, for the tests."""
    return events


@pytest.fixture(autouse=True)
def _require_sdk():
    """Every test here needs Unitree's SDK (imported through exoactor's shim first)."""
    _sdk_or_skip()


@pytest.fixture(scope="session")
def run_cli():
    """:func:`cli`, for the tests."""
    return cli


@pytest.fixture(scope="session")
def dds_domain() -> int:
    """The session's DDS domain (the session sim-robot's)."""
    return DOMAIN
