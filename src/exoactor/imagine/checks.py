"""Clip checks before perception: duration, static camera, one person, whole body in frame.

A handful of frames, evenly spaced and downscaled, are examined:

* **duration** within ``[min_duration_s, max_duration_s]``;
* **static camera**: the median displacement of background features (the person masked out)
  from the first sampled frame, as a fraction of the image diagonal
  (:func:`exoactor.perceive.camera.background_shift_px`), stays under ``max_camera_shift``;
* **one person**: MediaPipe's pose detector finds a person, then, with that person painted
  out, finds nobody else; the fraction of sampled frames with exactly one person is at least
  ``min_single_person_fraction``;
* **whole body**: head and both ankles visible and inside the frame in at least
  ``min_whole_body_fraction`` of the sampled frames.

The person checks need ``mediapipe`` (the perceive extra); without it they are reported as
skipped. Clips that pass are ranked by :func:`score`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.video.clip import ClipInfo, iter_frames, probe

logger = logging.getLogger(__name__)

_HEAD = (0,)
_ANKLES = (27, 28)


class ClipCheckConfig(BaseModel):
    """Thresholds of the clip checks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Run the checks (off: every clip passes unexamined)."""
    min_duration_s: float = Field(1.0, ge=0.0)
    """Shortest usable clip [s]."""
    max_duration_s: float = Field(60.0, gt=0.0)
    """Longest usable clip [s]."""
    max_camera_shift: float = Field(0.02, gt=0.0)
    """Largest background displacement from the first sampled frame, as a fraction of the image
    diagonal."""
    min_single_person_fraction: float = Field(0.8, ge=0.0, le=1.0)
    """Least fraction of sampled frames showing exactly one person."""
    min_whole_body_fraction: float = Field(0.7, ge=0.0, le=1.0)
    """Least fraction of sampled frames with head and both ankles visible inside the frame."""
    min_visibility: float = Field(0.5, ge=0.0, le=1.0)
    """Landmark visibility needed to count a landmark as seen (for the person's box)."""
    whole_body_min_visibility: float = Field(0.3, ge=0.0, le=1.0)
    """Visibility needed for the head and ankles in the whole-body test (lower than
    ``min_visibility``: backlit or grass-hidden feet score 0.4; a landmark out of frame is
    caught by its position)."""
    samples: int = Field(8, ge=2, le=64)
    """Frames examined, evenly spaced."""
    sample_width_px: int = Field(640, ge=64)
    """Width the sampled frames are scaled to [px]."""
    max_people: int = Field(3, ge=2, le=6)
    """Detections tried per frame when counting people."""


@dataclass(frozen=True)
class CheckResult:
    """One check of one clip.

    Attributes:
        name: ``duration``, ``static_camera``, ``single_person`` or ``whole_body``.
        passed: it passed (a skipped check passes).
        value: the measured value (seconds, diagonal fraction, frame fraction).
        threshold: what it was compared with.
        detail: a sentence for the user.
        skipped: the check could not run (its detector is not installed).
    """

    name: str
    passed: bool
    value: float | None
    threshold: float | tuple[float, float] | None
    detail: str
    skipped: bool = False


@dataclass(frozen=True)
class ClipReport:
    """All checks of one clip and its rank score.

    Attributes:
        path: the clip examined.
        checks: the results.
        score: rank score in [0, 1] (higher is better; see :func:`score`).
        frames: per sampled frame, the people count, whole-body flag and camera shift
            fraction.
    """

    path: Path
    checks: tuple[CheckResult, ...]
    score: float
    frames: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path.name, "passed": self.passed, "score": round(self.score, 4),
                "checks": [asdict(c) for c in self.checks], "frames": self.frames}


@dataclass(frozen=True)
class _Person:
    count: int
    whole_body: bool
    box_px: np.ndarray | None


