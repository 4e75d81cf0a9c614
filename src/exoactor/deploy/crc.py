"""The CRC Unitree's G1 firmware checks on ``LowCmd_`` and sets on ``LowState_`` (unitree_hg).

CRC-32/MPEG-2 (polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no final xor)
over the message packed as its C struct (little-endian 32-bit words, the trailing ``crc`` word
excluded), each word fed most significant bit first. The layouts are those of the SDK's
``unitree_sdk2py/utils/crc.py``. Computed at C speed through :func:`zlib.crc32`: a non-reflected
CRC equals the bit-reversed reflected CRC of the bit-reversed bytes (tested against the SDK's
own pure-Python reference and the catalogue check value ``0x0376E6E7``).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

LOWCMD_FORMAT = "<2B2x" + "B3x5fI" * 35 + "5I"
"""``unitree_hg LowCmd_`` as packed in memory (1004 bytes)."""
LOWSTATE_FORMAT = "<2I2B2xI" + "13fh2x" + "B3x4f2hf7I" * 35 + "40B5I"
"""``unitree_hg LowState_`` as packed in memory (2092 bytes)."""

_REVERSE_BITS = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _reverse32(x: int) -> int:
    return int(f"{x:032b}"[::-1], 2)


def crc32_mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 of ``data`` (``crc32_mpeg2(b"123456789") == 0x0376E6E7``)."""
    reflected = zlib.crc32(data.translate(_REVERSE_BITS)) ^ 0xFFFFFFFF
    return _reverse32(reflected)


def crc_of_packed(packed: bytes) -> int:
    """The Unitree CRC of a packed message: its words but the last, each fed MSB first."""
    words = np.frombuffer(packed, dtype="<u4")[:-1]
    return crc32_mpeg2(words.astype(">u4").tobytes())


def pack_lowcmd(cmd: Any) -> bytes:
    """A ``unitree_hg LowCmd_`` packed as :data:`LOWCMD_FORMAT`."""
    values: list[float | int] = [cmd.mode_pr, cmd.mode_machine]
    for m in cmd.motor_cmd:
        values += (m.mode, m.q, m.dq, m.tau, m.kp, m.kd, m.reserve)
    values += list(cmd.reserve) + [cmd.crc]
    return struct.pack(LOWCMD_FORMAT, *values)


def pack_lowstate(state: Any) -> bytes:
    """A ``unitree_hg LowState_`` packed as :data:`LOWSTATE_FORMAT`."""
    imu = state.imu_state
    values: list[float | int] = [*state.version, state.mode_pr, state.mode_machine, state.tick,
                                 *imu.quaternion, *imu.gyroscope, *imu.accelerometer, *imu.rpy,
                                 imu.temperature]
    for m in state.motor_state:
        values += (m.mode, m.q, m.dq, m.ddq, m.tau_est, *m.temperature, m.vol, *m.sensor,
                   m.motorstate, *m.reserve)
    values += list(state.wireless_remote) + list(state.reserve) + [state.crc]
    return struct.pack(LOWSTATE_FORMAT, *values)


def lowcmd_crc(cmd: Any) -> int:
    """The CRC a ``LowCmd_`` must carry."""
    return crc_of_packed(pack_lowcmd(cmd))


def lowstate_crc(state: Any) -> int:
    """The CRC a ``LowState_`` must carry."""
    return crc_of_packed(pack_lowstate(state))
