"""Reference streamer: interpolation, velocities, start/end blends, glitch removal."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control.reference import (
    Pose,
    ReferenceStreamer,
    StreamerConfig,
    drop_glitched_leading_frames,
)
from exoactor.errors import InvalidMotionFile
from exoactor.formats import RobotMotion
from exoactor.rotations import yaw, yaw_quat

JOINTS = tuple(f"j{i}" for i in range(29))


def line_motion(n: int = 31, fps: float = 30.0, speed: float = 0.6, yaw_rate: float = 0.3):
    t = np.arange(n) / fps
    pos = np.stack([speed * t, np.zeros(n), np.full(n, 0.78)], axis=1)
    quat = yaw_quat(yaw_rate * t)
    dof = np.outer(t, np.linspace(-1, 1, 29))
    return RobotMotion("g1", fps, JOINTS, pos, quat, dof, source="<line>")


STAND = Pose(np.array([0.0, 0.0, 0.79]), np.array([1.0, 0, 0, 0]), np.full(29, 0.1))


def test_interpolation_is_linear_for_joints_and_slerp_for_the_root():
    m = line_motion()
    s = ReferenceStreamer(m, STAND)
    f = s.sample(0.5 / 30.0)   # half-way between frames 0 and 1
    np.testing.assert_allclose(f.joint_pos, 0.5 * (m.dof_pos[0] + m.dof_pos[1]))
    np.testing.assert_allclose(f.root_pos_w, 0.5 * (m.root_pos[0] + m.root_pos[1]))
    assert float(yaw(f.root_quat_w)) == pytest.approx(0.3 * 0.5 / 30.0)
    g = s.sample(10 / 30.0)
    np.testing.assert_allclose(g.joint_pos, m.dof_pos[10])


def test_velocities_by_central_differences_in_root_frame():
    s = ReferenceStreamer(line_motion(), STAND)
    f = s.sample(0.5)
    np.testing.assert_allclose(f.root_lin_vel_w, [0.6, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(f.root_ang_vel_w, [0.0, 0.0, 0.3], atol=1e-9)
    heading = 0.3 * 0.5
    np.testing.assert_allclose(f.root_lin_vel_b[:2], [0.6 * np.cos(heading),
                                                      -0.6 * np.sin(heading)], atol=1e-9)
    assert f.root_ang_vel_b[2] == pytest.approx(0.3)


def test_end_holds_the_last_frame_then_returns_to_standing():
    m = line_motion()
    cfg = StreamerConfig(hold_s=0.5, return_s=1.0)
    s = ReferenceStreamer(m, STAND, config=cfg)
    hold = s.sample(m.duration_s + 0.25)
    np.testing.assert_allclose(hold.joint_pos, m.dof_pos[-1])
    np.testing.assert_array_equal(hold.root_lin_vel_w, 0.0)
    mid = s.sample(m.duration_s + 0.5 + 0.5)
    np.testing.assert_allclose(mid.joint_pos, 0.5 * (m.dof_pos[-1] + STAND.joint_pos))
    end = s.sample(s.end_s + 5.0)
    np.testing.assert_allclose(end.joint_pos, STAND.joint_pos)
    assert end.root_pos_w[2] == pytest.approx(0.79)
    np.testing.assert_allclose(end.root_pos_w[:2], m.root_pos[-1, :2])   # stays where it ended
    assert float(yaw(end.root_quat_w)) == pytest.approx(float(yaw(m.root_quat[-1])))


def test_start_blends_from_the_robot_pose_into_the_first_frame():
    m = line_motion()
    start = Pose(np.array([0.0, 0.0, 0.79]), np.array([1.0, 0, 0, 0]), np.zeros(29))
    s = ReferenceStreamer(m, STAND, start=start, config=StreamerConfig(blend_in_s=1.0))
    assert s.blend_in_s == 1.0
    np.testing.assert_allclose(s.sample(-1.0).joint_pos, 0.0)
    np.testing.assert_allclose(s.sample(-0.5).joint_pos, 0.5 * m.dof_pos[0])
    np.testing.assert_allclose(s.sample(-1e-9).joint_pos, m.dof_pos[0], atol=1e-6)
    assert s.sample(-0.5).root_lin_vel_w[2] < 0  # the root moves from 0.79 down to 0.78


def glitched(n_bad: int) -> RobotMotion:
    m = line_motion()
    pos = m.root_pos.copy()
    dof = m.dof_pos.copy()
    pos[:n_bad] += np.array([2.0, 1.0, 0.0])   # root jumps metres
    if n_bad:
        dof[0, 5] += 0.5
    return m.replace(root_pos=pos, dof_pos=dof)


@pytest.mark.parametrize("n_bad", [0, 1, 2])
def test_glitched_leading_frames_are_dropped_and_reported(n_bad):
    clean, report = drop_glitched_leading_frames(glitched(n_bad))
    assert report.dropped_frames == n_bad
    assert clean.num_frames == 31 - n_bad
    assert len(report.reasons) == n_bad
    if n_bad:
        assert "root moves" in report.reasons[-1]


def test_shared_walk_drops_one_frame(walk_motion):
    _, report = drop_glitched_leading_frames(walk_motion)
    assert report.dropped_frames == 1
    assert "frame 0" in report.reasons[0]


def test_too_short_motion_is_an_error():
    m = line_motion(n=1)
    with pytest.raises(InvalidMotionFile, match="at least 2"):
        ReferenceStreamer(m, STAND)
