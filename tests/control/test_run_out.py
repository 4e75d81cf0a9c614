"""The run-out: a clip that ends mid-walk is carried on to a reachable stop; one that ends at
rest is streamed bit for bit as before; the clip itself never changes."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control.reference import Pose, ReferenceStreamer, StreamerConfig
from exoactor.control.run_out import leg_joints, reachable_stop
from exoactor.formats import RobotMotion
from exoactor.rotations import yaw_quat

SIDES = ("left", "right")
LEGS = tuple(f"{s}_{j}_joint" for s in SIDES
             for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll"))
JOINTS = LEGS + tuple(f"upper_{i}_joint" for i in range(17))
STAND = Pose(np.array([0.0, 0.0, 0.79]), np.array([1.0, 0, 0, 0]), np.full(29, 0.1))
FPS = 50.0


def walk(speed_m_s: float, period_s: float = 1.0, seconds: float = 4.0, heading: float = 0.0,
         noise_m: float = 0.0) -> RobotMotion:
    """Legs (and arms) swinging with period ``period_s`` while the root travels at
    ``speed_m_s`` along ``heading``; the root bobs twice per cycle."""
    t = np.arange(int(seconds * FPS) + 1) / FPS
    phase = 2 * np.pi * t / period_s
    dof = np.zeros((len(t), 29))
    dof[:, :12] = 0.3 * np.sin(phase[:, None] + np.linspace(0, np.pi, 12))
    dof[:, 12:] = 0.1 * np.cos(phase[:, None])
    u = np.array([np.cos(heading), np.sin(heading)])
    pos = np.zeros((len(t), 3))
    pos[:, :2] = speed_m_s * t[:, None] * u
    pos[:, 2] = 0.75 + 0.01 * np.cos(2 * phase)
    pos += np.random.default_rng(0).normal(0.0, noise_m, pos.shape)
    quat = yaw_quat(np.full(len(t), heading))
    return RobotMotion("g1", FPS, JOINTS, pos, quat, dof, source="<walk>")


def standing(seconds: float = 4.0, noise_m: float = 0.01) -> RobotMotion:
    """One pose held, with ``noise_m`` root noise per frame (noisy perception of a person
    standing still)."""
    m = walk(0.0, seconds=seconds)
    n = m.num_frames
    return m.replace(root_pos=np.repeat(m.root_pos[:1], n, 0)
                     + np.random.default_rng(1).normal(0.0, noise_m, (n, 3)),
                     dof_pos=np.repeat(m.dof_pos[:1], n, 0))


def test_leg_joints_by_name() -> None:
    np.testing.assert_array_equal(leg_joints(JOINTS), np.arange(12))


@pytest.mark.parametrize("speed, stop_s", [(1.0, 1.0), (1.5, 1.5)])
def test_a_walk_cut_mid_stride_decelerates_to_a_reachable_stop(speed: float, stop_s: float):
    """It stops within one gait period, or slower where the deceleration bound asks (1.5 m/s at
    1 m/s^2: 1.5 s), along its direction of travel, at ``v T / 2`` past the clip's end."""
    m = walk(speed, heading=0.7)
    ro = reachable_stop(m, decel_m_s2=1.0, min_speed_m_s=0.2)
    assert ro is not None
    assert ro.period_s == pytest.approx(1.0, abs=1.5 / FPS)
    assert ro.speed_m_s == pytest.approx(speed, rel=1e-6)
    assert ro.direction_deg == pytest.approx(np.degrees(0.7))
    assert ro.stop_s == pytest.approx(max(ro.period_s, speed / 1.0))
    assert ro.stop_distance_m == pytest.approx(speed * ro.stop_s / 2)
    pos = ro.motion.root_pos
    np.testing.assert_array_equal(pos[0], m.root_pos[-1])  # continues the clip's last frame
    step = np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=1) * FPS
    assert step[0] == pytest.approx(speed, rel=0.05) and step[-1] < 0.1 * speed
    assert np.all(np.diff(step) <= 1e-9)  # decelerates, never speeds up
    # the legs carry on the clip's own cycle, their swing shrinking to the cycle's mean
    assert np.abs(ro.motion.dof_pos[1] - m.dof_pos[-1]).max() < 0.1
    np.testing.assert_allclose(ro.motion.dof_pos[-1], m.dof_pos[-50:].mean(axis=0), atol=1e-9)
    assert set(ro.summary()) >= {"appended_s", "speed_m_s", "stop_distance_m"}


@pytest.mark.parametrize("motion", [standing(), walk(0.05), walk(1.0).replace(
    dof_pos=np.zeros((201, 29)))], ids=["standing_noisy_root", "marching_on_the_spot",
                                        "root_gliding_legs_still"])
