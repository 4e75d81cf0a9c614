"""G1 low-level messages (unitree_hg ``LowCmd_`` / ``LowState_``) to and from numpy arrays.

Motor slot ``i`` of the 35 in each message is body joint ``i`` of the 29-DoF G1 in the MuJoCo
joint order (legs, waist, left arm, right arm; spec §1.4); slots 29–34 are unused and left
disabled. The IMU quaternion is wxyz (Unitree's order, also ours), its gyroscope the pelvis
angular velocity in the pelvis frame [rad/s], its accelerometer the specific force in the pelvis
frame [m/s²]. ``mode_machine`` must be copied from the robot's state into every command; each
motor's ``mode`` is 1 (enabled) and ``mode_pr`` 0 (ankles in pitch/roll).

A Dex3-1 hand (``HandCmd_`` / ``HandState_``, no CRC) has 7 motors in the MuJoCo order of its
joints: thumb 0-2, middle 0-1, index 0-1; each command motor's ``mode`` packs its id (bits 0-3)
and status 1 (enabled, bits 4-6).

The wireless remote's 40 bytes carry the buttons as a little-endian bit field in bytes 2–3
(:data:`REMOTE_BUTTONS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.deploy.crc import lowcmd_crc, lowstate_crc
from exoactor.rotations import roll_pitch_yaw

NUM_MOTOR_SLOTS = 35
NUM_BODY_MOTORS = 29
NUM_HAND_MOTORS = 7
MOTOR_ENABLE = 1
REMOTE_BUTTONS = ("R1", "L1", "start", "select", "R2", "L2", "F1", "F2", "A", "B", "X", "Y",
                  "up", "right", "down", "left")
"""Button names by bit of the 16-bit field in ``wireless_remote[2:4]``."""


@dataclass(frozen=True)
class MotorCommand:
    """One low-level command: per motor ``tau = kp (q - q_m) + kd (dq - dq_m) + tau_ff``.

    Attributes:
        q: ``(n,)`` position targets [rad].
        kp: ``(n,)`` stiffness [N m / rad].
        kd: ``(n,)`` damping [N m s / rad].
        dq: ``(n,)`` velocity targets [rad/s] (0 by default).
        tau: ``(n,)`` feed-forward torque [N m] (0 by default).
    """

    q: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    dq: np.ndarray | None = None
    tau: np.ndarray | None = None

    @property
    def damping(self) -> bool:
        """No stiffness on any motor: the robot is in damping mode."""
        return bool(np.all(self.kp == 0.0))


@dataclass(frozen=True)
class StateSample:
    """One ``LowState_`` as arrays.

    Attributes:
        tick_ms: the robot's millisecond counter.
        mode_machine: the robot's machine mode (copy into commands).
        quat_wxyz: ``(4,)`` pelvis orientation (IMU), wxyz.
        gyro_b: ``(3,)`` pelvis angular velocity in the pelvis frame [rad/s].
        acc_b: ``(3,)`` specific force in the pelvis frame [m/s²].
        joint_pos: ``(29,)`` motor angles [rad].
        joint_vel: ``(29,)`` motor velocities [rad/s].
        joint_tau: ``(29,)`` estimated motor torques [N m].
        buttons: ``(16,)`` bool, remote buttons pressed (:data:`REMOTE_BUTTONS`).
        crc_ok: the message's CRC matched its content.
    """

    tick_ms: int
    mode_machine: int
    quat_wxyz: np.ndarray
    gyro_b: np.ndarray
    acc_b: np.ndarray
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    joint_tau: np.ndarray
    buttons: np.ndarray
    crc_ok: bool

    def pressed(self, button: str) -> bool:
        """Whether remote ``button`` (a name of :data:`REMOTE_BUTTONS`) is pressed."""
        return bool(self.buttons[REMOTE_BUTTONS.index(button)])


def fill_lowcmd(msg, command: MotorCommand, mode_machine: int) -> None:
    """Write ``command`` into a ``LowCmd_`` in place and set its CRC."""
    n = len(command.q)
    dq = np.zeros(n) if command.dq is None else command.dq
    tau = np.zeros(n) if command.tau is None else command.tau
    msg.mode_pr = 0
    msg.mode_machine = int(mode_machine)
    for i, m in enumerate(msg.motor_cmd):
        if i < n:
            m.mode, m.q, m.dq = MOTOR_ENABLE, float(command.q[i]), float(dq[i])
            m.kp, m.kd, m.tau = float(command.kp[i]), float(command.kd[i]), float(tau[i])
        else:
            m.mode, m.q, m.dq, m.kp, m.kd, m.tau = 0, 0.0, 0.0, 0.0, 0.0, 0.0
    msg.crc = lowcmd_crc(msg)


def read_lowcmd(msg, n: int = NUM_BODY_MOTORS) -> tuple[MotorCommand, bool]:
    """The first ``n`` motors of a ``LowCmd_`` and whether its CRC is right."""
    motors = msg.motor_cmd[:n]
    arr = np.array([(m.q, m.dq, m.kp, m.kd, m.tau) for m in motors], dtype=float)
    command = MotorCommand(q=arr[:, 0], kp=arr[:, 2], kd=arr[:, 3], dq=arr[:, 1], tau=arr[:, 4])
    return command, lowcmd_crc(msg) == msg.crc


def fill_lowstate(msg, *, tick_ms: int, mode_machine: int, quat_wxyz: np.ndarray,
                  gyro_b: np.ndarray, acc_b: np.ndarray, joint_pos: np.ndarray,
                  joint_vel: np.ndarray, joint_tau: np.ndarray, buttons: int = 0) -> None:
    """Write a robot state into a ``LowState_`` in place and set its CRC."""
    msg.tick = int(tick_ms) & 0xFFFFFFFF
    msg.mode_machine = int(mode_machine)
    imu = msg.imu_state
    imu.quaternion = [float(v) for v in quat_wxyz]
    imu.gyroscope = [float(v) for v in gyro_b]
    imu.accelerometer = [float(v) for v in acc_b]
    imu.rpy = [float(v) for v in roll_pitch_yaw(np.asarray(quat_wxyz, dtype=float))]
    for i, m in enumerate(msg.motor_state[:len(joint_pos)]):
        m.mode, m.q, m.dq, m.tau_est = MOTOR_ENABLE, float(joint_pos[i]), float(joint_vel[i]), \
            float(joint_tau[i])
    remote = [0] * 40
    remote[2], remote[3] = buttons & 0xFF, (buttons >> 8) & 0xFF
    msg.wireless_remote = remote
    msg.crc = lowstate_crc(msg)


def read_lowstate(msg, n: int = NUM_BODY_MOTORS) -> StateSample:
    """A ``LowState_`` as a :class:`StateSample` (the CRC is checked, not enforced)."""
    motors = msg.motor_state[:n]
    arr = np.array([(m.q, m.dq, m.tau_est) for m in motors], dtype=float)
    remote = msg.wireless_remote
    bits = int(remote[2]) | (int(remote[3]) << 8)
    imu = msg.imu_state
    return StateSample(
        tick_ms=int(msg.tick), mode_machine=int(msg.mode_machine),
        quat_wxyz=np.array(imu.quaternion, dtype=float), gyro_b=np.array(imu.gyroscope, float),
        acc_b=np.array(imu.accelerometer, float), joint_pos=arr[:, 0], joint_vel=arr[:, 1],
        joint_tau=arr[:, 2], buttons=np.array([(bits >> i) & 1 for i in range(16)], dtype=bool),
        crc_ok=lowstate_crc(msg) == msg.crc)


def button_bits(*names: str) -> int:
    """The remote's 16-bit field with ``names`` pressed."""
    return sum(1 << REMOTE_BUTTONS.index(n) for n in names)


