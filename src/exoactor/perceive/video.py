"""Reading the input video: validation, metadata, per-frame timestamps, constant-rate view.

Frames are ``(H, W, 3)`` uint8 **RGB**, row 0 at the top, as displayed (OpenCV applies the
container's rotation metadata, so a portrait phone video comes out portrait).

The clip is decoded once, in order, by :func:`iter_frames`, which also yields each frame's
presentation time. Variable frame rate: when the intervals between timestamps vary by more than
:data:`VFR_TOLERANCE`, :func:`constant_rate_view` maps the clip to a constant rate (the median
interval) by taking, for each output time, the nearest source frame: frames are repeated or
dropped, never blended.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from exoactor.perceive.errors import VideoError

logger = logging.getLogger(__name__)

_Item = TypeVar("_Item")

VFR_TOLERANCE = 0.15
"""Largest relative deviation of a frame interval from the median interval in a clip taken as
constant-rate (encoders jitter timestamps by a millisecond or so)."""
MIN_SIDE_PX = 64
"""Smallest accepted short side of a frame [px]."""

NOT_A_VIDEO = ("{path}: not a readable video ({why}). Give a video file OpenCV/ffmpeg can decode "
               "(mp4, mov, avi, mkv, webm); to re-encode one: ffmpeg -i {name} -c:v libx264 "
               "-pix_fmt yuv420p fixed.mp4")
EMPTY_VIDEO = ("{path}: the video holds no decodable frame. Check the file is complete (a "
               "truncated download or an audio-only file looks like this) and export it again.")
MISSING = "{path}: no such file. Give the path of the video to analyse."
TOO_SMALL = ("{path}: frames are {w}x{h} px; pose estimation needs at least {min_px} px on the "
             "short side. Use the original, higher-resolution video.")
DAMAGED = ("{path}: decoding failed after source frame {index}; the file is damaged. "
           "Re-encode it: ffmpeg -i {name} -c:v libx264 -pix_fmt yuv420p fixed.mp4")


@dataclass(frozen=True)
class VideoSource:
    """A video file that opened and whose first frame decodes.

    Attributes:
        path: the video file.
        width_px: frame width [px] (after rotation metadata).
        height_px: frame height [px].
        nominal_fps: frame rate the container declares [Hz] (0 if none).
        declared_frames: frame count the container declares (may be wrong; 0 if none); for a
            selection, the number of frames selected.
        frame_selection: source frames this clip is read as (a trimmed, de-duplicated view,
            see :func:`select_frames`); None: every frame.
        frame_times_s: presentation time of each selected frame [s]; None: the container's.
        start_frame: source frames before this one are left out (a trimmed start, see
            :func:`trim_start`); frames and times then count from it.
    """

    path: Path
    width_px: int
    height_px: int
    nominal_fps: float
    declared_frames: int
    frame_selection: tuple[int, ...] | None = None
    frame_times_s: tuple[float, ...] | None = None
    start_frame: int = 0

    @property
    def portrait(self) -> bool:
        return self.height_px > self.width_px


@dataclass(frozen=True)
class Frame:
    """One decoded source frame.

    Attributes:
        index: source frame index, from 0.
        time_s: presentation time relative to the first frame [s].
        rgb: ``(H, W, 3)`` uint8 RGB image.
    """

    index: int
    time_s: float
    rgb: np.ndarray


@dataclass(frozen=True)
class RateView:
    """A constant-rate view of a clip (see :func:`constant_rate_view`).

    Attributes:
        fps: output frame rate [Hz].
        frame_index: ``(T,)`` source frame shown at output frame ``k`` (time ``k / fps``).
        variable: the source intervals varied by more than :data:`VFR_TOLERANCE`.
        interval_range_s: shortest and longest source frame interval [s] (0, 0 for one frame).
    """

    fps: float
    frame_index: np.ndarray
    variable: bool
    interval_range_s: tuple[float, float]

    @property
    def num_frames(self) -> int:
        return int(self.frame_index.shape[0])


def _container_opens(path: Path) -> bool:
    """Whether ffmpeg can open ``path`` as a media container (even one without frames)."""
    import subprocess

    import imageio_ffmpeg

    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, check=False)
    return "Error opening input" not in proc.stderr and "Invalid data" not in proc.stderr


def _capture(path: Path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        if _container_opens(path):
            raise VideoError(EMPTY_VIDEO.format(path=path))
        raise VideoError(NOT_A_VIDEO.format(path=path, name=path.name,
                                            why="no demuxer/decoder accepts it"))
    return cap


def open_video(path: str | Path) -> VideoSource:
    """Check that ``path`` is a video whose first frame decodes, and read its metadata.

    Raises:
        VideoError: the file is missing, not a video, holds no frame, or its frames are tiny.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise VideoError(MISSING.format(path=path))
    cap = _capture(path)
    try:
        ok, bgr = cap.read()
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    finally:
        cap.release()
    if not ok or bgr is None:
        raise VideoError(EMPTY_VIDEO.format(path=path))
    h, w = int(bgr.shape[0]), int(bgr.shape[1])
    if min(h, w) < MIN_SIDE_PX:
        raise VideoError(TOO_SMALL.format(path=path, w=w, h=h, min_px=MIN_SIDE_PX))
    if not np.isfinite(fps) or fps < 0:
        fps = 0.0
    return VideoSource(path=path, width_px=w, height_px=h, nominal_fps=fps,
                       declared_frames=max(count, 0))


