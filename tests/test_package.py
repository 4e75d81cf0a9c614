"""Public surface and import hygiene."""

from __future__ import annotations

import subprocess
import sys

import exoactor


def test_all_exports_exist() -> None:
    for name in exoactor.__all__:
        assert getattr(exoactor, name) is not None, name


def test_import_has_no_heavy_side_effects() -> None:
    code = ("import sys, exoactor, exoactor.cli; "
            "heavy = [m for m in ('torch', 'mediapipe', 'diffusers', 'onnxruntime', 'mujoco', "
            "'cv2') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_ruff_is_clean() -> None:
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    ruff = Path(sys.executable).with_name("ruff")
    proc = subprocess.run([str(ruff), "check", "src", "tests", "benchmarks"], cwd=repo,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]
