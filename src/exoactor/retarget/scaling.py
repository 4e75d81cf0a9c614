"""Per-segment scaling of human keypoints to the robot's proportions.

The human skeleton is a tree of bones rooted at the hip centre (:data:`BONES`); two virtual
nodes, ``hip_center`` and ``shoulder_center``, are the midpoints of the hips and shoulders. Each
bone belongs to a segment (thigh, shin, upper arm, ...). A segment's scale is

    s = Σ robot bone lengths / Σ human bone lengths

over its bones, the human lengths being medians over the frames where both ends were observed
(the person's estimated size) and the robot lengths those of the correspondence points in the
robot's rest pose. Scaled keypoints are rebuilt from the root outwards: each child is its scaled
parent plus ``s`` times the human bone vector, so bone directions (hence joint angles) are kept
and lengths become the robot's. The hip centre's trajectory is scaled by the leg ratio (thigh +
shin) about its first position, so step lengths and pelvis height match the robot's legs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from exoactor.errors import InvalidMotionFile

logger = logging.getLogger(__name__)

HIP_CENTER = "hip_center"
SHOULDER_CENTER = "shoulder_center"
VIRTUAL_NODES: dict[str, tuple[str, str]] = {
    HIP_CENTER: ("left_hip", "right_hip"),
    SHOULDER_CENTER: ("left_shoulder", "right_shoulder"),
}
"""Virtual node -> the two keypoints it is the midpoint of."""


@dataclass(frozen=True)
class Bone:
    """A rigid human segment piece from ``parent`` to ``child`` (keypoint or virtual node)."""

    parent: str
    child: str
    segment: str


def _sides(parent: str, child: str, segment: str) -> list[Bone]:
    return [Bone(parent.format(s=s), child.format(s=s), segment) for s in ("left", "right")]


_FACE = ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
         "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right")

BONES: tuple[Bone, ...] = (
    *_sides(HIP_CENTER, "{s}_hip", "pelvis"),
    *_sides("{s}_hip", "{s}_knee", "thigh"),
    *_sides("{s}_knee", "{s}_ankle", "shin"),
    *_sides("{s}_ankle", "{s}_heel", "foot"),
    *_sides("{s}_ankle", "{s}_foot_index", "foot"),
    Bone(HIP_CENTER, SHOULDER_CENTER, "trunk"),
    *_sides(SHOULDER_CENTER, "{s}_shoulder", "shoulders"),
    *_sides("{s}_shoulder", "{s}_elbow", "upper_arm"),
    *_sides("{s}_elbow", "{s}_wrist", "forearm"),
    *_sides("{s}_wrist", "{s}_index", "hand"),
    *_sides("{s}_wrist", "{s}_pinky", "hand"),
    *_sides("{s}_wrist", "{s}_thumb", "hand"),
    *(Bone(SHOULDER_CENTER, f, "head") for f in _FACE),
)
"""The human bone tree, parents before children."""

LEG_SEGMENTS = ("thigh", "shin")
"""Segments whose summed scale scales the root trajectory."""

SCALE_RANGE = (0.4, 2.5)
"""Plausible robot/human segment ratios; outside it the keypoints are not a person in metres."""

MAIN_SEGMENTS = ("thigh", "shin", "trunk", "upper_arm", "forearm")
"""Segments long enough to be measured well even for a person small in the frame: a scale
outside :data:`SCALE_RANGE` there is an error of units or axes. The others (hands, feet, head,
shoulder and hip widths) are a few centimetres to a few pixels; their scale is kept within
:data:`MINOR_SCALE_FACTOR` of the legs' instead."""
MINOR_SCALE_FACTOR = 2.0
"""A minor segment's scale stays within this factor of the leg ratio (either way)."""


@dataclass(frozen=True)
class SegmentScales:
    """Scales from the human to the robot.

    Attributes:
        segment: segment name -> scale (robot / human length).
        root: scale of the hip-centre trajectory (leg ratio).
        human_length_m: segment name -> summed human bone length [m].
        robot_length_m: segment name -> summed robot bone length [m].
    """

    segment: dict[str, float]
    root: float
    human_length_m: dict[str, float]
    robot_length_m: dict[str, float]


def with_virtual_nodes(points: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray,
                                                                             tuple[str, ...]]:
    """Append the virtual nodes to ``(T, K, 3)`` points (NaN if a parent keypoint is absent)."""
    extra = []
    for a, b in VIRTUAL_NODES.values():
        if a in names and b in names:
            extra.append(0.5 * (points[:, names.index(a)] + points[:, names.index(b)]))
        else:
            extra.append(np.full(points.shape[::2], np.nan))
    return (np.concatenate([points, np.stack(extra, axis=1)], axis=1),
            (*names, *VIRTUAL_NODES))


