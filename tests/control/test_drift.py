"""Drift correction: the pure pieces and the corrector's effect on the reference it edits."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control.controller import ReferenceFrame, RobotState
from exoactor.control.drift import (
    DriftConfig,
    DriftCorrector,
    arrival_time_s,
    heading_correction,
    lag_rate,
    plan_reference,
    ramp,
    scale_swing,
    speed_rate,
    steer_angle,
    velocity_budget,
)
from exoactor.formats import RobotMotion
from exoactor.rotations import yaw_quat

JOINTS = tuple(f"j{i}" for i in range(29))


def walk(heading_rad: float = 0.0, travel_rad: float = 0.0, speed: float = 0.8,
         seconds: float = 6.0, fps: float = 30.0) -> RobotMotion:
    n = int(seconds * fps) + 1
    t = np.arange(n) / fps
    d = np.array([np.cos(travel_rad), np.sin(travel_rad), 0.0])
    pos = np.outer(speed * t, d) + np.array([0.0, 0.0, 0.78])
    return RobotMotion("g1", fps, JOINTS, pos, np.tile(yaw_quat(heading_rad), (n, 1)),
                       np.zeros((n, 29)))


def frame(pos, heading=0.0, vel=(0.8, 0.0, 0.0)) -> ReferenceFrame:
    return ReferenceFrame(np.asarray(pos, float), yaw_quat(heading), np.asarray(vel, float),
                          np.zeros(3), np.zeros(29))


def state(pos, heading=0.0) -> RobotState:
    return RobotState(0.0, np.asarray(pos, float), yaw_quat(heading), np.zeros(3), np.zeros(3),
                      np.zeros(29), np.zeros(29))


def test_heading_correction_turns_toward_the_target_and_saturates():
    assert heading_correction(0.1, 0.0, 2.0, 1.0) == pytest.approx(0.2)
    assert heading_correction(0.0, 0.1, 2.0, 1.0) == pytest.approx(-0.2)
    assert heading_correction(3.0, 0.0, 2.0, 1.0) == 1.0
    # wraps: from 179 deg to -179 deg is +2 deg, not -358
    assert heading_correction(np.radians(-179), np.radians(179), 2.0, 1.0) == pytest.approx(
        2.0 * np.radians(2.0))


def test_steer_and_rates():
    assert steer_angle(1.0, 1.0, 1.0) == pytest.approx(np.pi / 4)
    assert steer_angle(-5.0, 1.0, 0.5) == -0.5
    assert speed_rate(2.0, 1.0) == 0.5 and speed_rate(0.5, 1.0) == 1.0
    # with a knee: untouched below 0.9 m/s, fully slowed to 0.8 m/s from 1.1 m/s, blended between
    assert speed_rate(0.85, 0.8, 0.9, 1.1) == 1.0
    assert speed_rate(1.6, 0.8, 0.9, 1.1) == pytest.approx(0.5)
    assert speed_rate(1.0, 0.8, 0.9, 1.1) == pytest.approx(0.9)
    assert lag_rate(0.2, 0.3, 1.0) == 1.0 and lag_rate(0.8, 0.3, 1.0) == pytest.approx(0.5)
    np.testing.assert_allclose(ramp(np.array([0.0, 0.3, 1.0]), 0.2, 0.4), [0.0, 0.5, 1.0])


def test_plan_leaves_forward_walks_alone_and_faces_sidesteps():
    cfg = DriftConfig()
    forward = plan_reference(walk(0.0, 0.0), cfg)
    np.testing.assert_allclose(forward.heading_offset_rad, 0.0, atol=1e-9)
    np.testing.assert_allclose(forward.speed_m_s[30:-30], 0.8, atol=1e-6)
    side = plan_reference(walk(0.0, np.radians(70)), cfg)     # side-step to the left
    assert np.degrees(side.heading_offset_rad[len(side.time_s) // 2]) == pytest.approx(70, abs=1)


def test_disabled_corrector_returns_the_reference_unchanged():
    c = DriftCorrector(DriftConfig(enabled=False), 0.02, plan_reference(walk(), DriftConfig()))
    seen = frame([0, 0, 0.78])
    assert c.correct(seen, seen, state([1.0, 1.0, 0.78], 0.5), 1.0, 0.02) is seen
    assert c.rate == 1.0


def test_heading_loop_adds_yaw_rate_toward_the_reference_heading():
    cfg = DriftConfig(velocity=False, replan_heading=False, steer=False, replan_time=False)
    c = DriftCorrector(cfg, 0.02, plan_reference(walk(), cfg))
    seen = frame([0, 0, 0.78])
    out = c.correct(seen, seen, state([0, 0, 0.78], heading=-0.2), 1.0, 0.02)
    assert out.root_ang_vel_b[2] == pytest.approx(0.4)   # Ky 2 x 0.2 rad
    np.testing.assert_allclose(out.root_lin_vel_w, seen.root_lin_vel_w)


def test_velocity_loop_pushes_toward_the_reference_in_the_robot_frame():
    cfg = DriftConfig(heading=False, replan_heading=False, steer=False, replan_time=False)
    c = DriftCorrector(cfg, 0.02, plan_reference(walk(), cfg))
    seen = frame([1.0, 0.0, 0.78])
    # robot 0.3 m behind, facing the same way: +0.3 m/s forward on top of 0.8
    out = c.correct(seen, seen, state([0.7, 0.0, 0.78]), 1.0, 0.02)
    assert out.root_lin_vel_b[0] == pytest.approx(1.1)
    # robot 2 m to the right of the path: capped lateral push to the left
    out = c.correct(seen, seen, state([1.0, -2.0, 0.78]), 1.0, 0.02)
    assert out.root_lin_vel_b[1] == pytest.approx(0.5)


def test_forward_walk_never_waits_for_a_lagging_robot():
    # the regression of the perceived walk that fell: in forward walking the clock keeps time
    cfg = DriftConfig()
    c = DriftCorrector(cfg, 0.02, plan_reference(walk(), cfg))
    seen = frame([1.0, 0.0, 0.78])
    out = c.correct(seen, seen, state([0.2, 0.0, 0.78]), 3.0, 0.02)    # 0.8 m behind
    assert c.rate == pytest.approx(1.0)
    assert out.root_lin_vel_b[0] == pytest.approx(0.8 + cfg.velocity_max_m_s)


def test_sidestep_waits_for_a_lagging_robot_within_the_velocity_budget():
    cfg = DriftConfig()
    travel = np.radians(70)
    c = DriftCorrector(cfg, 0.02, plan_reference(walk(0.0, travel), cfg))
    d = np.array([np.cos(travel), np.sin(travel), 0.0])
    seen = frame(2.4 * d + [0, 0, 0.78], vel=0.8 * d)
    c.correct(seen, seen, state(2.3 * d + [0, 0, 0.78], heading=travel), 3.0, 0.02)
    assert c.rate == pytest.approx(1.0)                      # 0.1 m behind: keep time
    out = c.correct(seen, seen, state(1.6 * d + [0, 0, 0.78], heading=travel), 3.0, 0.02)
    assert c.rate == pytest.approx(0.5)                      # 0.8 m behind: wait
    # the heading re-plan faces the robot along the travel, so the policy (which reads the
    # velocity input in its own frame) is asked to walk forward: at the gait-consistent
    # 0.8 m/s x rate, plus the feedback within the budget
    assert out.root_lin_vel_b[0] == pytest.approx(0.8 * c.rate + cfg.velocity_max_m_s, abs=0.02)
    assert abs(out.root_lin_vel_b[1]) < 0.02


def test_fast_reference_slows_the_clock_with_a_consistent_velocity():
    cfg = DriftConfig()
    walking = DriftCorrector(cfg, 0.02, plan_reference(walk(speed=0.85), cfg))
    f = frame([2.0, 0.0, 0.78], vel=(0.85, 0.0, 0.0))
    walking.correct(f, f, state([2.0, 0.0, 0.78]), 3.0, 0.02)
    assert walking.rate == pytest.approx(1.0)                # walks keep their pace
    fast = DriftCorrector(cfg, 0.02, plan_reference(walk(speed=1.6), cfg))
    f = frame([2.0, 0.0, 0.78], vel=(1.6, 0.0, 0.0))
    out = fast.correct(f, f, state([2.0, 0.0, 0.78]), 1.0, 0.02)
    assert fast.rate == pytest.approx(0.5)                   # a 1.6 m/s run plays at 0.8 m/s
    assert out.root_lin_vel_b[0] == pytest.approx(0.8, abs=0.05)


def test_velocity_budget_caps_the_departure_norm():
    consistent = np.array([0.5, 0.0])
    np.testing.assert_allclose(velocity_budget(np.array([0.7, 0.1]), consistent, 0.5), [0.7, 0.1])
    out = velocity_budget(np.array([1.5, 0.0]), consistent, 0.5)
    np.testing.assert_allclose(out, [1.0, 0.0])
    out = velocity_budget(np.array([0.5 + 0.6, 0.8]), consistent, 0.5)
    assert np.linalg.norm(out - consistent) == pytest.approx(0.5)
    np.testing.assert_allclose((out - consistent) / 0.5, [0.6, 0.8])   # direction kept


def test_after_the_clip_only_the_settle_loop_pushes():
    m = walk()
    seen = frame([5.0, 0.0, 0.78], vel=(0.0, 0.0, 0.0))
    robot = state([4.0, 0.0, 0.78])                         # 1 m short of the end position
    quiet = DriftCorrector(DriftConfig(settle=False), 0.02, plan_reference(m, DriftConfig()))
    out = quiet.correct(seen, seen, robot, m.duration_s + 0.5, 0.02)
    np.testing.assert_allclose(out.root_lin_vel_w, 0.0)     # no position push in the hold
    assert quiet.rate == 1.0
    cfg = DriftConfig()
    settle = DriftCorrector(cfg, 0.02, plan_reference(m, cfg))
    out = settle.correct(seen, seen, robot, m.duration_s + 0.5, 0.02)
    np.testing.assert_allclose(out.root_lin_vel_w, [cfg.velocity_max_m_s, 0.0, 0.0], atol=1e-9)
    assert settle.rate == 1.0


def stop_and_rest(walk_s: float = 3.0, rest_s: float = 2.0, fps: float = 30.0) -> RobotMotion:
    """0.8 m/s forward for ``walk_s``, then still for ``rest_s``; hip pitches swing +-0.3 rad."""
    n = int((walk_s + rest_s) * fps) + 1
    t = np.arange(n) / fps
    x = 0.8 * np.minimum(t, walk_s)
    pos = np.stack([x, np.zeros(n), np.full(n, 0.78)], axis=1)
    dof = np.zeros((n, 29))
    dof[:, 0] = 0.3 * np.sin(2 * np.pi * t) * (t < walk_s)
    return RobotMotion("g1", fps, JOINTS, pos, np.tile(yaw_quat(0.0), (n, 1)), dof)


def test_arrival_time_is_where_the_root_stays_near_its_end():
    m = stop_and_rest()
    # reaches 0.1 m short of the end 0.125 s before it stops
    assert arrival_time_s(m.root_pos, m.fps, 0.1) == pytest.approx(3.0 - 0.1 / 0.8, abs=0.04)
    assert arrival_time_s(m.root_pos[-10:], m.fps, 0.1) == 0.0     # never leaves the radius


def test_stance_starts_before_a_stop_inside_the_clip_and_at_the_end_otherwise():
    cfg = DriftConfig()
    stop = plan_reference(stop_and_rest(), cfg)
    assert stop.stance_from_s == pytest.approx(3.0 - 0.1 / 0.8 - cfg.stance_lead_s, abs=0.04)
    moving = plan_reference(walk(), cfg)
    assert moving.stance_from_s == pytest.approx(moving.duration_s)
    late = plan_reference(stop_and_rest(rest_s=0.3), cfg)          # stops too late to count
    assert late.stance_from_s == pytest.approx(late.duration_s)


def test_stance_replaces_only_the_legs_with_the_standing_pose():
    cfg = DriftConfig(stride=False)
    m = stop_and_rest()
    stand = np.full(29, 0.5)
    legs = np.arange(12)
    c = DriftCorrector(cfg, 0.02, plan_reference(m, cfg), stand, legs)
    f = ReferenceFrame(np.array([2.4, 0, 0.78]), yaw_quat(0.0), np.zeros(3), np.zeros(3),
                       np.full(29, -0.2))
    robot = state([2.4, 0.0, 0.78])
    early = c.correct(f, f, robot, 1.0, 0.02)
    np.testing.assert_allclose(early.joint_pos, -0.2)               # walking: untouched
    late = c.correct(f, f, robot, 3.5, 0.02)                        # at rest, blend done
    np.testing.assert_allclose(late.joint_pos[legs], 0.5)
    np.testing.assert_allclose(late.joint_pos[12:], -0.2)


def test_scale_swing_scales_about_the_center():
    center = np.array([0.1, -0.2])
    q = np.array([0.3, -0.1])
    np.testing.assert_allclose(scale_swing(q, center, 1.0), q)
    np.testing.assert_allclose(scale_swing(q, center, 1.5), [0.4, -0.05])


@pytest.mark.parametrize(("robot_x", "longer"), [(0.6, True), (1.4, False)])
def test_stride_lengthens_the_swing_of_a_lagging_robot_and_shortens_it_ahead(robot_x, longer):
    cfg = DriftConfig(stance=False, stride_tau_s=0.02)             # no low-pass lag in the test
    m = walk()
    m = m.replace(dof_pos=np.tile(0.3 * np.sin(np.arange(m.num_frames) / 5.0)[:, None], (1, 29)))
    plan = plan_reference(m, cfg)
    c = DriftCorrector(cfg, 0.02, plan, np.zeros(29), np.arange(12))
    t = 2.0
    q_ref = np.array([np.interp(t + 0.02, plan.time_s, m.dof_pos[:, j]) for j in range(29)])
    center = np.array([np.interp(t + 0.02, plan.time_s, plan.joint_center[:, j])
                       for j in range(29)])
    seen = ReferenceFrame(np.array([1.0, 0, 0.78]), yaw_quat(0.0), np.array([0.8, 0, 0]),
                          np.zeros(3), q_ref)
    out = c.correct(seen, seen, state([robot_x, 0.0, 0.78]), t, 0.02)
    scale = 1.0 + cfg.stride_gain_per_m * (1.0 - robot_x)          # 1.2 behind, 0.8 ahead
    np.testing.assert_allclose(out.joint_pos[:12], scale_swing(q_ref[:12], center[:12], scale))
    np.testing.assert_allclose(out.joint_pos[12:], q_ref[12:])      # arms untouched
    swing_in = np.abs(q_ref[:12] - center[:12]).sum()
    swing_out = np.abs(out.joint_pos[:12] - center[:12]).sum()
    assert (swing_out > swing_in) == longer
