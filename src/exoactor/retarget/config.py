"""Configuration of the retarget stage: one frozen pydantic model, defaults documented per field."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RetargetConfig(BaseModel):
    """Everything that tunes human → robot retargeting. Variants use ``model_copy(update=...)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    robot: str = "g1"
    """Robot registry name whose body the IK solves for (see :mod:`exoactor.robots`)."""
    hands: bool = False
    """Also produce Dex3-1 hand joints (``hand_dof``, 7 per hand) from grasp / hand keypoints."""
    output_fps: float | None = Field(50.0, gt=0.0)
    """Frame rate of the robot motion [Hz] (the tracker's rate); None keeps the input rate.
    The human targets are resampled before IK, so contacts hold at the output rate."""

    # ---------------------------------------------------------------- IK solver
    iterations_per_frame: int = Field(2, ge=1, le=50)
    """Differential-IK steps per frame, warm-started from the previous frame's solution."""
    contact_extra_iterations: int = Field(4, ge=0, le=50)
    """Most extra IK steps of a frame whose soles still break the ground or contact limit by
    more than 1 mm after ``iterations_per_frame`` (the limits are linearised)."""
    initial_iterations: int = Field(100, ge=1, le=1000)
    """Most IK steps on the first frame (starting from the default pose, no velocity limit)."""
    initial_step_rad: float = Field(0.1, gt=0.0)
    """Largest joint step [rad] per first-frame iteration (a trust region from the rest pose)."""
    initial_tolerance_m: float = Field(1e-4, gt=0.0)
    """First-frame stop: largest joint step [rad] (or root step [m]) below which it has converged."""
    damping: float = Field(1e-4, ge=0.0)
    """Levenberg-Marquardt damping of every IK step (unitless, on the tangent step)."""
    posture_cost: float = Field(0.05, ge=0.0)
    """Cost [1/rad] pulling joints toward the default pose; resolves arm and waist redundancy."""
    keypoint_cost: float = Field(10.0, gt=0.0)
    """Cost [1/m] of a keypoint position error at unit correspondence weight."""
    orientation_cost: float = Field(1.0, ge=0.0)
    """Cost [1/rad] of a pelvis/foot/hand orientation error at unit frame weight."""
    contact_weight: float = Field(5.0, ge=1.0)
    """Multiplier on a foot's position and orientation costs while it is in contact."""
    contact_tol_m: float = Field(0.004, gt=0.0)
    """Hard IK limit on the mean sole height of a contact foot [m] (its lowest point is then at
    most this far above the ground; penetration is forbidden separately)."""
    max_joint_vel_rad_s: float = Field(20.0, gt=0.0)
    """Joint velocity limit of the IK [rad/s] (the G1's fastest motors reach ~30 rad/s)."""
    self_collision: bool = True
    """Keep the arms out of the torso, pelvis and legs and out of each other (MuJoCo collision
    geoms)."""
    collision_margin_m: float = Field(0.01, ge=0.0)
    """Smallest allowed distance between an arm geom and the torso/pelvis/leg geoms or the other
    arm's [m]."""
    collision_detection_m: float = Field(0.1, gt=0.0)
    """Distance under which an arm-body geom pair enters the IK as a constraint [m]; must exceed
    a hand's travel in one IK step."""

    # ---------------------------------------------------------------- arm restarts
    arm_restarts: bool = True
    """Leave a wrong IK branch of an arm (:mod:`~exoactor.retarget.sweep`): where an arm is far
    from its targets, solve it again from the default pose's arm and keep the solution with the
    lower IK objective, re-solving the frames before it from the new branch.

    On: measured (branch harm, off -> on, one run): ``benchmarks/retarget.py`` part 2 walk_004
    joint error 0.083 -> 0.058 rad (arm 0.129 -> 0.079), the other 21 rows of parts 1 and 2
    bit-identical; the raise_arms task clip's keypoint error p95 122 -> 50 mm (right wrist
    median / p95 51 / 195 -> 8 / 55 mm); the demo walk bit-identical (7 tries, none kept).
    Retarget wall time +25 % on the benchmark, +20-35 % on the task clips (restart tries).
    Through the physics (``benchmarks/task_video.py``, off -> on, filter seed 0): raise_arms
    key-body 132 -> 56 mm, not executed 27 -> 0 % (now executable); pick_up_weight 150 -> 64 mm,
    end drift 2.12 -> 0.10 m; sit_on_bench 89 -> 66 mm; car and water keep no restart and are
    unchanged; **fold_arms_wave's end drift 0.34 -> 0.82 m** (seed 1: 0.24 -> 0.78 m; the filter
    now catches a forward fall by stepping). The cause was the arms passing 5-6 cm through each
    other in the fold; with the arms kept apart (``self_collision``'s arm-arm pairs) it ends
    0.08 m off on seeds 0 and 1, executable."""
    restart_error_m: float = Field(0.03, ge=0.0)
    """Arm keypoint error [m] (largest over the arm's weighted keypoints) above which a restart
    of that arm is tried: a gate on the cost only (the objective decides). A wrong branch can
    fit the keypoints closely (walk_004 in part 2 of ``benchmarks/retarget.py``: elbow at most
    39 mm off, shoulder yaw 1.35 rad off), so 0.08 m missed it; 0 (a try every interval) gave
    the same benchmark (walk_004 0.058 rad too) at ~3x the retarget time and, on the raise_arms
    clip, 5 switches of 70 tries to left-arm branches of lower objective but larger position
    errors (left wrist median 10 -> 24 mm: the hand orientation task outweighs them)."""
    restart_interval_s: float = Field(0.1, ge=0.0)
    """Shortest time between two restart tries of the same arm [s] (bounds their cost where
    an arm stays far from unreachable targets)."""
    restart_iterations: int = Field(40, ge=1, le=1000)
    """Most IK steps of a restart (a trust region of ``initial_step_rad`` from the seed)."""
    restart_margin_m: float = Field(0.02, ge=0.0)
    """How much a restart must lower the IK objective to be kept, as the keypoint error of unit
    weight it is worth [m]: ``(keypoint_cost * restart_margin_m)**2`` (against the warm-started arm
    solved on to convergence the same way)."""
    restart_backtrack_s: float = Field(2.0, ge=0.0)
    """Longest stretch before a kept restart that is re-solved backward from its branch [s]."""
    restart_blend_rad_s: float = Field(4.0, gt=0.0)
    """Joint speed [rad/s] of the blend from the old branch to the new one where the two do not
    meet (the re-solved stretch then starts with a blend this slow at most)."""

    # ---------------------------------------------------------------- input repair
    min_confidence: float = Field(0.3, ge=0.0, le=1.0)
    """Keypoints below this confidence count as missing and are interpolated over."""
    max_gap_s: float = Field(0.5, gt=0.0)
    """Longest run of missing frames [s] that is repaired by interpolation. Longer runs of
    invalid frames are an error; longer low-confidence runs keep the estimator's positions at
    ``low_confidence_weight``."""
    low_confidence_weight: float = Field(0.3, ge=0.0, le=1.0)
    """IK weight multiplier of keypoints kept from the estimator through a low-confidence run
    longer than ``max_gap_s`` (an occluded limb)."""
    max_ground_offset_m: float = Field(0.25, gt=0.0)
    """Largest height of the contact feet above/below z = 0 [m] accepted without ``reground``."""
    reground: bool = False
    """Shift a motion whose contact feet are further than ``max_ground_offset_m`` from z = 0 so
    they rest on it, instead of refusing it."""

    # ---------------------------------------------------------------- targets
    smoothing_sigma_s: float = Field(0.03, ge=0.0)
    """Std of the zero-phase Gaussian filter on the scaled keypoint targets [s]; 0 disables.
    Applied before contacts are pinned, so smoothing never moves a contact foot."""
    contact_blend_s: float = Field(0.15, ge=0.0)
    """Time over which a foot's pin correction fades in/out around a contact [s]."""
    body_shift_sigma_s: float = Field(0.5, ge=0.0)
    """Std of the Gaussian filter on the upper body's vertical shift [s]. The shift is the mean
    of the feet's vertical pin corrections; filtering keeps a slowly drifting ground while the
    legs absorb step-to-step differences. 0 follows the feet frame by frame."""
    detect_contacts: bool = True
    """When the human motion marks no contact at all, detect contacts from foot height/speed."""
    contact_height_m: float = Field(0.06, gt=0.0)
    """Contact detection: sole height above the lowest sole of the clip under which a foot may
    be in contact [m]."""
    contact_speed_m_s: float = Field(0.25, gt=0.0)
    """Contact detection: horizontal foot speed under which a foot may be in contact [m/s]."""
    balance_contacts: bool = True
    """Put the still feet near the floor in contact where the centre of mass lies outside the
    support of the feet in contact and over it with them (to within ``balance_tolerance_m``)
    (:func:`~exoactor.retarget.balance.balancing_contacts`, judged on the extrapolated CoM): a
    stance held on one foot, or on none, with the body's weight beyond the sole is a perception
    error that no robot can follow. The foot is then pinned to the floor like any contact foot,
    but the body keeps the height the seen contacts give it (the foot was seen up by an error
    of its leg, not of the body).

    On, measured on 2026-12-07 (off -> on; drift m / key-body mm):
    the 8 task clips (``benchmarks/task_video.py --force retarget``, perception reused; filter
    seed 0 then seed 1): water_flowers 0.06 / 109 -> 0.06 / 52 and 0.07 / 104 -> 0.01 / 52,
    not executable -> executable on both (its far foot, 6 cm up all clip, made a one-footed
    stance); fold_arms 41 -> 31 and 41 -> 32 mm; clean_car 66 -> 60 and 66 -> 52 mm, drift
    0.10 -> 0.16 and 0.04 -> 0.25 m; raise_arms 56 -> 72 and 55 -> 67 mm;
    turn_around_and_pick_a_book 0.20 -> 0.44 and 0.47 -> 0.11 m (its whole-run attempts spread
    0.2-1.2 m under one setting); pick-up 64 -> 57 and 56 -> 57 mm (its interaction fails either
    way); the seat clips unchanged. Executable 6 -> 7 of 8 on both seeds, mean key-body 64.0 ->
    56.6 and 56.2 mm. The rendered lean-on-a-table truth's table top: -0.8 -> -1.0 cm (with the
    body following the mean of the feet's pins instead, -4.5 cm: perception floats that
    person's feet 8-10 cm and the resting hands came down with the body). The demo's reference
    is unchanged. Of the retarget benchmark's 22 rows (parts 1 and 2) 18 are unchanged:
    walk_008 moves by < 0.5 mm, and walk_006's original left foot hovers 1-5 cm up beside a CoM
    10-29 cm from the right ankle for most of the clip; put down, it takes the part 1 key-point
    p95 28 -> 47 mm from that original (part 2: median 22 -> 26 mm)."""
    balance_foot_height_m: float = Field(0.10, gt=0.0)
    """Highest sole (above the floor) a foot is put down from to balance the stance [m]:
    perception's own release height (``PerceiveConfig.release_height_m``), the error its
    contact hysteresis allows a planted foot."""
    balance_min_s: float = Field(0.6, ge=0.0)
    """Shortest stretch of an unbalanced stance (the centre of mass outside the support of the
    feet in contact) that gets contacts added [s]: twice the time constant of a body
    falling off its support, ``sqrt(h / g)`` = 0.29 s at a centre of mass 0.8 m up, and longer
    than a walking step's single support (0.3-0.5 s), when the centre of mass is outside the
    stance foot by design."""
    balance_tolerance_m: float = Field(0.05, ge=0.0)
    """How far outside the support of its feet the centre of mass may lie for a stance with
    added contacts to count as balanced [m]: the error of the centre of mass estimated from
    keypoints with a human's segment masses (the G1's own differs by ~3 cm on the
    water-flowers clip: 7 mm inside its two feet where the estimate is 7 mm outside, median). A
    stance that no foot balances (a bend whose centre of mass the pose puts 0.13-0.15 m ahead
    of the soles) gets no contact."""
    hand_keypoint_confidence: float = Field(0.5, ge=0.0, le=1.0)
    """Hand detection confidence above which 21 hand keypoints drive wrist and finger curl."""
