"""Configuration of the perceive stage: frozen pydantic models, every field documented.

Variants are made with ``model_copy(update=...)``; the resolved config is written into
``perceive_metrics.json`` (and the run manifest by the pipeline).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exoactor.perceive.leg_depth import LegDepthConfig
from exoactor.perceive.skeleton_fit import SkeletonFitConfig

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class TrackingConfig(BaseModel):
    """How the actor's identity is kept (see :mod:`exoactor.perceive.tracking`).

    Distances are in *body scales*: the longer side of the actor's recent landmark box.
    """

    model_config = _FROZEN

    max_people: int = Field(4, ge=1, le=10)
    """Most people enumerated when picking the actor on the first frame with people."""
    max_jump: float = Field(0.5, gt=0.0)
    """Largest distance of the hip centre from its prediction at the next frame
    [body scales]."""
    max_speed_scales_s: float = Field(2.5, gt=0.0)
    """Added to ``max_jump`` per second since the last detection [body scales / s]
    (2.5 scales/s is about 4 m/s for an adult)."""
    search_margin: float = Field(0.3, ge=0.0)
    """Extra margin around the allowed region that the detector sees [body scales]."""
    velocity_horizon_s: float = Field(0.3, ge=0.0)
    """The predicted hip centre moves at its recent velocity for at most this long into a
    gap [s], then holds."""
    max_size_ratio: float = Field(2.5, gt=1.0)
    """Largest ratio between a candidate's box size and the actor's body scale."""
    other_mask_s: float = Field(0.3, ge=0.0)
    """How long a rejected candidate's box is painted out of the search [s]."""
    confident_gap_s: float = Field(0.2, ge=0.0)
    """A candidate rejected within this time of the actor's last detection is certainly
    somebody else and is remembered as an other person [s]."""
    other_keep_s: float = Field(5.0, ge=0.0)
    """How long a rejected person is remembered, so that a candidate closer to them than to
    the actor is refused [s]."""


class MediaPipeConfig(BaseModel):
    """Settings of the ``mediapipe`` pose backend (its ``Config``; legacy ``solutions`` models
    bundled in mediapipe 0.10.14), given as ``PerceiveConfig.backend_options``.

    Only ``model_complexity=1`` ('full') ships in the wheel; the lite/heavy models would be
    downloaded at run time, which this package never does.

    The heavy model (``pose_landmark_heavy.tflite`` from ``npm pack @mediapipe/pose``, placed in
    the wheel's ``modules/pose_landmark``) was measured against 'full' on 2026-12-07 and is not
    offered: on the rendered truth it is worse (walk, true field of view: PA-MPJPE 45.0 -> 49.3,
    MPJPE 61.7 -> 66.2 mm, WA-MPJPE 87.5 -> 75.3 mm; frontal raise-arms clip pitched 20 deg:
    PA-MPJPE 39.6 -> 52.1, MPJPE 57.3 -> 77.3 mm) at 2.7x the time per frame (72.6 -> 196.9 ms,
    ``benchmarks/perceive_truth.py``); on the task clips it leaves the raise clip's in-place path
    (0.54 -> 0.48 m) and the mirrored sofa's half-standing seated man (pelvis 0.70 -> 0.64 m
    at robot scale, standing 0.79; its 2D knees are as misplaced) where 'full' has them.
    """

    model_config = _FROZEN

    min_detection_confidence: float = Field(0.5, ge=0.0, le=1.0)
    """Person detector score needed to start a track."""
    min_tracking_confidence: float = Field(0.5, ge=0.0, le=1.0)
    """Landmark score needed to keep MediaPipe's own frame-to-frame tracking."""
    smooth_landmarks: bool = True
    """MediaPipe's own temporal landmark filter in its video mode."""
    fallback_static: bool = True
    """When the video-mode result is missing or rejected, run the single-image model on a
    crop around the predicted actor with other people masked (costs ~20 ms per such frame)."""
    prime_frames: int = Field(8, ge=0, le=60)
    """Look-ahead of the video-mode graph's start [frames]. A fresh graph places its first
    crops from the person detector's box and settles over ~5 frames, and the depth of the
    first frames' landmarks moves with it (a side view's hip line turned 20 deg in 4 frames
    on the sample clip). So whenever it starts afresh (the actor found, or the graph reset
    after a rejection), it first sees the next ``prime_frames`` frames backwards, their
    results discarded, and reaches the current frame settled. 0: off. Costs one body-model
    run per primed frame, and holds that many decoded frames in memory."""
    backfill_frames: int = Field(15, ge=0, le=120)
    """Frames before the actor is first found that are searched again with crops around
    it, backwards (they are buffered in memory: ~6 MB per 1080p frame)."""
    hand_roi: Literal["pose", "palm"] = "pose"
    """How a hand is placed (:mod:`exoactor.perceive.detect`). ``"pose"``: MediaPipe
    Holistic's chain from the body's wrist, pinky and index landmarks (re-crop model, then the
    hand's own tracking; no palm detector): about half the hands' compute, and on the task
    clips it keeps to the body's wrist where the palm detector took the other hand of folded
    arms. ``"palm"``: a crop past each wrist through the single-image MediaPipe Hands graph
    (palm detector + landmarks), the method before."""
    hand_crop_scale: float = Field(0.4, gt=0.0)
    """Side of the square hand crop as a fraction of the body scale (0.4 found the most
    hands on the sample clip among 0.2-0.65); also the unit of ``hand_max_wrist_offset``."""
    hand_crop_min_px: int = Field(48, ge=16)
    """Smallest side of a hand crop [px]."""
    hand_min_detection_confidence: float = Field(0.3, ge=0.0, le=1.0)
    """Palm detector score needed to accept a hand in its crop (``hand_roi="palm"``)."""
    hand_max_wrist_offset: float = Field(0.5, gt=0.0)
    """Largest distance between the hand's wrist and the body's wrist, as a fraction of the
    crop side; further, the hand found is somebody else's or the other hand."""


