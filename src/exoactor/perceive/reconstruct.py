"""From per-frame observations to a world-grounded :class:`~exoactor.formats.HumanMotion`.

Steps (all on the constant-rate frames of the clip):

1. **Gaps**: undetected frames inside the clip are interpolated (flagged in ``valid``); a gap
   longer than ``max_gap_s`` is an error. Undetected frames at the start or end hold the
   nearest detection.
2. **Left/right** label flips of the backend are undone
   (:func:`~exoactor.perceive.filtering.left_right_swaps`).
3. **Filtering** of the 2D landmarks and of the root-relative 3D landmarks (Savitzky-Golay,
   one-euro or none).
4. **Perspective**: the 3D landmarks are turned from the crop's view to the true view ray
   (:func:`~exoactor.perceive.camera.ray_rotations`).
5. **Bone lengths** are set to their clip medians (left and right averaged); the whole relative
   skeleton is scaled to a stature: the known one, or the bones' regularised toward an adult
   prior (:func:`~exoactor.perceive.world.stature_posterior_m`).
6. **Root fit** (:mod:`~exoactor.perceive.root_fit`; arm landmarks down-weighted in the size
   cue; while both feet are still in the image (and their legs seen), the feet hold their place,
   :func:`~exoactor.perceive.world.planted_feet_2d`), then the landmarks slide onto their view
   rays keeping the model's depths (:func:`~exoactor.perceive.world.cap_depth_change`).
7. **Grounding** (:mod:`~exoactor.perceive.grounding`): up direction once for the clip (pitch
   from the scene's lines, :mod:`~exoactor.perceive.scene`, or the standing body, counting only
   frames whose legs the camera sees; roll from the standing trunk); legs the camera does not
   see stand under their hips (:func:`~exoactor.perceive.world.hang_unseen_legs_c`); each
   thigh's and shank's depth sign is the one balance and the joint limits pick
   (:mod:`~exoactor.perceive.leg_depth`: a body standing on its planted feet has its centre
   of mass over them); each foot still in the image is turned level about its ankle
   (:mod:`~exoactor.perceive.flat_feet`: a weight-bearing foot stands flat); support
   levels, foot contacts (:mod:`~exoactor.perceive.contacts`,
   from the sole height above the nearest support level and the foot speed); then the up
   direction is levelled by the contact soles
   (:func:`~exoactor.perceive.grounding.refine_up_c`) and levels and contacts found again
   with it.
8. **Upright prior** in standing frames: the model's lean in depth of trunk and legs removed,
   knees toward their hip-ankle line (:mod:`~exoactor.perceive.world`). Then the **temporal
   skeleton fit** (:mod:`~exoactor.perceive.skeleton_fit`): one set of bone lengths for the
   clip, every frame fitted to the 2D landmarks with this pose as the prior of the segments'
   directions, scaled back to the stature about the camera centre (``cfg.skeleton_fit``;
   disabled: the bones restored by projection). Then the **root refit** with the contact
   feet held still and on their support level.
9. **World frame**: z up, ground z = 0, origin under the hip centre at the first detection,
   facing +x; the **contact-anchored root trajectory**: each run of a foot planted both in
   the image and in contact is held at one point, the scene (person and camera, so the image
   is unchanged: ``extras["T_w_c_frames"]``) shifted horizontally to keep it there
   (:func:`~exoactor.perceive.world.anchored_shift_w`); feet locked during contacts
   (:mod:`~exoactor.perceive.foot_lock`; a contact whose foot the leg cannot reach ends
   there); pelvis orientation from the hips, pitched only by the trunk's flexion beyond the
   lumbar spine's share
   (:func:`~exoactor.perceive.world.pelvis_quat_w`; x forward, y left, z up).
10. **Hands** placed at the body's wrists, grasp closure (:mod:`~exoactor.perceive.hands`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from exoactor.formats.motion import HumanMotion
from exoactor.perceive.backend import PoseObservations
from exoactor.perceive.camera import ray_rotations
from exoactor.perceive.config import PerceiveConfig
from exoactor.perceive.contacts import SOLE_POINTS, foot_contacts, foot_points, velocity
from exoactor.perceive.errors import NoPersonFound, TrackingGap
from exoactor.perceive.filtering import (
    bone_index_pairs,
    enforce_bone_lengths,
    left_right_swaps,
    mirror_labels,
    one_euro,
    reference_lengths,
    savgol,
    stature_m,
)
from exoactor.perceive.flat_feet import FlatFeet, flatten_planted_feet_c
from exoactor.perceive.foot_lock import FootLock, lock_feet
from exoactor.perceive.grounding import (
    SupportLevels,
    UpEstimate,
    estimate_up_c,
    facing_c,
    nearest_level,
    refine_up_c,
    support_levels,
    transform,
    world_from_camera,
)
from exoactor.perceive.hands import fill_hand, grasp_closure, template_hand_w
from exoactor.perceive.leg_depth import LegDepthChoice, choose_leg_depth
from exoactor.perceive.root_fit import fit_root_translation
from exoactor.perceive.scene import LineFamily, pitch_and_roll_c, scene_up_c
from exoactor.perceive.skeleton_fit import fit_skeleton, scale_about_camera
from exoactor.perceive.world import (
    ARM_POINTS,
    FEET,
    anchored_shift_w,
    cap_depth_change,
    hang_unseen_legs_c,
    pelvis_quat_w,
    planted_feet_2d,
    planted_trend,
    standing_weight,
    stature_posterior_m,
    straighten_knees_c,
    unseen_leg_weight,
    upright_trunk_c,
)
from exoactor.signals import drop_short_runs, fill_gaps, runs
from exoactor.skeleton import BODY_33

logger = logging.getLogger(__name__)

LONG_GAP = ("{source}: the actor is lost for {length:.2f} s (frames {start}-{stop}, "
            "{t0:.2f}-{t1:.2f} s), longer than max_gap_s={max_gap:g} s. Trim the clip around "
            "that stretch, or allow longer interpolation with a larger max_gap_s "
            "(the motion there would be made up).")
_HIPS = [BODY_33.index("left_hip"), BODY_33.index("right_hip")]
_SHOULDERS = [BODY_33.index("left_shoulder"), BODY_33.index("right_shoulder")]
_ELBOWS = [BODY_33.index("left_elbow"), BODY_33.index("right_elbow")]
_WRISTS = [BODY_33.index("left_wrist"), BODY_33.index("right_wrist")]
_RAY_ITERATIONS = 4
_HAND_GAP_S = 0.3


@dataclass(frozen=True, eq=False)
class Reconstruction:
    """The motion and what the metrics need to judge it.

    Attributes:
        motion: the world-grounded motion.
        joints_c: ``(T, 33, 3)`` final landmarks in the camera frame [m].
        joints_w_unlocked: ``(T, 33, 3)`` world landmarks before foot locking [m].
        lock_shift_m: ``(T, 2)`` distance foot locking moved each ankle [m].
        kp_px: ``(T, 33, 2)`` the backend's detections (after left/right repair; NaN where
            not detected) [px].
        kp_vis: ``(T, 33)`` their visibility (0 where not detected).
        detected: ``(T,)`` frames with a detection.
        up: the gravity estimate.
        levels: the support levels.
        support_w: ``(T, 2)`` support height under each foot in the world [m].
        swapped_frames: frames whose left/right labels were mirrored.
        stature_m: the stature the skeleton is scaled to [m]: the known one, or the adult
            prior combined with the bones' (:func:`~exoactor.perceive.world.stature_posterior_m`).
        hands_detected: ``(T, 2)`` frames where each hand was seen (None without hands).
        step_s: seconds per step (``"cleanup"``, ``"grounding"``, ``"hands"``).
        fit_converged: both root fits converged.
        leg_depth: each leg bone's depth sign as chosen (:mod:`~exoactor.perceive.leg_depth`).
        stature_measured_m: the stature the pose model's bone lengths alone imply [m].
        flat_feet: the planted feet levelled (:mod:`~exoactor.perceive.flat_feet`), None
            when the step is off.
    """

    motion: HumanMotion
    joints_c: np.ndarray
    joints_w_unlocked: np.ndarray
    lock_shift_m: np.ndarray
    kp_px: np.ndarray
    kp_vis: np.ndarray
    detected: np.ndarray
    up: UpEstimate
    levels: SupportLevels
    support_w: np.ndarray
    swapped_frames: np.ndarray
    stature_m: float
    hands_detected: np.ndarray | None
    step_s: dict[str, float] = field(default_factory=dict)
    fit_converged: bool = True
    stature_measured_m: float | None = None
    leg_depth: LegDepthChoice | None = None
    flat_feet: FlatFeet | None = None


def _smooth(x: np.ndarray, fps: float, cfg: PerceiveConfig, unit_per_m: float = 1.0
            ) -> np.ndarray:
    if cfg.smoothing == "savgol":
        window = max(3, round(cfg.savgol_window_s * fps) | 1)
        return savgol(x, window, cfg.savgol_order)
    if cfg.smoothing == "one_euro":
        return one_euro(x, fps, cfg.one_euro_min_cutoff_hz, cfg.one_euro_beta / unit_per_m)
    return np.array(x, dtype=float, copy=True)


def _to_rays(P: np.ndarray, kp_px: np.ndarray, mask: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Move ``(T, J, 3)`` camera-frame points onto the view rays of ``kp_px`` at their depth
    where ``mask``."""
    z = P[..., 2:3]
    ray = np.concatenate([(kp_px[..., :1] - K[0, 2]) * z / K[0, 0],
                          (kp_px[..., 1:2] - K[1, 2]) * z / K[1, 1], z], -1)
    return np.where(mask[..., None], ray, P)


