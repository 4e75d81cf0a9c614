"""Dex3-1 hand joints from grasp closure or from 21 hand keypoints. Pure functions + one table.

Each Dex3-1 hand has three fingers (thumb, index, middle) and 7 joints. A finger's joints move
together from a documented open pose to a documented closed (power-grasp) pose:

    q = open + curl * (closed - open),    curl in [0, 1]

``curl`` is the hand's grasp closure (``HumanMotion.grasp``) when only that is known; where 21
hand keypoints are confidently detected it is measured per finger instead (:func:`finger_curl`):
a finger's flexion is the angle of its first phalanx out of the palm plane plus the angles
between its consecutive phalanges (the thumb: between its bones only); the robot's thumb follows
the human thumb, its index the human index, and its middle finger the mean of the human middle,
ring and little fingers. Sideways splay does not count as curl.

Poses are given for the left hand; the right hand is the mirror image through the sagittal
plane, which keeps rotations about the joint's y axis (thumb_0) and negates those about z.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from exoactor.errors import UnknownName
from exoactor.skeleton import HAND_21

FINGERS = ("thumb", "index", "middle")
"""The Dex3-1's fingers, in the order of the curl arrays."""


@dataclass(frozen=True)
class HandJointPose:
    """Open and closed angle of one Dex3-1 joint of the left hand.

    Attributes:
        joint: joint name without the ``left_hand_`` / ``right_hand_`` prefix and ``_joint``.
        finger: the finger the joint belongs to.
        open_rad: angle with the hand open (fingers straight) [rad].
        closed_rad: angle in a power grasp [rad].
        mirror: sign that maps the left angle to the right hand's.
    """

    joint: str
    finger: Literal["thumb", "index", "middle"]
    open_rad: float
    closed_rad: float
    mirror: int


DEX3_POSES: tuple[HandJointPose, ...] = (
    HandJointPose("thumb_0", "thumb", 0.0, 0.0, +1),    # opposition about y: kept neutral
    HandJointPose("thumb_1", "thumb", 0.0, 0.6, -1),    # thumb swings toward the fingers
    HandJointPose("thumb_2", "thumb", 0.0, 1.0, -1),
    HandJointPose("middle_0", "middle", 0.0, -1.2, -1),  # fingers curl toward the palm (-y left)
    HandJointPose("middle_1", "middle", 0.0, -1.3, -1),
    HandJointPose("index_0", "index", 0.0, -1.2, -1),
    HandJointPose("index_1", "index", 0.0, -1.3, -1),
)
"""Open / closed Dex3-1 poses (left hand), within the MJCF limits (checked by
:func:`hand_pose_arrays`)."""

FINGER_CHAINS: dict[str, tuple[tuple[str, ...], ...]] = {
    "thumb": (("thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip"),),
    "index": (("index_mcp", "index_pip", "index_dip", "index_tip"),),
    "middle": (("middle_mcp", "middle_pip", "middle_dip", "middle_tip"),
               ("ring_mcp", "ring_pip", "ring_dip", "ring_tip"),
               ("pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip")),
}
"""Human keypoint chains whose bending drives each robot finger (knuckle to tip)."""

FULL_CURL_RAD = {"thumb": 1.6, "index": 3.0, "middle": 3.0}
"""Summed flexion [rad] of a chain that counts as a fully closed finger (curl 1)."""