def fill_handcmd(msg, command: MotorCommand) -> None:
    """Write one hand's 7-motor ``command`` into a ``HandCmd_`` in place."""
    dq = np.zeros(NUM_HAND_MOTORS) if command.dq is None else command.dq
    tau = np.zeros(NUM_HAND_MOTORS) if command.tau is None else command.tau
    for i, m in enumerate(msg.motor_cmd[:NUM_HAND_MOTORS]):
        m.mode = (i & 0x0F) | (1 << 4)
        m.q, m.dq, m.tau = float(command.q[i]), float(dq[i]), float(tau[i])
        m.kp, m.kd = float(command.kp[i]), float(command.kd[i])


def read_handcmd(msg) -> MotorCommand:
    """A ``HandCmd_`` as a 7-motor :class:`MotorCommand`."""
    arr = np.array([(m.q, m.dq, m.kp, m.kd, m.tau) for m in msg.motor_cmd[:NUM_HAND_MOTORS]],
                   dtype=float)
    if arr.shape != (NUM_HAND_MOTORS, 5):
        raise ValueError(f"HandCmd_ has {len(msg.motor_cmd)} motors, expected {NUM_HAND_MOTORS}")
    return MotorCommand(q=arr[:, 0], kp=arr[:, 2], kd=arr[:, 3], dq=arr[:, 1], tau=arr[:, 4])


def fill_handstate(msg, joint_pos: np.ndarray, joint_vel: np.ndarray,
                   joint_tau: np.ndarray) -> None:
    """Write one hand's motor states into a ``HandState_`` in place."""
    for i, m in enumerate(msg.motor_state[:NUM_HAND_MOTORS]):
        m.mode, m.q, m.dq, m.tau_est = MOTOR_ENABLE, float(joint_pos[i]), float(joint_vel[i]), \
            float(joint_tau[i])


def read_handstate(msg) -> np.ndarray:
    """``(7,)`` motor angles [rad] of a ``HandState_``."""
    return np.array([m.q for m in msg.motor_state[:NUM_HAND_MOTORS]], dtype=float)
