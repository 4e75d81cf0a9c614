"""Input checks and gap repair of a human motion before retargeting.

Each keypoint of each frame is one of:

* **confident**: the frame is ``valid`` and the confidence is at least ``min_confidence``;
  used as is, IK weight 1;
* **low-confidence**: the frame is ``valid`` but the confidence is lower (an occluded limb: the
  estimator still places it); the estimator's position is kept with its IK weight multiplied by
  ``low_confidence_weight``, as long as every bone touching it stays within
  :data:`BONE_RATIO_RANGE` of that bone's usual length;
* **missing**: the frame is not ``valid``, or a low-confidence position breaks a bone (garbage);
  linearly interpolated from the usable frames around the gap (held at the clip's ends) when
  the gap is at most ``max_gap_s`` long, IK weight 1.

What is refused with :class:`~exoactor.errors.InvalidMotionFile` (naming file, field, frame and
fix): a required keypoint absent from ``joint_names`` or never usable, a missing run longer
than ``max_gap_s``, no valid frame at all. An optional keypoint (face, heel, toe, hand
knuckles) that is absent or never usable is dropped (IK weight 0). The pelvis orientation of
invalid frames is slerped from the valid ones. NaN/inf values never reach here:
:class:`~exoactor.formats.HumanMotion` refuses them when it is built or loaded.

Everything repaired is recorded in :class:`RepairReport`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.formats.motion import HumanMotion
from exoactor.retarget.correspondence import Correspondence
from exoactor.retarget.scaling import BONES
from exoactor.rotations import continuous, slerp
from exoactor.signals import fill_gaps, runs

logger = logging.getLogger(__name__)

BONE_RATIO_RANGE = (0.6, 1.6)
"""Plausible length of a bone with a low-confidence end, over the bone's median length."""


@dataclass(frozen=True)
class RepairReport:
    """What :func:`repair_keypoints` changed.

    Attributes:
        filled_frames: keypoint name -> frames interpolated (missing or broken).
        low_confidence_frames: keypoint name -> frames kept from the estimator at reduced
            weight.
        dropped_keypoints: optional keypoints absent or never usable (IK weight 0).
        invalid_frames: frames whose ``valid`` flag was False.
    """

    filled_frames: dict[str, int] = field(default_factory=dict)
    low_confidence_frames: dict[str, int] = field(default_factory=dict)
    dropped_keypoints: tuple[str, ...] = ()
    invalid_frames: int = 0


@dataclass(frozen=True)
class RepairedKeypoints:
    """Human keypoints in correspondence order, gaps filled.

    Attributes:
        points_w: ``(T, K, 3)`` keypoints in world [m]; NaN for dropped keypoints.
        observed: ``(T, K)`` bool, confident observations.
        trust: ``(T, K)`` IK weight multiplier (1, or ``low_confidence_weight``).
        present: ``(K,)`` bool, keypoints that are not dropped.
        root_quat: ``(T, 4)`` pelvis orientation, wxyz, continuous in sign.
        report: what was repaired.
    """

    points_w: np.ndarray
    observed: np.ndarray
    trust: np.ndarray
    present: np.ndarray
    root_quat: np.ndarray
    report: RepairReport


def broken_bones(points: np.ndarray, confident: np.ndarray, low: np.ndarray,
                 names: tuple[str, ...]) -> np.ndarray:
    """``(T, K)`` bool: low-confidence entries on a bone outside :data:`BONE_RATIO_RANGE`.

    A bone's usual length is its median over frames where both ends are confident (over frames
    where both are usable, if never).

    Args:
        points: ``(T, K, 3)`` keypoints [m] (NaN where absent).
        confident, low: ``(T, K)`` bool masks.
        names: keypoint names.
    """
    broken = np.zeros(low.shape, dtype=bool)
    for bone in BONES:
        if bone.parent not in names or bone.child not in names:
            continue  # bones from the virtual centres: their real ends are checked elsewhere
        i, j = names.index(bone.parent), names.index(bone.child)
        suspect = low[:, i] | low[:, j]
        if not suspect.any():
            continue
        length = np.linalg.norm(points[:, j] - points[:, i], axis=-1)
        ref_frames = confident[:, i] & confident[:, j]
        if not ref_frames.any():
            ref_frames = (confident | low)[:, [i, j]].all(axis=1)
        ratio = length / max(float(np.median(length[ref_frames])), 1e-9)
        bad = suspect & ~((ratio >= BONE_RATIO_RANGE[0]) & (ratio <= BONE_RATIO_RANGE[1]))
        broken[:, i] |= bad & low[:, i]
        broken[:, j] |= bad & low[:, j]
    return broken


