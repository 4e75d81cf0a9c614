"""Clip checks on real footage: the sample clip shows two people, a window of it one; a pan
across a real frame moves the camera; a short clip is too short."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoactor.imagine.checks import ClipCheckConfig, check_clip, rank
from exoactor.media import write_h264

pytest.importorskip("mediapipe")
FAST = ClipCheckConfig(samples=4)


def _by_name(report) -> dict:  # noqa: ANN001
    return {c.name: c for c in report.checks}


def test_one_person_in_view_passes(single_person_clip: Path) -> None:
    report = check_clip(single_person_clip, FAST)
    assert report.passed, report.failures
    assert report.frames["people"] == [1, 1, 1, 1] and sum(report.frames["whole_body"]) >= 3
    assert report.score > 0.85


def test_two_people_fail_single_person(short_clip: Path) -> None:
    report = check_clip(short_clip, ClipCheckConfig(samples=6))
    checks = _by_name(report)
    assert not checks["single_person"].passed and checks["static_camera"].passed
    assert 2 in report.frames["people"]


def test_moving_camera_fails(panning_clip: Path) -> None:
    checks = _by_name(check_clip(panning_clip, FAST))
    assert not checks["static_camera"].passed and checks["static_camera"].value > 0.02


def test_too_short(scene_png: Path, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    frame = np.asarray(Image.open(scene_png).convert("RGB"))
    clip = write_h264([frame] * 10, 30.0, tmp_path / "short.mp4")
    report = check_clip(clip, ClipCheckConfig(samples=2))
    assert not _by_name(report)["duration"].passed and "0.33 s" in report.failures[0]


def test_rank_puts_passing_clips_first(single_person_clip: Path, panning_clip: Path) -> None:
    bad, good = check_clip(panning_clip, FAST), check_clip(single_person_clip, FAST)
    assert rank([bad, good]) == [good, bad]


def test_disabled_checks_only_measure_duration(panning_clip: Path) -> None:
    report = check_clip(panning_clip, ClipCheckConfig(enabled=False))
    assert report.passed and [c.name for c in report.checks] == ["duration"]
