"""Keeping the identity of the actor across frames.

Single-person pose models (MediaPipe's among them) follow whoever their detector scores
highest, so a passer-by can take over the track. The method here is motion-based:

1. **Pick** the actor on the first frame where people are visible: people are enumerated by
   detecting, masking the one found and detecting again; they are ranked by box area
   (largest = 0) and ``person`` picks one. The others start *other* tracks.
2. **Predict** where the actor's hip centre is: the last one moved at its recent velocity
   for at most ``velocity_horizon_s`` into a gap, then held. Distances are measured in the
   actor's *body scale*: a high percentile of the recent landmark-box sizes, i.e. about the
   standing height in pixels even while crouching or flipping.
3. **Gate** every candidate detection: its hip centre must lie within an allowed distance of
   the prediction that grows with the time since the actor was last seen (``max_jump`` +
   ``max_speed_scales_s`` x gap), its size must be comparable, and it must be closer (in the
   same normalised units) to the actor than to any known other.
4. A rejected candidate seen while the actor was just tracked (gap <= ``confident_gap_s``)
   is certainly somebody else: it updates or starts an other track. Any rejected candidate
   is painted out of the next searches for a while (``other_mask_s``), so the detector looks
   for somebody else.
5. Frames where no candidate passes stay undetected (filled and flagged later); they are
   never given to somebody else.

Colour appearance was tried as a further cue and dropped: on backlit footage with changing
light, torso and leg colours of the same person vary as much as between two people.

Boxes are ``(4,)`` arrays ``x0, y0, x1, y1`` and points ``(2,)`` arrays, in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exoactor.perceive.config import TrackingConfig


def landmark_box_px(kp_px: np.ndarray, width_px: int, height_px: int) -> np.ndarray:
    """``(4,)`` box of ``(N, 2)`` landmarks [px], clipped to the frame."""
    lo = np.nanmin(kp_px, axis=0)
    hi = np.nanmax(kp_px, axis=0)
    return np.array([min(max(0.0, lo[0]), width_px), min(max(0.0, lo[1]), height_px),
                     max(min(float(width_px), hi[0]), 0.0),
                     max(min(float(height_px), hi[1]), 0.0)])


def box_scale(box: np.ndarray) -> float:
    """Size of a box: its longer side [px] (a body's height when upright, its span when not)."""
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def box_area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def expand_box(box: np.ndarray, margin_px: float, width_px: int, height_px: int) -> np.ndarray:
    """``box`` grown by ``margin_px`` on every side, clipped to the frame."""
    return np.array([max(0.0, box[0] - margin_px), max(0.0, box[1] - margin_px),
                     min(float(width_px), box[2] + margin_px),
                     min(float(height_px), box[3] + margin_px)])


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection area over the smaller box's area, in [0, 1]."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min(box_area(a), box_area(b))
    return ix * iy / small if small > 0 else 0.0


@dataclass(frozen=True)
class GateDecision:
    """Whether a candidate detection is the actor, and why.

    Attributes:
        accepted: the candidate is taken as the actor.
        reason: ``"ok"``, ``"jump"`` (too far from the prediction), ``"size"`` or ``"other"``
            (closer to a known other person).
        cost: hip distance to the prediction over the allowed distance (<= 1 passes).
        size_ratio: candidate box scale over the actor's body scale.
    """

    accepted: bool
    reason: str
    cost: float
    size_ratio: float


@dataclass
class PersonTrack:
    """Recent observations of one person: times [s], hip centres [px], boxes [px]."""

    times: list[float] = field(default_factory=list)
    hips: list[np.ndarray] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)

    def add(self, box: np.ndarray, hip_px: np.ndarray, time_s: float, keep: int = 45) -> None:
        self.times.append(float(time_s))
        self.hips.append(np.asarray(hip_px, dtype=float))
        self.boxes.append(np.asarray(box, dtype=float))
        if len(self.times) > keep:
            del self.times[0], self.hips[0], self.boxes[0]

    @property
    def last_time_s(self) -> float:
        return self.times[-1]

    def scale(self) -> float:
        """Body scale [px]: 90th percentile of the recent box scales."""
        return float(np.percentile([box_scale(b) for b in self.boxes], 90))

    def velocity_px_s(self) -> np.ndarray:
        n = min(len(self.times), 5)
        if n < 2:
            return np.zeros(2)
        dt = self.times[-1] - self.times[-n]
        return (self.hips[-1] - self.hips[-n]) / dt if dt > 0 else np.zeros(2)

    def predicted_hip(self, time_s: float, horizon_s: float) -> np.ndarray:
        gap = max(0.0, time_s - self.times[-1])
        return self.hips[-1] + self.velocity_px_s() * min(gap, horizon_s)

    def predicted_box(self, time_s: float, horizon_s: float) -> np.ndarray:
        shift = self.predicted_hip(time_s, horizon_s) - self.hips[-1]
        return self.boxes[-1] + np.r_[shift, shift]

    def cost(self, hip_px: np.ndarray, time_s: float, cfg: TrackingConfig) -> float:
        """Hip distance to the prediction over the allowed distance at ``time_s``."""
        gap = max(0.0, time_s - self.times[-1])
        allowed = self.scale() * (cfg.max_jump + cfg.max_speed_scales_s * gap)
        pred = self.predicted_hip(time_s, cfg.velocity_horizon_s)
        return float(np.linalg.norm(np.asarray(hip_px) - pred) / allowed)