class _Detector:
    """Perceive's single-image person detector (:func:`exoactor.perceive.detect.detect_people`,
    MediaPipe BlazePose), judged for the clip checks."""

    def __init__(self) -> None:
        from exoactor.perceive.detect import open_pose

        self.pose = open_pose(video_mode=False, min_detection_confidence=0.5)

    def close(self) -> None:
        self.pose.close()

    def _detect(self, rgb: np.ndarray, cfg: ClipCheckConfig
                ) -> list[tuple[np.ndarray, bool]]:
        """People in one image: (box ``x0, y0, x1, y1`` [px], whole body seen) each. A
        person's box spans its landmarks seen (``min_visibility``), padded by 15 %; it is
        what is painted out before the next look."""
        from exoactor.perceive.detect import detect_people

        h, w = rgb.shape[:2]
        key = list(_HEAD + _ANKLES)
        boxes: dict[int, np.ndarray] = {}

        def seen_box(person, width_px: int, height_px: int) -> np.ndarray | None:  # noqa: ANN001
            seen = person.vis >= cfg.min_visibility
            if not seen.any():
                return None
            x0, y0 = person.kp_px[seen].min(axis=0)
            x1, y1 = person.kp_px[seen].max(axis=0)
            pad_x, pad_y = 0.15 * (x1 - x0) + 4, 0.15 * (y1 - y0) + 4
            boxes[id(person)] = np.array([x0 - pad_x, y0 - pad_y, x1 + pad_x, y1 + pad_y])
            return boxes[id(person)]

        found = []
        for person in detect_people(self.pose, rgb, cfg.max_people, mask_box=seen_box):
            if id(person) not in boxes:
                continue  # no landmark seen well enough to count
            xy, vis = person.kp_px, person.vis
            inside = ((xy[key, 0] >= 1) & (xy[key, 0] < w - 1) & (xy[key, 1] >= 1)
                      & (xy[key, 1] < h - 1))
            found.append((boxes[id(person)], bool(np.all(
                (vis[key] >= cfg.whole_body_min_visibility) & inside))))
        return found

    def observe(self, rgb: np.ndarray, cfg: ClipCheckConfig) -> _Person:
        """Count the people in a frame and judge the largest one's framing.

        The pose detector sees a letterboxed square, so a wide frame is also searched in
        overlapping full-height square windows, where people appear larger; detections of
        the same person from different windows are merged by box overlap.
        """
        h, w = rgb.shape[:2]
        windows = [(0, w)]
        if w > 1.2 * h:
            n = math.ceil(w / h) + 1
            windows += [(int(round(x)), int(round(x)) + h) for x in np.linspace(0, w - h, n)]
        people: list[tuple[np.ndarray, bool]] = []
        for x0, x1 in windows:
            for box, whole in self._detect(rgb[:, x0:x1], cfg):
                box = box + np.array([x0, 0, x0, 0])
                # a box cut by its window's edge is not judged whole-body
                cut = (x0 > 0 and box[0] <= x0 + 2) or (x1 < w and box[2] >= x1 - 2)
                whole = whole and not cut
                for i, (other, other_whole) in enumerate(people):
                    if _overlap(box, other) > 0.3:
                        bigger = _area(box) > _area(other)
                        people[i] = (box if bigger else other, whole or other_whole)
                        break
                else:
                    people.append((box, whole))
        if not people:
            return _Person(0, False, None)
        best = max(people, key=lambda p: _area(p[0]))
        return _Person(len(people), best[1], best[0])


def _area(b: np.ndarray) -> float:
    return float(max(b[2] - b[0], 0.0) * max(b[3] - b[1], 0.0))


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min(_area(a), _area(b))
    return ix * iy / small if small > 0 else 0.0


def sample_frames(path: Path, num_frames: int, samples: int, width_px: int
                  ) -> tuple[list[np.ndarray], list[int]]:
    """``samples`` evenly spaced frames of the clip, scaled to ``width_px`` wide."""
    want = sorted(set(np.linspace(0, max(num_frames - 1, 0), samples).round().astype(int)))
    it, _, _ = iter_frames(path, width_px=width_px)
    out, idx = [], []
    for i, f in enumerate(it):
        if i in want:
            out.append(f.copy())
            idx.append(i)
        if i >= want[-1]:
            break
    return out, idx


def score(checks: tuple[CheckResult, ...], cfg: ClipCheckConfig) -> float:
    """Rank score in [0, 1]: 0.4 x single-person fraction + 0.4 x whole-body fraction + 0.2 x
    camera stillness (1 at no shift, 0 at ``max_camera_shift``); skipped checks count 1."""
    by = {c.name: c for c in checks}

    def frac(name: str) -> float:
        c = by.get(name)
        return 1.0 if c is None or c.skipped or c.value is None else float(c.value)

    cam = by.get("static_camera")
    still = 1.0 if cam is None or cam.value is None else max(
        0.0, 1.0 - float(cam.value) / cfg.max_camera_shift)
    return 0.4 * frac("single_person") + 0.4 * frac("whole_body") + 0.2 * still