def test_a_reference_at_rest_gets_no_run_out_and_streams_bit_for_bit(motion) -> None:
    assert reachable_stop(motion, 1.0, 0.2) is None
    off = ReferenceStreamer(motion, STAND, config=StreamerConfig())
    on = ReferenceStreamer(motion, STAND, config=StreamerConfig(run_out=True))
    assert on.run_out is None and on.end_s == off.end_s
    for t in np.arange(-0.5, off.end_s + 1.0, 0.013):
        a, b = off.sample(t), on.sample(t)
        for x, y in zip((a.root_pos_w, a.root_quat_w, a.root_lin_vel_w, a.root_ang_vel_w,
                         a.joint_pos), (b.root_pos_w, b.root_quat_w, b.root_lin_vel_w,
                                        b.root_ang_vel_w, b.joint_pos)):
            np.testing.assert_array_equal(x, y)


def test_the_streamer_carries_on_after_the_clip_and_leaves_the_clip_unchanged() -> None:
    m = walk(1.0)
    off = ReferenceStreamer(m, STAND, config=StreamerConfig())
    on = ReferenceStreamer(m, STAND, config=StreamerConfig(run_out=True))
    assert on.run_out is not None
    assert on.end_s == pytest.approx(off.end_s + on.run_out.duration_s)
    for t in np.arange(0.0, m.duration_s + 1e-9, 0.011):  # the clip: as before, bit for bit
        np.testing.assert_array_equal(off.sample(t).root_pos_w, on.sample(t).root_pos_w)
        np.testing.assert_array_equal(off.sample(t).joint_pos, on.sample(t).joint_pos)
        np.testing.assert_array_equal(off.sample(t).root_lin_vel_w, on.sample(t).root_lin_vel_w)
    just_after = on.sample(m.duration_s + 0.01)
    assert just_after.root_lin_vel_w[0] == pytest.approx(1.0, rel=0.05)  # no dead stop
    assert off.sample(m.duration_s + 0.01).root_lin_vel_w[0] == 0.0       # (as it was)
    stop = m.root_pos[-1, :2] + [on.run_out.stop_distance_m, 0.0]
    hold = on.sample(m.duration_s + on.run_out.duration_s + 0.25)
    np.testing.assert_allclose(hold.root_pos_w[:2], stop, atol=1e-9)
    np.testing.assert_array_equal(hold.root_lin_vel_w, 0.0)
    end = on.sample(on.end_s + 1.0)  # back to standing where it stopped
    np.testing.assert_allclose(end.root_pos_w[:2], stop, atol=1e-9)
    np.testing.assert_allclose(end.joint_pos, STAND.joint_pos)


def test_after_the_clip_the_speed_is_charged_against_the_references() -> None:
    """A robot slowing along with a carried-on reference pays no speed term; against a
    reference at rest the term is the robot's speed, as before."""
    from types import SimpleNamespace

    from exoactor.control.filter.config import ObjectiveWeights
    from exoactor.control.filter.decisions import IDENTITY
    from exoactor.control.filter.objective import step_cost

    dt, n = 0.02, 60
    tab = SimpleNamespace(clip_t=-0.1 + dt * np.arange(n), duration_s=0.5, dt=dt,
                          root_pos_w=np.zeros((n, 3)), root_quat_w=np.tile([1.0, 0, 0, 0], (n, 1)),
                          lin_vel_w=np.zeros((n, 3)), body_pos_w=np.zeros((n, 4, 3)),
                          joint_pos=np.zeros((n, 29)), torso_tilt_rad=np.zeros(n),
                          eased_shift_b=np.zeros((n, 2, 4, 3)))
    tab.lin_vel_w[40, 0] = 0.6  # row 40 is after the clip: the reference still moves
    qpos = np.zeros((1, 36))
    qpos[0, 3] = 1.0
    qvel = np.zeros((1, 35))
    qvel[0, 0] = 0.6
    w = ObjectiveWeights()

    def rate(k: int, v: np.ndarray) -> float:
        return float(step_cost(qpos, v, np.zeros((1, 4, 3)), np.zeros(1), IDENTITY[None],
                               IDENTITY[None], tab, k, np.arange(7, 36), w, (0, 1, 2, 3))[0])

    assert rate(40, qvel) == pytest.approx(rate(40, np.zeros((1, 35)))
                                           - w.after_clip_speed * 0.36)
    assert rate(40, qvel) == pytest.approx(rate(41, np.zeros((1, 35))))
    assert rate(41, qvel) == pytest.approx(rate(41, np.zeros((1, 35))) + w.after_clip_speed * 0.36)