class ArtefactConfig(BaseModel):
    """Clip artefacts of generated video (see :mod:`exoactor.perceive.artefacts`): a scene cut
    at the start, repeated frames, a low frame rate, slight camera rotation."""

    model_config = _FROZEN

    enabled: bool = True
    """Scan the clip for these artefacts and handle them (one extra decode of the clip)."""
    repeat_max_grey: float = Field(9.5, ge=0.0, le=255.0)
    """A frame whose 99.9th-percentile absolute grey difference to the previous frame (full
    resolution) is at most this repeats it and is dropped [grey levels, 0-255]. Repeats of
    H.264 clips stay at <= 6-8, distinct frames of a moving person reach >= 10."""
    repeat_probe_s: float = Field(1.5, gt=0.0)
    """A clip whose first seconds hold no repeated frame is taken to have none and is not
    scanned further (generators that repeat frames do so throughout) [s]; the scan always
    covers the cut search and its reference window."""
    cut_search_s: float = Field(0.35, ge=0.0)
    """A scene cut is looked for among the frames within this time of the start [s]."""
    cut_min_change: float = Field(0.015, gt=0.0, le=2.0)
    """Least whole-frame structure change (1 - NCC of 64-px thumbnails) of a cut."""
    cut_ratio: float = Field(2.5, gt=1.0)
    """Least ratio of a cut's structure change to the 75th percentile of the changes over the
    next ``cut_reference_s``."""
    cut_reference_s: float = Field(1.0, gt=0.0)
    """Window after a candidate cut giving the clip's normal frame-to-frame change [s]."""
    min_fps: float = Field(25.0, gt=0.0)
    """Observations sampled below this rate (a 10 fps clip, or the distinct frames of a
    clip with repeats) are resampled in motion space before filtering [Hz]."""
    resample_fps: float = Field(30.0, gt=0.0, le=240.0)
    """Rate they are resampled to, when the container's own rate is below ``min_fps`` [Hz]."""
    camera_rotation: bool = True
    """Estimate the camera's rotation from background corners (the person masked) and bring
    every frame's observations into the first frame's camera."""
    camera_thumb_width_px: int = Field(320, ge=64)
    """Width of the grey thumbnails the corners are tracked on, as the pose backend decodes
    the frames [px]."""
    camera_step_s: float = Field(0.1, ge=0.0)
    """Corners are tracked between key frames at least this far apart; the rotation of the
    frames between them is interpolated [s]."""
    camera_min_rotation_deg: float = Field(0.3, ge=0.0)
    """The rotation is compensated only when it reaches this angle somewhere in the clip [deg]
    (below it, chained estimation noise would add more than it removes)."""
    camera_max_rotation_deg: float | None = Field(None, gt=0.0)
    """Refuse a clip whose camera turns by more than this from the first frame [deg]; None
    compensates any rotation."""


