"""Human keypoint → robot body correspondence: typed records, the G1 table, validation.

A :class:`KeypointMatch` says which point of which robot body a human keypoint (MediaPipe's 33,
:data:`exoactor.skeleton.BODY_33`) corresponds to: ``offset_m`` is that point in the body's
frame [m]. The IK drives each point to its (scaled) human keypoint; a :class:`FrameMatch` builds
an orientation from three or more keypoints of one rigid robot body; a :class:`FootMatch` names
the keypoints pinned while a foot is in contact.

The G1 table (:data:`G1_CORRESPONDENCE`) places every point on a body that carries it rigidly:

* hips: the pelvis-fixed point that keeps the thigh (hip → knee) length most constant over the
  hip's range (a sphere fit of the knee origin over random hip angles: residual 2.5 mm), i.e. the
  G1's hip centre ``(0, ±0.110, -0.111)`` in the pelvis frame;
* shoulders: the same fit for the elbow over the shoulder's range (residual 1.5 mm), on the torso,
  ``(0.0045, ±0.1405, 0.252)``;
* knees, elbows: the knee/elbow joint body origins; ankles: the ankle-roll body origin;
* heel / foot index: the back and front of the sole, at the height of the sole spheres' centres;
* wrists: the wrist-yaw body origin (the hand's pivot); the body set's index / pinky / thumb
  knuckles: points on the same body where the Dex3-1 index, middle and thumb bases sit (both
  robot variants carry the hand on ``*_wrist_yaw_link``; index side is +z, the left palm faces
  -y and the right palm +y);
* face (nose, eyes, ears, mouth): points on the G1 head, which is rigid on the torso. Their
  weight is low because a person's head turns on the neck and the G1's cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from exoactor.errors import UnknownName
from exoactor.skeleton import BODY_33


@dataclass(frozen=True)
class KeypointMatch:
    """One human keypoint ↔ one point on a robot body.

    Attributes:
        keypoint: human keypoint name (one of :data:`exoactor.skeleton.BODY_33`).
        body: robot MJCF body that carries the point.
        offset_m: the point in ``body``'s frame [m].
        weight: relative position cost (1 = a main joint).
        required: the motion cannot be retargeted without this keypoint.
    """

    keypoint: str
    body: str
    offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    weight: float = 1.0
    required: bool = False


@dataclass(frozen=True)
class FrameMatch:
    """An orientation target for ``body`` built from keypoints on it.

    The frame's x axis points from the mean of ``x_from`` to the mean of ``x_to``; its z axis is
    the component of ``mean(z_to) - mean(z_from)`` orthogonal to x; y completes it. The constant
    rotation from that frame to the body frame is calibrated on the robot's own points.

    Attributes:
        name: frame name (e.g. ``"left_foot"``).
        body: robot body whose orientation is driven.
        x_from, x_to, z_from, z_to: keypoint names defining the axes.
        weight: relative orientation cost.
    """

    name: str
    body: str
    x_from: tuple[str, ...]
    x_to: tuple[str, ...]
    z_from: tuple[str, ...]
    z_to: tuple[str, ...]
    weight: float = 1.0

    @property
    def keypoints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.x_from + self.x_to + self.z_from + self.z_to))


@dataclass(frozen=True)
class FootMatch:
    """A foot that can be in contact with the ground.

    Attributes:
        side: ``"left"`` or ``"right"`` (column 0 / 1 of ``HumanMotion.foot_contact``).
        body: robot foot body (carries the sole collision spheres).
        keypoints: keypoints on the foot pinned while it is in contact.
        knee: knee keypoint, which receives half of the foot's pin correction.
        frame: name of the :class:`FrameMatch` of this foot.
    """

    side: Literal["left", "right"]
    body: str
    keypoints: tuple[str, ...]
    knee: str
    frame: str


@dataclass(frozen=True)
class Correspondence:
    """The full human → robot correspondence of one robot.

    Attributes:
        robot: robot registry name it is written for.
        pelvis_body: body driven by ``HumanMotion.root_quat`` (x forward, y left, z up).
        keypoints: position correspondences.
        frames: orientation correspondences.
        feet: left then right foot.
        hand_bodies: left then right robot body the 21 hand keypoints' palm frame drives.
    """

    robot: str
    pelvis_body: str
    keypoints: tuple[KeypointMatch, ...]
    frames: tuple[FrameMatch, ...]
    feet: tuple[FootMatch, FootMatch]
    hand_bodies: tuple[str, str]

    @property
    def keypoint_names(self) -> tuple[str, ...]:
        return tuple(k.keypoint for k in self.keypoints)

    def index(self, keypoint: str) -> int:
        """Position of ``keypoint`` in :attr:`keypoints`; unknown names list the valid ones."""
        try:
            return self.keypoint_names.index(keypoint)
        except ValueError:
            raise UnknownName(f"correspondence for '{self.robot}' has no keypoint '{keypoint}'; "
                              f"it maps: {', '.join(self.keypoint_names)}") from None

    def frame(self, name: str) -> FrameMatch:
        for f in self.frames:
            if f.name == name:
                return f
        raise UnknownName(f"correspondence for '{self.robot}' has no frame '{name}'; frames: "
                          f"{', '.join(f.name for f in self.frames)}")


_BAD_BODY = ("correspondence for '{robot}': {what} names body '{body}', which robot model "
             "'{model}' lacks; bodies: {bodies}. Fix the table in exoactor/retarget/correspondence.py")


def validate_correspondence(corr: Correspondence, body_names: list[str], model_name: str) -> None:
    """Check ``corr`` against a robot model's bodies and the human keypoint set.

    Raises:
        UnknownName: a body the model lacks (listing the model's bodies), a keypoint outside
            :data:`BODY_33`, a duplicate keypoint, or a frame/foot naming an unmapped keypoint.
    """
    bodies = set(body_names)

    def need_body(body: str, what: str) -> None:
        if body not in bodies:
            raise UnknownName(_BAD_BODY.format(robot=corr.robot, what=what, body=body,
                                               model=model_name, bodies=", ".join(body_names)))

    need_body(corr.pelvis_body, "pelvis_body")
    seen: set[str] = set()
    for k in corr.keypoints:
        if k.keypoint not in BODY_33:
            raise UnknownName(f"correspondence for '{corr.robot}': keypoint '{k.keypoint}' is not "
                              f"a human keypoint; valid: {', '.join(BODY_33)}")
        if k.keypoint in seen:
            raise UnknownName(f"correspondence for '{corr.robot}': keypoint '{k.keypoint}' is "
                              "mapped twice")
        if k.weight < 0:
            raise UnknownName(f"correspondence for '{corr.robot}': keypoint '{k.keypoint}' has "
                              f"negative weight {k.weight}")
        seen.add(k.keypoint)
        need_body(k.body, f"keypoint '{k.keypoint}'")
    for f in corr.frames:
        need_body(f.body, f"frame '{f.name}'")
        for name in f.keypoints:
            if name not in seen:
                raise UnknownName(f"correspondence for '{corr.robot}': frame '{f.name}' uses "
                                  f"keypoint '{name}', which the table does not map")
            if corr.keypoints[corr.index(name)].body != f.body:
                raise UnknownName(f"correspondence for '{corr.robot}': frame '{f.name}' uses "
                                  f"keypoint '{name}' on another body than '{f.body}'")
    for foot in corr.feet:
        need_body(foot.body, f"foot '{foot.side}'")
        corr.frame(foot.frame)
        for name in (*foot.keypoints, foot.knee):
            corr.index(name)
    for body in corr.hand_bodies:
        need_body(body, "hand body")


def _mirror(matches: list[KeypointMatch]) -> list[KeypointMatch]:
    """Right-side copies of left-side matches (y offset negated, names swapped)."""
    out = []
    for k in matches:
        x, y, z = k.offset_m
        out.append(KeypointMatch(k.keypoint.replace("left", "right"),
                                 k.body.replace("left", "right"), (x, -y, z), k.weight,
                                 k.required))
    return out


_G1_LEFT = [
    KeypointMatch("left_hip", "pelvis", (0.0, 0.110, -0.111), 1.0, required=True),
    KeypointMatch("left_knee", "left_knee_link", (0.0, 0.0, 0.0), 1.0, required=True),
    KeypointMatch("left_ankle", "left_ankle_roll_link", (0.0, 0.0, 0.0), 1.0, required=True),
    KeypointMatch("left_heel", "left_ankle_roll_link", (-0.05, 0.0, -0.03), 1.0),
    KeypointMatch("left_foot_index", "left_ankle_roll_link", (0.12, 0.0, -0.03), 1.0),
    KeypointMatch("left_shoulder", "torso_link", (0.0045, 0.1405, 0.252), 1.0, required=True),
    KeypointMatch("left_elbow", "left_elbow_link", (0.0, 0.0, 0.0), 1.0, required=True),
    KeypointMatch("left_wrist", "left_wrist_yaw_link", (0.0, 0.0, 0.0), 1.0, required=True),
    KeypointMatch("left_index", "left_wrist_yaw_link", (0.12, 0.0, 0.028), 0.5),
    KeypointMatch("left_pinky", "left_wrist_yaw_link", (0.12, 0.0, -0.028), 0.5),
    KeypointMatch("left_thumb", "left_wrist_yaw_link", (0.07, -0.04, 0.0), 0.3),
    KeypointMatch("left_eye_inner", "torso_link", (0.07, 0.015, 0.43), 0.05),
    KeypointMatch("left_eye", "torso_link", (0.07, 0.03, 0.43), 0.05),
    KeypointMatch("left_eye_outer", "torso_link", (0.065, 0.045, 0.43), 0.05),
    KeypointMatch("left_ear", "torso_link", (0.0, 0.075, 0.41), 0.1),
    KeypointMatch("mouth_left", "torso_link", (0.07, 0.025, 0.36), 0.05),
]


def _g1_correspondence(robot: str) -> Correspondence:
    keypoints = (KeypointMatch("nose", "torso_link", (0.08, 0.0, 0.40), 0.1), *_G1_LEFT,
                 *_mirror(_G1_LEFT))
    frames = []
    for side in ("left", "right"):
        frames.append(FrameMatch(f"{side}_foot", f"{side}_ankle_roll_link",
                                 x_from=(f"{side}_heel",), x_to=(f"{side}_foot_index",),
                                 z_from=(f"{side}_heel", f"{side}_foot_index"),
                                 z_to=(f"{side}_ankle",), weight=1.0))
        frames.append(FrameMatch(f"{side}_hand", f"{side}_wrist_yaw_link",
                                 x_from=(f"{side}_wrist",), x_to=(f"{side}_index", f"{side}_pinky"),
                                 z_from=(f"{side}_pinky",), z_to=(f"{side}_index",), weight=0.5))
    feet = tuple(FootMatch(side, f"{side}_ankle_roll_link",
                           (f"{side}_ankle", f"{side}_heel", f"{side}_foot_index"),
                           f"{side}_knee", f"{side}_foot") for side in ("left", "right"))
    return Correspondence(robot=robot, pelvis_body="pelvis", keypoints=keypoints,
                          frames=tuple(frames), feet=feet,  # type: ignore[arg-type]
                          hand_bodies=("left_wrist_yaw_link", "right_wrist_yaw_link"))


G1_CORRESPONDENCE = _g1_correspondence("g1")
"""MediaPipe-33 → G1 correspondence (valid for ``g1`` and ``g1_hands``)."""

CORRESPONDENCES: dict[str, Correspondence] = {"g1": G1_CORRESPONDENCE,
                                              "g1_hands": G1_CORRESPONDENCE}


def correspondence_for(robot: str) -> Correspondence:
    """The correspondence table of ``robot``; unknown robots list those that have one."""
    try:
        return CORRESPONDENCES[robot]
    except KeyError:
        raise UnknownName(f"no keypoint correspondence for robot '{robot}'; available: "
                          f"{', '.join(sorted(CORRESPONDENCES))}") from None
