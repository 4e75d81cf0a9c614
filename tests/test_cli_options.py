"""Every command refuses a bad option value with one line (exit 2), never a traceback; the
TFLite/absl chatter filter of perceive; `import exoactor` has no logging side effect."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from exoactor.cli import app

runner = CliRunner()

# One bad value per command; the test below checks that this covers every command of the app.
BAD_VALUE: dict[str, list[str]] = {
    "convert": ["in.pkl", "out.npz", "--fps", "-1"],
    "assets list": ["--bogus"],  # takes no value: an unknown option is its only bad input
    "assets fetch": ["no_such_asset"],
    "assets verify": ["no_such_asset"],
    "assets path": ["no_such_asset"],
    "assets use": ["/"],
    "render": ["m.npz", "--width", "1"],
    "demo": ["--force", "everything"],
    "run": ["--video", "v.mp4", "--fov", "300"],
    "imagine": ["--task", "wave", "--scene", "s.png", "--candidates", "99"],
    "perceive": ["clip.mp4", "--fov", "200"],
    "retarget": ["human.npz", "--fps", "0"],
    "track": ["m.npz", "--start", "sideways"],
    "report": ["runs/x", "--fps", "0"],
    "bench": ["no_such_benchmark"],
    "batch": ["suite.yaml", "--out", "b", "--workers", "0"],
    "sim-robot": ["--domain-id", "999"],
    "deploy": ["m.npz", "--sim", "--stale-ms", "-1"],
}


def _commands(group, prefix: str = "") -> list[str]:  # noqa: ANN001
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out += _commands(cmd, f"{path} ")
        else:
            out.append(path)
    return out


APP_COMMANDS = _commands(typer.main.get_command(app))


def test_every_command_has_a_bad_value_case() -> None:
    assert sorted(APP_COMMANDS) == sorted(BAD_VALUE), "add the new command to BAD_VALUE"


@pytest.mark.parametrize("command", APP_COMMANDS)
def test_bad_value_is_a_usage_error(command: str, tmp_path: Path) -> None:
    args = command.split() + BAD_VALUE[command]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (args, result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    bad = BAD_VALUE[command]
    named = next((a for a in reversed(bad) if a.startswith("--")), None)
    if named is not None and named != "--bogus":
        assert named in result.output, result.output


@pytest.mark.parametrize("args, words", [
    (["perceive", "clip.mp4", "--fov", "200"], ["--fov", "200", "< 170"]),
    (["convert", "a.pkl", "b.npz", "--fps", "-1"], ["--fps", "-1", "0.1"]),
    (["deploy", "m.npz", "--sim", "--stale-ms", "-1"], ["--stale-ms", "-1", "> 0"]),
])
def test_bad_value_is_one_line(args: list[str], words: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "exoactor.cli", *args], capture_output=True,
                          text=True)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert all(w in lines[0] for w in words), lines[0]


def test_native_chatter_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    script = tmp_path / "noisy.py"
    script.write_text(textwrap.dedent("""
        import os, subprocess, sys
        from exoactor.native_logs import NativeLogFilter
        quiet = sys.argv[1] == "quiet"
        f = NativeLogFilter()
        if quiet:
            f.start()
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\\n")
        subprocess.run(["sh", "-c", "echo 'W0000 00:00:1796508976.304796   16984 "
                        "inference_feedback_manager.cc:114] Feedback manager' >&2"])
        print("WARNING exoactor.perceive.run: a real warning", file=sys.stderr)
        os.write(2, b"E0000 00:00:1796508976.304796   16984 x.cc:1] a native error\\n")
        sys.stderr.write("last line without newline")
        f.stop()
        print("after stop", file=sys.stderr)
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    quiet = subprocess.run([sys.executable, str(script), "quiet"], capture_output=True,
                           text=True, env=env).stderr
    loud = subprocess.run([sys.executable, str(script), "loud"], capture_output=True,
                          text=True, env=env).stderr
    for chatter in ("TensorFlow Lite", "absl::InitializeLog", "Feedback manager"):
        assert chatter in loud and chatter not in quiet, quiet
    for kept in ("a real warning", "a native error", "last line without newline", "after stop"):
        assert kept in quiet, quiet


def test_import_has_no_logging_side_effect() -> None:
    code = ("import os, sys; before = os.fstat(2).st_ino; import exoactor, exoactor.cli, "
            "exoactor.formats; print(os.fstat(2).st_ino == before, "
            "'GLOG_minloglevel' in os.environ, 'TF_CPP_MIN_LOG_LEVEL' in os.environ)")
    env = {k: v for k, v in os.environ.items()
           if k not in ("GLOG_minloglevel", "TF_CPP_MIN_LOG_LEVEL")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["True", "False", "False"], out.stderr