def check_clip(path: str | Path, config: ClipCheckConfig | None = None,
               info: ClipInfo | None = None) -> ClipReport:
    """Run every check on the clip at ``path`` (``info``: its :func:`probe` result, if known)."""
    cfg = config or ClipCheckConfig()
    path = Path(path)
    info = info or probe(path)
    dur = info.duration_s
    checks = [CheckResult("duration", cfg.min_duration_s <= dur <= cfg.max_duration_s,
                          round(dur, 3), (cfg.min_duration_s, cfg.max_duration_s),
                          f"{dur:.2f} s (usable: {cfg.min_duration_s:g}-{cfg.max_duration_s:g} s)")]
    if not cfg.enabled:
        return ClipReport(path, tuple(checks), 1.0)
    frames, idx = sample_frames(path, info.num_frames, cfg.samples, cfg.sample_width_px)
    scale = frames[0].shape[1] / info.width_px if frames else 1.0
    people: list[_Person] | None
    try:
        det = _Detector()
    except ImportError as exc:
        logger.warning("clip checks: mediapipe is not installed (%s); person checks skipped", exc)
        people = None
    else:
        try:
            import warnings

            with warnings.catch_warnings():  # protobuf deprecation noise inside mediapipe
                warnings.simplefilter("ignore", UserWarning)
                people = [det.observe(f, cfg) for f in frames]
        finally:
            det.close()
    boxes = [None if people is None or p.box_px is None else p.box_px / scale for p in (
        people or [None] * len(frames))]  # type: ignore[union-attr]
    try:
        import cv2

        from exoactor.perceive.camera import background_shift_px

        grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
        shift_px = background_shift_px(grey, boxes, scale=scale)
        diag = math.hypot(info.width_px, info.height_px)
        shift = shift_px / diag
        finite = shift[np.isfinite(shift)]
        worst = float(finite.max()) if finite.size else None
        checks.append(CheckResult(
            "static_camera", worst is None or worst <= cfg.max_camera_shift,
            None if worst is None else round(worst, 5), cfg.max_camera_shift,
            "too few background features to judge" if worst is None else
            f"background moved up to {100 * worst:.2f} % of the diagonal "
            f"(limit {100 * cfg.max_camera_shift:g} %)", skipped=worst is None))
    except ImportError as exc:
        shift = np.full(len(frames), np.nan)
        checks.append(CheckResult("static_camera", True, None, cfg.max_camera_shift,
                                  f"skipped: opencv is not installed ({exc})", skipped=True))
    if people is None:
        hint = "skipped: pip install 'exoactor[perceive]' (mediapipe) to check people"
        checks += [CheckResult("single_person", True, None, cfg.min_single_person_fraction, hint,
                               skipped=True),
                   CheckResult("whole_body", True, None, cfg.min_whole_body_fraction, hint,
                               skipped=True)]
        counts: list[int | None] = [None] * len(frames)
        whole: list[bool | None] = [None] * len(frames)
    else:
        counts = [p.count for p in people]
        whole = [p.whole_body for p in people]
        n = max(len(people), 1)
        single = sum(c == 1 for c in counts) / n
        body = sum(bool(b) for b in whole) / n
        checks.append(CheckResult(
            "single_person", single >= cfg.min_single_person_fraction, round(single, 4),
            cfg.min_single_person_fraction,
            f"exactly one person in {100 * single:.0f} % of {n} sampled frames "
            f"(people per frame: {counts}; need {100 * cfg.min_single_person_fraction:.0f} %)"))
        checks.append(CheckResult(
            "whole_body", body >= cfg.min_whole_body_fraction, round(body, 4),
            cfg.min_whole_body_fraction,
            f"head and both ankles in frame in {100 * body:.0f} % of {n} sampled frames "
            f"(need {100 * cfg.min_whole_body_fraction:.0f} %)"))
    checks_t = tuple(checks)
    frames_info = {"index": idx, "people": counts, "whole_body": whole,
                   "camera_shift": [None if not np.isfinite(s) else round(float(s), 5)
                                    for s in shift]}
    return ClipReport(path, checks_t, score(checks_t, cfg), frames_info)


def rank(reports: list[ClipReport]) -> list[ClipReport]:
    """Reports ordered best first: passing clips before failing ones, then by score."""
    return sorted(reports, key=lambda r: (not r.passed, -r.score))
