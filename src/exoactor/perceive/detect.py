"""MediaPipe detections on one image: people (BlazePose, 'full' model) and hands (MediaPipe
Hands on square crops placed by a body's wrists).

This is the one place that calls MediaPipe's pose and hand graphs. The perceive backend
(:mod:`exoactor.perceive.backends.mediapipe`) tracks its actor with these calls, and the clip
checks of :mod:`exoactor.imagine.checks` count people with :func:`detect_people`.

Landmark conventions: ``pose_landmarks`` are normalised to the processed image (converted here
to pixels of the full frame); ``pose_world_landmarks`` are metric, centred between the hips,
with the camera's axes (x right, y down, z away from the camera). Hand world landmarks likewise,
centred on the hand (re-centred here on its wrist).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from exoactor.perceive.backend import NUM_HAND
from exoactor.perceive.config import MediaPipeConfig
from exoactor.perceive.tracking import box_area, box_overlap, box_scale, expand_box, landmark_box_px

MASK_GREY = 114
"""Value painted over masked-out image regions."""
_WRISTS = (15, 16)  # left, right wrist in BODY_33
_KNUCKLES = ((17, 19), (18, 20))  # (pinky, index) of the left, right hand in BODY_33


class Person:
    """One body detection mapped to full-frame pixels: ``kp_px`` ``(33, 2)`` landmarks [px],
    ``vis`` ``(33,)`` visibility in [0, 1], ``rel_c`` ``(33, 3)`` hip-centred metric landmarks
    (camera axes) [m], ``box`` ``(4,)`` landmark box [px], ``hip`` ``(2,)`` hip centre [px]."""

    __slots__ = ("box", "hip", "kp_px", "rel_c", "vis")

    def __init__(self, kp_px: np.ndarray, vis: np.ndarray, rel_c: np.ndarray, box: np.ndarray):
        self.kp_px, self.vis, self.rel_c, self.box = kp_px, vis, rel_c, box
        self.hip = kp_px[[23, 24]].mean(axis=0)


def mask_image(rgb: np.ndarray, keep: np.ndarray | None, hide: list[np.ndarray]) -> np.ndarray:
    """Copy of ``rgb`` grey outside ``keep`` and inside every ``hide`` box (but never inside
    ``keep``'s core: callers pass boxes that do not cover the actor)."""
    h, w = rgb.shape[:2]
    if keep is None and not hide:
        return rgb
    if keep is not None and keep[0] <= 0 and keep[1] <= 0 and keep[2] >= w and keep[3] >= h \
            and not hide:
        return rgb
    out = np.full_like(rgb, MASK_GREY)
    if keep is None:
        out[:] = rgb
        x0 = y0 = 0
        x1, y1 = w, h
    else:
        x0, y0 = int(keep[0]), int(keep[1])
        x1, y1 = int(np.ceil(keep[2])), int(np.ceil(keep[3]))
        out[y0:y1, x0:x1] = rgb[y0:y1, x0:x1]
    for b in hide:
        bx0, by0 = max(int(b[0]), x0), max(int(b[1]), y0)
        bx1, by1 = min(int(np.ceil(b[2])), x1), min(int(np.ceil(b[3])), y1)
        if bx1 > bx0 and by1 > by0:
            out[by0:by1, bx0:bx1] = MASK_GREY
    return out


def open_pose(video_mode: bool, min_detection_confidence: float,
              min_tracking_confidence: float = 0.5, smooth_landmarks: bool = True) -> Any:
    """A BlazePose graph ('full' model): video mode tracks its landmarks from frame to frame,
    image mode detects afresh on every call. Raises ``ImportError`` without ``mediapipe``."""
    with warnings.catch_warnings():  # protobuf deprecation noise inside mediapipe
        warnings.simplefilter("ignore", UserWarning)
        from mediapipe.python.solutions import pose as mp_pose
    if video_mode:
        return mp_pose.Pose(static_image_mode=False, model_complexity=1,
                            smooth_landmarks=smooth_landmarks,
                            min_detection_confidence=min_detection_confidence,
                            min_tracking_confidence=min_tracking_confidence)
    return mp_pose.Pose(static_image_mode=True, model_complexity=1,
                        min_detection_confidence=min_detection_confidence)


def open_hands(min_detection_confidence: float) -> Any:
    """The single-image MediaPipe Hands graph (palm detector + 21 landmarks), one hand a call."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        from mediapipe.python.solutions import hands as mp_hands
    return mp_hands.Hands(static_image_mode=True, max_num_hands=1, model_complexity=1,
                          min_detection_confidence=min_detection_confidence)


def run_pose(model: Any, image: np.ndarray, offset: tuple[float, float], size: tuple[int, int],
             frame_wh: tuple[int, int]) -> Person | None:
    """The pose graph on ``image`` (``size`` px, placed at ``offset`` in a ``frame_wh`` frame)."""
    res = model.process(image)
    if res.pose_landmarks is None or res.pose_world_landmarks is None:
        return None
    lm = res.pose_landmarks.landmark
    wl = res.pose_world_landmarks.landmark
    kp = np.array([(p.x, p.y) for p in lm]) * np.array(size, dtype=float) + np.array(offset)
    vis = np.clip(np.array([p.visibility for p in lm]), 0.0, 1.0)
    rel = np.array([(p.x, p.y, p.z) for p in wl])
    return Person(kp, vis, rel, landmark_box_px(kp, *frame_wh))


def prime_pose(model: Any, images: Iterable[np.ndarray]) -> None:
    """Feed a video-mode pose graph ``images`` in order, discarding its results: the graph
    then reaches the next image with its landmark crop settled on the person it follows."""
    for image in images:
        model.process(image)


def pose_on_crop(model: Any, rgb: np.ndarray, crop: np.ndarray, hide: list[np.ndarray],
                 rotate: bool = False) -> Person | None:
    """Single-image pose on ``crop`` of ``rgb`` (``hide`` boxes painted grey), optionally
    turned by 180 deg (for people upside down: the detector is trained upright)."""
    h, w = rgb.shape[:2]
    x0, y0 = int(crop[0]), int(crop[1])
    x1, y1 = int(np.ceil(crop[2])), int(np.ceil(crop[3]))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return None
    img = (mask_image(rgb, None, hide) if hide else rgb)[y0:y1, x0:x1]
    if rotate:
        img = img[::-1, ::-1]
    cand = run_pose(model, np.ascontiguousarray(img), (0, 0), (x1 - x0, y1 - y0),
                    (x1 - x0, y1 - y0))
    if cand is None:
        return None
    kp = cand.kp_px
    rel = cand.rel_c
    if rotate:  # back to upright image axes: a 180 deg turn about the optical axis
        kp = np.array([x1 - x0, y1 - y0]) - kp
        rel = rel * np.array([-1.0, -1.0, 1.0])
    kp = kp + np.array([x0, y0])
    return Person(kp, cand.vis, rel, landmark_box_px(kp, w, h))


def grown_landmark_box(person: Person, width_px: int, height_px: int) -> np.ndarray:
    """The landmark box of ``person`` grown by a tenth of its size on every side [px]."""
    return expand_box(person.box, 0.1 * box_scale(person.box), width_px, height_px)


def detect_people(model: Any, rgb: np.ndarray, max_people: int,
                  mask_box: Callable[[Person, int, int], np.ndarray | None] = grown_landmark_box
                  ) -> list[Person]:
    """Everybody a single-image pose graph finds in ``rgb``, by detect-mask-repeat, largest
    first: each person found is painted grey (``mask_box(person, width_px, height_px)``;
    ``None`` stops the search) before the next look, at most ``max_people`` looks."""
    h, w = rgb.shape[:2]
    found: list[Person] = []
    hide: list[np.ndarray] = []
    for _ in range(max_people):
        cand = run_pose(model, mask_image(rgb, None, hide), (0, 0), (w, h), (w, h))
        if cand is None or box_area(cand.box) < 1.0:
            break
        if any(box_overlap(cand.box, f.box) > 0.5 for f in found):
            break  # the masked person found again through the mask
        found.append(cand)
        box = mask_box(cand, w, h)
        if box is None:
            break
        hide.append(box)
    return sorted(found, key=lambda c: -box_area(c.box))


def hands_on_wrists(model: Any, rgb: np.ndarray, person: Person, c: MediaPipeConfig
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """Both hands of ``person``: for each wrist seen, a square crop centred past the wrist
    towards the knuckles goes through the hand graph ``model``. A hand whose wrist lands far
    from the body's wrist is dropped.

    Returns ``(px (2, 21, 2) [px], rel (2, 21, 3) wrist-centred [m], score (2,), labels)``
    (left, right; NaN / 0 / None where not found). MediaPipe's labels assume a mirrored
    selfie image and are returned only for diagnostics.
    """
    h, w = rgb.shape[:2]
    px = np.full((2, NUM_HAND, 2), np.nan)
    rel = np.full((2, NUM_HAND, 3), np.nan)
    score = np.zeros(2)
    labels: list[str | None] = [None, None]
    scale = box_scale(person.box)
    for side in (0, 1):
        wi = _WRISTS[side]
        knuckle = person.kp_px[list(_KNUCKLES[side])].mean(axis=0)
        wrist = person.kp_px[wi]
        if person.vis[wi] < 0.3 or not np.all(np.isfinite(wrist)):
            continue
        reach = float(np.linalg.norm(knuckle - wrist))
        side_px = max(c.hand_crop_scale * scale, 3.5 * reach, float(c.hand_crop_min_px))
        centre = wrist + (knuckle - wrist) * 1.2
        x0, y0 = int(max(0, centre[0] - side_px / 2)), int(max(0, centre[1] - side_px / 2))
        x1, y1 = int(min(w, centre[0] + side_px / 2)), int(min(h, centre[1] + side_px / 2))
        if x1 - x0 < 16 or y1 - y0 < 16:
            continue
        res = model.process(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        if not res.multi_hand_landmarks:
            continue
        lm = res.multi_hand_landmarks[0].landmark
        kp = np.array([(p.x, p.y) for p in lm]) * [x1 - x0, y1 - y0] + [x0, y0]
        off = float(np.linalg.norm(kp[0] - wrist)) / side_px
        if off > c.hand_max_wrist_offset:
            continue
        wl = res.multi_hand_world_landmarks[0].landmark
        hw = np.array([(p.x, p.y, p.z) for p in wl])
        px[side] = kp
        rel[side] = hw - hw[0]
        score[side] = float(np.exp(-(off / (0.5 * c.hand_max_wrist_offset)) ** 2))
        if res.multi_handedness:
            labels[side] = res.multi_handedness[0].classification[0].label
    return px, rel, score, labels
