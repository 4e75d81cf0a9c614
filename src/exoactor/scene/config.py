"""Settings of the scene steps that simulate the robot with its objects: the seat placement
search (:mod:`.place`), the seat-contact reference (:mod:`.contact_ref`) and the grip reference
(:mod:`.grip_ref`). Kept apart from
those modules so that :class:`exoactor.scene.infer.InferConfig` holds them without importing
the steps (which import :mod:`.infer`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PlaceConfig(BaseModel):
    """The seat placement search (see the module)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Search the placement (``False``: keep the rule's seats as they are)."""
    shifts_m: tuple[float, ...] = (-0.20, -0.15, -0.10, -0.05, 0.0, 0.05)
    """Shifts of the seat along the seated heading from each anchor (+ forward) [m]."""
    heights_m: tuple[float, ...] = (-0.03, 0.0)
    """Changes of the seat top from the rule's top [m] (the rule's top is
    ``InferConfig.seat_above_lowest_m`` above the reference's lowest pelvis/thigh point, so the
    defaults try +0.06/+0.09, the range sitting-notes measured)."""
    robot_anchor: bool = True
    """Also search around the robot's own lowest pelvis point of the no-seat rollout."""
    robot_anchor_max_m: float = Field(0.30, ge=0.0, le=2.0)
    """... when it is at most this far from the rule's position along the heading (a robot that
    drifted further is not descending onto this seat) [m]."""
    max_raise_m: float = Field(0.20, ge=0.0, le=0.5)
    """A candidate at the highest top the start pose allows is tried when that is at most this
    far above the rule's top [m] (a half-standing start whose seat is out of the rule's
    reach)."""
    tail_s: float = Field(2.0, ge=0.0, le=60.0)
    """A seat's rollouts stop this long after its (last) seated phase: standing up from it is
    judged, the rest of a long clip is not simulated again for every candidate [s]."""
    start_clearance_m: float = Field(0.01, ge=0.0, le=0.1)
    """Deepest the robot's start pose may be inside a candidate seat [m]."""
    under_reference: bool = True
    """Try only placements whose footprint holds the reference's seated pelvis (the lowest
    point of its pelvis geom, median over the seated phase: the point the rule anchors the seat
    to, :func:`exoactor.scene.infer.seat_from_phase`); when none does, all are tried. A seat
    behind or beside the seated person carries nothing the reference asks for: on the bench
    clip every placement fell, and the search took the one the robot fell latest with, 0.10 m
    behind the rule, whose front edge was 0.07 m behind the reference's seated pelvis (seated
    1 %; the filtered robot stood up in front of it and tripped backward over it)."""

    # -- speed (i16g) --
    workers: int = Field(2, ge=1, le=16)
    """Rollouts run at once (threads); the choice does not depend on it."""


class SitDownConfig(BaseModel):
    """An explicit sit-down onto the seat (:mod:`exoactor.scene.sit_down`): the pelvis goes
    down over the front half of the seat with the trunk leaning forward, on the person's
    timing, then the trunk settles; the feet are held where they were when the descent
    began."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    behind_front_m: float = Field(0.20, ge=0.0, le=1.0)
    """Pelvis target behind the seat's front edge, along its depth [m]: sitting-notes' placement
    (front edge 0.20 m ahead of the reference pelvis), since TWIST2 sits with its pelvis 13-24 cm
    nearer its feet than the reference's, i.e. on the seat's front half."""
    lateral_margin_m: float = Field(0.10, ge=0.0, le=0.5)
    """The pelvis target's lateral position (the reference's) is kept this far inside the
    seat's side edges [m]."""
    lean_rad: float = Field(0.52, ge=0.0, le=1.2)
    """Forward lean of the trunk (pelvis and torso, about the seat's width axis) at the end of
    the descent [rad] (the stool references of sitting-notes lean 30° and 45°)."""
    settle_lean_rad: float = Field(0.17, ge=-0.3, le=1.2)
    """Forward lean once settled on the seat [rad] (the bench clip's person sits at +10-15°)."""
    settle_s: float = Field(1.0, ge=0.0, le=5.0)
    """Time from the end of the descent to the settled lean [s]."""
    start_share: float = Field(0.9, gt=0.0, lt=1.0)
    """The descent starts where the reference pelvis is last this share of the way from its
    seated height up to its highest before (the person begins to sit)."""
    min_descent_s: float = Field(1.5, ge=0.1, le=5.0)
    """Shortest descent [s] (the person's own when longer; the stool references take 2-3 s,
    the bench clip's person 0.8 s)."""


