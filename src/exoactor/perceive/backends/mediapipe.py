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
3. Hands (``hand_roi``): for each body wrist seen, by default MediaPipe Holistic's chain
   places the hand from the body's wrist, pinky and index landmarks (re-crop model, then the
   hand's previous landmarks; one graph per hand); or (``"palm"``) a square crop centred past
   the wrist towards the knuckles goes through the single-image hand model (palm detector +
   21 landmarks). The hand is assigned to the wrist that placed it (MediaPipe's own
   left/right label assumes a mirrored selfie image and is not used); a hand whose wrist
   lands far from the body's wrist is dropped. The hands run on worker threads
   (:mod:`exoactor.perceive.lanes`; by default one per hand graph, each fed its frames in
   order) while the main thread tracks the body in the next frames, up to
   :data:`HANDS_LAG_FRAMES` ahead; frames are decoded ahead on another thread.

The MediaPipe calls themselves (opening the graphs, pose on a frame or a crop, people
enumeration, hands) and their landmark conventions are in :mod:`exoactor.perceive.detect`; this
module is the per-frame tracking, gating and orchestration around them.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from typing import Any

import numpy as np

from exoactor.perceive.backend import (
    PoseBackend,
    PoseObservations,
    empty_observations,
    pose_backends,
)
from exoactor.perceive.config import MediaPipeConfig, PerceiveConfig
from exoactor.perceive.detect import (
    PairOfGraphs,
    Person,
    detect_people,
    hands_from_pose,
    hands_on_wrists,
    import_mediapipe,
    mask_image,
    open_hands,
    open_hands_from_pose,
    open_pose,
    pose_on_crop,
    prime_pose,
    run_pose,
)
from exoactor.perceive.errors import ModelFailed, NoPersonFound
from exoactor.perceive.lanes import LaneJobFailed, OrderedLanes
from exoactor.perceive.tracking import ActorTracker, box_area, box_overlap, expand_box
from exoactor.perceive.video import Frame, VideoSource, iter_frames, prefetched
from exoactor.ui import progress

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'exoactor[perceive]' (mediapipe==0.10.14, opencv)"
"""Shown when this backend's dependencies are missing."""

NOBODY = ("{path}: no person was detected in any of its {frames} frames. Give a video where the "
          "whole body of the actor is visible (a person at least ~1/6 of the frame tall).")
HAND_FAILED = ("{path}: the hand model failed on frame {frame} ({cause}). Perceive the body "
               "only with --no-hands, or, if the frame is damaged, re-encode the clip: ffmpeg -i "
               "{name} -c:v libx264 -pix_fmt yuv420p fixed.mp4")
HANDS_LAG_FRAMES = 3
"""Frames the body tracking may run ahead of the hands (which wait on worker threads): it
evens out the two cores' work from frame to frame. The results do not depend on it."""
TOO_FEW = ("{path}: --person {person} asked for the {nth} largest person, but at most {found} "
           "{were} visible at once (frame {frame}). Use --person 0..{last}.")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


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