class WorldConfig(BaseModel):
    """How a static camera's clip is put in the world: gravity, scale, the root path and the
    local pose (see :mod:`exoactor.perceive.world`).

    Defaults are set for generated task clips (people who stand, bend, sit in front of a fixed
    camera) and the rendered known-truth clips; none is tuned to one clip.
    """

    model_config = _FROZEN

    stature_prior_m: float = Field(1.70, gt=1.0, lt=2.2)
    """Mean of the adult stature prior [m] (adults of both sexes, ~1.63 women, ~1.77 men)."""
    stature_prior_sd_m: float = Field(0.09, gt=0.0)
    """Standard deviation of the adult stature prior [m]."""
    stature_measure_sd_m: float = Field(0.15, gt=0.0)
    """Uncertainty of the stature the pose model's bone lengths imply [m]. MediaPipe's world
    landmarks are close to one template (1.61-1.66 m for every adult), so they carry little
    information: the prior dominates."""
    upright_max_bend_deg: float = Field(35.0, gt=0.0, le=90.0)
    """Largest knee bend and torso-to-leg angle of a frame that counts as standing for the
    gravity estimate [deg]. MediaPipe's 3D knees bend 15-35 deg for people standing straight,
    so a strict test finds no frame."""
    upright_axis: Literal["torso", "body"] = "body"
    """Which axis of a standing frame is taken as vertical for the camera pitch when the
    scene's lines do not give it: ``torso`` (hip centre to shoulder centre: the upright-torso
    prior) or ``body`` (ankles to shoulders; measured closer to the truth on the rendered
    clips)."""
    roll_axis: Literal["torso", "body"] = "torso"
    """Which axis of a standing frame sets the camera roll (the vertical in the image plane,
    where the 2D landmarks are reliable): people stand with their trunk upright."""
    max_ray_depth_change_m: float = Field(0.0, ge=0.0)
    """Cap on how far moving the landmarks onto their view rays and restoring the bone lengths
    may change a landmark's depth relative to the hip centre [m] (0: the pose model's depths
    are kept, the landmarks slide along their rays). Without a cap a bone a few per cent
    short in the image turns out of the image plane (acos(l_image / L): 3 % -> 14 deg) and the
    torso leans (measured on the raise-arms task clip: caps 0 / 0.02 / 0.1 m gave 4.9 / 6.8 /
    7.6 deg median tilt before the upright prior)."""
    scene_lines: bool = True
    """Refine gravity with the scene's vanishing lines (:mod:`exoactor.perceive.scene`):
    vertical edges are up, horizontal ones perpendicular to it."""
    upright_trunk: float = Field(1.0, ge=0.0, le=1.0)
    """How much of the lean toward or away from the camera of the trunk and of the legs is
    removed in frames where the actor stands (legs straight within ``upright_max_bend_deg``)
    [0-1]; leans beyond 12-20 deg are kept (a bend). That lean is depth, which the pose model
    sees worst (it leans people 5-13 deg with their arm pose and the camera's pitch); people
    standing keep their trunk upright. The image is unchanged: landmarks slide along their
    view rays."""
    straight_knees: float = Field(0.8, ge=0.0, le=1.0)
    """How far each knee moves along its view ray toward its hip-ankle line in frames where
    the actor stands [0-1] (the pose model bends standing people's knees in depth)."""
    stance_speed: float = Field(0.02, gt=0.0)
    """A foot is planted while its 2D position moves by less than this fraction of the
    actor's image height per 0.1 s; while both are, the feet hold their place in the root fit
    (``hold_speed_sigma_m_s``). Measured: holding every planted foot point still instead
    changed nothing on the task clips and worsened the rendered walk's W2-MPJPE from 138 to
    178 mm; holding the hips instead lifted the feet of a man sitting down by 0.39 m."""
    hold_speed_sigma_m_s: tuple[float, float] = (0.03, 0.01)
    """Expected speed of the planted feet across the view (camera x, y) and along the optical
    axis [m/s] (the root fit's penalty on their change between planted frames). Depth is seen
    only through the body's apparent size, whose errors would otherwise walk a standing
    person back and forth."""
    hold_window_s: float = Field(1.0, ge=0.0)
    """The held point is the planted feet; their position relative to the hips (the pose
    model's, noisy in depth) is smoothed over this window [s], so that sitting down or
    bending moves the hips while the feet stay."""
    arm_weight: float = Field(0.2, ge=0.0, le=1.0)
    """Weight of the arm and hand landmarks in the root fit (their apparent size changes when
    the arms move, which would move the person in depth)."""
    anchor_feet: bool = True
    """Contact-anchored root trajectory (:func:`~exoactor.perceive.world.anchored_shift_w`):
    a planted foot does not move in the world; the person (and the camera with them, so the
    image is unchanged) is shifted horizontally so that each planted foot stays at one point
    for its whole planted run."""
    anchor_from: Literal["2d", "contact", "both", "either"] = "both"
    """Which frames hold a foot to its anchor: ``2d`` still in the image
    (``stance_speed``), ``contact`` the 3D foot contacts, ``both`` or ``either``."""
    anchor_sigma_m: float = Field(0.02, gt=0.0)
    """Expected spread of a planted foot's centre about its anchor [m] (heel-toe roll,
    landmark noise)."""
    anchor_depth_sigma_ratio: float = Field(5.0, ge=1.0)
    """``anchor_sigma_m`` times this along the camera's horizontal viewing direction (depth).
    The pose model places a foot relative to the hips far worse in depth than across the
    image: on the rendered truth clips (walk; raise-arms for 5 body sizes) the error of
    foot-minus-hips has a 2.3-10.7x (median 5.6x) larger spread in depth than laterally.
    Holding the feet equally in both axes turned that depth error into root motion: the
    rendered walk's W2-MPJPE 100.2 -> 102.2 mm (1 and 5: 102.2 / 99.8 mm; the fold-arms
    task clip's in-place path 0.116 / 0.133 m, 0.470 without anchoring)."""
    anchor_accel_sigma_m_s2: float = Field(2.0, gt=0.0)
    """Expected acceleration of the anchoring shift [m/s^2]: it carries on smoothly between
    planted runs."""
    anchor_trend_order: int = Field(2, ge=1, le=5)
    """Over each planted run, a foot's position relative to the hips is taken as a polynomial
    of this order in time (the body moving over the foot); the rest is the pose model's depth
    noise, which anchoring the raw foot would move the hips by."""
    anchor_speed_sigma_m_s: float = Field(0.1, gt=0.0)
    """Expected speed of the anchoring shift [m/s]: where no foot is planted it holds. The
    shift is a slow drift (a generated clip's camera dollies ~0.1 m/s: the fold-arms clip's
    planted feet drift 0.2 m in 2 s) and the body's depth error; measured on the task clips
    and the rendered walk, 0.1 / 0.3 / 1.0 m/s: in-place paths within 0.01 m of each
    other, the walk's W2-MPJPE 102 / 107 / 121 mm (100 without anchoring; measured with equal
    spreads across and in depth)."""
    seen_only: bool = True
    """Only landmarks the camera sees (visibility at least ``min_visibility``) are evidence
    of gravity (the straight frames of :func:`~exoactor.perceive.grounding.estimate_up_c`)
    and of planted feet (:func:`~exoactor.perceive.world.planted_feet_2d`); a leg is seen
    while its knee or its ankle is (:func:`~exoactor.perceive.world.legs_seen`). With the
    body giving no straight frame, the level-camera assumption is refined by the scene's
    lines too. Legs hidden
    behind a table are the pose model's guess: on the rendered lean on a table seen from
    30 deg, the guessed legs swung 60-80 deg toward the camera once the trunk leaned, those
    frames passed as straight and the camera's pitch came out 50 deg wrong."""
    hang_unseen_legs: bool = True
    """Legs the camera does not see (knee and ankle below ``min_visibility``) stand: each is
    turned about its hip until the ankle is below it
    (:func:`~exoactor.perceive.world.hang_unseen_legs_c`; needs ``seen_only``). Without it
    the rendered lean on a table seen from the front has its feet 0.43 m off the floor."""
    flat_planted_feet: bool = True
    """Each foot still in the image stands flat: turned about its ankle until heel -> toe
    is level (:mod:`~exoactor.perceive.flat_feet`), before the support levels, the contacts
    and the skeleton fit read it. Measured on (off -> on, 2026-12-07): 9 rendered truths
    (walk, frontal raise, 35 deg sit, lean, lifts from 0 and 60 deg, 3 held-out lifts):
    W2-MPJPE lower on 8 of 9 (sit 109.2 -> 93.2, lean 171.1 -> 156.3 mm), the hip's height
    error smaller on 7 of 8 (frontal lift +5.3 -> +0.3 cm), PA-MPJPE higher on 3 (held-out
    tall lift 99.5 -> 105.9, lean 52.2 -> 55.0, frontal lift 75.7 -> 78.3 mm); the 16
    task clips (with mirrors): executable 13 -> 14, the mirrored sofa's seated man gets his
    seat. What it exposes: where the model's legs are bent or short (the lean, the task clip
    of watering flowers) the heel-up foot had held the body up; flat, the body sits lower
    and the foot lock bends a knee (watering man's standing height 1.63 -> 1.58 m)."""
    lumbar_flexion_deg: tuple[float, float] = (15.0, 30.0)
    """Trunk extension and flexion [deg] that the lumbar spine takes before the pelvis tilts
    (lumbopelvic rhythm): the pelvis pitches only by the trunk's lean beyond these."""


