"""``exoactor deploy`` against ``exoactor sim-robot``: two processes over real DDS on loopback.

Each test resets the session's simulated robot (limp, on its gantry), runs ``deploy`` as a
separate process, and judges the link from this process's own DDS subscribers, the simulated
robot's status topic and ``deploy``'s log. They run in real time (seconds each).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

MOTIONS = Path("twist2") / "motions"


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Path:
    from exoactor.assets import resolve_asset

    return resolve_asset("g1_motions") / "0807_yanjie_walk_010.pkl"


@pytest.fixture(scope="module")
def short_motion(walk, tmp_path_factory) -> Path:
    """The first 2 s of the walk, as npz."""
    from exoactor.formats import load_motion, save_motion

    m = load_motion(walk)
    path = tmp_path_factory.mktemp("motions") / "walk_2s.npz"
    save_motion(m.slice(0, int(2 * m.fps)), path)
    return path


def _finish(proc, timeout_s: float = 60.0) -> int:
    return proc.wait(timeout=timeout_s)


def _metrics(out: Path) -> dict:
    return json.loads((out / "deploy_metrics.json").read_text())


def _finish_held(proc, out: Path) -> int:
    """``deploy``'s exit status; a failed run on a machine that did not hold the 500 Hz command
    loop (its own ``low_level_loop.held``) is skipped with the measured timing: a real-time
    run then says nothing about the code. Seen in CI on a loaded 2-core machine: a walk fell
    at 6.7 s with the loop at 432 Hz; the simulated robot's tick stalled 120 ms during the
    hands run with the loop at 421 Hz. A run that completes is judged whatever its timing, and
    so is a failure with the loop held."""
    code = _finish(proc)
    path = out / "deploy_metrics.json"
    if code != 0 and path.exists():
        m = _metrics(out)
        loop = m.get("low_level_loop") or {}
        if loop and not loop["held"]:
            pytest.skip(f"this machine did not hold the {loop['target_hz']:.0f} Hz command loop "
                        f"({loop['achieved_hz']:.1f} Hz, {loop['overruns']} overruns, p99 "
                        f"jitter {loop['jitter_p99_ms']:.1f} ms); deploy ended {m['status']}")
    return code


def test_deploy_tracks_a_walk_like_track_does_and_ends_in_damping(link, walk, tmp_path, run_deploy,
                                                                   read_events):
    from exoactor.control import DriftConfig, TrackConfig, track_motion
    from exoactor.formats import load_motion

    link.fresh_robot()
    out = tmp_path / "walk"
    proc = run_deploy(walk, out)
    link.wait_for(lambda s: s["released"], 60.0, "deploy to release the gantry")
    assert _finish_held(proc, out) == 0, out.with_suffix(".log").read_text()[-3000:]
    m = _metrics(out)
    assert m["status"] == "completed" and not m["fell"]
    assert m["min_pelvis_height_est_m"] > 0.6  # on its feet all through the motion
    link.wait_for(lambda s: s["damping"], 5.0, "damping commands at the end")
    kinds = [e["kind"] for e in read_events(out)]
    assert kinds[-1] == "done" and "fault" not in kinds
    # The same motion in `exoactor track`, started the same way (standing, blend-in, no drift
    # correction: the real robot does not measure its position).
    ref = track_motion(load_motion(walk), TrackConfig(start="blend",
                                                      drift=DriftConfig(enabled=False)))
    assert not ref.metrics.fell
    ratio = m["mean_joint_error_rad"] / ref.metrics.mean_joint_error_rad
    print(f"deploy {m['mean_joint_error_rad']:.4f} rad vs track "
          f"{ref.metrics.mean_joint_error_rad:.4f} rad (x{ratio:.2f}); key bodies "
          f"{m['key_body_error_mm']:.0f} vs {ref.metrics.key_body_error_mm:.0f} mm; command "
          f"loop {m['low_level_loop']['achieved_hz']:.1f} Hz")
    loop = m["low_level_loop"]
    if not 0.8 <= ratio <= 1.2 and not loop["held"]:
        # tracking error depends on command timing: judged only where the loop was held (CI on
        # 257bba6, nothing else running: x1.22 with the loop not held; alone here: x1.10)
        pytest.skip(f"joint error x{ratio:.2f} of track's, but this machine did not hold the "
                    f"{loop['target_hz']:.0f} Hz command loop ({loop['achieved_hz']:.1f} Hz, "
                    f"{loop['overruns']} overruns, p99 jitter {loop['jitter_p99_ms']:.1f} ms)")
    assert 0.8 <= ratio <= 1.2
    assert m["evaluated_s"] > 0.95 * m["clip_duration_s"]


def test_stale_state_stops_into_damping_within_the_limit(link, short_motion, tmp_path, run_deploy,
                                                         read_events):
    link.fresh_robot()
    out = tmp_path / "stale"
    proc = run_deploy(short_motion, out, "--stale-ms", "100", gantry_only=True)
    link.wait_for(lambda s: not s["limp"], 60.0, "deploy to command the robot")
    time.sleep(0.5)
    stalled_at = time.monotonic()
    link.send("stall 1500")
    assert _finish(proc) == 3  # safety stop
    fault = next(e for e in read_events(out) if e["kind"] == "fault")
    assert fault["detail"].startswith("stale state")
    reaction_ms = 1e3 * (fault["monotonic_s"] - stalled_at)
    print(f"stale state -> damping after {reaction_ms:.0f} ms (limit 100 ms)")
    assert reaction_ms < 100 + 250  # the limit, plus DDS delivery and scheduling slack
    link.wait_for(lambda s: s["damping"], 5.0, "damping commands after the stall")


def test_corrupted_crc_is_rejected_by_the_robot(link):
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

    from exoactor.deploy import messages

    link.fresh_robot()
    before = link.latest()
    msg = unitree_hg_msg_dds__LowCmd_()
    messages.fill_lowcmd(msg, messages.MotorCommand(np.full(29, 1.0), np.full(29, 50.0),
                                                    np.ones(29)), mode_machine=5)
    msg.crc ^= 0x1  # one bit flipped
    for _ in range(5):
        link.cmd_pub.Write(msg)
        time.sleep(0.02)
    st = link.wait_for(lambda s: s["crc_rejected"] >= before["crc_rejected"] + 5, 5.0,
                       "the robot to reject the commands")
    assert st["limp"] and st["commands"] == before["commands"]
    messages.fill_lowcmd(msg, messages.MotorCommand(np.full(29, 1.0), np.full(29, 50.0),
                                                    np.ones(29)), mode_machine=3)
    link.cmd_pub.Write(msg)  # right CRC, but not the robot's mode_machine
    st = link.wait_for(lambda s: s["mode_rejected"] >= before["mode_rejected"] + 1, 5.0,
                       "the robot to reject a foreign mode_machine")
    assert st["limp"]
    messages.fill_lowcmd(msg, messages.MotorCommand(np.zeros(29), np.zeros(29), np.ones(29)), 5)
    link.cmd_pub.Write(msg)  # a correct one is taken
    link.wait_for(lambda s: s["commands"] == before["commands"] + 1 and not s["limp"], 5.0,
                  "the robot to accept a correct command")


def test_out_of_limit_target_is_clipped_on_the_wire(link, short_motion, tmp_path, run_deploy,
                                                    read_events):
    from exoactor.formats import load_motion, save_motion
    from exoactor.robots import get_robot

    robot = get_robot("g1")
    knee = robot.body_joint_names.index("left_knee_joint")
    upper = robot.joint_limits[robot.body_idx][knee, 1]
    m = load_motion(short_motion)
    dof = m.dof_pos.copy()
    dof[len(dof) // 3:, knee] = upper + 0.5  # beyond the knee's range for the last 2/3
    bad = tmp_path / "knee_beyond_limit.npz"
    save_motion(m.replace(dof_pos=dof), bad)
    link.fresh_robot()
    link.record_commands = True
    out = tmp_path / "limit"
    try:
        proc = run_deploy(bad, out, "--controller", "replay", gantry_only=True)
        assert _finish_held(proc, out) == 0, out.with_suffix(".log").read_text()[-3000:]
    finally:
        link.record_commands = False
    knee_q = np.array([q[knee] for _, q, kp in link.commands if kp[knee] > 0])
    assert len(knee_q) > 100
    assert knee_q.max() <= upper + 1e-5  # float32 on the wire
    assert np.isclose(knee_q.max(), upper, atol=1e-4)  # it was asked for more and got the limit
    assert _metrics(out)["safety_clipped_joint_steps"] > 0


def test_ctrl_c_while_streaming_stops_into_damping(link, walk, tmp_path, run_deploy, read_events):
    link.fresh_robot()
    out = tmp_path / "sigint"
    proc = run_deploy(walk, out)
    deadline = time.monotonic() + 60.0
    while not any(e["phase"] == "stream" for e in read_events(out)):  # the live log
        assert time.monotonic() < deadline and proc.poll() is None, "the stream never began"
        time.sleep(0.05)
    time.sleep(2.0)  # inside the motion
    proc.send_signal(signal.SIGINT)
    assert _finish(proc) == 130
    kinds = [e["kind"] for e in read_events(out)]
    assert "interrupt" in kinds
    assert any(e["phase"] == "stream" for e in read_events(out))
    link.wait_for(lambda s: s["damping"], 5.0, "damping commands after Ctrl-C")


def test_dry_run_publishes_nothing(link, short_motion, tmp_path, run_deploy):
    link.fresh_robot()
    link.record_commands = True
    out = tmp_path / "dry"
    try:
        proc = run_deploy(short_motion, out, "--dry-run", gantry_only=True)
        assert _finish_held(proc, out) == 0, out.with_suffix(".log").read_text()[-3000:]
    finally:
        link.record_commands = False
    assert link.commands == []
    # Positive control: this subscriber does see a LowCmd_ when one is published.
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

    link.record_commands = True
    try:
        link.cmd_pub.Write(unitree_hg_msg_dds__LowCmd_())
        deadline = time.monotonic() + 5.0
        while not link.commands and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        link.record_commands = False
    assert len(link.commands) == 1
    st = link.latest()
    assert st["limp"] and not st["released"]
    m = _metrics(out)
    assert m["dry_run"] and m["commands_published"] == 0 and m["commands_computed"] > 500


def test_hands_follow_the_motion_on_the_wire(link, short_motion, tmp_path, run_deploy):
    from exoactor.control.hands import closed_pose
    from exoactor.formats import load_motion, save_motion
    from exoactor.robots import get_robot

    robot = get_robot("g1_hands")
    names = tuple(robot.hand_joint_names)
    closed = closed_pose(names, robot.joint_limits[robot.hand_idx])
    m = load_motion(short_motion)
    grip = np.tile(closed, (m.num_frames, 1))
    path = tmp_path / "grip.npz"
    save_motion(m.replace(hand_dof=grip), path)
    link.fresh_robot()
    link.record_commands = True
    out = tmp_path / "hands"
    try:
        proc = run_deploy(path, out, "--controller", "replay", "--hands", gantry_only=True)
        assert _finish_held(proc, out) == 0, out.with_suffix(".log").read_text()[-3000:]
    finally:
        link.record_commands = False
    q = np.array([c[1] for c in link.hand_commands])
    kp = np.array([c[2] for c in link.hand_commands])
    assert len(q) > 100  # 100 Hz
    np.testing.assert_allclose(q[0], 0.0)  # open while ramping
    assert np.abs(q - closed[:7]).max(axis=1).min() < 1e-5  # closed during the motion
    assert np.all(kp[-1] == 0.0)  # damping at the end


def test_select_on_the_remote_stops_into_damping(link, short_motion, tmp_path, run_deploy,
                                                 read_events):
    link.fresh_robot()
    out = tmp_path / "select"
    proc = run_deploy(short_motion, out, gantry_only=True)
    link.wait_for(lambda s: not s["limp"], 60.0, "deploy to command the robot")
    link.send("press select 500")
    assert _finish(proc) == 3
    stop = next(e for e in read_events(out) if e["kind"] == "stop")
    assert stop["detail"].startswith("SELECT")
    link.wait_for(lambda s: s["damping"], 5.0, "damping commands after SELECT")


def _inject(link, fault: str, motion: Path, out: Path) -> tuple[int, dict]:
    """``inject_fault.py`` in its own process against the session's sim-robot."""
    import os
    import subprocess
    import sys

    script = Path(__file__).with_name("inject_fault.py")
    env = {**os.environ, "EXOACTOR_DDS_LOOPBACK_ONLY": "1"}
    with open(out.with_suffix(".log"), "w") as log:
        code = subprocess.call([sys.executable, str(script), fault, str(link.domain), str(motion),
                                str(out)], stdout=log, stderr=subprocess.STDOUT, env=env,
                               timeout=120)
    return code, _metrics(out)


def test_a_failing_command_loop_ends_in_damping(link, short_motion, tmp_path):
    link.fresh_robot()
    code, m = _inject(link, "loop_error", short_motion, tmp_path / "loop")
    assert code == 3 and m["status"] == "safety_stop", m["reason"]
    assert "command loop error" in m["reason"] and "injected" in m["reason"]
    link.wait_for(lambda s: s["damping"], 5.0, "damping commands after the loop error")


def test_a_hung_controller_trips_the_heartbeat(link, short_motion, tmp_path):
    link.fresh_robot()
    code, m = _inject(link, "hung_controller", short_motion, tmp_path / "hung")
    assert code == 3 and m["reason"].startswith("controller heartbeat lost"), m["reason"]
    link.wait_for(lambda s: s["damping"], 5.0, "damping commands after the lost heartbeat")
