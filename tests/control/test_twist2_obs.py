"""The TWIST2 observation, element by element, against hand-computed values (spec §1.2)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from exoactor.control.controller import ReferenceFrame, RobotState
from exoactor.control.twist2 import (
    DEFAULT_JOINT_POS,
    OBS_DIM,
    TWIST2_JOINTS,
    Twist2Config,
    Twist2Controller,
    action_to_target,
    mimic_obs,
    proprio_obs,
    sim2sim_gains,
)
from exoactor.errors import ExoActorError
from exoactor.rotations import as_wxyz

YAW90 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])


def quat_rpy(roll: float, pitch: float, yaw: float) -> np.ndarray:
    return as_wxyz(Rotation.from_euler("ZYX", [yaw, pitch, roll]))


def test_mimic_velocities_are_in_the_reference_root_frame():
    joints = np.linspace(-0.5, 0.5, 29)
    ref = ReferenceFrame(root_pos_w=np.array([3.0, 4.0, 0.75]), root_quat_w=YAW90,
                         root_lin_vel_w=np.array([1.0, 2.0, 0.5]),
                         root_ang_vel_w=np.array([0.0, 0.0, 0.3]), joint_pos=joints)
    obs = mimic_obs(ref)
    assert obs.shape == (35,)
    # heading +90 deg: world (1, 2) seen from the root is (2, -1)
    assert obs[0] == pytest.approx(2.0)
    assert obs[1] == pytest.approx(-1.0)
    assert obs[2] == pytest.approx(0.75)      # raw root height, no offset
    assert obs[3] == pytest.approx(0.0, abs=1e-12)
    assert obs[4] == pytest.approx(0.0, abs=1e-12)
    assert obs[5] == pytest.approx(0.3)       # yaw rate, root frame
    np.testing.assert_array_equal(obs[6:35], joints)  # absolute, not offset by the default


def test_mimic_roll_pitch_are_zyx_euler_and_yaw_free():
    ref = ReferenceFrame(np.zeros(3), quat_rpy(0.2, -0.1, 2.5), np.zeros(3), np.zeros(3),
                         np.zeros(29))
    obs = mimic_obs(ref)
    assert obs[3] == pytest.approx(0.2)
    assert obs[4] == pytest.approx(-0.1)


def test_proprio_entries_and_scales():
    q = DEFAULT_JOINT_POS + 0.01 * np.arange(29)
    dq = np.arange(29, dtype=float) + 1.0
    last = np.linspace(-3, 3, 29)
    obs = proprio_obs(np.array([0.4, -0.8, 1.2]), quat_rpy(-0.3, 0.25, 1.0), q, dq, last)
    assert obs.shape == (92,)
    np.testing.assert_allclose(obs[0:3], [0.1, -0.2, 0.3])          # x 0.25
    assert obs[3] == pytest.approx(-0.3)                            # roll
    assert obs[4] == pytest.approx(0.25)                            # pitch, no yaw
    np.testing.assert_allclose(obs[5:34], 0.01 * np.arange(29))     # q - default
    expected_vel = 0.05 * dq
    expected_vel[[4, 5, 10, 11]] = 0.0                              # ankles exactly 0
    np.testing.assert_allclose(obs[34:63], expected_vel)
    for i in (4, 5, 10, 11):
        assert obs[34 + i] == 0.0
    np.testing.assert_array_equal(obs[63:92], last)                 # raw last action


def test_action_scaling_and_clip():
    a = np.zeros(29)
    a[0], a[1], a[2] = 1.0, 25.0, -12.0
    t = action_to_target(a)
    assert t[0] == pytest.approx(DEFAULT_JOINT_POS[0] + 0.5)
    assert t[1] == pytest.approx(DEFAULT_JOINT_POS[1] + 5.0)   # clipped at 10
    assert t[2] == pytest.approx(DEFAULT_JOINT_POS[2] - 5.0)
    np.testing.assert_array_equal(t[3:], DEFAULT_JOINT_POS[3:])


def test_default_pose_and_gains_follow_the_spec_table():
    np.testing.assert_array_equal(DEFAULT_JOINT_POS[:6], [-0.2, 0, 0, 0.4, -0.2, 0])
    assert DEFAULT_JOINT_POS[16] == 0.4 and DEFAULT_JOINT_POS[23] == -0.4
    assert DEFAULT_JOINT_POS[18] == 1.2 and DEFAULT_JOINT_POS[25] == 1.2
    g = sim2sim_gains(TWIST2_JOINTS)
    idx = {n: i for i, n in enumerate(TWIST2_JOINTS)}
    expect = {"left_hip_pitch_joint": (100, 2, 100), "right_knee_joint": (150, 4, 150),
              "left_ankle_roll_joint": (40, 2, 40), "waist_pitch_joint": (150, 4, 150),
              "right_elbow_joint": (40, 5, 40), "left_wrist_yaw_joint": (4, 0.2, 4)}
    for name, (kp, kd, clip) in expect.items():
        i = idx[name]
        assert (g.kp[i], g.kd[i], g.torque_limit_nm[i]) == (kp, kd, clip)


def _state(t: float = 0.0) -> RobotState:
    return RobotState(t, np.array([0, 0, 0.78]), np.array([1.0, 0, 0, 0]), np.zeros(3),
                      np.array([0.1, 0.2, 0.3]), DEFAULT_JOINT_POS + 0.05, np.full(29, 0.5))


def _ref(z: float = 0.78) -> ReferenceFrame:
    return ReferenceFrame(np.array([0, 0, z]), np.array([1.0, 0, 0, 0]), np.array([0.3, 0, 0]),
                          np.zeros(3), DEFAULT_JOINT_POS.copy())


def test_full_observation_layout_and_history_order():
    ctrl = Twist2Controller(config=Twist2Config(history_init="zeros"))
    ctrl.reset(_state(), _ref())
    first = ctrl.observation(_state(), _ref(0.70))
    assert first.shape == (OBS_DIM,) == (1432,)
    np.testing.assert_array_equal(first[0:35], mimic_obs(_ref(0.70)))
    np.testing.assert_array_equal(first[127:1397], 0.0)            # zero history (sim2sim)
    np.testing.assert_array_equal(first[1397:1432], first[0:35])   # future slot = current mimic
    ctrl.act(_state(), _ref(0.70))
    ctrl.act(_state(), _ref(0.71))
    obs = ctrl.observation(_state(), _ref(0.72))
    hist = obs[127:1397].reshape(10, 127)
    np.testing.assert_array_equal(hist[:8], 0.0)                   # oldest first
    assert hist[8, 2] == pytest.approx(0.70)                       # frame of step 1
    assert hist[9, 2] == pytest.approx(0.71)                       # frame of step 2 (newest last)
    assert obs[2] == pytest.approx(0.72)                           # current frame not in history
    # the last-action block is the previous raw policy output: zero in step 1's frame,
    # step 1's output in step 2's frame, step 2's output now
    np.testing.assert_array_equal(hist[8, 35 + 63:127], 0.0)
    assert np.any(hist[9, 35 + 63:127] != 0.0)
    np.testing.assert_array_equal(obs[35 + 63:127], ctrl._last_action)


def test_history_starts_as_copies_of_the_first_frame_by_default():
    ctrl = Twist2Controller()
    ctrl.reset(_state(), _ref())
    obs = ctrl.observation(_state(), _ref())
    hist = obs[127:1397].reshape(10, 127)
    for row in hist:
        np.testing.assert_array_equal(row, obs[0:127])


def test_wrong_joint_order_is_rejected():
    names = list(TWIST2_JOINTS)
    names[0], names[1] = names[1], names[0]
    with pytest.raises(ExoActorError, match="entry 0"):
        Twist2Controller(tuple(names))


def test_missing_policy_file_is_a_clear_error(tmp_path):
    with pytest.raises(ExoActorError, match="does not exist"):
        Twist2Controller(config=Twist2Config(policy_path=tmp_path / "nope.onnx"))
