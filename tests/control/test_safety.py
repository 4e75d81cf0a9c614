"""Safety layer: pure logic, no MuJoCo (it will guard the real robot too)."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.control.safety import (
    FallSignals,
    JointLimits,
    SafetyConfig,
    SafetyLayer,
    clip_to_limits,
    is_fallen,
    pd_torque,
    rate_limit,
)


def layer(**cfg) -> SafetyLayer:
    limits = JointLimits(lower=np.array([-1.0, -0.5, 0.0]), upper=np.array([1.0, 0.5, 2.0]),
                         torque_nm=np.array([50.0, 5.0, 100.0]))
    s = SafetyLayer(limits, kp=np.array([100.0, 40.0, 150.0]), kd=np.array([2.0, 5.0, 4.0]),
                    torque_limit_nm=np.array([100.0, 40.0, 150.0]), config=SafetyConfig(**cfg))
    s.reset(np.zeros(3))
    return s


def test_torque_limit_is_the_smaller_of_controller_and_hardware():
    np.testing.assert_array_equal(layer().torque_limit_nm, [50.0, 5.0, 100.0])


def test_targets_are_clipped_to_joint_limits():
    s = layer(max_target_rate_rad_s=1e6)
    cmd = s.filter(np.array([3.0, -2.0, 1.0]), np.zeros(3), np.zeros(3), dt_s=0.02)
    np.testing.assert_array_equal(cmd.target, [1.0, -0.5, 1.0])
    assert cmd.n_clipped == 2 and cmd.mode == "track"


def test_limit_margin():
    np.testing.assert_allclose(clip_to_limits(np.array([5.0, -5.0]), np.array([-1.0, -1.0]),
                                              np.array([1.0, 1.0]), 0.1), [0.9, -0.9])


def test_rate_limit_caps_the_change_per_step():
    s = layer(max_target_rate_rad_s=10.0)
    cmd = s.filter(np.array([1.0, 0.5, 2.0]), np.zeros(3), np.zeros(3), dt_s=0.02)
    np.testing.assert_allclose(cmd.target, [0.2, 0.2, 0.2])   # 10 rad/s * 0.02 s
    assert cmd.n_rate_limited == 3
    cmd = s.filter(np.array([1.0, 0.5, 2.0]), np.zeros(3), np.zeros(3), dt_s=0.02)
    np.testing.assert_allclose(cmd.target, [0.4, 0.4, 0.4])   # from the last sent target
    np.testing.assert_allclose(rate_limit(np.array([1.0]), np.array([0.0]), 0.3), [0.3])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_target_stops_into_damping(bad):
    s = layer()
    cmd = s.filter(np.array([0.1, bad, 0.0]), np.array([0.1, 0.2, 0.3]), np.zeros(3), 0.02, 1.5)
    assert s.stopped and cmd.mode == "damping"
    np.testing.assert_array_equal(cmd.kp, 0.0)
    np.testing.assert_array_equal(cmd.kd, SafetyConfig().damping_kd)
    assert np.all(np.isfinite(cmd.target))
    assert "non-finite target on joints [1]" in s.stop_reason
    assert s.events[0].time_s == 1.5
    # latched: a good target afterwards still gets damping
    cmd = s.filter(np.zeros(3), np.zeros(3), np.zeros(3), 0.02)
    assert cmd.mode == "damping"
    s.reset(np.zeros(3))
    assert s.filter(np.zeros(3), np.zeros(3), np.zeros(3), 0.02).mode == "track"


def test_non_finite_state_stops():
    s = layer()
    cmd = s.filter(np.zeros(3), np.array([0.0, np.nan, 0.0]), np.zeros(3), 0.02)
    assert cmd.mode == "damping" and np.all(np.isfinite(cmd.target))


def test_pd_torque_is_clipped():
    tau = pd_torque(np.array([1.0, 1.0]), np.zeros(2), np.array([0.0, 10.0]),
                    kp=np.array([100.0, 10.0]), kd=np.array([2.0, 1.0]),
                    torque_limit_nm=np.array([50.0, 50.0]))
    np.testing.assert_allclose(tau, [50.0, 0.0])


CFG = SafetyConfig()


@pytest.mark.parametrize("signals, fallen", [
    # squat: pelvis low but the reference is low too (spec §2: squat at 0.50 vs ref 0.53)
    (FallSignals(0.50, 0.2, 0.53, 0.2), False),
    # crouch walk: torso tilts 68 deg with the reference at 60 deg
    (FallSignals(0.7, np.radians(68), 0.7, np.radians(60)), False),
    # on the floor
    (FallSignals(0.15, np.radians(85), 0.78, np.radians(3)), True),
    # pelvis low while the reference stands
    (FallSignals(0.45, np.radians(10), 0.78, np.radians(2)), True),
    # torso tipped over while the reference is upright, pelvis still high
    (FallSignals(0.7, np.radians(62), 0.78, np.radians(5)), True),
])
def test_fall_is_judged_against_the_reference(signals, fallen):
    assert is_fallen(signals, CFG) is fallen


def test_fall_switches_to_damping():
    s = layer()
    assert not s.check_fall(FallSignals(0.78, 0.05, 0.78, 0.05), 1.0)
    assert s.filter(np.zeros(3), np.zeros(3), np.zeros(3), 0.02).mode == "track"
    assert s.check_fall(FallSignals(0.2, 1.4, 0.78, 0.05), 2.0)
    cmd = s.filter(np.zeros(3), np.zeros(3), np.zeros(3), 0.02)
    assert cmd.mode == "damping"
    np.testing.assert_array_equal(cmd.kp, 0.0)
    assert [e.kind for e in s.events] == ["fall", "stop"]


def test_fall_without_stop_is_only_recorded():
    s = layer(stop_on_fall=False)
    assert s.check_fall(FallSignals(0.2, 1.4, 0.78, 0.05), 2.0)
    assert not s.stopped and s.events[0].kind == "fall"


def test_config_rejects_bad_values():
    with pytest.raises(ValueError):
        SafetyConfig(max_target_rate_rad_s=0.0)
    with pytest.raises(ValueError):
        SafetyConfig(unknown=1)


def test_safety_module_imports_no_mujoco():
    import subprocess
    import sys

    code = ("import sys, exoactor.control.safety; "
            "assert 'mujoco' not in sys.modules, 'safety imported mujoco'")
    subprocess.run([sys.executable, "-c", code], check=True)
