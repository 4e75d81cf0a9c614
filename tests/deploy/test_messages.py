"""LowCmd_/LowState_ to and from arrays, the remote's buttons, the loopback guard."""

from __future__ import annotations

import numpy as np
import pytest

sdk = pytest.importorskip("exoactor.deploy.sdk")
from exoactor.deploy import messages  # noqa: E402
from exoactor.errors import ExoActorError  # noqa: E402


def test_lowcmd_round_trip_and_crc():
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

    sdk.import_sdk()
    msg = unitree_hg_msg_dds__LowCmd_()
    q = np.linspace(-1, 1, 29)
    cmd = messages.MotorCommand(q, np.full(29, 40.0), np.full(29, 2.0))
    messages.fill_lowcmd(msg, cmd, mode_machine=5)
    back, ok = messages.read_lowcmd(msg)
    assert ok and msg.mode_machine == 5
    np.testing.assert_allclose(back.q, q, atol=1e-6)
    np.testing.assert_allclose(back.kp, 40.0)
    assert all(m.mode == 0 and m.kp == 0.0 for m in msg.motor_cmd[29:])
    msg.motor_cmd[0].q += 0.1  # tampered after the CRC was set
    assert not messages.read_lowcmd(msg)[1]
    assert messages.MotorCommand(q, np.zeros(29), np.ones(29)).damping


def test_lowstate_round_trip_with_buttons():
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowState_

    sdk.import_sdk()
    msg = unitree_hg_msg_dds__LowState_()
    quat = np.array([np.cos(0.2), 0.0, np.sin(0.2), 0.0])  # pitched 0.4 rad
    messages.fill_lowstate(msg, tick_ms=4321, mode_machine=5, quat_wxyz=quat,
                           gyro_b=np.array([0.1, 0.2, 0.3]), acc_b=np.array([0, 0, 9.81]),
                           joint_pos=np.arange(29) * 0.01, joint_vel=np.zeros(29),
                           joint_tau=np.ones(29), buttons=messages.button_bits("start", "A"))
    s = messages.read_lowstate(msg)
    assert s.crc_ok and s.tick_ms == 4321
    np.testing.assert_allclose(s.quat_wxyz, quat, atol=1e-6)
    np.testing.assert_allclose(msg.imu_state.rpy, [0.0, 0.4, 0.0], atol=1e-6)
    np.testing.assert_allclose(s.joint_pos, np.arange(29) * 0.01, atol=1e-6)
    assert s.pressed("start") and s.pressed("A") and not s.pressed("select")


def test_loopback_guard_refuses_other_interfaces(monkeypatch):
    monkeypatch.setenv(sdk.LOOPBACK_ONLY_ENV, "1")
    with pytest.raises(ExoActorError, match="eth0.*refused"):
        sdk.check_interface("eth0")
    with pytest.raises(ExoActorError, match="must be named"):
        sdk.check_interface("")
    sdk.check_interface("lo")
