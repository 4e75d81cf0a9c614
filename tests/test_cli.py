"""The CLI: every command has --help, missing stages exit 2, working commands work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from exoactor.cli import app

runner = CliRunner()


def _commands(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:  # noqa: ANN001
    """Every command (and group) of the app, as its argv path, read from the app itself."""
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if hasattr(cmd, "commands"):
            out += _commands(cmd, (*prefix, name))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_the_command_list_comes_from_the_app() -> None:
    names = {c[0] for c in COMMANDS}
    assert {"run", "perceive", "retarget", "track", "report", "deploy", "sim-robot",
            "batch"} <= names
    assert ("assets", "verify") in COMMANDS


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and "exoactor 0.1.0" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_convert_and_assets(tmp_path: Path, motion_files: list[Path]) -> None:
    out = tmp_path / "m.csv"
    result = runner.invoke(app, ["convert", str(motion_files[0]), str(out), "--fps", "50"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) > 600
    result = runner.invoke(app, ["assets", "path", "g1_29dof"])
    assert result.exit_code == 0 and result.output.strip().endswith("g1_sim2sim_29dof.xml")
    assert runner.invoke(app, ["assets", "verify", "twist2_policy"]).exit_code == 0
    assert runner.invoke(app, ["assets", "list"]).exit_code == 0


def test_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pkl"
    bad.write_text("not a pickle")
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "convert", str(bad),
                           str(tmp_path / "o.npz")], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "error:" in proc.stderr and "bad.pkl" in proc.stderr and "Traceback" not in proc.stderr


def test_run_needs_a_video_or_a_task() -> None:
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "run", "--task", "wave"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "--task and --scene" in proc.stderr


def test_retarget_command(tmp_path: Path, motion_files: list[Path]) -> None:
    from exoactor.formats import load_motion, save_npz
    from exoactor.retarget import human_from_robot

    human = human_from_robot(load_motion(motion_files[-1]).slice(0, 40))
    save_npz(human, tmp_path / "human.npz")
    result = runner.invoke(app, ["retarget", str(tmp_path / "human.npz"), "--out",
                                 str(tmp_path / "robot.npz")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "retarget_metrics.json").is_file()
    assert load_motion(tmp_path / "robot.npz").fps == 50.0


def test_track_command(tmp_path: Path, motion_files: list[Path]) -> None:
    from exoactor.formats import load_motion, save_motion

    short = load_motion(motion_files[-1]).slice(0, 45)
    save_motion(short, tmp_path / "short.npz")
    result = runner.invoke(app, ["track", str(tmp_path / "short.npz"), "--out",
                                 str(tmp_path / "t"), "--no-filter"])
    assert result.exit_code == 0, result.output
    assert "no fall" in result.output
    assert (tmp_path / "t" / "rollout.npz").is_file() and (tmp_path / "t" / "metrics.json").is_file()
    assert not (tmp_path / "t" / "executable_motion.npz").exists()
    result = runner.invoke(app, ["track", str(tmp_path / "short.npz"), "--out",
                                 str(tmp_path / "f"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "no fall" in result.output and "physics filter" in result.output
    for name in ("rollout.npz", "metrics.json", "executable_motion.npz", "filter_report.json"):
        assert (tmp_path / "f" / name).is_file()
    assert load_motion(tmp_path / "f" / "executable_motion.npz").fps == 50.0


def test_track_bad_file_is_clear(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("1,2\n")
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "track", str(bad), "--input-fps",
                           "30", "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 1 and "m.csv" in proc.stderr and "Traceback" not in proc.stderr


KIMODO = ("dance", "high5", "jumpjack", "walk", "wave")


def test_kimodo_csvs_convert_upright_and_need_the_flag(tmp_path: Path, shared_assets: Path
                                                       ) -> None:
    from exoactor.formats import load_motion

    for name in KIMODO:
        src = shared_assets / "kimodo" / f"kimodo_{name}.csv"
        out = tmp_path / f"{name}.npz"
        result = runner.invoke(app, ["convert", str(src), str(out), "--csv-format", "kimodo",
                                     "--input-fps", "30"])
        assert result.exit_code == 0, result.output
        m = load_motion(out)
        q = m.root_quat
        up_z = 1.0 - 2.0 * (q[:, 1] ** 2 + q[:, 2] ** 2)  # world z of the pelvis z axis
        assert up_z.min() > 0.8 and m.root_pos[:, 2].min() > 0.4, name
        bad = runner.invoke(app, ["convert", str(src), str(tmp_path / "x.npz"),
                                  "--input-fps", "30"])
        assert bad.exit_code == 1 and "--csv-format kimodo" in str(bad.exception), name
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "convert",
                           str(shared_assets / "kimodo" / "kimodo_walk.csv"),
                           str(tmp_path / "w.npz"), "--input-fps", "30"],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "kimodo" in proc.stderr and "Traceback" not in proc.stderr
    assert len([ln for ln in proc.stderr.splitlines() if ln.strip()]) == 1, proc.stderr


def test_kimodo_csv_tracks(tmp_path: Path, shared_assets: Path) -> None:
    from exoactor.formats import load_motion, save_motion

    src = shared_assets / "kimodo" / "kimodo_walk.csv"
    short = load_motion(src, fps=30, csv_format="kimodo").slice(0, 45)
    save_motion(short, tmp_path / "walk.csv", csv_format="kimodo")
    result = runner.invoke(app, ["track", str(tmp_path / "walk.csv"), "--csv-format", "kimodo",
                                 "--input-fps", "30", "--out", str(tmp_path / "t")])
    assert result.exit_code == 0, result.output
    assert "no fall" in result.output


def test_retarget_flags_override_the_config_file(tmp_path: Path, motion_files: list[Path]) -> None:
    """--config sets the stage config; a flag given overrides the file; no flag repeats a
    default (the rate comes from RetargetConfig unless set)."""
    from exoactor.formats import load_motion, save_npz
    from exoactor.retarget import human_from_robot

    human = human_from_robot(load_motion(motion_files[-1]).slice(0, 30))
    save_npz(human, tmp_path / "human.npz")
    (tmp_path / "cfg.toml").write_text("output_fps = 25.0\n")
    (tmp_path / "run.json").write_text('{"retarget": {"output_fps": 20.0}}')
    for extra, fps in ((["--config", str(tmp_path / "cfg.toml")], 25.0),
                       (["--config", str(tmp_path / "cfg.toml"), "--fps", "30"], 30.0),
                       (["--config", str(tmp_path / "run.json")], 20.0)):
        out = tmp_path / f"robot_{fps:g}.npz"
        result = runner.invoke(app, ["retarget", str(tmp_path / "human.npz"), "--out", str(out),
                                     *extra])
        assert result.exit_code == 0, result.output
        assert load_motion(out).fps == fps, extra


def test_stage_options_are_the_configs(tmp_path: Path) -> None:
    """Help text comes from the config fields' docstrings; backend choices from the
    registries; a bad config file is one clear line."""
    from exoactor.control import controllers
    from exoactor.perceive import pose_backends

    text = runner.invoke(app, ["retarget", "--help"]).output
    assert "Frame rate of the robot motion" in " ".join(text.split())
    text = runner.invoke(app, ["track", "--help"]).output
    assert all(name in text for name in controllers.names())
    result = runner.invoke(app, ["perceive", "clip.mp4", "--backend", "openpose"])
    # the CLI offers the package's backends (a plugin registered by an import elsewhere in the
    # session, e.g. the truth-landmarks attribution backend, is not a CLI choice)
    assert result.exit_code == 2 and all(n in result.output for n in pose_backends.found())
    (tmp_path / "bad.toml").write_text("fps = 0\n")
    result = runner.invoke(app, ["report", str(tmp_path), "--config", str(tmp_path / "bad.toml")])
    assert result.exit_code == 2, result.output
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", "report", str(tmp_path),
                           "--config", str(tmp_path / "missing.toml")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "missing.toml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_text_follows_a_config_moved_to_another_module() -> None:
    """The docstrings are read from the source; a config imported from elsewhere is followed,
    and a missing one is a clear error (not a traceback from typer)."""
    from exoactor.cli import _field_docs
    from exoactor.errors import ExoActorError

    docs = _field_docs("perceive.backends.mediapipe", "MediaPipeConfig")  # imported there
    assert "Person detector score" in docs["min_detection_confidence"]
    with pytest.raises(ExoActorError, match="no class NoSuchConfig"):
        _field_docs("perceive.config", "NoSuchConfig")
