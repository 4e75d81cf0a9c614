"""From a :class:`~exoactor.formats.HumanMotion` to per-frame IK targets for the robot.

Order of operations (each step is a pure function from its own module):

1. :func:`~exoactor.retarget.repair.repair_keypoints`: pick the correspondence's keypoints, fill
   short gaps, refuse what cannot be repaired;
2. :mod:`~exoactor.retarget.scaling`: per-segment scaling to the robot's proportions;
3. :func:`~exoactor.retarget.smoothing.gaussian_smooth` of the scaled keypoints;
4. resampling to the output rate (linear; slerp for the pelvis; nearest for contact flags);
5. foot poses from the keypoints; contacts detected from foot height/speed if the motion marks
   none; a ground check (contact feet more than ``max_ground_offset_m`` from z = 0 is refused
   unless ``reground``);
6. :func:`~exoactor.retarget.contacts.pin_foot` for both feet. The upper body (every keypoint
   but feet and knees) is shifted vertically by the mean of the feet's vertical pin corrections
   and the knees by half of their foot's, so the pelvis height follows from the legs standing
   on the ground rather than from the human's raw height (the shift is low-pass filtered with
   ``body_shift_sigma_s``: a drifting ground moves the body, single steps are left to the legs);
7. orientation targets: feet (pinned), hands (palm frame from 21 hand keypoints where
   confident, short detection dropouts bridged like keypoint gaps, else from the body set's
   wrist/index/pinky), pelvis (``root_quat``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.errors import InvalidMotionFile
from exoactor.formats.motion import HumanMotion
from exoactor.formats.resample import interp_linear, sample_times
from exoactor.retarget.balance import balancing_contacts, extrapolated_com_xy
from exoactor.retarget.config import RetargetConfig
from exoactor.retarget.contacts import (
    contact_share,
    detect_foot_contact,
    lowest_sole_height,
    pin_foot,
)
from exoactor.retarget.frames import palm_frame
from exoactor.retarget.hands import fill_hand_gaps, hand_curl
from exoactor.retarget.model import RetargetModel
from exoactor.retarget.repair import RepairReport, repair_keypoints
from exoactor.retarget.scaling import SegmentScales, bone_lengths, scale_keypoints, segment_scales
from exoactor.retarget.smoothing import gaussian_smooth, nearest_bool
from exoactor.rotations import as_wxyz, continuous, matrix_yaw, rot, slerp, yaw_matrix
from exoactor.skeleton import centre_of_mass_w

logger = logging.getLogger(__name__)

_GROUND = ("puts the feet in contact {off:+.3f} m from the ground plane z = 0 (more than "
           "max_ground_offset_m = {lim} m): the person is not on the ground. Fix the world "
           "grounding in perceive, or set reground=True (exoactor retarget --reground) to shift "
           "the motion onto the ground")


@dataclass(frozen=True)
class IKTargets:
    """Everything the IK needs per output frame.

    Attributes:
        fps: output frame rate [Hz].
        keypoint_pos_w: ``(T, K, 3)`` keypoint targets in world [m] (feet pinned).
        keypoint_weight: ``(T, K)`` weights (0 = absent).
        scaled_pos_w: ``(T, K, 3)`` scaled human keypoints before pinning [m] (for metrics).
        frame_R_w: ``(T, F, 3, 3)`` target body orientations of the correspondence frames.
        frame_weight: ``(T, F)``.
        pelvis_R_w: ``(T, 3, 3)`` target pelvis orientation.
        pelvis_pos_w: ``(T, 3)`` pelvis origin implied by the hip targets [m] (IK start).
        foot_contact: ``(T, 2)`` bool.
        hand_curl: ``(T, 2, 3)`` finger curl in [0, 1] (thumb, index, middle per hand).
        hand_from_keypoints: ``(T, 2)`` bool, curl and wrist came from 21 hand keypoints.
        scales: segment scales.
        repair: what the input repair changed.
        ground_offset_m: height of the contact feet above z = 0 in the input [m].
        regrounded: the motion was shifted by ``-ground_offset_m``.
        contacts_detected: the input had no contact flags; they were detected.
    """

    fps: float
    keypoint_pos_w: np.ndarray
    keypoint_weight: np.ndarray
    scaled_pos_w: np.ndarray
    frame_R_w: np.ndarray
    frame_weight: np.ndarray
    pelvis_R_w: np.ndarray
    pelvis_pos_w: np.ndarray
    foot_contact: np.ndarray
    hand_curl: np.ndarray
    hand_from_keypoints: np.ndarray
    scales: SegmentScales
    repair: RepairReport
    ground_offset_m: float
    regrounded: bool
    contacts_detected: bool

    @property
    def num_frames(self) -> int:
        return self.keypoint_pos_w.shape[0]

    @property
    def pelvis_quat_w(self) -> np.ndarray:
        """``(T, 4)`` pelvis target orientation, wxyz."""
        from scipy.spatial.transform import Rotation

        return continuous(as_wxyz(Rotation.from_matrix(self.pelvis_R_w)))


def _foot_pose(pts: np.ndarray, rmodel: RetargetModel, side: int, pelvis_R: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Foot body origin ``(T, 3)`` and rotation ``(T, 3, 3)`` from scaled keypoints."""
    corr = rmodel.corr
    foot = corr.feet[side]
    fi = [f.name for f in corr.frames].index(foot.frame)
    R = rmodel.keypoint_frame(pts, corr.frames[fi]) @ rmodel.frame_offset[fi]
    bad = ~np.isfinite(R).all(axis=(1, 2))
    if bad.any():
        R[bad] = yaw_matrix(matrix_yaw(pelvis_R[bad]))
    origins = []
    for name in foot.keypoints:
        k = corr.index(name)
        origins.append(pts[:, k] - np.einsum("tij,j->ti", R, rmodel.keypoint_offset_b[k]))
    origin = np.nanmean(np.stack(origins), axis=0)
    return origin, R