@pose_backends.register("mediapipe")
class MediaPipeBackend(PoseBackend):
    """BlazePose body + MediaPipe Hands on wrist crops, with actor tracking."""

    Config = MediaPipeConfig

    def __init__(self, config: MediaPipeConfig | None = None, *,
                 stage: PerceiveConfig | None = None):
        self.config = config or MediaPipeConfig()
        self.stage = stage or PerceiveConfig()
        self._video_fresh = True  # the video-mode graph has not seen the actor yet
        self._warm: tuple[bool, dict[str, Any]] | None = None  # (hands, models) of warm_up

    def warm_up(self, hands: bool = True) -> None:
        """Import MediaPipe and open the graphs :meth:`estimate` will use. A graph loads its
        models (and builds its TFLite/XNNPACK interpreters) on MediaPipe's own threads after it
        is opened, which costs ~0.3 s of CPU before its first result (most of it for the
        single-image pose graph): done here, that overlaps the artefact scan. The graphs are
        fresh until :meth:`estimate` feeds them, so the results are the same."""
        with suppress(ImportError):  # estimate() reports it
            import_mediapipe()
            self.close()
            self._warm = (hands, self._open(hands))

    def close(self) -> None:
        if self._warm is not None:
            self._close(self._warm[1])
            self._warm = None

    # ------------------------------------------------------------------ models
    def _open(self, hands: bool) -> dict[str, Any]:
        c = self.config
        models = {
            "video": open_pose(True, c.min_detection_confidence, c.min_tracking_confidence,
                               c.smooth_landmarks),
            "image": open_pose(False, c.min_detection_confidence),
        }
        if hands:
            models["hands"] = (PairOfGraphs(open_hands_from_pose()) if c.hand_roi == "pose"
                               else open_hands(c.hand_min_detection_confidence))
        return models

    def _hand_jobs(self, models: dict[str, Any]
                   ) -> list[tuple[tuple[int, ...], Callable[..., Any]]]:
        """``(sides, f)`` per lane (worker thread): ``f(rgb, person)`` -> the hands
        (:func:`~exoactor.perceive.detect.hands_on_wrists`' tuple) of ``sides``, with this
        run's hand graphs. Each is called in frame order on its own thread: the pose-placed
        graphs (one per hand, independent) follow their hand from frame to frame; the
        single-image graph looks at both hands, one at a time."""
        if self.config.hand_roi == "pose":
            graphs = models["hands"].graphs
            return [((side,), partial(hands_from_pose, graphs, c=self.config, sides=(side,)))
                    for side in (0, 1)]
        return [((0, 1), partial(hands_on_wrists, models["hands"], c=self.config))]

    @staticmethod
    def _close(models: dict[str, Any]) -> None:
        for m in models.values():
            m.close()

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
        if self._warm is not None and self._warm[0] == hands:
            models, self._warm = self._warm[1], None
        else:
            self.close()
            models = self._open(hands)
        prime = self.config.prime_frames
        last_prime = -prime
        self._video_fresh = True
        decoded = prefetched(iter_frames(video))
        # the hands of frame i run on worker threads while the main thread tracks the body in
        # frames i + 1, i + 2, ... (the models release the GIL; the body needs only the body)
        hand_jobs = self._hand_jobs(models) if hands else []
        lanes: OrderedLanes[int] | None = (
            OrderedLanes(len(hand_jobs), HANDS_LAG_FRAMES, "exoactor-hands") if hands else None)

        def store_hands(done: list[tuple[int, list[Any]]]) -> None:
            for j, per_lane in done:
                for (sides, _), (hp, hr, hs, labels) in zip(hand_jobs, per_lane, strict=True):
                    for side in sides:
                        arrays["hand_px"][j, side] = hp[side]
                        arrays["hand_rel_c"][j, side] = hr[side]
                        arrays["hand_score"][j, side] = hs[side]
                        if labels[side] is not None:
                            # MediaPipe labels assume a mirrored image: "Right" = left hand.
                            label_agree[0] += int(labels[side] == ("Right", "Left")[side])
                            label_agree[1] += 1

        def hands_of(submit: Callable[[], list[tuple[int, list[Any]]]] | None = None) -> None:
            """Submit (or, without ``submit``, finish) the hands; store the ones done."""
            assert lanes is not None
            try:
                with _timed(step, "hands"):  # what the hands add to the wall
                    done = submit() if submit is not None else list(lanes.drain())
            except LaneJobFailed as exc:
                cause = exc.__cause__
                raise ModelFailed(HAND_FAILED.format(
                    path=video.path, frame=exc.key, name=video.path.name,
                    cause=f"{type(cause).__name__}: {cause}")) from cause
            store_hands(done)

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
                chosen: Person | None = None
                if not tracker.started:
                    early.append((i, t_s, rgb))
                    with _timed(step, "body"):
                        people = detect_people(models["image"], rgb,
                                               self.stage.tracking.max_people)
                    if len(people) > most_people[0]:
                        most_people = (len(people), i)
                    if len(people) > want:
                        chosen = people[want]
                        candidates_at_start = [c.box.round(1).tolist() for c in people]
                        with _timed(step, "tracking"):
                            tracker.accept(chosen.box, chosen.hip, t_s)
                            for other in people:
                                if other is not chosen:
                                    tracker.reject(other.box, other.hip, "not_actor", t_s)
                        logger.info("actor: person %d of %d at frame %d, box %s", want,
                                    len(people), i, chosen.box.round())
                        with _timed(step, "body"):
                            for j, cand in self._backfill(models["image"], list(early)[:-1],
                                                          chosen, t_s):
                                self._store(arrays, j, cand)
                                gate_log["backfilled"] += 1
                        early.clear()
                        if prime:  # this frame too from the settled video-mode graph
                            chosen = self._settled_start(models["video"], frames, prime, rgb,
                                                         t_s, tracker, chosen, step)
                            last_prime = i
                else:
                    if self._video_fresh and prime and i - last_prime >= prime:
                        self._prime(models["video"], frames, prime, tracker, step)
                        last_prime = i
                    self._video_fresh = False
                    chosen = self._track(models, rgb, t_s, tracker, step, gate_log)
                if chosen is not None:
                    self._store(arrays, i, chosen)
                    if lanes is not None:
                        jobs = [partial(job, rgb, chosen) for _, job in hand_jobs]
                        hands_of(partial(lanes.submit, i, jobs))
                t_dec = time.perf_counter()
            if lanes is not None:
                hands_of()
        finally:
            if lanes is not None:
                lanes.close()
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
            "hand_roi": self.config.hand_roi,
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
    def _gate(self, tracker: ActorTracker, cand: Person | None, t_s: float,
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
    def _store(arrays: dict[str, np.ndarray], i: int, cand: Person) -> None:
        arrays["detected"][i] = True
        arrays["kp_px"][i] = cand.kp_px
        arrays["kp_vis"][i] = cand.vis
        arrays["kp_rel_c"][i] = cand.rel_c

    def _backfill(self, model: Any, frames: list[tuple[int, float, np.ndarray]],
                  chosen: Person, t_s: float) -> list[tuple[int, Person]]:
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
                cand = pose_on_crop(model, rgb, crop, [], rotate)
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
                       t_s: float, tracker: ActorTracker, chosen: Person,
                       step: dict[str, float]) -> Person:
        """The actor at the frame where it was first found, from the video-mode graph primed
        on the frames after it; the single-image ``chosen`` when the graph finds someone
        else there."""
        self._prime(model, frames, prime, tracker, step)
        h, w = rgb.shape[:2]
        with _timed(step, "body"):
            cand = run_pose(model, mask_image(rgb, tracker.search_box(t_s),
                                              tracker.masked_boxes(t_s)), (0, 0), (w, h), (w, h))
        self._video_fresh = False
        if cand is not None and box_overlap(cand.box, chosen.box) > 0.8:
            return cand
        model.reset()
        self._video_fresh = True
        return chosen

    def _prime(self, model: Any, frames: _LookAhead, prime: int, tracker: ActorTracker,
               step: dict[str, float]) -> None:
        """Run the video-mode graph on the next ``prime`` frames backwards (each masked as
        :meth:`_track` would; decoding them timed as ``decode``, the graph as ``body``),
        discarding the results, so that it reaches the frame before them with its crop
        settled on the actor."""
        with _timed(step, "decode"):
            ahead = frames.peek(prime)
        with _timed(step, "body"):
            prime_pose(model, (mask_image(f.rgb, tracker.search_box(f.time_s),
                                          tracker.masked_boxes(f.time_s))
                               for f in reversed(ahead)))

    def _look(self, detect: Callable[[], Person | None], tracker: ActorTracker, t_s: float,
              step: dict[str, float], log: dict[str, int], how: str) -> tuple[Person | None, bool]:
        """One detection (timed as ``body``) and its gate (timed as ``tracking``)."""
        with _timed(step, "body"):
            cand = detect()
        with _timed(step, "tracking"):
            ok = self._gate(tracker, cand, t_s, log, how)
        return cand, ok

    def _track(self, models: dict[str, Any], rgb: np.ndarray, t_s: float, tracker: ActorTracker,
               step: dict[str, float], log: dict[str, int]) -> Person | None:
        h, w = rgb.shape[:2]
        with _timed(step, "tracking"):
            search = tracker.search_box(t_s)
            hide = tracker.masked_boxes(t_s)
            if tracker.gap_s(t_s) > 0.05:
                logger.debug("t=%.3fs search %s hide %s", t_s, search.round(),
                             [b.round() for b in hide])
            image = mask_image(rgb, search, hide)
        cand, ok = self._look(partial(run_pose, models["video"], image, (0, 0), (w, h), (w, h)),
                              tracker, t_s, step, log, "video")
        if ok:
            return cand
        if cand is not None:
            hide = hide + [cand.box]
            with _timed(step, "body"):
                models["video"].reset()  # it may be locked onto somebody else
            self._video_fresh = True
        if self.config.fallback_static:
            for crop, rotate in self._fallback_crops(tracker, t_s, search):
                cand, ok = self._look(
                    partial(pose_on_crop, models["image"], rgb, crop, hide, rotate),
                    tracker, t_s, step, log, "fallback")
                if ok:
                    return cand
                if cand is not None:
                    hide = hide + [cand.box]
        log["missed"] += 1
        return None


@contextmanager
def _timed(step: dict[str, float], key: str) -> Iterator[None]:
    """Add the wall time of the block to ``step[key]`` [s]."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        step[key] += time.perf_counter() - t0


def _grow(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Double the frame capacity of the observation arrays (the declared count was short)."""
    out = {}
    for k, v in arrays.items():
        fill = np.nan if v.dtype.kind == "f" and k not in ("kp_vis", "hand_score") else 0
        extra = np.full_like(v, fill)
        out[k] = np.concatenate([v, extra])
    return out