@dataclass
class _Masked:
    box: np.ndarray
    until_s: float


@dataclass
class ActorTracker:
    """The actor's track, the other people's tracks, and the gate between them."""

    config: TrackingConfig
    width_px: int
    height_px: int
    actor: PersonTrack = field(default_factory=PersonTrack)
    others: list[PersonTrack] = field(default_factory=list)
    rejections: dict[str, int] = field(default_factory=dict)
    _masked: list[_Masked] = field(default_factory=list)

    @property
    def started(self) -> bool:
        return bool(self.actor.times)

    def gap_s(self, time_s: float) -> float:
        """Time since the actor was last accepted [s]."""
        return max(0.0, time_s - self.actor.last_time_s) if self.started else np.inf

    def predicted_box(self, time_s: float) -> np.ndarray:
        """Where the actor's box should be at ``time_s`` [px]."""
        return self.actor.predicted_box(time_s, self.config.velocity_horizon_s)

    def search_box(self, time_s: float) -> np.ndarray:
        """Region to look for the actor in at ``time_s`` [px]: the prediction grown by the
        allowed jump plus ``search_margin``, clipped to the frame."""
        c = self.config
        margin = self.actor.scale() * (c.max_jump + c.max_speed_scales_s * self.gap_s(time_s)
                                       + c.search_margin)
        return expand_box(self.predicted_box(time_s), margin, self.width_px, self.height_px)

    def masked_boxes(self, time_s: float) -> list[np.ndarray]:
        """Boxes of recently rejected people to paint out of the search at ``time_s`` [px];
        a box touching the actor's predicted box is left visible."""
        self._masked = [m for m in self._masked if m.until_s >= time_s]
        self.others = [o for o in self.others
                       if time_s - o.last_time_s <= self.config.other_keep_s]
        pred = self.predicted_box(time_s)
        return [m.box for m in self._masked if box_overlap(m.box, pred) == 0.0]

    def check(self, box: np.ndarray, hip_px: np.ndarray, time_s: float) -> GateDecision:
        """Gate a candidate detection (landmark ``box`` and ``hip_px`` centre) at ``time_s``."""
        c = self.config
        cost = self.actor.cost(hip_px, time_s, c)
        size_ratio = box_scale(box) / self.actor.scale()
        other_cost = min((o.cost(hip_px, time_s, c) for o in self.others), default=np.inf)
        if cost > 1.0:
            reason = "jump"
        elif size_ratio > c.max_size_ratio:
            reason = "size"
        elif other_cost < cost:
            reason = "other"
        else:
            reason = "ok"
        return GateDecision(reason == "ok", reason, cost, size_ratio)

    def accept(self, box: np.ndarray, hip_px: np.ndarray, time_s: float) -> None:
        """Record the actor at ``time_s``."""
        self.actor.add(box, hip_px, time_s)

    def reject(self, box: np.ndarray, hip_px: np.ndarray, reason: str, time_s: float) -> None:
        """Record a candidate that is not the actor: mask it for a while and, if the actor was
        just seen, file it on the nearest other track (or a new one)."""
        c = self.config
        self.rejections[reason] = self.rejections.get(reason, 0) + 1
        margin = 0.1 * box_scale(box)
        self._masked.append(_Masked(expand_box(box, margin, self.width_px, self.height_px),
                                    time_s + c.other_mask_s))
        if self.gap_s(time_s) > c.confident_gap_s:
            return
        costs = [o.cost(hip_px, time_s, c) for o in self.others]
        if costs and min(costs) <= 1.0:
            self.others[int(np.argmin(costs))].add(box, hip_px, time_s)
        else:
            track = PersonTrack()
            track.add(box, hip_px, time_s)
            self.others.append(track)
