"""One decoding pass over the start of a clip (all of it when it has repeated frames) that
gathers what the cut and repeat detectors need.

Per source frame: the 99.9th-percentile grey change to the previous frame (repeats); per
distinct frame: the structure change to the previous distinct frame (cuts). Only small arrays
are kept, never the frames. A clip whose first ``probe_s`` holds no repeated frame is not
scanned further (generators that repeat frames do so throughout), so a clip without repeats
costs one extra decode of its first seconds only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from exoactor.perceive.artefacts.cuts import THUMB_WIDTH_PX, structure_change, thumbnail
from exoactor.perceive.artefacts.duplicates import grey_change_p999
from exoactor.perceive.config import ArtefactConfig
from exoactor.perceive.video import VideoSource, iter_grey


@dataclass(frozen=True, eq=False)
class ClipScan:
    """What :func:`scan_clip` measured.

    Attributes:
        times_s: ``(S,)`` presentation time of every scanned source frame [s].
        change_p999: ``(S,)`` grey change to the previous source frame (NaN for frame 0).
        repeat: ``(S,)`` bool, the frame repeats the previous one.
        distinct: ``(N,)`` source indices of the distinct frames.
        structure_change: ``(N,)`` structure change of each distinct frame to the previous
            distinct one (0 for the first).
        complete: every frame of the clip was scanned (else the first ``probe_s`` only).
        seconds: wall time of the pass [s].
    """

    times_s: np.ndarray
    change_p999: np.ndarray
    repeat: np.ndarray
    distinct: np.ndarray
    structure_change: np.ndarray
    complete: bool
    seconds: float


def scan_clip(video: VideoSource, cfg: ArtefactConfig, probe_s: float | None = None) -> ClipScan:
    """Decode ``video`` (its first ``probe_s`` when they hold no repeat; None: all of it) and
    measure every frame (see the module docstring)."""
    import cv2

    t0 = time.perf_counter()
    times, changes, repeat, distinct, structure = [], [], [], [], []
    prev_grey = last_thumb = None
    complete = True
    for index, time_s, grey in iter_grey(video):
        if probe_s is not None and time_s > probe_s and not any(repeat[1:]):
            complete = False
            break
        times.append(time_s)
        change = grey_change_p999(prev_grey, grey) if prev_grey is not None else float("nan")
        prev_grey = grey
        changes.append(change)
        is_repeat = bool(change <= cfg.repeat_max_grey)
        repeat.append(is_repeat)
        if is_repeat:
            continue
        h, w = grey.shape
        small = grey if w <= 4 * THUMB_WIDTH_PX else cv2.resize(
            grey, (4 * THUMB_WIDTH_PX, max(2, round(4 * THUMB_WIDTH_PX * h / w))),
            interpolation=cv2.INTER_AREA)
        thumb = thumbnail(small)
        structure.append(structure_change(last_thumb, thumb) if last_thumb is not None else 0.0)
        last_thumb = thumb
        distinct.append(index)
    return ClipScan(np.asarray(times), np.asarray(changes), np.asarray(repeat, dtype=bool),
                    np.asarray(distinct, dtype=int), np.asarray(structure), complete,
                    time.perf_counter() - t0)
