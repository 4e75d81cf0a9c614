"""Shared fixtures of the retarget tests: the G1 retarget model and short real clips."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def rmodel(shared_assets: Path):
    from exoactor.retarget.model import retarget_model

    return retarget_model("g1")


def _clip(shared_assets: Path, name: str, start: int, frames: int):
    from exoactor.control.reference import drop_glitched_leading_frames
    from exoactor.formats import load_motion
    from exoactor.retarget.groundtruth import ground_robot_motion

    motion, _ = drop_glitched_leading_frames(
        load_motion(shared_assets / "twist2" / "motions" / f"{name}.pkl"))
    motion = motion.slice(start, start + frames)
    return ground_robot_motion(motion)[0]


@pytest.fixture(scope="session")
def walk_clip(shared_assets: Path, rmodel):
    """60 frames (2 s) of a TWIST2 walk, glitches dropped, grounded."""
    return _clip(shared_assets, "0807_yanjie_walk_001", 30, 60)


@pytest.fixture(scope="session")
def swing_clip(shared_assets: Path, rmodel):
    """45 frames of the ACCAD swing (arms far from the default pose), grounded."""
    return _clip(shared_assets, "accad_A3___Swing_t2", 60, 45)


@pytest.fixture(scope="session")
def walk_human(walk_clip, rmodel):
    from exoactor.retarget import human_from_robot

    return human_from_robot(walk_clip, rmodel)
