"""One decoding pass over a clip that gathers what the artefact detectors need.

Per source frame: the 99.9th-percentile grey change to the previous frame (repeats); per
distinct frame: the structure change to the previous distinct frame (cuts) and the background
corners tracked from it (camera rotation). Only small arrays are kept, never the frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from exoactor.perceive.artefacts.camera_motion import PointMatches, track_corners
from exoactor.perceive.artefacts.cuts import structure_change, thumbnail
from exoactor.perceive.artefacts.duplicates import grey_change_p999
from exoactor.perceive.config import ArtefactConfig
from exoactor.perceive.video import VideoSource, iter_grey


@dataclass(frozen=True, eq=False)
class ClipScan:
    """What :func:`scan_clip` measured.

    Attributes:
        times_s: ``(S,)`` presentation time of every source frame [s].
        change_p999: ``(S,)`` grey change to the previous source frame (NaN for frame 0).
        repeat: ``(S,)`` bool, the frame repeats the previous one.
        distinct: ``(N,)`` source indices of the distinct frames.
        structure_change: ``(N,)`` structure change of each distinct frame to the previous
            distinct one (0 for the first).
        matches: ``N`` background corner tracks, entry ``i`` from distinct frame ``i - 1`` to
            ``i`` (entry 0 empty); empty list when camera rotation is off.
        seconds: wall time of the pass [s].
    """

    times_s: np.ndarray
    change_p999: np.ndarray
    repeat: np.ndarray
    distinct: np.ndarray
    structure_change: np.ndarray
    matches: list[PointMatches]
    seconds: float


def scan_clip(video: VideoSource, cfg: ArtefactConfig) -> ClipScan:
    """Decode ``video`` once and measure every frame (see the module docstring)."""
    import cv2

    t0 = time.perf_counter()
    scale = min(1.0, cfg.camera_thumb_width_px / video.width_px)
    times, changes, repeat, distinct, structure, matches = [], [], [], [], [], []
    prev_grey = last_thumb = last_small = None
    for index, time_s, grey in iter_grey(video):
        times.append(time_s)
        change = grey_change_p999(prev_grey, grey) if prev_grey is not None else float("nan")
        prev_grey = grey
        changes.append(change)
        is_repeat = bool(change <= cfg.repeat_max_grey)
        repeat.append(is_repeat)
        if is_repeat:
            continue
        small = grey if scale >= 1.0 else cv2.resize(grey, None, fx=scale, fy=scale,
                                                     interpolation=cv2.INTER_AREA)
        thumb = thumbnail(small)
        structure.append(structure_change(last_thumb, thumb) if last_thumb is not None else 0.0)
        last_thumb = thumb
        distinct.append(index)
        if cfg.camera_rotation:
            empty = np.zeros((0, 2))
            matches.append(track_corners(last_small, small, scale) if last_small is not None
                           else PointMatches(empty, empty))
            last_small = small
    return ClipScan(np.asarray(times), np.asarray(changes), np.asarray(repeat, dtype=bool),
                    np.asarray(distinct, dtype=int), np.asarray(structure), matches,
                    time.perf_counter() - t0)