def select_frames(video: VideoSource, source_index: np.ndarray | list[int],
                  times_s: np.ndarray | list[float]) -> VideoSource:
    """A view of ``video`` made of some of its frames, re-timed.

    :func:`iter_frames` of the view yields only those frames, numbered from 0 in order
    (``Frame.index`` is the position in the selection), at ``times_s``.

    Args:
        video: the full clip (not itself a selection).
        source_index: ``(N,)`` increasing source frame indices to keep.
        times_s: ``(N,)`` increasing presentation time of each kept frame [s].
    """
    idx = tuple(int(i) for i in source_index)
    times = tuple(float(t) for t in times_s)
    if video.frame_selection is not None or video.start_frame:
        raise ValueError(f"{video.path}: select_frames needs the full clip, not a view of it")
    if len(idx) != len(times) or not idx or any(b <= a for a, b in zip(idx, idx[1:])):
        raise ValueError(f"{video.path}: a selection needs as many increasing frame indices "
                         f"as times, at least one (got {len(idx)} and {len(times)})")
    return replace(video, frame_selection=idx, frame_times_s=times, declared_frames=len(idx))


def trim_start(video: VideoSource, first_frame: int) -> VideoSource:
    """A view of ``video`` from source frame ``first_frame`` on: :func:`iter_frames` numbers
    its frames from 0 and times them from 0 at that frame."""
    if video.frame_selection is not None or video.start_frame:
        raise ValueError(f"{video.path}: trim_start needs the full clip, not a view of it")
    if first_frame < 0:
        raise ValueError(f"{video.path}: first_frame must be >= 0 (got {first_frame})")
    return replace(video, start_frame=int(first_frame),
                   declared_frames=max(video.declared_frames - int(first_frame), 0))