class SeatPoseVariant(BaseModel):
    """One way of putting the reference's pelvis on a seat (overrides of
    :class:`ContactRefConfig`'s fields of the same names)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Label in notes and logs."""
    press_m: float = Field(0.05, ge=0.0, le=0.2)
    com_to_feet: float = Field(0.5, ge=0.0, le=1.0)
    com_cost: float = Field(10.0, ge=0.0)
    seat_margin_m: float | None = None
    pelvis_xy_cost: float = Field(1.0, ge=0.0)
    hold_feet: bool = False
    posture_cost: float = Field(0.05, ge=0.0)
    sit_down: SitDownConfig | None = None


DEFAULT_VARIANTS = (
    SeatPoseVariant(name="lowered, CoM toward the feet"),
    SeatPoseVariant(name="lowered over the seat", com_to_feet=0.0, com_cost=0.0,
                    seat_margin_m=0.10, pelvis_xy_cost=20.0),
    SeatPoseVariant(name="lowered over the seat, feet held", com_to_feet=0.0, com_cost=0.0,
                    seat_margin_m=0.10, pelvis_xy_cost=20.0, hold_feet=True),
    SeatPoseVariant(name="sat down, leaning forward", press_m=0.13, com_to_feet=0.0,
                    com_cost=0.0, pelvis_xy_cost=20.0, posture_cost=1.0,
                    sit_down=SitDownConfig()),
)
"""The seat poses :func:`exoactor.scene.contact_ref.choose_seated` tries: the pelvis lowered
onto the seat with the CoM moved half way toward the feet (the robot keeps its weight over its
feet, sitting-notes); lowered with the pelvis moved inside the seat's footprint (10 cm from its
edges) and the CoM left free (the seat carries it); the same with the feet held where they were
when the phase began (no foot slides while seated); an explicit sit-down
(:class:`SitDownConfig`, :mod:`exoactor.scene.sit_down`): the pelvis down onto the seat
``behind_front_m`` behind its front edge on the person's timing, the torso leaning forward then
settling, the legs drawn toward the stool references' seated posture (``posture_cost``), the seat
contact 0.13 m below the top (TWIST2 holds its pelvis about 8 cm above a seated reference's: on
the bench clip, with 0.08 m the robot hovered over the seat, loading it in 2-15 % of the phase)."""


