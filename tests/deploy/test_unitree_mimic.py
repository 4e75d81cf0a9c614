"""``deploy --simulator unitree_mujoco`` against ``sim-robot --mimic unitree_mujoco``.

The mimic behaves like Unitree's simulate_python where a deployment can tell (200 Hz state,
tick and CRC 0, modes 0, per-command held PD torque, 5 ms Newton physics); its band drops 1.5 s
after the first command, as an operator pressing the viewer key would. Two processes over
real DDS on loopback, in their own domain.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mimic(tmp_path_factory, dds_domain, run_cli):
    """A running ``sim-robot --mimic unitree_mujoco`` (band dropped 1.5 s after the first command:
    0.5 s into the standby after the 1 s ramp)
    in its own domain; yields ``(domain, cli)``."""
    cli = run_cli
    domain = dds_domain + 1
    folder = tmp_path_factory.mktemp("mimic")
    log = folder / "sim_robot.log"
    proc = cli("sim-robot", "--mimic", "unitree_mujoco", "--release-after", "1.5",
               "--domain-id", str(domain), "--out", str(folder), out=log)
    deadline = time.monotonic() + 60.0
    while "sim-robot up" not in log.read_text():
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)
    try:
        yield domain, cli
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _deploy(mimic, motion: Path, out: Path, *extra: str) -> tuple[int, dict]:
    domain, cli = mimic
    proc = cli("deploy", str(motion), "--interface", "lo", "--domain-id", str(domain),
               "--start", "auto", "--ramp", "1", "--stale-ms", "300", "--heartbeat-ms", "300",
               "--out", str(out), *extra,
               out=out.with_suffix(".log"))
    code = proc.wait(timeout=90)
    return code, json.loads((out / "deploy_metrics.json").read_text())


@pytest.fixture(scope="module")
def walk() -> Path:
    from exoactor.assets import resolve_asset

    return resolve_asset("g1_motions") / "0807_yanjie_walk_010.pkl"


def test_without_simulator_flag_the_unsigned_state_is_refused(mimic, walk, tmp_path):
    code, m = _deploy(mimic, walk, tmp_path / "refused")
    assert code == 1 and m["status"] == "not_started"
    assert "wrong CRC" in m["reason"] and "--simulator unitree_mujoco" in m["reason"]
    assert m["commands_published"] == 0 and m["states_crc_rejected"] > 0


@pytest.fixture(scope="module")
def mimic_walk(mimic, walk, tmp_path_factory) -> tuple[int, dict, Path]:
    """One ``deploy --simulator unitree_mujoco`` of the walk against the mimic."""
    out = tmp_path_factory.mktemp("mimic_walk") / "walk"
    code, m = _deploy(mimic, walk, out, "--simulator", "unitree_mujoco")
    return code, m, out


def test_deploy_streams_to_the_unitree_mujoco_mimic(mimic_walk):
    """The protocol: unsigned, tick-less state is accepted from the loopback peer, commands are
    published, and the operator is told to drop the band (what the issue found refused).

    Whether the robot then stands and walks the clip over DDS depends on the state latency of the
    moment (CI saw it fall in the standby, before clip time 0): that is the xfail test below."""
    code, m, out = mimic_walk
    log = out.with_suffix(".log").read_text()[-3000:]
    assert m["status"] != "not_started", log
    assert m["states_unsigned_accepted"] > 0 and m["states_crc_rejected"] == 0
    assert m["commands_published"] > 0, log
    assert m["evaluated_s"] >= 0.0  # present even when the loop stopped before the clip
    assert m["states_received"] / m["low_level_loop"]["ticks"] < 0.6  # 200 Hz state, 500 Hz cmd
    standby = [e["detail"] for e in m["events"] if e["phase"] == "standby"]
    assert any("drop the band" in d and "key 9" in d for d in standby)


@pytest.mark.xfail(strict=False, reason=(
    "TWIST2 on the mimic's held 5 ms PD tolerates ~10 ms of state latency (falls at 15 ms in "
    "process); over DDS on a quiet 2-core machine it walked in one run and fell in another "
    "(state 203 Hz, control p99 jitter 5 ms). The same loop on the mimic's physics in process walks "
    "(test_mimic_physics.py); Unitree's own simulator is to be checked by hand."))
def test_deploy_walks_on_the_unitree_mujoco_mimic(mimic_walk, walk):
    code, m, out = mimic_walk
    assert code == 0, out.with_suffix(".log").read_text()[-3000:]
    assert m["status"] == "completed" and not m["fell"]
    print(f"mimic: joint error {m['mean_joint_error_rad']:.4f} rad, key bodies "
          f"{m['key_body_error_mm']:.0f} mm, command loop {m['low_level_loop']['achieved_hz']:.1f} "
          f"Hz, control loop {m['control_loop']['achieved_hz']:.1f} Hz")
    # the same motion in `exoactor track`, started the same way (standing, blend-in, no drift)
    from exoactor.control import DriftConfig, TrackConfig, track_motion
    from exoactor.formats import load_motion

    ref = track_motion(load_motion(walk), TrackConfig(start="blend",
                                                      drift=DriftConfig(enabled=False)))
    assert 0.8 <= m["mean_joint_error_rad"] / ref.metrics.mean_joint_error_rad <= 1.2
    assert m["evaluated_s"] > 0.95 * m["clip_duration_s"]
