"""Fixtures of the report tests: a demo-like run directory made from a rendered clip with known
truth (the Anny body walking past a known camera, :mod:`exoactor.perceive.truth`), run through
every stage (clip, perceive, retarget, track, report) exactly as ``exoactor run`` does.

Needs ``anny`` (skipped without it, except under ``CI``, where the install script provides it)
and its model-data cache (``$ANNY_CACHE_DIR`` or ``~/.cache/anny``; built once, ~1 min). The clip
is 45 frames (1.5 s) at 640x480: rendering it takes ~20 s, the run ~20 s on 2 CPUs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TRUTH_FRAMES = 45


@pytest.fixture(scope="session")
def truth_clip(tmp_path_factory: pytest.TempPathFactory):
    """The rendered walk and its truth (joints, intrinsics, camera pose)."""
    if not os.environ.get("CI"):  # the install script installs anny: in CI its absence fails
        pytest.importorskip("anny")
    from exoactor.perceive.truth import TruthClipConfig, make_truth_clip

    out = tmp_path_factory.mktemp("truth") / "walk.mp4"
    return make_truth_clip(out, TruthClipConfig(frames=TRUTH_FRAMES))


@pytest.fixture(scope="session")
def truth_run(truth_clip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run directory on the truth clip (perceive told the true field of view)."""
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.runner import RunConfig, run_video

    out = tmp_path_factory.mktemp("run") / "walk"
    cfg = RunConfig(perceive=PerceiveConfig(fov_deg=truth_clip.fov_deg, hands=False))
    summary = run_video(truth_clip.video_path, out, cfg)
    assert summary.ok, summary.error
    return out


BALL_XML = """
<mujoco>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.05" rgba="0.3 0.5 0.3 1"/>
    <light pos="0 0 4" dir="0 0 -1"/>
    <body name="ball" pos="0 0 1"><freejoint/><geom type="sphere" size="0.08"
      rgba="0.9 0.1 0.1 1"/></body>
  </worldbody>
</mujoco>
"""
"""A ball over a floor: the smallest model the report's views draw."""


@pytest.fixture(scope="session")
def ball_model():
    """The MuJoCo model of :data:`BALL_XML`."""
    import mujoco

    return mujoco.MjModel.from_xml_string(BALL_XML)
