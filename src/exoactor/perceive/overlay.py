"""The overlay video: the final skeleton projected onto the input frames.

Green bones where the actor was detected, orange where the pose is interpolated or held;
red discs on feet in contact; hands in cyan where a hand was seen. Frames are downscaled to
``width_px`` and encoded as H.264 (yuv420p) with ffmpeg through ``imageio-ffmpeg``.

It is written inside the perceive stage, so its cost counts against perception's time: x264's
``ultrafast`` preset (:data:`PRESET`) with B-frames, CABAC, the 8x8 transform and the deblocking
filter turned back on (:data:`X264_PARAMS`), a bilinear downscale unless the frame shrinks by
more than half (:data:`AREA_BELOW_SCALE`), and the frames decoded and downscaled on a
background thread (:func:`decode_ahead`, started by the stage before it reconstructs the
motion, so that the decoding overlaps the reconstruction on the other core) while the main
thread draws and ffmpeg encodes.

Measured on two task clips (107 frames 1104x622 -> 960x540; 151 frames 1024x1024 of a Kling
clip -> 960x960), encode CPU / file / PSNR against the downscaled frames: ``veryfast``
0.98 s / 371 kB / 41.2 dB and 1.32 s / 807 kB / 38.5 dB; plain ``ultrafast`` 0.48 s /
967 kB / 41.6 dB and 0.48 s / 2.1 MB / 38.9 dB; ``ultrafast`` + :data:`X264_PARAMS` 0.50 s /
533 kB / 41.7 dB and 0.53 s / 1.14 MB / 39.1 dB: half the file of plain ``ultrafast`` for
~5-10 % more encode CPU. (``medium`` and area averaging, earlier: 2.4-2.8 CPU-s and 6.2
instead of 1.6 ms per frame.)
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from exoactor.fileio import atomic_path
from exoactor.formats.motion import HumanMotion
from exoactor.media import open_h264
from exoactor.perceive.camera import project
from exoactor.perceive.grounding import transform
from exoactor.perceive.video import VideoSource, iter_frames, prefetched
from exoactor.skeleton import BODY_33, BODY_BONES, HAND_BONES

_BONES = [(BODY_33.index(a), BODY_33.index(b)) for a, b in BODY_BONES] + [
    (BODY_33.index("left_shoulder"), BODY_33.index("nose")),
    (BODY_33.index("right_shoulder"), BODY_33.index("nose"))]
_FEET = (BODY_33.index("left_foot_index"), BODY_33.index("right_foot_index"))
GREEN, ORANGE, RED, CYAN = (40, 220, 40), (255, 150, 0), (230, 30, 30), (0, 220, 255)
PRESET = "ultrafast"
"""x264 speed preset of the overlay video (its quality is :data:`exoactor.media.VIEW_QUALITY`)."""
X264_PARAMS = "bframes=3:cabac=1:8x8dct=1:deblock=1"
"""x264 settings over :data:`PRESET`: the cheap tools ``ultrafast`` turns off that halve the
file at the same quality (module docstring)."""
BUFFER_BYTES = 128_000_000
"""Downscaled frames (RGB) :func:`decode_ahead` holds at most [bytes]: about 80 frames of
960x540, 45 of 960x960."""
AREA_BELOW_SCALE = 0.5
"""Frames shrunk below this scale are downscaled by area averaging (no aliasing), others
bilinearly."""


@dataclass(frozen=True, eq=False)
class OverlayFrames:
    """The overlay's background frames, decoded and downscaled ahead on a thread (see
    :func:`decode_ahead`); :meth:`close` stops the thread.

    Attributes:
        size_px: ``(width, height)`` of the frames [px] (even).
        wanted: source frame -> the motion frames drawn on it.
        frames: ``(source index, (height, width, 3) uint8 RGB)`` of the wanted frames, in order.
        source: the generator behind ``frames`` (closed by :meth:`close`).
    """

    size_px: tuple[int, int]
    wanted: dict[int, list[int]]
    frames: Iterator[tuple[int, np.ndarray]]
    source: Generator[tuple[int, np.ndarray], None, None]

    def close(self) -> None:
        self.source.close()


def decode_ahead(video: VideoSource, frame_index: np.ndarray, width_px: int = 960
                 ) -> OverlayFrames:
    """Start decoding and downscaling the frames of ``video`` the overlay draws on (``frame_index``
    as :func:`write_overlay` takes it), up to :data:`BUFFER_BYTES` ahead, on a background
    thread. Give the result to :func:`write_overlay`, or :meth:`~OverlayFrames.close` it."""
    import cv2

    scale = min(1.0, width_px / video.width_px)
    w = round(video.width_px * scale) // 2 * 2
    h = round(video.height_px * scale) // 2 * 2
    wanted: dict[int, list[int]] = {}
    for k, src in enumerate(frame_index):
        wanted.setdefault(int(src), []).append(k)
    interpolation = cv2.INTER_AREA if scale < AREA_BELOW_SCALE else cv2.INTER_LINEAR
    depth = max(4, int(BUFFER_BYTES // (3 * w * h)))
    source = prefetched(_downscaled(video, wanted, (w, h), interpolation), depth)
    first = next(source, None)  # starts the thread
    return OverlayFrames((w, h), wanted, chain([] if first is None else [first], source),
                         source)


def write_overlay(video: VideoSource, frame_index: np.ndarray, motion: HumanMotion,
                  out_path: str | Path, width_px: int = 960,
                  frames: OverlayFrames | None = None) -> Path:
    """Draw ``motion`` over the frames of ``video`` and write ``out_path`` (mp4, atomically).

    Args:
        video: the input video.
        frame_index: ``(T,)`` source frame of each motion frame (constant-rate view).
        motion: the perceived motion (needs ``camera_K`` and ``T_w_c``; per-frame camera
            poses ``extras["T_w_c_frames"]`` are used when the camera's rotation was
            compensated).
        out_path: the mp4 to write.
        width_px: output width [px] (never upscaled).
        frames: the frames already being decoded (:func:`decode_ahead` of the same
            ``video``, ``frame_index`` and ``width_px``); closed here. None: decoded here.
    """
    if frames is None:
        frames = decode_ahead(video, frame_index, width_px)
    try:
        return _write(video, frames, motion, Path(out_path))
    finally:
        frames.close()


def _write(video: VideoSource, frames: OverlayFrames, motion: HumanMotion,
           out_path: Path) -> Path:
    assert motion.camera_K is not None and motion.T_w_c is not None
    frames_T = motion.extras.get("T_w_c_frames")  # a turning camera, compensated
    if frames_T is not None and len(frames_T) == motion.num_frames:
        T_c_w = np.linalg.inv(frames_T)
        pts = np.stack([project(transform(T_c_w[k], motion.joints[k]), motion.camera_K)
                        for k in range(motion.num_frames)])
        hands = None if motion.hand_keypoints is None else np.stack([
            project(transform(T_c_w[k], motion.hand_keypoints[k]), motion.camera_K)
            for k in range(motion.num_frames)])
    else:
        T_c_w = np.linalg.inv(motion.T_w_c)
        pts = project(transform(T_c_w, motion.joints), motion.camera_K)
        hands = None
        if motion.hand_keypoints is not None:
            hands = project(transform(T_c_w, motion.hand_keypoints), motion.camera_K)
    w, h = frames.size_px
    s = np.array([w / video.width_px, h / video.height_px])
    with atomic_path(out_path) as tmp:
        writer = open_h264(tmp, w, h, motion.fps, preset=PRESET, x264_params=X264_PARAMS)
        try:
            for index, small in frames.frames:
                for k in frames.wanted[index]:
                    img = small.copy()
                    _draw(img, k, pts[k] * s, motion, None if hands is None else hands[k] * s)
                    writer.send(np.ascontiguousarray(img))
        finally:
            writer.close()
    return out_path


def _downscaled(video: VideoSource, wanted: dict[int, list[int]], size: tuple[int, int],
                interpolation: int) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, RGB frame resized to size)`` of the ``wanted`` source frames, in order; the
    decoding stops after the last one."""
    import cv2

    last = max(wanted, default=-1)
    for frame in iter_frames(video):
        if frame.index > last:
            return
        if frame.index in wanted:
            yield frame.index, cv2.resize(frame.rgb, size, interpolation=interpolation)


def _draw(img: np.ndarray, k: int, p: np.ndarray, motion: HumanMotion,
          hands: np.ndarray | None) -> None:
    import cv2

    colour = GREEN if motion.valid[k] else ORANGE
    thick = max(1, img.shape[1] // 400)
    ok = np.isfinite(p).all(-1)
    for a, b in _BONES:
        if ok[a] and ok[b]:
            cv2.line(img, tuple(p[a].astype(int)), tuple(p[b].astype(int)), colour, thick + 1,
                     cv2.LINE_AA)
    for f, j in enumerate(_FEET):
        if motion.foot_contact[k, f] and ok[j]:
            cv2.circle(img, tuple(p[j].astype(int)), 3 * thick + 2, RED, -1, cv2.LINE_AA)
    if hands is not None and motion.hand_confidence is not None:
        for side in (0, 1):
            if motion.hand_confidence[k, side] <= 0:
                continue
            q = hands[side]
            for a, b in HAND_BONES:
                cv2.line(img, tuple(q[a].astype(int)), tuple(q[b].astype(int)), CYAN, 1,
                         cv2.LINE_AA)
    label = f"{k / motion.fps:5.2f}s" + ("" if motion.valid[k] else "  (interpolated)")
    cv2.putText(img, label, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