def hand_pose_arrays(joint_names: list[str], joint_limits: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open and closed poses and finger index of every hand joint of a robot model.

    Args:
        joint_names: ``(14,)`` the model's hand joint names (left 7 then right 7).
        joint_limits: ``(14, 2)`` their limits [rad].

    Returns:
        ``(14,)`` open angles, ``(14,)`` closed angles [rad], ``(14,)`` finger index into
        :data:`FINGERS` (right-hand joints offset by 3).

    Raises:
        UnknownName: a joint the table does not cover, or a pose outside the model's limits.
    """
    table = {p.joint: p for p in DEX3_POSES}
    n = len(joint_names)
    open_, closed, finger = np.zeros(n), np.zeros(n), np.zeros(n, dtype=int)
    for i, name in enumerate(joint_names):
        side = "left" if name.startswith("left_hand_") else "right"
        key = name.removeprefix(f"{side}_hand_").removesuffix("_joint")
        pose = table.get(key)
        if pose is None:
            raise UnknownName(f"hand joint '{name}' has no Dex3-1 pose; the table covers "
                              f"{', '.join(table)} (exoactor/retarget/hands.py)")
        sign = 1 if side == "left" else pose.mirror
        open_[i], closed[i] = sign * pose.open_rad, sign * pose.closed_rad
        finger[i] = FINGERS.index(pose.finger) + (0 if side == "left" else 3)
        lo, hi = joint_limits[i]
        for value in (open_[i], closed[i]):
            if not lo - 1e-9 <= value <= hi + 1e-9:
                raise UnknownName(f"Dex3-1 pose {value:.3f} rad of '{name}' is outside its "
                                  f"limits [{lo:.3f}, {hi:.3f}]")
    return open_, closed, finger


def _bend_angles(chain_w: np.ndarray) -> np.ndarray:
    """``(..., n-2)`` angles [rad] between consecutive bones of ``(..., n, 3)`` chains."""
    bones = np.diff(chain_w, axis=-2)
    a, b = bones[..., :-1, :], bones[..., 1:, :]
    cos = np.sum(a * b, axis=-1) / np.maximum(
        np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def finger_curl(hand_keypoints_w: np.ndarray) -> np.ndarray:
    """Curl in [0, 1] of the Dex3-1 fingers from MediaPipe hand keypoints.

    Args:
        hand_keypoints_w: ``(..., 21, 3)`` hand keypoints [m] (any frame; angles only).

    Returns:
        ``(..., 3)`` curl of thumb, index, middle (see module docstring).
    """
    from exoactor.retarget.frames import palm_frame

    h = np.asarray(hand_keypoints_w, dtype=float)
    R = palm_frame(h)
    along, normal = R[..., :, 0], R[..., :, 1]
    out = []
    for finger in FINGERS:
        curls = []
        for chain in FINGER_CHAINS[finger]:
            idx = [HAND_21.index(n) for n in chain]
            flex = _bend_angles(h[..., idx, :]).sum(axis=-1)
            if finger != "thumb":  # knuckle flexion: first phalanx out of the palm plane
                v = h[..., idx[1], :] - h[..., idx[0], :]
                flex = flex + np.arctan2(np.abs(np.sum(v * normal, -1)), np.sum(v * along, -1))
            curls.append(flex / FULL_CURL_RAD[finger])
        out.append(np.mean(curls, axis=0))
    return np.clip(np.stack(out, axis=-1), 0.0, 1.0)


def hand_dof_from_curl(curl: np.ndarray, open_rad: np.ndarray, closed_rad: np.ndarray,
                       finger: np.ndarray) -> np.ndarray:
    """``(T, 14)`` hand joint angles [rad] from ``(T, 2, 3)`` per-hand finger curl in [0, 1]."""
    c = np.asarray(curl, dtype=float).reshape(len(curl), 6)[:, finger]
    return open_rad + np.clip(c, 0.0, 1.0) * (closed_rad - open_rad)


def hand_curl(grasp: np.ndarray | None, hand_keypoints_w: np.ndarray | None,
              hand_confidence: np.ndarray | None, num_frames: int,
              min_confidence: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-hand finger curl: measured from keypoints where confident, else the grasp closure.

    Args:
        grasp: optional ``(T, 2)`` closure in [0, 1].
        hand_keypoints_w: optional ``(T, 2, 21, 3)`` hand keypoints [m].
        hand_confidence: optional ``(T, 2)`` hand detection confidence.
        num_frames: T.
        min_confidence: confidence above which keypoints are used.

    Returns:
        ``(T, 2, 3)`` curl and ``(T, 2)`` bool, True where it came from keypoints.
    """
    curl = np.zeros((num_frames, 2, 3))
    if grasp is not None:
        curl[:] = np.asarray(grasp, dtype=float)[:, :, None]
    from_kp = np.zeros((num_frames, 2), dtype=bool)
    if hand_keypoints_w is not None:
        conf = (np.ones((num_frames, 2)) if hand_confidence is None
                else np.asarray(hand_confidence, dtype=float))
        finite = np.isfinite(hand_keypoints_w).all(axis=(-1, -2))
        from_kp = (conf >= min_confidence) & finite
        if from_kp.any():
            curl[from_kp] = finger_curl(np.asarray(hand_keypoints_w)[from_kp])
    return curl, from_kp


def fill_hand_gaps(hand_keypoints_w: np.ndarray, hand_confidence: np.ndarray | None,
                   min_confidence: float, max_gap_frames: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Bridge short dropouts of a hand's detection, as body keypoint gaps are.

    A hand that drops out for a few frames (or is found only from the second frame on) would
    switch its orientation target between the 21 hand keypoints and the body set's knuckles and
    back: a jump of the wrist the robot must follow under its velocity limit. Runs of frames
    where a hand is not confidently detected, at most ``max_gap_frames`` long, get its keypoints
    interpolated linearly between the detections around them (held at the clip's ends) and a
    confidence of ``min_confidence``. Longer runs, and hands never detected, are left as they are.

    Args:
        hand_keypoints_w: ``(T, 2, 21, 3)`` hand keypoints [m] (left, right); NaN where absent.
        hand_confidence: optional ``(T, 2)`` detection confidence (None: all 1).
        min_confidence: confidence from which a hand counts as detected.
        max_gap_frames: longest run of frames bridged.

    Returns:
        The ``(T, 2, 21, 3)`` keypoints and ``(T, 2)`` confidence, with the gaps filled.
    """
    from exoactor.signals import fill_gaps, runs

    kp = np.array(hand_keypoints_w, dtype=float)
    T = kp.shape[0]
    conf = np.ones((T, 2)) if hand_confidence is None else np.array(hand_confidence, dtype=float)
    detected = (conf >= min_confidence) & np.isfinite(kp).all(axis=(-1, -2))
    for side in range(2):
        seen = detected[:, side]
        if not seen.any():
            continue
        short = np.zeros(T, dtype=bool)
        for a, b in runs(~seen):
            if b - a <= max_gap_frames:
                short[a:b] = True
        if short.any():
            filled = fill_gaps(kp[:, side], seen)
            kp[short, side] = filled[short]
            conf[short, side] = min_confidence
    return kp, conf
