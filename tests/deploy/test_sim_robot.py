"""The simulated robot's motor law, in process (no DDS traffic): commands move its joints."""

from __future__ import annotations

import numpy as np
import pytest

sdk = pytest.importorskip("exoactor.deploy.sdk")


@pytest.fixture(autouse=True)
def _sdk():
    sdk.import_sdk()  # before any unitree_sdk2py import: supplies its missing package


def _robot(hands: bool):
    from exoactor.deploy.sim_robot import SimRobot, SimRobotConfig

    return SimRobot(SimRobotConfig(hands=hands))


def test_a_closed_hand_command_closes_the_fingers():
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__HandCmd_

    from exoactor.control.hands import closed_pose
    from exoactor.deploy import messages

    robot = _robot(hands=True)
    names = tuple(robot.robot.hand_joint_names)
    closed = closed_pose(names, robot.robot.joint_limits[robot.robot.hand_idx])
    msg = unitree_hg_msg_dds__HandCmd_()
    messages.fill_handcmd(msg, messages.MotorCommand(closed[:7], np.full(7, 1.0),
                                                     np.full(7, 0.01)))
    robot._on_handcmd("left", msg)
    robot.advance(0.5)
    q = robot.hand_pos()
    flexing = np.abs(closed[:7]) > 0
    assert np.all(np.abs(q[:7][flexing] - closed[:7][flexing]) < 0.25 * np.abs(closed[:7][flexing]))
    assert np.abs(q[7:]).max() < 0.15  # the right hand got no command: held open (weakly)


def test_lowcmd_pd_law_and_crc_gate():
    from unitree_sdk2py.idl.default import unitree_hg_msg_dds__LowCmd_

    from exoactor.deploy import messages

    robot = _robot(hands=False)
    target = robot.robot.spec.default_joint_pos(list(robot.robot.body_joint_names)).copy()
    knee = robot.robot.body_joint_names.index("left_knee_joint")
    target[knee] = 1.0
    msg = unitree_hg_msg_dds__LowCmd_()
    messages.fill_lowcmd(msg, messages.MotorCommand(target, np.full(29, 60.0), np.full(29, 2.0)), 5)
    msg.crc ^= 1
    robot._on_lowcmd(msg)  # wrong CRC: ignored, the robot stays limp
    assert robot.status(1.0)["limp"] and robot.status(1.0)["crc_rejected"] == 1
    msg.crc ^= 1
    robot._on_lowcmd(msg)
    robot.advance(1.0)  # on the gantry
    q = robot.data.qpos[robot.qadr[knee]]
    assert abs(q - 1.0) < 0.1
