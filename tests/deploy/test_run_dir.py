"""``deploy RUN_DIR``: the motion the run verified, the deployed rollout beside the simulated one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest


def _run_dir(tmp_path: Path, short_walk, executable: bool) -> Path:
    from exoactor.formats import save_motion

    run = tmp_path / "run"
    run.mkdir()
    save_motion(short_walk, run / "robot_motion.npz")
    if executable:
        save_motion(short_walk, run / "executable_motion.npz")
    (run / "metrics.json").write_text("{}")  # the simulated run's
    return run


@pytest.fixture(scope="module")
def short_walk():
    from exoactor.assets import resolve_asset
    from exoactor.formats import load_motion

    m = load_motion(resolve_asset("g1_motions") / "0807_yanjie_walk_010.pkl")
    return m.slice(0, int(2 * m.fps))


def test_verified_motion_prefers_the_physics_filter_output(tmp_path, short_walk):
    from exoactor.deploy.runtime import verified_motion

    run = _run_dir(tmp_path, short_walk, executable=False)
    assert verified_motion(run) == run / "robot_motion.npz"
    save = run / "executable_motion.npz"
    save.write_bytes((run / "robot_motion.npz").read_bytes())
    assert verified_motion(run) == save


def test_a_folder_without_a_motion_is_refused(tmp_path):
    from exoactor.deploy.config import DeployError
    from exoactor.deploy.runtime import verified_motion

    with pytest.raises(DeployError, match="robot_motion.npz"):
        verified_motion(tmp_path)


def test_simulator_flag_needs_loopback_on_the_command_line(tmp_path, short_walk):
    from typer.testing import CliRunner

    from exoactor.cli import app
    from exoactor.errors import ExoActorError

    run = _run_dir(tmp_path, short_walk, executable=False)
    result = CliRunner().invoke(app, ["deploy", str(run), "--interface", "enp3s0",
                                      "--simulator", "unitree_mujoco"])
    assert isinstance(result.exception, ExoActorError) and "loopback" in str(result.exception)


@pytest.mark.slow
def test_deploy_of_a_run_folder_writes_beside_the_simulated_rollout(link, tmp_path, short_walk,
                                                                    run_cli):
    run = _run_dir(tmp_path, short_walk, executable=True)
    link.fresh_robot()
    proc = run_cli("deploy", str(run), "--sim", "--domain-id", str(link.domain), "--ramp", "1",
               "--stale-ms", "300", out=tmp_path / "deploy.log")
    assert proc.wait(timeout=60) == 0, (tmp_path / "deploy.log").read_text()[-3000:]
    m = json.loads((run / "deploy_metrics.json").read_text())
    assert m["status"] == "completed" and m["motion"].endswith("executable_motion.npz")
    assert (run / "deploy_log.jsonl").is_file() and (run / "metrics.json").read_text() == "{}"
    rollout = np.load(run / "deploy_rollout.npz")
    assert rollout["q"].shape[1] == 29 and float(rollout["fps"]) == 50.0
