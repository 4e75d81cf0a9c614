"""The Unitree CRC against the SDK's own pure-Python reference and the catalogue check value."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from exoactor.deploy import crc

sdk = pytest.importorskip("exoactor.deploy.sdk")


@pytest.fixture(scope="module")
def reference_crc():
    """The SDK's CRC object with its pure-Python path (its native library is not shipped)."""
    sdk.import_sdk()
    from unitree_sdk2py.utils.crc import CRC

    obj = object.__new__(CRC)
    obj.platform = "reference"  # anything but "Linux" selects the SDK's _crc_py
    return obj


def test_catalogue_check_value():
    assert crc.crc32_mpeg2(b"123456789") == 0x0376E6E7


def test_layout_sizes_match_the_c_structs():
    assert struct.calcsize(crc.LOWCMD_FORMAT) == 1004
    assert struct.calcsize(crc.LOWSTATE_FORMAT) == 2092


def test_lowcmd_crc_matches_the_sdk(reference_crc):
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

    rng = np.random.default_rng(0)
    for _ in range(5):
        cmd = unitree_hg_msg_dds__LowCmd_()
        cmd.mode_machine = int(rng.integers(0, 255))
        for m in cmd.motor_cmd:
            m.mode, m.q, m.kp, m.kd = 1, float(rng.normal()), float(rng.uniform(0, 150)), 2.0
        expected = reference_crc._crc_py(reference_crc._CRC__Trans(crc.pack_lowcmd(cmd)))
        assert crc.lowcmd_crc(cmd) == expected


def test_lowstate_crc_matches_the_sdk(reference_crc):
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowState_

    rng = np.random.default_rng(1)
    st = unitree_hg_msg_dds__LowState_()
    st.tick = 123456
    st.imu_state.quaternion = [0.9, 0.1, -0.2, 0.3]
    st.imu_state.temperature = -3
    for m in st.motor_state:
        m.q, m.dq, m.tau_est = (float(v) for v in rng.normal(size=3))
    expected = reference_crc._crc_py(reference_crc._CRC__Trans(crc.pack_lowstate(st)))
    assert crc.lowstate_crc(st) == expected


def test_crc_changes_with_any_motor_field():
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

    cmd = unitree_hg_msg_dds__LowCmd_()
    base = crc.lowcmd_crc(cmd)
    cmd.motor_cmd[34].kd = 0.5
    assert crc.lowcmd_crc(cmd) != base
