"""The tracking loop: exact save/restore, reference modifications, the safety layer on hands."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control import TrackConfig
from exoactor.control.controller import ReferenceFrame
from exoactor.control.loop import ReferenceMod, apply_mod
from exoactor.control.track import build_simulation_loop


def _roll(loop, steps: int, mod=None) -> np.ndarray:
    qpos = []
    for _ in range(steps):
        loop.step(mod)
        qpos.append(loop.plant.sim.data.qpos.copy())
    return np.array(qpos)


@pytest.mark.parametrize("drift", [True, False])
def test_save_roll_restore_roll_is_identical(walk_motion, drift):
    run = build_simulation_loop(walk_motion, TrackConfig(drift={"enabled": drift}))
    loop = run.loop
    _roll(loop, 40)                       # 0.8 s in: history full, rate limiter and drift warm
    saved = loop.save()
    n_rec = len(loop.rec["clip_t"])
    first = _roll(loop, 50)               # 1 s
    after_first = (loop.clip_time_s, loop.controller.get_state()[1].copy(),
                   loop.safety.get_state().previous.copy())
    loop.restore(saved)
    assert len(loop.rec["clip_t"]) == n_rec and loop.clip_time_s == saved.clip_time_s
    second = _roll(loop, 50)
    assert np.max(np.abs(second - first)) == 0.0
    assert loop.clip_time_s == after_first[0]
    np.testing.assert_array_equal(loop.controller.get_state()[1], after_first[1])
    np.testing.assert_array_equal(loop.safety.get_state().previous, after_first[2])


def test_a_different_branch_after_restore_differs_then_restores(walk_motion):
    run = build_simulation_loop(walk_motion, TrackConfig())
    loop = run.loop
    _roll(loop, 30)
    saved = loop.save()
    base = _roll(loop, 50)
    loop.restore(saved)
    pushed = _roll(loop, 50, ReferenceMod(root_lin_vel_offset_h=(0.3, 0.0)))
    assert np.max(np.abs(pushed - base)) > 1e-3     # the planner's input changes the rollout
    loop.restore(saved)
    again = _roll(loop, 50)
    assert np.max(np.abs(again - base)) == 0.0


def test_time_warp_rate_scales_the_clock(walk_motion):
    loop = build_simulation_loop(walk_motion, TrackConfig(drift={"enabled": False})).loop
    t0 = loop.clip_time_s
    loop.step(ReferenceMod(clock_rate=0.5))
    assert loop.clip_time_s - t0 == pytest.approx(0.5 * loop.dt_s)
    t1 = loop.clip_time_s
    loop.step(ReferenceMod(clock_rate=0.0, lookahead=False))
    assert loop.clip_time_s == t1


def test_default_mod_changes_nothing():
    frame = ReferenceFrame(np.array([0.1, 0.2, 0.78]), np.array([0.9, 0.0, 0.0, np.sqrt(0.19)]),
                           np.array([0.5, 0.1, 0.0]), np.array([0.0, 0.0, 0.3]),
                           np.linspace(-0.5, 0.5, 29))
    out = apply_mod(frame, ReferenceMod(), np.arange(12), np.zeros(12), np.zeros(29))
    for a, b in zip((out.root_lin_vel_w, out.root_ang_vel_w, out.joint_pos),
                    (frame.root_lin_vel_w, frame.root_ang_vel_w, frame.joint_pos)):
        np.testing.assert_array_equal(a, b)


def test_mods_edit_what_they_name():
    yaw90 = np.array([np.sqrt(0.5), 0.0, 0.0, np.sqrt(0.5)])     # facing +y
    frame = ReferenceFrame(np.zeros(3), yaw90, np.zeros(3), np.zeros(3), np.ones(29))
    stand = np.zeros(29)
    legs = np.arange(12)
    out = apply_mod(frame, ReferenceMod(root_lin_vel_offset_h=(0.2, 0.0),
                                        yaw_rate_offset_rad_s=0.4, stance_blend=0.25),
                    legs, np.zeros(12), stand)
    np.testing.assert_allclose(out.root_lin_vel_w, [0.0, 0.2, 0.0], atol=1e-12)  # forward = +y
    np.testing.assert_allclose(out.root_ang_vel_w, [0.0, 0.0, 0.4], atol=1e-12)
    np.testing.assert_allclose(out.joint_pos[legs], 0.75)
    np.testing.assert_allclose(out.joint_pos[12:], 1.0)
    wide = apply_mod(frame, ReferenceMod(leg_stride_scale=2.0), legs, np.full(12, 0.5), stand)
    np.testing.assert_allclose(wide.joint_pos[legs], 1.5)
    with pytest.raises(ValueError, match="clock_rate"):
        ReferenceMod(clock_rate=-1.0)
