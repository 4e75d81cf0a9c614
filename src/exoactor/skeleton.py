"""The human keypoint set of :class:`~exoactor.formats.HumanMotion`: MediaPipe Pose's 33
landmarks (BlazePose topology), in MediaPipe's index order, and its hand set of 21 keypoints.

Other estimators (SMPL joints from GVHMR, ...) are mapped onto these names by their importers.
The body set's segment masses (:data:`SEGMENT_MASS`) give its whole-body centre of mass
(:func:`centre_of_mass_w`), which perceive (the leg-depth choice) and retarget (the balancing
contacts) both use.
"""

from __future__ import annotations

import numpy as np

BODY_33: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)
"""MediaPipe Pose landmark names, index = MediaPipe's landmark id."""

BODY_BONES: tuple[tuple[str, str], ...] = (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
    ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("left_ankle", "left_heel"), ("left_heel", "left_foot_index"),
    ("left_ankle", "left_foot_index"),
    ("right_ankle", "right_heel"), ("right_heel", "right_foot_index"),
    ("right_ankle", "right_foot_index"),
)
"""Rigid segments of the body set (for bone-length constancy and drawing)."""

HAND_21: tuple[str, ...] = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip", "index_mcp", "index_pip",
    "index_dip", "index_tip", "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip", "pinky_mcp", "pinky_pip", "pinky_dip",
    "pinky_tip",
)
"""MediaPipe Hands keypoint names, index = MediaPipe's hand landmark id."""

HAND_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11),
    (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
    (5, 9), (9, 13), (13, 17),
)
"""Hand segments as index pairs into :data:`HAND_21`."""


def index(name: str, names: tuple[str, ...] = BODY_33) -> int:
    """Index of keypoint ``name``; unknown names list the valid ones."""
    from exoactor.errors import UnknownName

    try:
        return names.index(name)
    except ValueError:
        raise UnknownName(f"unknown keypoint '{name}'; valid: {', '.join(names)}") from None


SEGMENT_MASS: tuple[tuple[tuple[str, ...], tuple[str, ...], float, float], ...] = (
    # (proximal points, distal points, mass fraction, CoM position from proximal [-])
    (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder"), 0.4346, 0.5),
    (("nose",), ("nose",), 0.0694, 0.0),
    (("left_shoulder",), ("left_elbow",), 0.0271, 0.5772),
    (("right_shoulder",), ("right_elbow",), 0.0271, 0.5772),
    (("left_elbow",), ("left_wrist",), 0.0162, 0.4574),
    (("right_elbow",), ("right_wrist",), 0.0162, 0.4574),
    (("left_wrist",), ("left_wrist",), 0.0061, 0.0),
    (("right_wrist",), ("right_wrist",), 0.0061, 0.0),
    (("left_hip",), ("left_knee",), 0.1416, 0.4095),
    (("right_hip",), ("right_knee",), 0.1416, 0.4095),
    (("left_knee",), ("left_ankle",), 0.0433, 0.4459),
    (("right_knee",), ("right_ankle",), 0.0433, 0.4459),
    (("left_heel",), ("left_foot_index",), 0.0137, 0.5),
    (("right_heel",), ("right_foot_index",), 0.0137, 0.5),
)
"""Body segments between keypoints, with the mass fractions and CoM positions of de Leva
(1996, adult male; the fractions sum to 1). The trunk's CoM is taken at its middle, the head's at
the nose, a hand's at the wrist."""


def centre_of_mass_w(points_w: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """``(T, 3)`` whole-body centre of mass [m] from keypoints ``(T, K, 3)`` named ``names``
    (:data:`SEGMENT_MASS`; a segment with a missing or non-finite point is left out and the
    others renormalised).

    Raises:
        ValueError: ``names`` lacks every segment's points.
    """
    pts = np.asarray(points_w, dtype=float)
    total = np.zeros(pts.shape[:1] + (3,))
    mass = np.zeros(pts.shape[:1])
    for prox, dist, frac, at in SEGMENT_MASS:
        if not all(n in names for n in prox + dist):
            continue
        a = pts[:, [names.index(n) for n in prox]].mean(axis=1)
        b = pts[:, [names.index(n) for n in dist]].mean(axis=1)
        c = a + at * (b - a)
        ok = np.isfinite(c).all(axis=1)
        total[ok] += frac * c[ok]
        mass[ok] += frac
    if not mass.any():
        raise ValueError(f"no body segment of SEGMENT_MASS among the keypoints {names}: the "
                         "centre of mass needs hips, shoulders, knees and ankles")
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / mass[:, None]
