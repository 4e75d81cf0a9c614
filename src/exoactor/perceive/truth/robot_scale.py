"""Known truth carried to the robot's scale, for checks of the chain perceive -> retarget ->
``objects`` stage against a rendered clip's objects.

The retargeter rebuilds the person's keypoints with the robot's segment lengths
(:func:`exoactor.retarget.scaling.scale_keypoints`): the hip centre's trajectory scaled by the
leg ratio, every bone by its segment's robot / person length. Applied to the rendered body's
*true* joints with its *true* segment lengths, that map says where the robot's hands are when it
does what the person did, hence where the person's table and box are for the robot. A perceived
size error therefore stays part of what a check measures.
"""

from __future__ import annotations

import numpy as np

from exoactor.retarget.scaling import SegmentScales, bone_lengths, scale_keypoints
from exoactor.skeleton import BODY_33

WRISTS = ("left_wrist", "right_wrist")


def true_human_motion(clip):
    """The rendered body's true joints (a :class:`~exoactor.perceive.truth.clip.TruthClip`) as a
    :class:`~exoactor.formats.motion.HumanMotion`: what a perfect perceive stage would give.
    Points the body does not define sit on the wrist (hand points) or the nose (face points)
    with confidence 0."""
    from exoactor.formats.motion import HumanMotion
    from exoactor.perceive.world import pelvis_quat_w

    j = clip.joints_w.copy()
    missing = np.isnan(j).any(-1)
    for k, name in enumerate(BODY_33):
        side = name.split("_")[0]
        to = (f"{side}_wrist" if side in ("left", "right")
              and any(p in name for p in ("pinky", "index", "thumb")) else "nose")
        j[missing[:, k], k] = j[missing[:, k], BODY_33.index(to)]
    hips = j[:, [BODY_33.index("left_hip"), BODY_33.index("right_hip")]].mean(1)
    T = len(j)
    return HumanMotion(fps=clip.fps, joint_names=BODY_33, joints=j,
                       confidence=np.where(missing, 0.0, 1.0), root_pos=hips,
                       root_quat=pelvis_quat_w(j), foot_contact=np.ones((T, 2), bool),
                       valid=np.ones(T, bool), source="truth")


def true_scales(joints_w: np.ndarray, robot_length_m: dict[str, float]) -> SegmentScales:
    """Segment scales robot / *true* person length.

    Args:
        joints_w: ``(T, 33, 3)`` true BODY_33 points [m] (NaN where undefined).
        robot_length_m: segment -> summed robot bone length [m] (the retargeter's
            ``targets.scales.robot_length_m``).
    """
    human: dict[str, float] = {}
    for bone, length in bone_lengths(joints_w, BODY_33).items():
        human[bone.segment] = human.get(bone.segment, 0.0) + length
    segment = {k: robot_length_m[k] / v for k, v in human.items() if k in robot_length_m and v > 0}
    legs = ("thigh", "shin")
    root = sum(robot_length_m[k] for k in legs) / sum(human[k] for k in legs)
    return SegmentScales(segment, float(root), human, dict(robot_length_m))


def robot_scale_joints(joints_w: np.ndarray, robot_length_m: dict[str, float]) -> np.ndarray:
    """``(T, 33, 3)`` the true joints rebuilt with the robot's lengths, as the retargeter
    rebuilds perceived ones [m]."""
    return scale_keypoints(joints_w, BODY_33, true_scales(joints_w, robot_length_m))


def table_top_at_robot_scale(clip, robot_length_m: dict[str, float], frames: slice) -> float:
    """The rendered table's top for the robot [m]: the robot-scale wrists' mean height over
    ``frames`` (the hands resting) minus the person's wrist height above the top (a hand's
    thickness, kept)."""
    i = [BODY_33.index(w) for w in WRISTS]
    scaled = robot_scale_joints(clip.joints_w, robot_length_m)
    wrist_m = float(np.mean(clip.joints_w[frames][:, i, 2]))
    return float(np.mean(scaled[frames][:, i, 2])) - (wrist_m - clip.table_top_m)


def box_width_at_robot_scale(clip, robot_length_m: dict[str, float], frame: int) -> float:
    """The rendered box's width for the robot [m]: the palms' gap scaled like the wrists'
    distance at ``frame`` (the grasp)."""
    i = [BODY_33.index(w) for w in WRISTS]
    scaled = robot_scale_joints(clip.joints_w, robot_length_m)
    true_d = float(np.linalg.norm(clip.joints_w[frame, i[0]] - clip.joints_w[frame, i[1]]))
    robot_d = float(np.linalg.norm(scaled[frame, i[0]] - scaled[frame, i[1]]))
    return clip.box_size_m[1] * robot_d / true_d