def repair_keypoints(human: HumanMotion, corr: Correspondence, min_confidence: float = 0.3,
                     max_gap_s: float = 0.5, low_confidence_weight: float = 0.3
                     ) -> RepairedKeypoints:
    """Pick the correspondence's keypoints out of ``human`` and repair them.

    Raises:
        InvalidMotionFile: see the module docstring.
    """
    src = human.source
    names = human.joint_names
    T, K = human.num_frames, len(corr.keypoints)
    missing = [k.keypoint for k in corr.keypoints if k.required and k.keypoint not in names]
    if missing:
        raise InvalidMotionFile(
            src, "joint_names", f"lacks {', '.join(repr(m) for m in missing)}; retargeting needs "
            f"{', '.join(k.keypoint for k in corr.keypoints if k.required)} (MediaPipe-33 names, "
            "exoactor.skeleton.BODY_33) - map the estimator's joints onto them in its importer")
    valid = human.valid.astype(bool)
    if not valid.any():
        raise InvalidMotionFile(src, "valid", "is False in every frame: no person was detected; "
                                "re-run perceive on a clip where the person is visible")
    max_gap = max(1, int(np.floor(max_gap_s * human.fps + 1e-9)))
    for a, b in runs(~valid):
        if b - a > max_gap:
            raise InvalidMotionFile(
                src, "valid", f"is False for {(b - a) / human.fps:.2f} s (frames {a}-{b - 1}): "
                f"no person there; gaps up to max_gap_s={max_gap_s} s are interpolated - trim "
                "the clip or raise max_gap_s", frame=a)

    kp_names = corr.keypoint_names
    cols = [names.index(n) if n in names else -1 for n in kp_names]
    raw = np.full((T, K, 3), np.nan)
    conf = np.zeros((T, K))
    for k, j in enumerate(cols):
        if j >= 0:
            raw[:, k], conf[:, k] = human.joints[:, j], human.confidence[:, j]
    confident = valid[:, None] & (conf >= min_confidence) & (np.array(cols) >= 0)[None]
    low = valid[:, None] & ~confident & (np.array(cols) >= 0)[None]
    low &= ~broken_bones(raw, confident, low, kp_names)
    usable = confident | low

    points = np.full((T, K, 3), np.nan)
    trust = np.zeros((T, K))
    present = np.zeros(K, dtype=bool)
    filled: dict[str, int] = {}
    kept: dict[str, int] = {}
    dropped: list[str] = []
    for k, match in enumerate(corr.keypoints):
        name = match.keypoint
        if not usable[:, k].any():
            if match.required:
                raise InvalidMotionFile(
                    src, "joints", f"of required keypoint '{name}' is usable in no frame "
                    "(never detected, or every estimate breaks a bone) - re-run perceive")
            dropped.append(name)
            continue
        for a, b in runs(~usable[:, k]):
            if b - a > max_gap:
                raise InvalidMotionFile(
                    src, "joints", f"of keypoint '{name}' is missing or broken for "
                    f"{(b - a) / human.fps:.2f} s (frames {a}-{b - 1}); gaps up to max_gap_s="
                    f"{max_gap_s} s are interpolated - trim the clip or raise max_gap_s",
                    frame=a)
        points[:, k] = fill_gaps(raw[:, k], usable[:, k])
        trust[:, k] = np.where(low[:, k], low_confidence_weight, 1.0)
        present[k] = True
        if (~usable[:, k]).any():
            filled[name] = int((~usable[:, k]).sum())
        if low[:, k].any():
            kept[name] = int(low[:, k].sum())

    quat = continuous(human.root_quat)
    if not valid.all():
        t = np.arange(T, dtype=float)
        quat = slerp(t[valid], quat[valid], t)
    if filled:
        logger.info("%s: interpolated gaps of %d keypoints (%d frames in all)", src, len(filled),
                    sum(filled.values()))
    if kept:
        logger.info("%s: kept low-confidence estimates of %d keypoints (%d frames in all) at "
                    "weight %g", src, len(kept), sum(kept.values()), low_confidence_weight)
    report = RepairReport(filled, kept, tuple(dropped), int((~valid).sum()))
    return RepairedKeypoints(points, confident, trust, present, continuous(quat), report)