def iter_frames(video: VideoSource) -> Iterator[Frame]:
    """Decode every source frame in order (RGB) with its presentation time (only the selected
    ones, renumbered, for a :func:`select_frames` view)."""
    import cv2

    if video.frame_selection is not None:
        yield from _iter_selected(video)
        return
    skip, t_start = video.start_frame, 0.0
    for index, t, bgr in _iter_bgr(video, skip):
        if index == skip:
            t_start = t
        yield Frame(index=index - skip, time_s=t - t_start,
                    rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def prefetched(frames: Iterator[_Item], depth: int = 4) -> Iterator[_Item]:
    """``frames`` (or any items made from them) in order, decoded up to ``depth`` ahead on a
    background thread.

    OpenCV's decoder and colour conversion release the GIL, so decoding the next frames
    overlaps the caller's work on this one (pose models, on the other core). An exception
    of the decoder is raised here, at the frame where it happened. Closing this generator
    stops the thread.
    """
    import queue
    import threading

    ahead: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    end = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ahead.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def decode() -> None:
        try:
            for frame in frames:
                if not put(frame):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put(exc)
            return
        put(end)

    worker = threading.Thread(target=decode, name="exoactor-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = ahead.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


def iter_grey(video: VideoSource) -> Iterator[tuple[int, float, np.ndarray]]:
    """Decode every source frame of a full clip in order as ``(index, time_s, (H, W) uint8
    grey)``: cheaper than :func:`iter_frames` for checks that need no colour."""
    import cv2

    if video.frame_selection is not None or video.start_frame:
        raise ValueError(f"{video.path}: iter_grey reads the full clip, not a view of it")
    for index, t, bgr in _iter_bgr(video):
        yield index, t, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def _iter_bgr(video: VideoSource, skip: int = 0) -> Iterator[tuple[int, float, np.ndarray]]:
    """Source frames as ``(index, time_s, bgr)``; the first ``skip`` are decoded for their
    times only."""
    import cv2

    cap = _capture(video.path)
    t0 = None
    index = 0
    last_t = -np.inf
    try:
        while True:
            if index < skip:
                ok, bgr = cap.grab(), None
            else:
                ok, bgr = cap.read()
            if not ok or (bgr is None and index >= skip):
                return
            t_ms = float(cap.get(cv2.CAP_PROP_POS_MSEC))
            if t0 is None:
                t0 = t_ms
            t = (t_ms - t0) / 1000.0
            if not np.isfinite(t) or t <= last_t:  # missing/duplicate pts: fall back to rate
                t = index / (video.nominal_fps or 30.0) if index else 0.0
                t = max(t, last_t + 1e-6)
            last_t = t
            if index >= skip:
                yield index, t, bgr
            index += 1
    finally:
        cap.release()


def _iter_selected(video: VideoSource) -> Iterator[Frame]:
    import cv2

    wanted = video.frame_selection or ()
    times = video.frame_times_s or ()
    cap = _capture(video.path)
    try:
        src = 0
        for k, target in enumerate(wanted):
            while src < target:  # skip without converting the image
                if not cap.grab():
                    return
                src += 1
            ok, bgr = cap.read()
            src += 1
            if not ok or bgr is None:
                return
            yield Frame(index=k, time_s=times[k], rgb=cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()


def constant_rate_view(times_s: np.ndarray, nominal_fps: float = 0.0) -> RateView:
    """Constant frame-rate view of frames shown at ``times_s``.

    Args:
        times_s: ``(S,)`` increasing presentation times [s].
        nominal_fps: the container's declared rate [Hz]; used when the timestamps cannot
            tell (a single frame) and preferred when within 1 % of the measured rate. 0 if none.

    Returns:
        The view. A constant-rate clip maps one to one; a variable-rate one is sampled at the
        median interval, each output time taking its nearest source frame.
    """
    times_s = np.asarray(times_s, dtype=float)
    n = len(times_s)
    if n < 2:
        fps = nominal_fps if nominal_fps > 0 else 30.0
        return RateView(fps, np.zeros(n, dtype=int), False, (0.0, 0.0))
    d = np.diff(times_s)
    med = float(np.median(d))
    span = (float(d.min()), float(d.max()))
    if not np.isfinite(med) or med <= 0:
        fps = nominal_fps if nominal_fps > 0 else 30.0
        return RateView(fps, np.arange(n), False, span)
    variable = bool(np.max(np.abs(d - med)) > VFR_TOLERANCE * med)
    fps = 1.0 / med
    if nominal_fps > 0 and abs(nominal_fps - fps) < 0.01 * fps:
        fps = nominal_fps
    if not variable:
        return RateView(fps, np.arange(n), False, span)
    count = int(np.floor(times_s[-1] * fps + 0.5)) + 1
    grid = np.arange(count) / fps
    right = np.clip(np.searchsorted(times_s, grid), 1, n - 1)
    left = right - 1
    pick = np.where(np.abs(times_s[left] - grid) <= np.abs(times_s[right] - grid), left, right)
    return RateView(fps, pick.astype(int), True, span)


def read_frames(video: VideoSource, indices: list[int] | np.ndarray) -> dict[int, np.ndarray]:
    """A few source frames by index, as RGB, for checks that need only a sample (seeks)."""
    import cv2

    out: dict[int, np.ndarray] = {}
    cap = _capture(video.path)
    try:
        for k in sorted({int(i) for i in indices}):
            cap.set(cv2.CAP_PROP_POS_FRAMES, k)
            ok, bgr = cap.read()
            if ok and bgr is not None:
                out[k] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()
    return out
