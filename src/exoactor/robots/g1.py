"""Unitree G1: 29-DoF body, and the 43-DoF variant with two 7-DoF Dex3-1 hands.

Joint order (MJCF order, used by ``dof_pos``, the TWIST2 policy and the pkl files):
legs (hip pitch/roll/yaw, knee, ankle pitch/roll) left then right, waist yaw/roll/pitch, left arm
(shoulder pitch/roll/yaw, elbow, wrist roll/pitch/yaw), right arm. The hand variant appends the
Dex3-1 joints after each arm in the MJCF; :class:`~exoactor.robots.spec.Robot` reads the real
order from the file.

Default pose: TWIST2's standing pose (legs ``[-0.2, 0, 0, 0.4, -0.2, 0]``, shoulders roll
±0.4, elbows 1.2), which is also the policy's action offset.
"""

from __future__ import annotations

from exoactor.robots.spec import KeyBodies, RobotSpec

G1_DEFAULT_POS = {
    r".*_hip_pitch_joint": -0.2,
    r".*_knee_joint": 0.4,
    r".*_ankle_pitch_joint": -0.2,
    r"left_shoulder_roll_joint": 0.4,
    r"right_shoulder_roll_joint": -0.4,
    r".*_elbow_joint": 1.2,
}

G1_KEY_BODIES = KeyBodies(
    pelvis="pelvis",
    torso="torso_link",
    head="torso_link",  # the MJCF comments the head body out; the torso carries the head mesh
    left_hand="left_rubber_hand",
    right_hand="right_rubber_hand",
    left_foot="left_ankle_roll_link",
    right_foot="right_ankle_roll_link",
    left_elbow="left_elbow_link",
    right_elbow="right_elbow_link",
    left_knee="left_knee_link",
    right_knee="right_knee_link",
)

G1 = RobotSpec(
    name="g1",
    asset="g1_29dof",
    body_joint_count=29,
    default_pos=G1_DEFAULT_POS,
    key_bodies=G1_KEY_BODIES,
    variants={"hands": "g1_hands"},
)

G1_HANDS = RobotSpec(
    name="g1_hands",
    asset="g1_29dof_hands",
    body_joint_count=29,
    hand_joint_count=14,
    default_pos=G1_DEFAULT_POS,
    # The hand model has no rubber-hand or head bodies: the wrist-yaw links carry the hands.
    key_bodies=KeyBodies(
        pelvis="pelvis", torso="torso_link", head="torso_link",
        left_hand="left_wrist_yaw_link", right_hand="right_wrist_yaw_link",
        left_foot="left_ankle_roll_link", right_foot="right_ankle_roll_link",
        left_elbow="left_elbow_link", right_elbow="right_elbow_link",
        left_knee="left_knee_link", right_knee="right_knee_link"),
)
