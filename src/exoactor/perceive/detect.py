"""MediaPipe detections on one image: people (BlazePose, 'full' model) and hands (MediaPipe's
hand landmark model on regions placed by a body's wrist, pinky and index landmarks).

Two ways to place a hand (``MediaPipeConfig.hand_roi``):

* ``"pose"`` (:func:`hands_from_pose`): MediaPipe Holistic's own chain, without its face and
  body parts: the body's wrist, pinky and index landmarks give a hand region, the small
  re-crop model (``hand_recrop.tflite``, 256x256 input) refines it, and from the second frame
  on the region follows the hand's previous landmarks while they agree with the re-crop
  (``HandTracking``); then the hand landmark model. No palm detector: ~11 ms per hand.
* ``"palm"`` (:func:`hands_on_wrists`): a square crop past each wrist through the single-image
  MediaPipe Hands graph (palm detector + landmark model): ~20 ms per hand, and the palm
  detector may pick the other hand when the hands are close (folded arms).

This is the one place that calls MediaPipe's pose and hand graphs. The perceive backend
(:mod:`exoactor.perceive.backends.mediapipe`) tracks its actor with these calls, and the clip
checks of :mod:`exoactor.imagine.checks` count people with :func:`detect_people`.

Landmark conventions: ``pose_landmarks`` are normalised to the processed image (converted here
to pixels of the full frame); ``pose_world_landmarks`` are metric, centred between the hips,
with the camera's axes (x right, y down, z away from the camera). Hand world landmarks likewise,
centred on the hand (re-centred here on its wrist).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys
import types
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


def import_mediapipe() -> None:
    """Import mediapipe's legacy solutions (pose, hands, the graph runner). Raises
    ``ImportError`` without ``mediapipe``.

    Its ``solutions`` package imports ``matplotlib.pyplot`` for drawing helpers this package
    never calls (~0.25 s of CPU per process, a tenth of a short clip's budget). Unless
    pyplot is already imported, a stand-in is registered first (:class:`_Deferred`): the
    real pyplot then loads on its first attribute use, by anyone, as usual.
    """
    if "mediapipe.python.solutions.hands" in sys.modules:
        return
    _defer_import("matplotlib.pyplot")
    with warnings.catch_warnings():  # protobuf deprecation noise inside mediapipe
        warnings.simplefilter("ignore", UserWarning)
        import mediapipe.python.solution_base  # noqa: F401
        import mediapipe.python.solutions.hands  # noqa: F401
        import mediapipe.python.solutions.pose  # noqa: F401


class _Deferred(types.ModuleType):
    """Stands in ``sys.modules`` for a module not imported yet; the first attribute asked of
    it imports the real module (which then replaces it) and answers from that."""

    def __getattr__(self, attr: str) -> Any:  # only for attributes not set here
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, real)
        return getattr(real, attr)


def _defer_import(name: str) -> None:
    """Register module ``name`` (not yet imported; its parent package is imported) as
    :class:`_Deferred`: ``import name`` then costs nothing until it is used."""
    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    try:
        base = importlib.import_module(parent)
        spec = importlib.machinery.PathFinder.find_spec(name, base.__path__)
    except ImportError:
        return
    if spec is None:
        return
    stub = _Deferred(name)
    stub.__spec__ = spec  # import statements read it (a spec not initialising: no load)
    sys.modules[name] = stub
    setattr(base, child, stub)


def open_pose(video_mode: bool, min_detection_confidence: float,
              min_tracking_confidence: float = 0.5, smooth_landmarks: bool = True) -> Any:
    """A BlazePose graph ('full' model): video mode tracks its landmarks from frame to frame,
    image mode detects afresh on every call. Raises ``ImportError`` without ``mediapipe``."""
    import_mediapipe()
    from mediapipe.python.solutions import pose as mp_pose

    if video_mode:
        return mp_pose.Pose(static_image_mode=False, model_complexity=1,
                            smooth_landmarks=smooth_landmarks,
                            min_detection_confidence=min_detection_confidence,
                            min_tracking_confidence=min_tracking_confidence)
    return mp_pose.Pose(static_image_mode=True, model_complexity=1,
                        min_detection_confidence=min_detection_confidence)


_HANDS_FROM_POSE = """
input_stream: "IMAGE:image"
input_stream: "POSE:pose_hand"
output_stream: "LANDMARKS:landmarks"
output_stream: "WORLD_LANDMARKS:world_landmarks"
output_stream: "HANDEDNESS:handedness"
node { calculator: "ImagePropertiesCalculator"
       input_stream: "IMAGE:image" output_stream: "SIZE:image_size" }
node { calculator: "HandLandmarksFromPoseToRecropRoi"
       input_stream: "HAND_LANDMARKS_FROM_POSE:pose_hand" input_stream: "IMAGE_SIZE:image_size"
       output_stream: "ROI:roi_from_pose" }
node { calculator: "HandRecropByRoiCpu"
       input_stream: "IMAGE:image" input_stream: "ROI:roi_from_pose"
       output_stream: "HAND_ROI_FROM_RECROP:roi_from_recrop" }
node { calculator: "HandTracking"
       input_stream: "LANDMARKS:landmarks" input_stream: "HAND_ROI_FROM_RECROP:roi_from_recrop"
       input_stream: "IMAGE_SIZE:image_size" output_stream: "HAND_TRACKING_ROI:roi" }
node { calculator: "HandLandmarkCpu"
       input_stream: "IMAGE:image" input_stream: "ROI:roi"
       output_stream: "LANDMARKS:landmarks" output_stream: "WORLD_LANDMARKS:world_landmarks"
       output_stream: "HANDEDNESS:handedness"
       input_side_packet: "MODEL_COMPLEXITY:model_complexity" }
"""
"""One hand of MediaPipe Holistic's chain (its ``HandLandmarksFromPoseCpu``, with the world
landmarks): body landmarks [wrist, pinky, index] -> region -> re-crop model -> tracking of
the previous landmarks -> hand landmark model. Subgraphs of the mediapipe wheel."""


def open_hands_from_pose() -> tuple[Any, Any]:
    """Two hand graphs placed by the body (left, right hand): each keeps its hand's previous
    landmarks to place the next region, so a graph must see one hand's frames in order.
    Raises ``ImportError`` without ``mediapipe``."""
    import_mediapipe()
    from google.protobuf import text_format
    from mediapipe.framework import calculator_pb2
    from mediapipe.python.solution_base import SolutionBase

    config = text_format.Parse(_HANDS_FROM_POSE, calculator_pb2.CalculatorGraphConfig())
    return tuple(SolutionBase(graph_config=config, side_inputs={"model_complexity": 1})
                 for _ in range(2))  # type: ignore[return-value]


class PairOfGraphs:
    """Both hand graphs of :func:`open_hands_from_pose` behind one ``close()``."""

    def __init__(self, graphs: tuple[Any, Any]):
        self.graphs = graphs

    def close(self) -> None:
        for g in self.graphs:
            g.close()


def open_hands(min_detection_confidence: float) -> Any:
    """The single-image MediaPipe Hands graph (palm detector + 21 landmarks), one hand a call."""
    import_mediapipe()
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
    px, rel, score, labels = _no_hands()
    for side in (0, 1):
        wi = _WRISTS[side]
        knuckle = person.kp_px[list(_KNUCKLES[side])].mean(axis=0)
        wrist = person.kp_px[wi]
        if not _wrist_seen(person, side):
            continue
        side_px = _crop_side_px(person, side, c)
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


def hands_from_pose(graphs: tuple[Any, Any], rgb: np.ndarray, person: Person,
                    c: MediaPipeConfig, sides: tuple[int, ...] = (0, 1)
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    """Both hands of ``person`` by MediaPipe Holistic's chain (:data:`_HANDS_FROM_POSE`):
    for each wrist seen, the hand graph ``graphs[side]`` places its region from the body's
    wrist, pinky and index landmarks (and the hand's previous landmarks). A hand whose wrist
    lands far from the body's wrist is dropped, and scored, as in :func:`hands_on_wrists`.
    Only the hands in ``sides`` are looked at (0 left, 1 right; the two graphs are
    independent, so each side can run on its own thread).

    Returns what :func:`hands_on_wrists` returns (NaN / 0 / None for the sides not asked).
    """
    from mediapipe.framework.formats import landmark_pb2

    h, w = rgb.shape[:2]
    px, rel, score, labels = _no_hands()
    for side in sides:
        if not _wrist_seen(person, side):
            continue
        pose_hand = landmark_pb2.NormalizedLandmarkList()
        for j in (_WRISTS[side], *_KNUCKLES[side]):  # [wrist, pinky, index]
            pose_hand.landmark.add(x=float(person.kp_px[j, 0]) / w,
                                   y=float(person.kp_px[j, 1]) / h,
                                   visibility=float(person.vis[j]))
        res = graphs[side].process({"image": rgb, "pose_hand": pose_hand})
        if res.landmarks is None or res.world_landmarks is None:
            continue
        kp = np.array([(p.x, p.y) for p in res.landmarks.landmark]) * [w, h]
        side_px = _crop_side_px(person, side, c)
        off = float(np.linalg.norm(kp[0] - person.kp_px[_WRISTS[side]])) / side_px
        if off > c.hand_max_wrist_offset:
            continue
        hw = np.array([(p.x, p.y, p.z) for p in res.world_landmarks.landmark])
        px[side] = kp
        rel[side] = hw - hw[0]
        score[side] = float(np.exp(-(off / (0.5 * c.hand_max_wrist_offset)) ** 2))
        if res.handedness is not None and res.handedness.classification:
            labels[side] = res.handedness.classification[0].label
    return px, rel, score, labels


def _no_hands() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
    return (np.full((2, NUM_HAND, 2), np.nan), np.full((2, NUM_HAND, 3), np.nan), np.zeros(2),
            [None, None])


def _wrist_seen(person: Person, side: int) -> bool:
    wi = _WRISTS[side]
    return bool(person.vis[wi] >= 0.3 and np.all(np.isfinite(person.kp_px[wi])))


def _crop_side_px(person: Person, side: int, c: MediaPipeConfig) -> float:
    """Side of the square hand crop past ``side``'s wrist [px]: a fraction of the body scale,
    at least 3.5 wrist-to-knuckle lengths and ``hand_crop_min_px``; also the unit of the
    wrist offset of a hand found."""
    knuckle = person.kp_px[list(_KNUCKLES[side])].mean(axis=0)
    reach = float(np.linalg.norm(knuckle - person.kp_px[_WRISTS[side]]))
    return max(c.hand_crop_scale * box_scale(person.box), 3.5 * reach,
               float(c.hand_crop_min_px))
