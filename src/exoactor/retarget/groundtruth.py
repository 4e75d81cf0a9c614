"""Ground truth for the retargeter: a robot motion seen as a "human" through the correspondence.

:func:`human_from_robot` places every MediaPipe-33 keypoint at its correspondence point on the
robot (MuJoCo FK of the sites), takes the pelvis orientation as ``root_quat`` and detects foot
contacts from sole height and speed. Retargeting that motion must give the robot motion back
(up to the contact pinning and the arm redundancy), which is what the round-trip test and the
benchmark measure with :func:`compare_motions`.

A :class:`HumanMotion` has its ground at z = 0. Robot motions of the field need not: the TWIST2
walks keep their feet 0-30 mm above the ground while standing on them (GMR's floating feet).
:func:`ground_robot_motion` shifts such a motion vertically by one constant so that its median
contact sole height is 0; the round trip uses the grounded motion as both the source of the
human and the reference, so it measures the retargeter and not the clip's constant float.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from exoactor.formats.motion import HumanMotion, RobotMotion
from exoactor.retarget.contacts import detect_foot_contact
from exoactor.retarget.metrics import median_p95, position_errors_mm
from exoactor.retarget.model import RetargetModel, retarget_model
from exoactor.robots.kinematics import motion_qpos
from exoactor.skeleton import BODY_33


def foot_contacts(sole_points_height_m: np.ndarray, foot_pos_w: np.ndarray, fps: float,
                  contact_height_m: float = 0.03, contact_speed_m_s: float = 0.3) -> np.ndarray:
    """``(T, 2)`` contacts of a robot's feet from ``(T, 2, S)`` sole heights and ``(T, 2, 3)``
    foot positions: the *highest* sole point near its lowest over the clip (the foot is down and
    flat) and the foot slow (see :func:`~exoactor.retarget.contacts.detect_foot_contact`)."""
    top = np.asarray(sole_points_height_m).max(axis=2)
    return np.stack([detect_foot_contact(top[:, i], foot_pos_w[:, i], fps, contact_height_m,
                                         contact_speed_m_s) for i in range(2)], axis=1)


def ground_robot_motion(motion: RobotMotion, rmodel: RetargetModel | None = None
                        ) -> tuple[RobotMotion, float]:
    """``motion`` shifted vertically so the median lowest sole point of its contact feet is at
    z = 0, and the shift [m] that was subtracted (positive: the motion floated)."""
    rm = rmodel or retarget_model(motion.robot)
    pts = rm.fk(motion_qpos(rm.robot, motion))
    contact = foot_contacts(pts.sole_points_height_m, pts.foot_pos_w, motion.fps)
    sole = pts.sole_height_m
    offset = float(np.median(sole[contact])) if contact.any() else float(sole.min())
    root = motion.root_pos.copy()
    root[:, 2] -= offset
    return motion.replace(root_pos=root), offset


def human_from_robot(motion: RobotMotion, rmodel: RetargetModel | None = None,
                     contact_height_m: float = 0.03, contact_speed_m_s: float = 0.3
                     ) -> HumanMotion:
    """The :class:`HumanMotion` whose keypoints are ``motion``'s correspondence points.

    Args:
        motion: a robot motion of ``rmodel``'s robot.
        rmodel: the retarget model (default: the one of ``motion.robot``).
        contact_height_m, contact_speed_m_s: contact thresholds (see :func:`foot_contacts`).
    """
    rm = rmodel or retarget_model(motion.robot)
    qpos = motion_qpos(rm.robot, motion)
    pts = rm.fk(qpos)
    T = motion.num_frames
    joints = np.zeros((T, len(BODY_33), 3))
    conf = np.zeros((T, len(BODY_33)))
    for k, name in enumerate(rm.corr.keypoint_names):
        j = BODY_33.index(name)
        joints[:, j] = pts.keypoint_pos_w[:, k]
        conf[:, j] = 1.0
    contact = foot_contacts(pts.sole_points_height_m, pts.foot_pos_w, motion.fps,
                            contact_height_m, contact_speed_m_s)
    hips = [BODY_33.index("left_hip"), BODY_33.index("right_hip")]
    return HumanMotion(fps=motion.fps, joint_names=BODY_33, joints=joints, confidence=conf,
                       root_pos=joints[:, hips].mean(axis=1), root_quat=motion.root_quat,
                       foot_contact=contact, valid=np.ones(T, dtype=bool),
                       source=f"groundtruth({motion.source})")


@dataclass(frozen=True)
class RoundTripError:
    """Retargeted motion against the original, frame by frame at the same rate.

    Attributes:
        body_error_mm: median / p95 / max world position error over every body and frame [mm].
        joint_error_rad: mean over frames and joints of ``|q - q_ref|`` [rad].
        leg_joint_error_rad, arm_joint_error_rad, waist_joint_error_rad: the same per group.
    """

    body_error_mm: dict[str, float]
    joint_error_rad: float
    leg_joint_error_rad: float
    arm_joint_error_rad: float
    waist_joint_error_rad: float


def compare_motions(motion: RobotMotion, reference: RobotMotion,
                    rmodel: RetargetModel | None = None) -> RoundTripError:
    """Errors of ``motion`` against ``reference`` (same robot, rate and length)."""
    rm = rmodel or retarget_model(reference.robot)
    if motion.num_frames != reference.num_frames:
        raise ValueError(f"motions differ in length: {motion.num_frames} vs "
                         f"{reference.num_frames} frames; resample first")
    a = rm.fk(motion_qpos(rm.robot, motion.replace(robot=reference.robot, hand_dof=None)))
    b = rm.fk(motion_qpos(rm.robot, reference))
    err = np.abs(motion.dof_pos - reference.dof_pos)
    names = motion.joint_names
    groups = {g: [i for i, n in enumerate(names) if any(s in n for s in keys)]
              for g, keys in (("leg", ("hip", "knee", "ankle")), ("arm", ("shoulder", "elbow",
                                                                           "wrist")),
                              ("waist", ("waist",)))}
    return RoundTripError(
        body_error_mm=median_p95(position_errors_mm(a.body_pos_w, b.body_pos_w)),
        joint_error_rad=float(err.mean()),
        leg_joint_error_rad=float(err[:, groups["leg"]].mean()),
        arm_joint_error_rad=float(err[:, groups["arm"]].mean()),
        waist_joint_error_rad=float(err[:, groups["waist"]].mean()))