def _balanced(contact: np.ndarray, pts: np.ndarray, feet: list, sole_h: np.ndarray,
              rmodel: RetargetModel, fps: float, cfg: RetargetConfig, src: str) -> np.ndarray:
    """``contact`` with the still, low feet a balanced stance needs
    (:func:`~exoactor.retarget.balance.balancing_contacts`), judged on the extrapolated CoM of
    the scaled keypoints."""
    com = extrapolated_com_xy(centre_of_mass_w(pts, rmodel.corr.keypoint_names), fps)
    sole_xy = np.stack([o[:, None, :2] + np.einsum("tij,sj->tsi", R, rmodel.sole_center_b[i])[..., :2]
                        for i, (o, R) in enumerate(feet)], axis=1)
    speed = np.stack([np.linalg.norm(np.gradient(o[:, :2], axis=0), axis=-1) * fps
                      if len(o) > 1 else np.zeros(len(o)) for o, _ in feet], axis=1)
    out = balancing_contacts(contact, com, sole_xy, sole_h, speed, fps,
                             height_m=cfg.balance_foot_height_m, speed_m_s=cfg.contact_speed_m_s,
                             min_s=cfg.balance_min_s, tolerance_m=cfg.balance_tolerance_m)
    added = out & ~contact
    if added.any():
        logger.info("%s: %d left / %d right foot frames put in contact to hold the centre of mass "
                    "over the support", src, int(added[:, 0].sum()), int(added[:, 1].sum()))
    return out