class ContactRefConfig(BaseModel):
    """The seat-contact reference (see the module)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Adjust the reference (``False``: the track stage uses ``robot_motion.npz`` as it is)."""
    press_m: float = Field(0.05, ge=0.0, le=0.2)
    """Depth of the seat contact's target below the seat top [m] (the tracker stays a little
    above its reference; a contact that only touches carries little)."""
    ramp_s: float = Field(0.5, ge=0.0, le=3.0)
    """Blend in before and out after each evidence window [s]."""
    iterations: int = Field(40, ge=1, le=500)
    """IK steps per frame and pass."""
    passes: int = Field(3, ge=1, le=10)
    """Solves per frame, each correcting the pelvis target by the remaining contact error."""
    foot_cost: float = Field(50.0, gt=0.0)
    """Cost of the feet's world pose (position [1/m], orientation [1/rad])."""
    pelvis_cost: float = Field(20.0, gt=0.0)
    """Cost of the pelvis height and orientation."""
    pelvis_xy_cost: float = Field(1.0, ge=0.0)
    """Cost of the pelvis xy (low: the CoM's xy decides where the pelvis goes)."""
    torso_cost: float = Field(5.0, ge=0.0)
    """Cost of the torso orientation [1/rad]."""
    com_cost: float = Field(10.0, ge=0.0)
    """Cost of the CoM's xy at the reference's [1/m]."""
    com_to_feet: float = Field(0.5, ge=0.0, le=1.0)
    """Share of the way the CoM's xy target moves from the reference's CoM toward the feet's
    support polygon (nearest point) when it is outside it: 0 keeps the reference's CoM, 1 puts
    it over the feet (a seated robot leaning its weight over its feet stays up)."""
    hold_feet: bool = False
    """Hold each foot, from the start of a seat window's ramp-in to the window's end, at its pose
    of that first frame (blended out after the window): a seated person's feet that slide about
    (e.g. legs stretched forward) would make the tracker step while it sits."""
    sit_down: SitDownConfig | None = None
    """An explicit sit-down (:class:`SitDownConfig`) instead of the reference's own, through the
    seat window; ``seat_margin_m``, ``hold_feet`` and the CoM's target are then not used (the
    feet are held from the descent's start, the CoM is free)."""
    seat_margin_m: float | None = None
    """When set, the pelvis xy target is the reference pelvis moved into the seat's footprint
    shrunk by this margin along the heading (``pelvis_xy_cost`` then weighs it), so the pelvis
    sits over the seat rather than at its edge [m]; ``None``: the reference pelvis xy."""
    variants: tuple[SeatPoseVariant, ...] = DEFAULT_VARIANTS
    """Seat poses tried, each one rollout per placement tried; the one with the best outcome
    (:func:`exoactor.scene.place.placement_score`) is used, the retargeted reference when none
    is better. Empty: this config's own fields are the one pose tried."""
    placements: int = Field(3, ge=1, le=20)
    """Best placements of the placement search (with the retargeted reference) the seat poses
    are tried on; the pair with the best outcome wins."""
    filter_finalists: int = Field(2, ge=0, le=10)
    """When the track stage runs the physics filter: the (placement, pose) pairs of the tracker
    rollouts seated longest (:func:`exoactor.scene.place.finalist_score`) that are run again
    through the filter, with the baseline (first placement, retargeted reference): of these
    ``filter_finalists`` + 1 filter runs at most, the one used is the best by
    :func:`exoactor.scene.place.filtered_choice` (the seat succeeds, then the filter's
    whole-run objective; the baseline unless another is better). 0: the tracker rollouts alone
    decide."""
    posture_cost: float = Field(0.05, ge=0.0)
    """Cost of the joints' distance from the reference frame's joints."""
    damping: float = Field(1e-3, gt=0.0)
    """Levenberg-Marquardt damping of the solve."""

    # -- speed (i16g) --
    workers: int = Field(2, ge=1, le=16)
    """Tracker rollouts of the (placement, pose) pairs run at once (threads, overlapping the
    next pose's IK); the choice does not depend on it."""


class GripRefConfig(BaseModel):
    """The grip reference of a carried box (:mod:`exoactor.scene.grip_ref`): the reference's
    hands pressed into the box's sides while they hold it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = False
    """Squeeze the reference's hands (``False``: the hands stay where the retargeting put them,
    at the box's sides, and the tracked arms push on it with no force to lift it by). Off by
    default: alone it lifts a box the robot stands at (the slow test), but on the one dev
    pick-up clip (``gym_pick_up_weight``, task-video benchmark) the robot is not at the box
    with both hands at the grasp, and with the squeeze on the far hand ended farther from it
    under both filter seeds measured (0.04 -> 0.41 m, 0.27 -> 0.39 m), the box no higher."""
    squeeze_m: float = Field(0.03, ge=0.0, le=0.1)
    """How far each hand's target goes inward (toward the other hand) while it holds the box
    [m]. The tracker's arms press on the box in proportion to how far their reference is inside
    it; friction then carries its weight. Measured (standing G1 under TWIST2, box inferred from
    the motion, friction 1, its hands raised 0.2 m; ``tests/scene/test_grip_ref.py``): a 1.75 kg
    box rose 0.002/0.005/0.093/0.097 m for 0/0.01/0.02/0.03 m; a 3 kg box (the heaviest an
    inferred box gets, ``InferConfig.box_mass_range_kg``) 0.049/0.077/0.081 m for 0.02/0.03/
    0.04 m, held from 0.03 m on (lift 0.05 m, the interaction score's bound). 0.03: the least
    measured squeeze that lifts the heaviest box."""
    ramp_s: float = Field(0.2, ge=0.0, le=2.0)
    """The squeeze ramps in over this time after the grasp (the hands first reach the box's
    sides, then press) and out over it after the hold's last frame [s]."""
    iterations: int = Field(30, ge=1, le=500)
    """IK steps per frame."""
    hand_cost: float = Field(20.0, gt=0.0)
    """Cost of each hand's squeezed position [1/m]."""
    body_cost: float = Field(50.0, gt=0.0)
    """Cost of the feet, pelvis and torso at their reference poses (only the arms move)."""
    posture_cost: float = Field(0.05, ge=0.0)
    """Cost of the joints' distance from the reference frame's joints."""
    damping: float = Field(1e-3, gt=0.0)
    """Levenberg-Marquardt damping of the solve."""
