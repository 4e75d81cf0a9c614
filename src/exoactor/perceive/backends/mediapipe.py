"""MediaPipe backend: BlazePose (legacy ``solutions.pose``, 'full' model) for the body and
``solutions.hands`` on crops placed by the body's wrists.

Per frame:

1. The video-mode pose graph (its own landmark tracking; about 11 ms per 1768x994 frame) sees
   the frame with everything outside the actor's search region and every recently rejected
   person painted grey (:mod:`exoactor.perceive.tracking`).
   Whenever the graph starts afresh (the actor just found, or the graph reset), it is first
   run on the next ``prime_frames`` frames backwards, results discarded: a fresh graph crops
   from the person detector's box and its landmarks' depth settles over ~5 frames, which
   would otherwise show as a turn of the body at the clip's start.
2. Its result is gated (position, size, torso colours). If it is missing or rejected, the graph
   is reset (it may have locked onto somebody else) and the single-image model runs on a crop
   of the search region with the rejected person masked (``fallback_static``).
3. Hands: for each body wrist seen, a square crop centred past the wrist towards the knuckles
   goes through the single-image hand model (palm detector + 21 landmarks). The hand is
   assigned to the wrist whose crop found it (MediaPipe's own left/right label assumes a
   mirrored selfie image and is not used); a hand whose wrist lands far from the body's
   wrist is dropped.

Landmark conventions: ``pose_landmarks`` are normalised to the processed image (converted to
pixels of the full frame); ``pose_world_landmarks`` are metric, centred between the hips, with
the camera's axes (x right, y down, z away from the camera). Hand world landmarks likewise,
centred on the hand (re-centred here on its wrist).
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from exoactor.perceive.backend import (
    NUM_HAND,
    PoseBackend,
    PoseObservations,
    empty_observations,
    pose_backends,
)
from exoactor.perceive.config import MediaPipeConfig, PerceiveConfig
from exoactor.perceive.errors import NoPersonFound
from exoactor.perceive.tracking import (
    ActorTracker,
    box_area,
    box_overlap,
    box_scale,
    expand_box,
    landmark_box_px,
)
from exoactor.perceive.video import Frame, VideoSource, iter_frames, prefetched
from exoactor.ui import progress

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'exoactor[perceive]' (mediapipe==0.10.14, opencv)"
"""Shown when this backend's dependencies are missing."""

MASK_GREY = 114
"""Value painted over masked-out image regions."""
_WRISTS = (15, 16)  # left, right wrist in BODY_33
_KNUCKLES = ((17, 19), (18, 20))  # (pinky, index) of the left, right hand in BODY_33

NOBODY = ("{path}: no person was detected in any of its {frames} frames. Give a video where the "
          "whole body of the actor is visible (a person at least ~1/6 of the frame tall).")
TOO_FEW = ("{path}: --person {person} asked for the {nth} largest person, but at most {found} "
           "{were} visible at once (frame {frame}). Use --person 0..{last}.")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


class _Candidate:
    """One body detection mapped to full-frame pixels."""

    __slots__ = ("box", "hip", "kp_px", "rel_c", "vis")

    def __init__(self, kp_px: np.ndarray, vis: np.ndarray, rel_c: np.ndarray, box: np.ndarray):
        self.kp_px, self.vis, self.rel_c, self.box = kp_px, vis, rel_c, box
        self.hip = kp_px[[23, 24]].mean(axis=0)


class _LookAhead:
    """An iterator of frames that can decode a few frames ahead (:meth:`peek`)."""

    def __init__(self, frames: Iterator[Frame]):
        self._frames = frames
        self._ahead: deque[Frame] = deque()

    def __iter__(self) -> _LookAhead:
        return self

    def __next__(self) -> Frame:
        return self._ahead.popleft() if self._ahead else next(self._frames)

    def peek(self, n: int) -> list[Frame]:
        """The next ``n`` frames (fewer at the clip's end), without consuming them."""
        while len(self._ahead) < n:
            frame = next(self._frames, None)
            if frame is None:
                break
            self._ahead.append(frame)
        return list(self._ahead)[:n]


def _mask(rgb: np.ndarray, keep: np.ndarray | None, hide: list[np.ndarray]) -> np.ndarray:
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