def build_targets(human: HumanMotion, rmodel: RetargetModel, cfg: RetargetConfig) -> IKTargets:
    """IK targets of ``human`` for ``rmodel`` (see the module docstring).

    Raises:
        InvalidMotionFile: input that cannot be repaired (see :mod:`~exoactor.retarget.repair`),
            implausible proportions, or a motion far off the ground without ``reground``.
    """
    corr = rmodel.corr
    names = corr.keypoint_names
    src = human.source
    rep = repair_keypoints(human, corr, cfg.min_confidence, cfg.max_gap_s,
                           cfg.low_confidence_weight)
    scales = segment_scales(bone_lengths(rep.points_w, names, rep.observed),
                            bone_lengths(rmodel.rest_keypoint_pos_w[None], names), src)
    pts = scale_keypoints(rep.points_w, names, scales)
    pts = gaussian_smooth(pts, cfg.smoothing_sigma_s * human.fps)

    # ---- resample to the output rate
    fps = float(cfg.output_fps or human.fps)
    t_in = np.arange(human.num_frames) / human.fps
    t_out = sample_times(t_in[-1], fps) if human.num_frames > 1 else np.zeros(1)
    if fps != human.fps:
        pts = interp_linear(t_in, pts, t_out)
        quat = slerp(t_in, rep.root_quat, t_out)
        contact = nearest_bool(t_in, human.foot_contact, t_out)
    else:
        quat, contact = rep.root_quat, human.foot_contact.copy()
    T = len(t_out)

    def resampled(arr: np.ndarray | None) -> np.ndarray | None:
        if arr is None or fps == human.fps:
            return arr
        return interp_linear(t_in, np.asarray(arr, dtype=float), t_out)

    pelvis_R = rot(quat).as_matrix()

    # ---- feet, contacts, ground
    feet = [_foot_pose(pts, rmodel, i, pelvis_R) for i in range(2)]
    sole_h = np.stack([lowest_sole_height(o, R, rmodel.sole_center_b[i], rmodel.sole_radius_m[i])
                       for i, (o, R) in enumerate(feet)], axis=1)
    detected = False
    if not contact.any() and cfg.detect_contacts:
        contact = np.stack([detect_foot_contact(sole_h[:, i], feet[i][0], fps,
                                                cfg.contact_height_m, cfg.contact_speed_m_s)
                            for i in range(2)], axis=1)
        detected = True
        logger.warning("%s: no foot contacts marked; detected %d contact frames from foot height "
                       "and speed", src, int(contact.sum()))
    offset = (float(np.median(sole_h[contact])) if contact.any()
              else float(np.percentile(sole_h.min(axis=1), 5)))
    regrounded = False
    if abs(offset) > cfg.max_ground_offset_m:
        if not cfg.reground:
            raise InvalidMotionFile(src, "joints", _GROUND.format(off=offset,
                                                                  lim=cfg.max_ground_offset_m))
        logger.warning("%s: contact feet %+.3f m from the ground; shifting the motion down by it "
                       "(reground)", src, offset)
        pts[..., 2] -= offset
        feet = [(o - np.array([0.0, 0.0, offset]), R) for o, R in feet]
        regrounded = True

    seen_contact = contact
    if cfg.balance_contacts:
        contact = _balanced(contact, pts, feet, sole_h - (offset if regrounded else 0.0), rmodel,
                            fps, cfg, src)

    # ---- pin feet, shift the body with them
    def pins(flags: np.ndarray) -> list:
        return [pin_foot(feet[i][0], feet[i][1], flags[:, i], fps, rmodel.sole_center_b[i],
                         rmodel.sole_radius_m[i], cfg.contact_blend_s) for i in range(2)]

    pinned = pins(contact)
    # the body follows the feet the person was seen standing on; a foot put down to balance
    # the stance was seen off the floor by a leg error (its knee and ankle), not a body one
    carry = pinned if np.array_equal(contact, seen_contact) else pins(seen_contact)
    dz_body = gaussian_smooth(0.5 * (carry[0].correction_w[:, 2] + carry[1].correction_w[:, 2]),
                              cfg.body_shift_sigma_s * fps)
    targets = pts.copy()
    leg = set()
    for foot in corr.feet:
        leg.update(corr.index(n) for n in foot.keypoints)
        leg.add(corr.index(foot.knee))
    for k in range(len(names)):
        if k not in leg:
            targets[:, k, 2] += dz_body
    body_shift = np.stack([np.zeros(T), np.zeros(T), dz_body], axis=1)
    for i, foot in enumerate(corr.feet):
        for name in foot.keypoints:
            k = corr.index(name)
            targets[:, k] = pinned[i].origin_w + np.einsum(
                "tij,j->ti", pinned[i].R_w, rmodel.keypoint_offset_b[k])
        targets[:, corr.index(foot.knee)] += 0.5 * (pinned[i].correction_w + body_shift)

    # ---- weights (a foot's contact share ramps in before touch-down and out after lift-off)
    share = contact_share(contact, fps, cfg.contact_blend_s)
    base = np.array([k.weight for k in corr.keypoints]) * rep.present
    weight = base[None] * resampled(rep.trust)
    for i, foot in enumerate(corr.feet):
        for name in foot.keypoints:
            k = corr.index(name)
            held = max(base[k], 1.0) * cfg.contact_weight
            weight[:, k] += share[:, i] * (held - weight[:, k])
    weight[~np.isfinite(targets).all(axis=-1)] = 0.0

    # ---- orientation targets
    F = len(corr.frames)
    frame_R = np.empty((T, F, 3, 3))
    frame_w = np.zeros((T, F))
    for fi, frame in enumerate(corr.frames):
        frame_R[:, fi] = rmodel.keypoint_frame(pts, frame) @ rmodel.frame_offset[fi]
        frame_w[:, fi] = frame.weight
    for i, foot in enumerate(corr.feet):
        fi = [f.name for f in corr.frames].index(foot.frame)
        frame_R[:, fi] = pinned[i].R_w
        frame_w[:, fi] *= 1.0 + share[:, i] * (cfg.contact_weight - 1.0)
    hand_kp, hand_conf = human.hand_keypoints, human.hand_confidence
    if hand_kp is not None:
        hand_kp, hand_conf = fill_hand_gaps(
            hand_kp, hand_conf, cfg.hand_keypoint_confidence,
            max(1, int(np.floor(cfg.max_gap_s * human.fps + 1e-9))))
    hand_kp = resampled(hand_kp)
    curl, from_kp = hand_curl(resampled(human.grasp), hand_kp, resampled(hand_conf),
                              T, cfg.hand_keypoint_confidence)
    if hand_kp is not None and from_kp.any():
        for i, side in enumerate(("left", "right")):
            fi = [f.name for f in corr.frames].index(f"{side}_hand")
            use = from_kp[:, i]
            frame_R[use, fi] = palm_frame(hand_kp[use, i])
            frame_w[use, fi] = max(corr.frames[fi].weight, 1.0)
            for name in (f"{side}_index", f"{side}_pinky", f"{side}_thumb"):
                if name in names:
                    weight[use, corr.index(name)] = 0.0
    frame_w[~np.isfinite(frame_R).all(axis=(-1, -2))] = 0.0

    # ---- pelvis position implied by the hips (IK start)
    on_pelvis = [k for k, m in enumerate(corr.keypoints)
                 if m.body == corr.pelvis_body and rep.present[k]]
    pelvis_pos = np.mean([targets[:, k] - np.einsum("tij,j->ti", pelvis_R,
                                                    rmodel.keypoint_offset_b[k])
                          for k in on_pelvis], axis=0)
    return IKTargets(fps=fps, keypoint_pos_w=targets, keypoint_weight=weight, scaled_pos_w=pts,
                     frame_R_w=frame_R, frame_weight=frame_w, pelvis_R_w=pelvis_R,
                     pelvis_pos_w=pelvis_pos, foot_contact=contact, hand_curl=curl,
                     hand_from_keypoints=from_kp, scales=scales, repair=rep.report,
                     ground_offset_m=offset, regrounded=regrounded, contacts_detected=detected)
