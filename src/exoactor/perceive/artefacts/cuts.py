"""A scene cut at the start of a clip: frames of another shot before the generated part.

Image-to-video generators are conditioned on a photo; some published clips still begin with a
few frames of it (GenMimic: the real photo with a watermark and a countdown, or a zoom step into
the generated shot). A cut is a discontinuity of the whole frame: the structure of the image
(gain- and offset-free, so colour drift does not count) changes at once far more than it does
between later frames. Measure: 1 - the normalised cross-correlation of small (area-averaged) grey
thumbnails of consecutive *distinct* frames (:func:`structure_change`). Rule
(:func:`find_start_cut`): within ``search_s`` of the start, the largest change that is at least
``min_change`` and at least ``ratio`` times the 75th percentile of the changes over the
following ``reference_s`` (the clip's large, not its typical, frame-to-frame change: body motion
and camera pans in the generated part reach it, a cut exceeds it several times); the generated
part starts at that frame. On the shared GenMimic clips the cut's ratio is 2.8 (raise: a zoom
step and colour change) and 3.3 (book: the watermarked photo); the largest ratio elsewhere in the
first 0.35 s of the 8 clips is 2.3 (the pose jump of the weight clip) and 1.8 on the Kling
clips.

A pose jump without a change of shot (the person turns between two frames while the room stays)
is not a cut in this sense and is not found here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

THUMB_WIDTH_PX = 64
"""Width of the thumbnails compared [px] (fine detail and noise do not count)."""


def thumbnail(grey: np.ndarray, width_px: int = THUMB_WIDTH_PX) -> np.ndarray:
    """A small float copy (area-averaged) of a grey ``(H, W)`` uint8 image."""
    import cv2

    h, w = grey.shape
    size = (width_px, max(2, round(width_px * h / w)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def structure_change(thumb_a: np.ndarray, thumb_b: np.ndarray) -> float:
    """1 - normalised cross-correlation of two thumbnails, in [0, 2] (0: same structure)."""
    a = thumb_a.astype(np.float64) - thumb_a.mean()
    b = thumb_b.astype(np.float64) - thumb_b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if den <= 1e-9:
        return 0.0
    return float(1.0 - (a * b).sum() / den)


@dataclass(frozen=True)
class StartCut:
    """The result of :func:`find_start_cut`.

    Attributes:
        frame: position (in the sequence given) of the first frame after the cut; 0: no cut.
        change: the cut's structure change (0 when none).
        reference_change: 75th percentile of the changes over the reference window after it.
    """

    frame: int
    change: float
    reference_change: float

    @property
    def found(self) -> bool:
        return self.frame > 0


def find_start_cut(change: np.ndarray, times_s: np.ndarray, *, search_s: float,
                   reference_s: float, min_change: float, ratio: float) -> StartCut:
    """Find a scene cut near the start of a sequence of distinct frames.

    Args:
        change: ``(N,)`` :func:`structure_change` of each frame to the previous one (entry 0
            is ignored).
        times_s: ``(N,)`` the frames' times [s].
        search_s: a cut is looked for among frames within this time of the first [s].
        reference_s: length of the window after a candidate whose 75th-percentile change is
            the clip's large frame-to-frame change [s].
        min_change: least change of a cut.
        ratio: least ratio between a cut's change and the reference change.
    """
    change = np.asarray(change, dtype=float)
    t = np.asarray(times_s, dtype=float)
    best = StartCut(0, 0.0, 0.0)
    if len(change) < 3:
        return best
    for k in range(1, len(change)):
        if t[k] - t[0] > search_s:
            break
        after = (t > t[k]) & (t <= t[k] + reference_s)
        if after.sum() < 2:
            continue
        ref = float(np.percentile(change[after], 75))
        c = float(change[k])
        if c >= min_change and c >= ratio * ref and c > best.change:
            best = StartCut(k, c, ref)
    return best