@pose_backends.register("mediapipe")
class MediaPipeBackend(PoseBackend):
    """BlazePose body + MediaPipe Hands on wrist crops, with actor tracking."""

    Config = MediaPipeConfig

    def __init__(self, config: MediaPipeConfig | None = None, *,
                 stage: PerceiveConfig | None = None):
        self.config = config or MediaPipeConfig()
        self.stage = stage or PerceiveConfig()
        self._video_fresh = True  # the video-mode graph has not seen the actor yet

    # ------------------------------------------------------------------ models
    def _open(self, hands: bool) -> dict[str, Any]:
        with warnings.catch_warnings():  # protobuf deprecation noise inside mediapipe
            warnings.simplefilter("ignore", UserWarning)
            from mediapipe.python.solutions import hands as mp_hands
            from mediapipe.python.solutions import pose as mp_pose

        c = self.config
        models = {
            "video": mp_pose.Pose(static_image_mode=False, model_complexity=1,
                                  smooth_landmarks=c.smooth_landmarks,
                                  min_detection_confidence=c.min_detection_confidence,
                                  min_tracking_confidence=c.min_tracking_confidence),
            "image": mp_pose.Pose(static_image_mode=True, model_complexity=1,
                                  min_detection_confidence=c.min_detection_confidence),
        }
        if hands:
            models["hands"] = mp_hands.Hands(
                static_image_mode=True, max_num_hands=1, model_complexity=1,
                min_detection_confidence=c.hand_min_detection_confidence)
        return models

    @staticmethod
    def _close(models: dict[str, Any]) -> None:
        for m in models.values():
            m.close()

    # ------------------------------------------------------------------ body
    @staticmethod
    def _run_pose(model: Any, image: np.ndarray, offset: tuple[float, float], size: tuple[int, int],
                  frame_wh: tuple[int, int]) -> _Candidate | None:
        res = model.process(image)
        if res.pose_landmarks is None or res.pose_world_landmarks is None:
            return None
        lm = res.pose_landmarks.landmark
        wl = res.pose_world_landmarks.landmark
        kp = np.array([(p.x, p.y) for p in lm]) * np.array(size, dtype=float) + np.array(offset)
        vis = np.clip(np.array([p.visibility for p in lm]), 0.0, 1.0)
        rel = np.array([(p.x, p.y, p.z) for p in wl])
        return _Candidate(kp, vis, rel, landmark_box_px(kp, *frame_wh))

    def _pose_on_crop(self, model: Any, rgb: np.ndarray, crop: np.ndarray,
                      hide: list[np.ndarray], rotate: bool = False) -> _Candidate | None:
        """Single-image pose on ``crop`` of ``rgb`` (``hide`` boxes painted grey), optionally
        turned by 180 deg (for people upside down: the detector is trained upright)."""
        h, w = rgb.shape[:2]
        x0, y0 = int(crop[0]), int(crop[1])
        x1, y1 = int(np.ceil(crop[2])), int(np.ceil(crop[3]))
        if x1 - x0 < 32 or y1 - y0 < 32:
            return None
        img = (_mask(rgb, None, hide) if hide else rgb)[y0:y1, x0:x1]
        if rotate:
            img = img[::-1, ::-1]
        cand = self._run_pose(model, np.ascontiguousarray(img), (0, 0), (x1 - x0, y1 - y0),
                              (x1 - x0, y1 - y0))
        if cand is None:
            return None
        kp = cand.kp_px
        rel = cand.rel_c
        if rotate:  # back to upright image axes: a 180 deg turn about the optical axis
            kp = np.array([x1 - x0, y1 - y0]) - kp
            rel = rel * np.array([-1.0, -1.0, 1.0])
        kp = kp + np.array([x0, y0])
        return _Candidate(kp, cand.vis, rel, landmark_box_px(kp, w, h))

    def _enumerate_people(self, model: Any, rgb: np.ndarray) -> list[_Candidate]:
        """Everybody the single-image model finds, by detect-mask-repeat, largest first."""
        h, w = rgb.shape[:2]
        found: list[_Candidate] = []
        hide: list[np.ndarray] = []
        for _ in range(self.stage.tracking.max_people):
            cand = self._run_pose(model, _mask(rgb, None, hide), (0, 0), (w, h), (w, h))
            if cand is None or box_area(cand.box) < 1.0:
                break
            if any(box_overlap(cand.box, f.box) > 0.5 for f in found):
                break  # the masked person found again through the mask
            found.append(cand)
            hide.append(expand_box(cand.box, 0.1 * box_scale(cand.box), w, h))
        return sorted(found, key=lambda c: -box_area(c.box))

    # ------------------------------------------------------------------ hands
    def _hands(self, model: Any, rgb: np.ndarray, cand: _Candidate
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str | None]]:
        c = self.config
        h, w = rgb.shape[:2]
        px = np.full((2, NUM_HAND, 2), np.nan)
        rel = np.full((2, NUM_HAND, 3), np.nan)
        score = np.zeros(2)
        labels: list[str | None] = [None, None]
        scale = box_scale(cand.box)
        for side in (0, 1):
            wi = _WRISTS[side]
            knuckle = cand.kp_px[list(_KNUCKLES[side])].mean(axis=0)
            wrist = cand.kp_px[wi]
            if cand.vis[wi] < 0.3 or not np.all(np.isfinite(wrist)):
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

    # ------------------------------------------------------------------ main loop
    def estimate(self, video: VideoSource, *, person: int | None = None, hands: bool = True,
                 frame_sink: Callable[[Frame], None] | None = None) -> PoseObservations:
        with warnings.catch_warnings():  # mediapipe's protobuf calls warn on every graph run
            warnings.filterwarnings("ignore", message=".*GetPrototype.*", category=UserWarning)
            return self._estimate(video, person, hands, frame_sink)

    def _estimate(self, video: VideoSource, person: int | None, hands: bool,
                  frame_sink: Callable[[Frame], None] | None) -> PoseObservations:
        cfg = self.stage
        w, h = video.width_px, video.height_px
        tracker = ActorTracker(cfg.tracking, w, h)
        want = 0 if person is None else person
        cap = max(video.declared_frames, 1)
        arrays = empty_observations(cap, (w, h), hands)
        times: list[float] = []
        step = {"decode": 0.0, "body": 0.0, "tracking": 0.0, "hands": 0.0}
        gate_log = {"video_accepted": 0, "fallback_accepted": 0, "backfilled": 0, "rejected": 0,
                    "missed": 0}
        early: deque[tuple[int, float, np.ndarray]] = deque(
            maxlen=self.config.backfill_frames + 1)
        label_agree = [0, 0]
        most_people = (0, -1)
        candidates_at_start: list[list[float]] = []
        models = self._open(hands)
        prime = self.config.prime_frames
        last_prime = -prime
        self._video_fresh = True
        decoded = prefetched(iter_frames(video))
        # hands of frame i run on a worker thread while the main thread decodes and tracks
        # frame i + 1 (the models release the GIL; the body of i + 1 needs only the body of i)
        hand_worker = ThreadPoolExecutor(1, thread_name_prefix="exoactor-hands") if hands \
            else None
        pending: tuple[int, Future] | None = None

        def collect() -> None:
            nonlocal pending
            if pending is None:
                return
            j, job = pending
            pending = None
            t_wait = time.perf_counter()
            hp, hr, hs, labels = job.result()
            step["hands"] += time.perf_counter() - t_wait  # what the hands add to the wall
            arrays["hand_px"][j], arrays["hand_rel_c"][j] = hp, hr
            arrays["hand_score"][j] = hs
            for side, lab in enumerate(labels):
                if lab is not None:
                    # MediaPipe labels assume a mirrored image: "Right" = left hand.
                    label_agree[0] += int(lab == ("Right", "Left")[side])
                    label_agree[1] += 1

        try:
            frames = _LookAhead(decoded)
            t_dec = time.perf_counter()
            for frame in progress(frames, "perceive", total=video.declared_frames or None,
                                  unit="frame"):
                step["decode"] += time.perf_counter() - t_dec
                i, t_s, rgb = frame.index, frame.time_s, frame.rgb
                times.append(t_s)
                if frame_sink is not None:
                    frame_sink(frame)
                if i >= len(arrays["detected"]):
                    arrays = _grow(arrays)
                chosen: _Candidate | None = None
                t0 = time.perf_counter()
                if not tracker.started:
                    early.append((i, t_s, rgb))
                    people = self._enumerate_people(models["image"], rgb)
                    step["body"] += time.perf_counter() - t0
                    if len(people) > most_people[0]:
                        most_people = (len(people), i)
                    if len(people) > want:
                        chosen = people[want]
                        candidates_at_start = [c.box.round(1).tolist() for c in people]
                        t1 = time.perf_counter()
                        tracker.accept(chosen.box, chosen.hip, t_s)
                        for other in people:
                            if other is not chosen:
                                tracker.reject(other.box, other.hip, "not_actor", t_s)
                        step["tracking"] += time.perf_counter() - t1
                        logger.info("actor: person %d of %d at frame %d, box %s", want,
                                    len(people), i, chosen.box.round())
                        t3 = time.perf_counter()
                        for j, cand in self._backfill(models["image"], list(early)[:-1],
                                                      chosen, t_s):
                            self._store(arrays, j, cand)
                            gate_log["backfilled"] += 1
                        step["body"] += time.perf_counter() - t3
                        early.clear()
                        if prime:  # this frame too from the settled video-mode graph
                            chosen = self._settled_start(models["video"], frames, prime, rgb,
                                                         t_s, tracker, chosen, step)
                            last_prime = i
                else:
                    if self._video_fresh and prime and i - last_prime >= prime:
                        t4 = time.perf_counter()
                        ahead = frames.peek(prime)
                        t5 = time.perf_counter()
                        self._prime(models["video"], ahead, tracker)
                        step["decode"] += t5 - t4
                        step["body"] += time.perf_counter() - t5
                        last_prime = i
                    self._video_fresh = False
                    chosen = self._track(models, rgb, t_s, tracker, step, gate_log)
                if chosen is not None:
                    self._store(arrays, i, chosen)
                    if hand_worker is not None:
                        collect()
                        pending = (i, hand_worker.submit(self._hands, models["hands"], rgb,
                                                         chosen))
                t_dec = time.perf_counter()
            collect()
        finally:
            if hand_worker is not None:
                hand_worker.shutdown(wait=True, cancel_futures=True)
            decoded.close()
            self._close(models)
        n = len(times)
        if n == 0:
            raise NoPersonFound(NOBODY.format(path=video.path, frames=0))
        arrays = {k: v[:n] for k, v in arrays.items()}
        if not tracker.started:
            if person is not None and most_people[0] > 0:
                found = most_people[0]
                raise NoPersonFound(TOO_FEW.format(
                    path=video.path, person=person, nth=_ordinal(person + 1), found=found,
                    were="person was" if found == 1 else "people were", frame=most_people[1],
                    last=found - 1))
            raise NoPersonFound(NOBODY.format(path=video.path, frames=n))
        notes = {
            "backend": "mediapipe", "model": "pose_landmark_full + hand_landmark_full (bundled)",
            "people_at_start": len(candidates_at_start), "actor_index": want,
            "boxes_at_start_px": candidates_at_start, "gate": gate_log,
            "gate_rejections_by_reason": dict(tracker.rejections),
        }
        if hands:
            notes["hand_label_agreement"] = (label_agree[0] / label_agree[1]
                                             if label_agree[1] else None)
        return PoseObservations(times_s=np.asarray(times), image_size_px=(w, h),
                                step_s=step, notes=notes, **arrays)

    # ------------------------------------------------------------------ tracking
    def _gate(self, tracker: ActorTracker, cand: _Candidate | None, t_s: float,
              log: dict[str, int], how: str) -> bool:
        if cand is None:
            return False
        decision = tracker.check(cand.box, cand.hip, t_s)
        logger.debug("t=%.3fs %s candidate %s: %s (cost %.2f, size %.2f)", t_s, how,
                     cand.box.round(), decision.reason, decision.cost, decision.size_ratio)
        if decision.accepted:
            tracker.accept(cand.box, cand.hip, t_s)
            log[f"{how}_accepted"] += 1
            return True
        tracker.reject(cand.box, cand.hip, decision.reason, t_s)
        log["rejected"] += 1
        return False

    @staticmethod
    def _store(arrays: dict[str, np.ndarray], i: int, cand: _Candidate) -> None:
        arrays["detected"][i] = True
        arrays["kp_px"][i] = cand.kp_px
        arrays["kp_vis"][i] = cand.vis
        arrays["kp_rel_c"][i] = cand.rel_c

    def _backfill(self, model: Any, frames: list[tuple[int, float, np.ndarray]],
                  chosen: _Candidate, t_s: float) -> list[tuple[int, _Candidate]]:
        """Look again, backwards in time, at the frames before the actor was first found,
        with crops around the actor (whole-frame detection misses people a crop finds).
        Hands are not estimated on these few frames."""
        if not frames:
            return []
        h, w = frames[0][2].shape[:2]
        back = ActorTracker(self.stage.tracking, w, h)
        back.accept(chosen.box, chosen.hip, -t_s)
        out = []
        for j, tj, rgb in reversed(frames):
            log = {"fallback_accepted": 0, "rejected": 0}
            for crop, rotate in self._fallback_crops(back, -tj, back.search_box(-tj)):
                cand = self._pose_on_crop(model, rgb, crop, [], rotate)
                if self._gate(back, cand, -tj, log, "fallback"):
                    out.append((j, cand))
                    break
            else:
                break  # stop at the first frame it cannot find
        return out

    def _fallback_crops(self, tracker: ActorTracker, t_s: float, search: np.ndarray
                        ) -> list[tuple[np.ndarray, bool]]:
        """Crops tried by the single-image model when video mode fails, in order: tight
        around the prediction, the same turned upside down, then the whole search region."""
        w, h = tracker.width_px, tracker.height_px
        tight = expand_box(tracker.predicted_box(t_s), 0.5 * tracker.actor.scale(), w, h)
        crops = [(tight, False), (tight, True)]
        if box_area(search) > 1.5 * box_area(tight):
            crops.append((search, False))
        return crops

    def _settled_start(self, model: Any, frames: _LookAhead, prime: int, rgb: np.ndarray,
                       t_s: float, tracker: ActorTracker, chosen: _Candidate,
                       step: dict[str, float]) -> _Candidate:
        """The actor at the frame where it was first found, from the video-mode graph primed
        on the frames after it; the single-image ``chosen`` when the graph finds someone
        else there."""
        t0 = time.perf_counter()
        ahead = frames.peek(prime)
        t1 = time.perf_counter()
        self._prime(model, ahead, tracker)
        h, w = rgb.shape[:2]
        cand = self._run_pose(model, _mask(rgb, tracker.search_box(t_s),
                                           tracker.masked_boxes(t_s)), (0, 0), (w, h), (w, h))
        step["decode"] += t1 - t0
        step["body"] += time.perf_counter() - t1
        self._video_fresh = False
        if cand is not None and box_overlap(cand.box, chosen.box) > 0.8:
            return cand
        model.reset()
        self._video_fresh = True
        return chosen

    def _prime(self, model: Any, ahead: list[Frame], tracker: ActorTracker) -> None:
        """Run the video-mode graph on the frames ``ahead`` backwards (each masked as
        :meth:`_track` would), discarding the results, so that it reaches the frame before
        them with its crop settled on the actor."""
        for frame in reversed(ahead):
            image = _mask(frame.rgb, tracker.search_box(frame.time_s),
                          tracker.masked_boxes(frame.time_s))
            model.process(image)

    def _track(self, models: dict[str, Any], rgb: np.ndarray, t_s: float, tracker: ActorTracker,
               step: dict[str, float], log: dict[str, int]) -> _Candidate | None:
        h, w = rgb.shape[:2]
        t0 = time.perf_counter()
        search = tracker.search_box(t_s)
        hide = tracker.masked_boxes(t_s)
        if tracker.gap_s(t_s) > 0.05:
            logger.debug("t=%.3fs search %s hide %s", t_s, search.round(),
                         [b.round() for b in hide])
        image = _mask(rgb, search, hide)
        step["tracking"] += time.perf_counter() - t0
        t1 = time.perf_counter()
        cand = self._run_pose(models["video"], image, (0, 0), (w, h), (w, h))
        step["body"] += time.perf_counter() - t1
        t2 = time.perf_counter()
        ok = self._gate(tracker, cand, t_s, log, "video")
        step["tracking"] += time.perf_counter() - t2
        if ok:
            return cand
        if cand is not None:
            hide = hide + [cand.box]
            t3 = time.perf_counter()
            models["video"].reset()  # it may be locked onto somebody else
            self._video_fresh = True
            step["body"] += time.perf_counter() - t3
        if self.config.fallback_static:
            for crop, rotate in self._fallback_crops(tracker, t_s, search):
                t4 = time.perf_counter()
                cand = self._pose_on_crop(models["image"], rgb, crop, hide, rotate)
                step["body"] += time.perf_counter() - t4
                t5 = time.perf_counter()
                ok = self._gate(tracker, cand, t_s, log, "fallback")
                step["tracking"] += time.perf_counter() - t5
                if ok:
                    return cand
                if cand is not None:
                    hide = hide + [cand.box]
        log["missed"] += 1
        return None


def _grow(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Double the frame capacity of the observation arrays (the declared count was short)."""
    out = {}
    for k, v in arrays.items():
        fill = np.nan if v.dtype.kind == "f" and k not in ("kp_vis", "hand_score") else 0
        extra = np.full_like(v, fill)
        out[k] = np.concatenate([v, extra])
    return out
