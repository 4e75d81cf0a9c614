"""Ground-truth round trip on short real clips: robot → "human" → robot gives the robot back.

The full set of shared motions runs in ``benchmarks/retarget.py``; thresholds are the issue's.
"""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.formats import resample_robot_motion
from exoactor.retarget import RetargetConfig, compare_motions, human_from_robot, retarget


@pytest.fixture(scope="module", params=["walk_clip", "swing_clip"])
def roundtrip(request, rmodel):
    clip = request.getfixturevalue(request.param)
    human = human_from_robot(clip, rmodel)
    result = retarget(human, RetargetConfig())
    reference = resample_robot_motion(clip, 50.0)
    n = min(reference.num_frames, result.motion.num_frames)
    return result, compare_motions(result.motion.slice(0, n), reference.slice(0, n), rmodel)


def test_body_positions_and_joints_come_back(roundtrip) -> None:
    result, err = roundtrip
    assert err.body_error_mm["median"] <= 20.0
    assert err.body_error_mm["p95"] <= 50.0
    assert err.joint_error_rad <= 0.10
    assert result.metrics.keypoint_error_mm["median"] <= 20.0


def test_limits_contacts_and_ground_hold(roundtrip) -> None:
    result, _ = roundtrip
    m = result.metrics
    assert result.status == "ok"
    assert m.joint_limit_violations == 0
    assert m.foot_skate_mm <= 5.0
    assert m.foot_penetration_mm <= 5.0
    assert m.foot_float_mm <= 10.0
    assert m.self_collisions == 0
    assert m.fps == 50.0
    assert result.motion.num_frames == m.num_frames


def test_a_larger_person_gives_the_same_joint_angles(walk_clip, rmodel) -> None:
    """A person 1.25x the robot's size (every length, and the walk itself) retargets to the same
    motion: per-segment scaling undoes the size."""
    human = human_from_robot(walk_clip, rmodel)
    big = human.replace(joints=1.25 * human.joints, root_pos=1.25 * human.root_pos)
    cfg = RetargetConfig(output_fps=None)
    a = retarget(human, cfg).motion
    b = retarget(big, cfg).motion
    assert np.abs(a.dof_pos - b.dof_pos).mean() < 0.02
    # the walk is scaled back to the robot's stride about its start
    np.testing.assert_allclose(b.root_pos[:, :2] - b.root_pos[0, :2],
                               a.root_pos[:, :2] - a.root_pos[0, :2], atol=0.02)


def test_heavy_smoothing_keeps_contacts_and_rate(walk_human) -> None:
    """Smoothing acts before the feet are pinned: even a 0.2 s filter leaves them still, and
    the output covers the input's duration at the tracker's 50 Hz."""
    res = retarget(walk_human, RetargetConfig(smoothing_sigma_s=0.2))
    assert res.metrics.foot_skate_mm <= 1.0 and res.metrics.foot_float_mm <= 10.0
    duration_in = (walk_human.num_frames - 1) / walk_human.fps
    assert res.motion.fps == 50.0
    assert abs(res.motion.duration_s - duration_in) < 1 / 50.0