class PerceiveConfig(BaseModel):
    """Everything that tunes video -> world-grounded human motion."""

    model_config = _FROZEN

    backend: str = "mediapipe"
    """Pose backend registry name (see ``exoactor.perceive.pose_backends.names()``)."""
    backend_options: dict[str, Any] = Field(default_factory=dict)
    """Settings of the pose backend: fields of its ``Config`` (for ``mediapipe``:
    :class:`MediaPipeConfig`, e.g. ``{"min_detection_confidence": 0.6}``)."""
    fov_deg: float | None = Field(None, gt=5.0, lt=170.0)
    """Horizontal field of view of the camera [deg]. None: focal length = image diagonal
    (about 53 deg diagonal, the usual default of monocular human-mesh methods)."""
    person: int | None = Field(None, ge=0)
    """Which person visible when the clip starts is the actor, by box area (0 = largest).
    None picks the largest."""
    hands: bool = True
    """Estimate 21 keypoints per hand and a grasp closure."""
    body_height_m: float | None = Field(None, gt=0.5, lt=2.5)
    """Known stature of the actor [m]; rescales the skeleton (and so the depth). None keeps
    the backend's metric estimate."""

    # ---------------------------------------------------------------- clean-up
    min_visibility: float = Field(0.5, ge=0.0, le=1.0)
    """Landmarks below this visibility get a low weight in fits and metrics."""
    max_gap_s: float = Field(1.0, gt=0.0)
    """Longest run of undetected frames inside the clip that is interpolated [s]; a longer one
    is an error (trim the clip). Undetected frames at the start or end are held and flagged."""
    smoothing: Literal["savgol", "one_euro", "none"] = "savgol"
    """Temporal filter of the landmarks: zero-phase Savitzky-Golay (offline), one-euro
    (causal, adaptive) or none."""
    savgol_window_s: float = Field(0.25, gt=0.0)
    """Savitzky-Golay window [s] (rounded to an odd frame count)."""
    savgol_order: int = Field(2, ge=1, le=5)
    """Savitzky-Golay polynomial order."""
    one_euro_min_cutoff_hz: float = Field(1.5, gt=0.0)
    """One-euro filter cutoff at rest [Hz]."""
    one_euro_beta: float = Field(0.3, ge=0.0)
    """One-euro filter speed coefficient [s/m]."""
    bone_iterations: int = Field(30, ge=0, le=500)
    """Projection sweeps that make every bone its clip-median length (0 keeps per-frame
    lengths)."""
    length_inplane_max_sine: float | None = Field(None, gt=0.0, le=1.0)
    """Take each bone's clip length (the median of the model's 3D) only over the frames where
    the model's segment lies within ``asin(value)`` of the image plane (the segment seen
    side-on; its image length bounds its 3D length there), left and right pooled; fewer
    than 10 such frames: all frames. None: all frames (the clip median). Off: on the
    rendered sits 0.15 takes the seat errors +5.5/+5.0/+7.1/-0.9 -> +0.8/+2.3/+4.9/-0.3 cm
    (branch i16o), but 0.15 was chosen there; on this machine the rendered walk's
    PA-MPJPE 45.0 -> 46.4 mm (W2 116.8 -> 110.6), the raise-arms truth's MPJPE 57.3 -> 57.6
    mm; on the 8 task clips tilt moves <= 0.3 deg, path <= 0.04 m, stature <= 0.04 m
    (branch i15s). Their robot runs, measured 2026-12-07 (``benchmarks/task_video.py
    --mirror``, filter seed 0, 16 clips): executable 13 of 16 with it as without it, but the
    bench robot falls at 5.3 s (seated 4 % of the sit, against 100 % without it), while the
    mirrored book clip becomes executable (not executed 16 -> 0 %); in place 4 -> 3 of 6 (the
    mirrored fold clip 0.149 -> 0.154 m), stature 14 -> 13 of 14 (the mirrored
    water clip 1.617 -> 1.599 m). A fall where the default stands keeps it off."""

    # ---------------------------------------------------------------- grounding
    reprojection_sigma_px: float = Field(3.0, gt=0.0)
    """Expected landmark error in the image [px] (weight of the reprojection term)."""
    accel_sigma_m_s2: float = Field(15.0, gt=0.0)
    """Expected root acceleration across the view [m/s^2] (smoothness term of the root fit)."""
    depth_accel_sigma_m_s2: float = Field(2.0, gt=0.0)
    """Expected root acceleration along the optical axis [m/s^2]. Depth is only seen through
    the skeleton's apparent size, whose per-frame errors would otherwise make the actor
    jitter back and forth by tens of centimetres."""
    contact_sigma_m: float = Field(0.005, gt=0.0)
    """Allowed travel of a foot in contact per frame [m] (weight of the no-skate term)."""
    contact_depth_sigma_ratio: float = Field(1.0, ge=1.0)
    """``contact_sigma_m`` times this along the optical axis (the pose model's depth of a
    foot relative to the hips is the uncertain direction, as for ``world.anchor_sigma_m``).
    Made for ``contact_from_planted``, whose extra (correct) contact frames held the model's
    wrong stride depth on the rendered walk. Not on by default: alone it changes the
    rendered raise-arms truth by < 0.1 mm and takes the rendered walk's W2-MPJPE 116.8 ->
    116.3 mm but its WA-MPJPE 87.5 -> 92.5 mm (branch i15s, this machine)."""
    support_sigma_m: float = Field(0.01, gt=0.0)
    """Allowed height error of a foot in contact [m] (weight of the on-the-ground term)."""
    up_from_soles: bool = True
    """Refine the gravity direction (from the body's axis) so that the feet in contact on
    each support level lie on one plane (:func:`~exoactor.perceive.grounding.refine_up_c`)."""
    level_gap_m: float = Field(0.2, gt=0.0)
    """Least height between two support levels (the ground, a platform) [m]."""
    min_level_s: float = Field(0.3, gt=0.0)
    """Least time the lowest foot must spend at a height to make it a support level [s]."""
    camera_motion_warn: float = Field(0.01, gt=0.0)
    """Warn that the camera moves when the background shifts by more than this fraction of
    the image diagonal."""

    # ---------------------------------------------------------------- contacts
    contact_height_m: float = Field(0.06, gt=0.0)
    """A foot's sole higher than this above its support does not start a contact [m]."""
    release_height_m: float = Field(0.10, gt=0.0)
    """A contact ends when the sole rises above this [m] (hysteresis)."""
    contact_speed_m_s: float = Field(0.6, gt=0.0)
    """A foot faster than this does not start a contact [m/s] (set for monocular landmark
    noise; motion capture would use ~0.3)."""
    release_speed_m_s: float = Field(1.0, gt=0.0)
    """A contact ends when the foot moves faster than this [m/s] (hysteresis)."""
    speed_window_s: float = Field(0.35, ge=0.0)
    """Window of the local quadratic fit whose slope is the foot speed [s] (0: central
    differences)."""
    min_contact_s: float = Field(0.1, ge=0.0)
    """Shorter contacts (and gaps between contacts) are dropped (filled) [s]."""
    contact_from_planted: bool = False
    """The image decides foot contact where it shows a foot still (``world.stance_speed``):
    such a foot is in contact whatever its 3D height and speed
    (:func:`~exoactor.perceive.contacts.foot_contacts`), and where the leg cannot reach it
    it stays in contact
    (:func:`~exoactor.perceive.reconstruct.lifting_off_unless_planted`; a foot out of reach
    that moves in the image lifts off). False: contacts from 3D height and speed, and a
    contact foot out of the leg's reach lifts off.

    Off: on the 8 task clips with ``contact_depth_sigma_ratio`` 5 (branch i15s) it made
    water_flowers executable (key-body 109 -> 59 mm), fold's end drift 0.50 -> 0.02 m and
    book's 0.19 -> 0.06 m, but raise drifts 0.58 -> 1.59 m, pick-up 0.58 -> 1.23 m (not
    executed 43 -> 61 %), clean-car's key-body 58 -> 82 mm and the bench robot is seated
    49 -> 40 % of the sit (key-body 99 -> 113 mm). It keeps in contact feet the
    leg cannot reach (their soles 2-10 cm up, where the body rises on raise and bends on
    pick-up; the retargeter pins contact feet to the floor) and feet under a turning pelvis
    (pick-up: up to 63-66 deg of pelvis yaw within one contact, 0-16 deg without)."""
    lock_reach_tolerance_m: float = Field(0.01, ge=0.0, le=0.1)
    """A contact foot the leg can bring to within this of its anchor on the support counts as
    reached; further away it is out of the leg's reach and, unless the image shows it planted
    (``contact_from_planted``), lifting off [m]. 0 (as before 2026-12-07): a straight standing
    leg that misses by 1 mm of rounding lifted off: on the rendered frontal lift the standing
    person's feet (soles 0.4-1.7 cm above the floor, moved 1 mm by the lock) lost their
    contacts for the first 0.6 s."""
    lock_blend_frames: int = Field(3, ge=0, le=30)
    """Frames over which a foot blends into and out of its locked contact position."""

    # ---------------------------------------------------------------- outputs
    overlay: bool = True
    """Write ``perceive_overlay.mp4`` (skeleton drawn on the frames) beside the output."""
    overlay_width_px: int = Field(960, ge=64)
    """Width of the overlay video [px] (frames are downscaled to it, never upscaled)."""

    tracking: TrackingConfig = TrackingConfig()
    """Identity keeping."""
    artefacts: ArtefactConfig = ArtefactConfig()
    """Clip artefacts of generated video (scene cut, repeats, low rate, camera rotation)."""
    world: WorldConfig = WorldConfig()
    """Gravity, scale, root path and local pose of a static camera's clip."""
    skeleton_fit: SkeletonFitConfig = SkeletonFitConfig()
    """The temporal fit of the skeleton to the 2D landmarks (constant bone lengths)."""
    leg_depth: LegDepthConfig = LegDepthConfig()
    """Each leg bone's depth sign chosen by balance and joint limits before the fit."""

    @model_validator(mode="before")
    @classmethod
    def _mediapipe_section(cls, data: Any) -> Any:
        """Configs written before ``backend_options`` kept the ``mediapipe`` backend's settings
        in a ``mediapipe`` section: read it as ``backend_options``."""
        if isinstance(data, dict) and "mediapipe" in data:
            data = dict(data)
            section = data.pop("mediapipe")
            if data.get("backend", "mediapipe") == "mediapipe" and not data.get("backend_options"):
                data["backend_options"] = (section.model_dump() if isinstance(section, BaseModel)
                                           else dict(section))
        return data
