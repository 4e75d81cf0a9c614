"""Fixtures of the batch tests: short slices of the shared reference motions, suite files."""

from __future__ import annotations

from pathlib import Path

import pytest

SLICE_S = 1.2
"""Length of each motion slice [s]: long enough to track, short enough for a fast suite."""

SLICES = {"walk1": ("0807_yanjie_walk_001.pkl", 0.0), "walk2": ("0807_yanjie_walk_002.pkl", 1.0),
          "swing": ("accad_A3___Swing_t2.pkl", 0.5), "walk3": ("0807_yanjie_walk_003.pkl", 2.0)}
"""Slice name -> (shared motion file, start [s])."""


@pytest.fixture(scope="session")
def motion_slices(shared_assets: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Four 1.2 s robot motions saved as .npz (name -> path)."""
    from exoactor.formats import load_motion, save_npz

    folder = tmp_path_factory.mktemp("slices")
    out = {}
    for name, (file, start_s) in SLICES.items():
        motion = load_motion(shared_assets / "twist2" / "motions" / file)
        first = round(start_s * motion.fps)
        out[name] = save_npz(motion.slice(first, first + round(SLICE_S * motion.fps) + 1),
                             folder / f"{name}.npz")
    return out


def write_suite(folder: Path, text: str, name: str = "suite.yaml") -> Path:
    """Write a suite file into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def suite_file():
    return write_suite