def bone_lengths(points: np.ndarray, names: tuple[str, ...],
                 observed: np.ndarray | None = None) -> dict[Bone, float]:
    """Median length [m] of each bone of :data:`BONES` whose ends are both in ``names``.

    Args:
        points: ``(T, K, 3)`` keypoints [m], in the order of ``names``.
        names: keypoint names.
        observed: optional ``(T, K)`` bool, frames where each keypoint was really observed;
            lengths use only frames where both ends were (every finite frame if there is none).
    """
    pts, all_names = with_virtual_nodes(points, names)
    if observed is None:
        observed = np.isfinite(points).all(axis=-1)
    obs = np.concatenate([observed] + [observed[:, [names.index(a), names.index(b)]].all(1)[:, None]
                                       if a in names and b in names
                                       else np.zeros((len(points), 1), bool)
                                       for a, b in VIRTUAL_NODES.values()], axis=1)
    out: dict[Bone, float] = {}
    for bone in BONES:
        if bone.parent not in all_names or bone.child not in all_names:
            continue
        i, j = all_names.index(bone.parent), all_names.index(bone.child)
        both = obs[:, i] & obs[:, j]
        if not both.any():  # never both observed: the estimator's own placement
            both = np.isfinite(pts[:, [i, j]]).all(axis=(1, 2))
            if not both.any():
                continue
        out[bone] = float(np.median(np.linalg.norm(pts[both, j] - pts[both, i], axis=-1)))
    return out


def segment_scales(human: dict[Bone, float], robot: dict[Bone, float],
                   source: str = "<memory>") -> SegmentScales:
    """Scale of each segment from human and robot bone lengths [m] (bones present in both).

    Raises:
        InvalidMotionFile: a main segment's scale (:data:`MAIN_SEGMENTS`, or any when the legs'
            is off) outside :data:`SCALE_RANGE` (keypoints not in metres, or not a person), or
            no leg bones to scale the root by. A minor segment's scale is clamped to within
            :data:`MINOR_SCALE_FACTOR` of the legs' (logged).
    """
    seg_h: dict[str, float] = {}
    seg_r: dict[str, float] = {}
    for bone, length in human.items():
        if bone in robot:
            seg_h[bone.segment] = seg_h.get(bone.segment, 0.0) + length
            seg_r[bone.segment] = seg_r.get(bone.segment, 0.0) + robot[bone]
    if not all(seg in seg_h for seg in LEG_SEGMENTS):
        raise InvalidMotionFile(source, "joints", "has no usable hip-knee-ankle bones; the "
                                "retargeter needs both legs' hips, knees and ankles")
    root = sum(seg_r[s] for s in LEG_SEGMENTS) / sum(seg_h[s] for s in LEG_SEGMENTS)
    scales = {}
    for seg, h in seg_h.items():
        s = seg_r[seg] / h if h > 1e-9 else np.inf
        if seg in MAIN_SEGMENTS or not SCALE_RANGE[0] <= root <= SCALE_RANGE[1]:
            if not SCALE_RANGE[0] <= s <= SCALE_RANGE[1]:
                raise InvalidMotionFile(
                    source, "joints",
                    f"segment '{seg}' is {h:.3f} m long against the robot's {seg_r[seg]:.3f} m "
                    f"(ratio {s:.3g} outside {SCALE_RANGE}); keypoints must be a person in "
                    "metres, z up - check the importer's units and axes")
        else:
            lo, hi = root / MINOR_SCALE_FACTOR, root * MINOR_SCALE_FACTOR
            if not lo <= s <= hi:
                logger.warning("%s: segment '%s' is %.3f m long against the robot's %.3f m "
                               "(ratio %.3g); a small segment of a person small in the frame "
                               "is mostly landmark noise: its scale is kept within %gx the "
                               "legs' (%.3g)", source, seg, h, seg_r[seg], s,
                               MINOR_SCALE_FACTOR, root)
                s = float(np.clip(s, lo, hi))
        scales[seg] = float(s)
    return SegmentScales(scales, float(root), seg_h, seg_r)


def scale_keypoints(points: np.ndarray, names: tuple[str, ...], scales: SegmentScales
                    ) -> np.ndarray:
    """Keypoints rebuilt with the robot's segment lengths.

    Args:
        points: ``(T, K, 3)`` human keypoints in world [m] (gap-filled; NaN for absent ones).
        names: their names.
        scales: from :func:`segment_scales`.

    Returns:
        ``(T, K, 3)`` scaled keypoints in world [m]; keypoints not reached by a scaled bone stay
        NaN.
    """
    pts, all_names = with_virtual_nodes(points, names)
    out = np.full_like(pts, np.nan)
    root = all_names.index(HIP_CENTER)
    p0 = pts[:, root]
    origin_xy = p0[0, :2]
    out[:, root, :2] = origin_xy + scales.root * (p0[:, :2] - origin_xy)
    out[:, root, 2] = scales.root * p0[:, 2]
    for bone in BONES:
        if bone.parent not in all_names or bone.child not in all_names:
            continue
        i, j = all_names.index(bone.parent), all_names.index(bone.child)
        s = scales.segment.get(bone.segment)
        if s is None:
            continue
        out[:, j] = out[:, i] + s * (pts[:, j] - pts[:, i])
    return out[:, :len(names)]