def _sole(joints: np.ndarray, up: np.ndarray, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Height along ``up`` minus ``offset`` of each foot's lowest point ``(T, 2)`` [m], and
    the index (0 heel, 1 toe) of that point."""
    h = foot_points(joints) @ up - offset  # (T, 2 feet, 2 points)
    return h.min(-1), h.argmin(-1)


def lifting_off_unless_planted(locked: FootLock, planted: np.ndarray) -> np.ndarray:
    """``(T, 2)`` bool, the feet the leg could not lock onto their support
    (``locked.unreachable``) that the image does not show planted (``planted``, still in 2D:
    :func:`~exoactor.perceive.world.planted_feet_2d`). A foot still in the image stands,
    however far the model's depth error leaves it from the leg's reach; an unreachable foot
    that moves in the image is lifting off."""
    return locked.unreachable & ~np.asarray(planted, dtype=bool)


def _drop_short_contacts(contact: np.ndarray, fps: float, min_contact_s: float) -> np.ndarray:
    """Drop contact runs shorter than ``min_contact_s`` from ``(T, 2)`` contacts."""
    n = round(min_contact_s * fps)
    return np.stack([drop_short_runs(contact[:, f], n) for f in range(contact.shape[1])], axis=1)


def _regrounded(P: np.ndarray, up: UpEstimate, levels: SupportLevels, support: np.ndarray,
                contact: np.ndarray, detected: np.ndarray, speed: np.ndarray, fps: float,
                cfg: PerceiveConfig, contact_kw: dict) -> tuple[UpEstimate, SupportLevels,
                                                             np.ndarray, np.ndarray]:
    """Up refined by the contact soles (:func:`refine_up_c`), then the support levels and
    contacts again with it."""
    sole_h, low = _sole(P, up.up_c, 0.0)
    tt, ff = np.nonzero(contact & detected[:, None])
    pts = foot_points(P)[tt, ff, low[tt, ff]]
    lev = np.argmin(np.abs(support[tt, ff, None] - np.asarray(levels.levels_m)), axis=-1)
    up = refine_up_c(up, pts, lev)
    sole_c, _ = _sole(P, up.up_c, 0.0)
    levels = support_levels(sole_c, detected, fps, level_gap_m=cfg.level_gap_m,
                            min_level_s=cfg.min_level_s)
    above = sole_c - levels.ground_c
    support = nearest_level(above, levels.levels_m)
    contact = foot_contacts(above - support, speed, fps, **contact_kw)
    return up, levels, support, contact


def reconstruct(obs: PoseObservations, fps: float, K: np.ndarray, cfg: PerceiveConfig,
                source: str = "<video>", scene: list[LineFamily] | None = None
                ) -> Reconstruction:
    """World-grounded motion from constant-rate observations (see the module docstring).

    Args:
        obs: the backend's observations, one per output frame.
        fps: frame rate [Hz].
        K: ``(3, 3)`` camera intrinsics [px].
        cfg: stage configuration.
        source: the video, for messages.
        scene: line families of the scene (:func:`~exoactor.perceive.scene.scene_families`)
            that refine gravity; None or empty: the body alone.

    Raises:
        NoPersonFound: no frame has a detection.
        TrackingGap: the actor is lost for longer than ``cfg.max_gap_s`` inside the clip.
    """
    t_start = time.perf_counter()
    detected = obs.detected.copy()
    T = len(detected)
    if not detected.any():
        raise NoPersonFound(f"{source}: the actor was not detected in any frame.")
    first, last = np.flatnonzero(detected)[[0, -1]]
    for a, b in runs(~detected):
        if a > first and b <= last and (b - a) / fps > cfg.max_gap_s:
            raise TrackingGap(LONG_GAP.format(source=source, length=(b - a) / fps, start=a,
                                              stop=b - 1, t0=a / fps, t1=(b - 1) / fps,
                                              max_gap=cfg.max_gap_s))
    held = (np.arange(T) < first) | (np.arange(T) > last)
    if held.sum():
        logger.warning("%s: actor not detected in the first %d and last %d frames; the "
                       "nearest pose is held there (valid = False)", source, first, T - 1 - last)

    # 2. left/right repair
    swapped = left_right_swaps(obs.kp_px, obs.kp_rel_c, detected)
    kp_raw = mirror_labels(obs.kp_px, swapped)
    vis = mirror_labels(obs.kp_vis, swapped)
    rel = mirror_labels(obs.kp_rel_c, swapped)
    if swapped.any():
        logger.info("left/right labels mirrored in %d frames", int(swapped.sum()))

    # 1 + 3. gaps and filtering
    kp = _smooth(fill_gaps(kp_raw, detected), fps, cfg, unit_per_m=K[0, 0] / 5.0)
    rel = _smooth(fill_gaps(rel, detected), fps, cfg)
    vis_f = np.where(detected[:, None], vis, 0.0)

    # 4 + 5. perspective and bone lengths
    wcfg = cfg.world
    rays = ray_rotations(kp[:, _HIPS].mean(1), K)
    rel = np.einsum("tij,tkj->tki", rays.as_matrix(), rel)
    pairs = bone_index_pairs()
    lengths = reference_lengths(rel, detected, pairs,
                                inplane_max_sine=cfg.length_inplane_max_sine)
    measured = stature_m(lengths, pairs)
    stature = cfg.body_height_m if cfg.body_height_m is not None else stature_posterior_m(
        measured, wcfg.stature_prior_m, wcfg.stature_prior_sd_m, wcfg.stature_measure_sd_m)
    # the whole relative skeleton (face and hand landmarks too), so that depth follows
    rel = rel * (stature / measured)
    lengths = lengths * (stature / measured)
    rel = enforce_bone_lengths(rel, pairs, lengths, cfg.bone_iterations)
    rel -= rel[:, _HIPS].mean(1, keepdims=True)

    # 6. root fit, then rays <-> bones
    good = vis_f >= cfg.min_visibility
    weight = np.where(good, 1.0, 0.1 * vis_f) * np.where(detected, 1.0, 0.3)[:, None]
    fit_kw = {"reprojection_sigma_px": cfg.reprojection_sigma_px,
              "accel_sigma_m_s2": cfg.accel_sigma_m_s2,
              "depth_accel_sigma_m_s2": cfg.depth_accel_sigma_m_s2}
    # the root's size cue ignores what moves with the arms; depth holds while both feet are
    # planted in the image
    fit_weight = weight.copy()
    fit_weight[:, list(ARM_POINTS)] *= wcfg.arm_weight
    # what the camera sees (undetected frames are not "hidden": they are filled in)
    seen = good | ~detected[:, None] if wcfg.seen_only else None
    planted = planted_feet_2d(kp, detected, fps, wcfg.stance_speed, cfg.min_contact_s, seen)
    across, along = (v / fps for v in wcfg.hold_speed_sigma_m_s)
    window = max(3, round(wcfg.hold_window_s * fps) | 1)
    feet = [i for foot in FEET for i in foot]

    def hold_kw(rel_c: np.ndarray) -> dict:
        # the held point is the feet, not the hips (which move when one sits down or
        # bends); the model's feet relative to the hips are smoothed over hold_window_s
        return {"hold": planted.all(1), "hold_sigma_m": (across, across, along),
                "hold_offset_c": savgol(rel_c[:, feet].mean(1), window, 1)}

    fit1 = fit_root_translation(rel, kp, fit_weight, K, fps, **hold_kw(rel), **fit_kw)
    P0 = rel + fit1.trans_c[:, None]
    P = P0
    on_ray = good & detected[:, None]
    for _ in range(_RAY_ITERATIONS if cfg.bone_iterations else 0):
        P = enforce_bone_lengths(_to_rays(P, kp, on_ray, K), pairs, lengths, 10)
        P = cap_depth_change(P, P0, wcfg.max_ray_depth_change_m)
    t_clean = time.perf_counter()

    # 7. grounding
    up = estimate_up_c(P, detected, wcfg.upright_max_bend_deg, wcfg.upright_axis, seen)
    if up.source != "level-camera" or scene:
        # pitch: the scene's lines where they are clear, else the body; roll: the body's
        # image-plane direction (its 2D is reliable)
        scene_up = scene_up_c(scene, up.up_c) if scene else None
        roll = up if wcfg.roll_axis == wcfg.upright_axis else estimate_up_c(
            P, detected, wcfg.upright_max_bend_deg, wcfg.roll_axis, seen)
        pitch = up.up_c if scene_up is None else scene_up.up_c
        up = UpEstimate(pitch_and_roll_c(pitch, roll.up_c),
                        up.source + ("+scene" if scene_up is not None else ""), up.frames,
                        up.spread_deg)
    if wcfg.hang_unseen_legs and seen is not None:
        # legs the camera does not see stand under their hips (the model's are a guess)
        P = hang_unseen_legs_c(P, up.up_c, unseen_leg_weight(seen, fps))
    # each leg bone's depth sign: the one a body standing on its planted feet can hold
    legs = choose_leg_depth(P, up.up_c, planted.all(1) & detected, cfg.leg_depth)
    P = legs.points_c
    flat = None
    if wcfg.flat_planted_feet:
        # a foot still in the image bears weight: its sole is level
        flat = flatten_planted_feet_c(P, up.up_c, planted)
        P = flat.points_c
    sole_c, _ = _sole(P, up.up_c, 0.0)
    speed = np.linalg.norm(velocity(foot_points(P).mean(2), fps, cfg.speed_window_s), axis=-1)
    levels = support_levels(sole_c, detected, fps, level_gap_m=cfg.level_gap_m,
                            min_level_s=cfg.min_level_s)
    above = sole_c - levels.ground_c
    support = nearest_level(above, levels.levels_m)
    contact_kw = {"contact_height_m": cfg.contact_height_m,
                  "release_height_m": cfg.release_height_m,
                  "contact_speed_m_s": cfg.contact_speed_m_s,
                  "release_speed_m_s": cfg.release_speed_m_s,
                  "min_contact_s": cfg.min_contact_s,
                  "planted": planted if cfg.contact_from_planted else None}
    contact = foot_contacts(above - support, speed, fps, **contact_kw)
    if cfg.up_from_soles:
        up, levels, support, contact = _regrounded(P, up, levels, support, contact, detected,
                                                   speed, fps, cfg, contact_kw)

    # 8. refit with the contacts
    standing = standing_weight(P, detected, fps, wcfg.upright_max_bend_deg)
    if wcfg.upright_trunk > 0:
        P = upright_trunk_c(P, up.up_c, wcfg.upright_trunk * standing)
    if wcfg.straight_knees > 0:
        P = straighten_knees_c(P, wcfg.straight_knees * standing)
    fit_s = 0.0
    if cfg.skeleton_fit.enabled:
        # one skeleton for the clip fitted to the 2D, the upright pose above as its prior
        t_fit = time.perf_counter()
        P, lengths = _fit_skeleton(P, kp, weight, K, fps, pairs, lengths, stature, cfg)
        fit_s = time.perf_counter() - t_fit
    elif cfg.bone_iterations:  # the slides along the rays changed the bones a little
        P = enforce_bone_lengths(P, pairs, lengths, 10)
    rel2 = P - P[:, _HIPS].mean(1, keepdims=True)
    J = rel2.shape[1]
    stationary = np.zeros((T, J), dtype=bool)
    height = np.full((T, J), np.nan)
    _, low = _sole(rel2, up.up_c, 0.0)
    for f, (heel, toe) in enumerate(SOLE_POINTS):
        stationary[:, heel] |= contact[:, f]
        stationary[:, toe] |= contact[:, f]
        idx = np.where(low[:, f] == 0, heel, toe)
        tt = np.flatnonzero(contact[:, f])
        height[tt, idx[tt]] = levels.ground_c + support[tt, f]
    fit2 = fit_root_translation(rel2, kp, fit_weight, K, fps, stationary=stationary,
                                contact_sigma_m=cfg.contact_sigma_m,
                                contact_depth_sigma_ratio=cfg.contact_depth_sigma_ratio,
                                support_height_m=height,
                                up_c=up.up_c, support_sigma_m=cfg.support_sigma_m,
                                **hold_kw(rel2), **fit_kw)
    joints_c = rel2 + fit2.trans_c[:, None]

    # 9. world frame
    root_c = joints_c[:, _HIPS].mean(1)
    origin = root_c[first] - (root_c[first] @ up.up_c - levels.ground_c) * up.up_c
    T_w_c = world_from_camera(up.up_c, facing_c(joints_c, detected, up.up_c, fps), origin)
    joints_w = transform(T_w_c, joints_c)
    shift_w = np.zeros((T, 2))
    if wcfg.anchor_feet:
        # planted feet do not slide: the scene (person and camera together, the image
        # unchanged) shifts so that they stay where they were put down
        anchor = {"2d": planted, "contact": contact, "both": planted & contact,
                  "either": planted | contact}[wcfg.anchor_from] & detected[:, None]
        # each foot relative to the hips as the model has it is noisy in depth: over each
        # planted run it is a smooth trend (the body moving over the foot)
        hip_w = joints_w[:, _HIPS].mean(1)[:, :2]
        feet_w = np.stack([hip_w + planted_trend(joints_w[:, list(foot), :2].mean(1)
                                                 - hip_w, anchor[:, f], wcfg.anchor_trend_order)
                           for f, foot in enumerate(FEET)], 1)
        # across the image and in depth (the camera's horizontal viewing direction): the
        # model's feet are far less certain in depth
        view = T_w_c[:2, 2] / max(float(np.linalg.norm(T_w_c[:2, 2])), 1e-9)
        shift_w = anchored_shift_w(
            feet_w, anchor, fps,
            (wcfg.anchor_sigma_m, wcfg.anchor_sigma_m * wcfg.anchor_depth_sigma_ratio),
            wcfg.anchor_accel_sigma_m_s2, wcfg.anchor_speed_sigma_m_s, start=first,
            axes_w=np.array([[-view[1], view[0]], view]))
        joints_w = joints_w.copy()
        joints_w[..., :2] += shift_w[:, None]
    support_w, contact_w, unlocked_w = support, contact, joints_w
    locked = lock_feet(joints_w, contact_w, support_w, cfg.lock_blend_frames,
                       cfg.lock_reach_tolerance_m)
    if cfg.contact_from_planted:
        lifting = lifting_off_unless_planted(locked, planted) & contact_w
    else:
        lifting = locked.unreachable & contact_w
    if lifting.any():
        # A foot the leg cannot bring down to its support is lifting off: end its contact
        # there and lock again.
        contact_w = _drop_short_contacts(contact_w & ~lifting, fps, cfg.min_contact_s)
        locked = lock_feet(joints_w, contact_w, support_w, cfg.lock_blend_frames,
                           cfg.lock_reach_tolerance_m)
    joints_w = locked.joints_w
    joints_c = transform(np.linalg.inv(T_w_c), joints_w)
    root_w = joints_w[:, _HIPS].mean(1)
    t_ground = time.perf_counter()

    # 10. hands
    hand_kw: dict[str, np.ndarray] = {}
    hands_found = None
    if obs.has_hands:
        hand_kw, hands_found = _hands(obs, joints_w, T_w_c, rays, fps, cfg)
    t_hands = time.perf_counter()

    conf = np.where(detected[:, None], vis, 0.0)
    extras = {
        "support_height_w": support_w,
        "support_levels_m": np.asarray(levels.levels_m, dtype=float),
        "keypoints_px": np.nan_to_num(kp_raw, nan=-1.0),
    }
    if np.any(shift_w):
        # the camera moved with the scene (the image is unchanged): its pose per frame
        frames_T = np.repeat(T_w_c[None], T, axis=0)
        frames_T[:, :2, 3] += shift_w
        extras["T_w_c_frames"] = frames_T
    motion = HumanMotion(
        fps=fps, joint_names=BODY_33, joints=joints_w, confidence=np.clip(conf, 0, 1),
        root_pos=root_w, root_quat=pelvis_quat_w(joints_w, wcfg.lumbar_flexion_deg), foot_contact=contact_w,
        valid=detected, camera_K=K, T_w_c=T_w_c, extras=extras,
        source=source, **hand_kw)
    return Reconstruction(
        motion=motion, joints_c=joints_c, joints_w_unlocked=unlocked_w,
        lock_shift_m=locked.moved_m, kp_px=kp_raw, kp_vis=vis_f, detected=detected, up=up,
        levels=levels, support_w=support_w, swapped_frames=np.flatnonzero(swapped),
        stature_m=float(stature), hands_detected=hands_found,
        step_s={"cleanup": t_clean - t_start, "grounding": t_ground - t_clean - fit_s,
                "skeleton_fit": fit_s,
                "hands_world": t_hands - t_ground},
        fit_converged=fit1.converged and fit2.converged, stature_measured_m=float(measured),
        leg_depth=legs, flat_feet=flat)


def _fit_skeleton(P0: np.ndarray, kp: np.ndarray, weight: np.ndarray, K: np.ndarray,
                  fps: float, pairs: list[tuple[int, int]], lengths: np.ndarray,
                  stature: float, cfg: PerceiveConfig) -> tuple[np.ndarray, np.ndarray]:
    """The temporal skeleton fit (:mod:`~exoactor.perceive.skeleton_fit`) from ``P0``, then
    scaled about the camera centre (the image unchanged) back to ``stature``: one camera
    does not see size, the fit's proportions are kept. (Measuring the stature again from the
    fitted proportions moved the rendered bodies' statures away from the truth: +5.3 ->
    +5.9 %, +4.8 -> +4.9 %.) Returns the points and the bone lengths."""
    fit = fit_skeleton(P0, P0, kp, weight, K, fps, lengths, cfg.skeleton_fit, pairs)
    lengths = fit.lengths_m
    k = stature / stature_m(lengths, pairs)
    logger.info("skeleton fit: %d iterations, reprojection %.1f -> %.1f px (weighted median), "
                "stature %.3f m", fit.iterations, fit.reprojection_px_before,
                fit.reprojection_px_after, stature)
    lengths = lengths * k
    # the fit holds each bone within bone_sigma_m (a few % of a short hand or foot segment):
    # a last projection makes them exact
    P = enforce_bone_lengths(scale_about_camera(fit.points_c, k), pairs, lengths, 10)
    return P, lengths


def _hands(obs: PoseObservations, joints_w: np.ndarray, T_w_c: np.ndarray, rays: Rotation,
           fps: float, cfg: PerceiveConfig) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """World hand keypoints ``(T, 2, 21, 3)``, confidence, grasp; and ``(T, 2)`` found."""
    assert obs.hand_rel_c is not None and obs.hand_score is not None
    T = joints_w.shape[0]
    R_wc = T_w_c[:3, :3]
    rel = obs.hand_rel_c
    found = (obs.hand_score > 0) & np.isfinite(rel).all((-1, -2))
    out = np.empty((T, 2, 21, 3))
    grasp = np.zeros((T, 2))
    conf = np.where(found, obs.hand_score, 0.0)
    max_gap = round(_HAND_GAP_S * fps)
    for side in (0, 1):
        wrist = joints_w[:, _WRISTS[side]]
        if not found[:, side].any():
            out[:, side] = template_hand_w(joints_w[:, _ELBOWS[side]], wrist, side)
            continue
        filled, _ = fill_hand(rel[:, side], found[:, side], max_gap)
        filled = _smooth(filled, fps, cfg)
        cam = np.einsum("tij,tkj->tki", rays.as_matrix(), filled)
        out[:, side] = wrist[:, None] + cam @ R_wc.T
        g = grasp_closure(filled)
        grasp[:, side] = np.clip(_smooth(g, fps, cfg), 0.0, 1.0)
    return {"hand_keypoints": out, "hand_confidence": np.clip(conf, 0, 1),
            "grasp": grasp}, found
