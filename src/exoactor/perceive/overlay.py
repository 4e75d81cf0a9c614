"""The overlay video: the final skeleton projected onto the input frames.

Green bones where the actor was detected, orange where the pose is interpolated or held;
red discs on feet in contact; hands in cyan where a hand was seen. Frames are downscaled to
``width_px`` and encoded as H.264 (yuv420p) with ffmpeg through ``imageio-ffmpeg``.

It is written inside the perceive stage, so its cost counts against perception's time: x264's
``ultrafast`` preset (:data:`PRESET`), a bilinear downscale unless the frame shrinks by more
than half (:data:`AREA_BELOW_SCALE`), and the frames decoded and downscaled on a background
thread while the main thread draws and ffmpeg encodes. Measured on the task clips (107 frames
1104x622 and 151 frames of a Kling clip, both to 960x540): ``veryfast`` -> ``ultrafast``
encodes with 1.45 -> 0.54 and 1.37 -> 0.52 CPU-s, at the same quality (38.5 -> 38.9 dB PSNR
against the downscaled frames of the Kling clip), in a file 2.6x as large (362 -> 944 kB,
788 kB -> 2.0 MB): a diagnostic view where time matters more than bytes. (``medium`` and area
averaging, before: 2.4-2.8 CPU-s and 6.2 instead of 1.6 ms per frame.)
"""

from __future__ import annotations

from collections.abc import Iterator
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
AREA_BELOW_SCALE = 0.5
"""Frames shrunk below this scale are downscaled by area averaging (no aliasing), others
bilinearly."""


def write_overlay(video: VideoSource, frame_index: np.ndarray, motion: HumanMotion,
                  out_path: str | Path, width_px: int = 960) -> Path:
    """Draw ``motion`` over the frames of ``video`` and write ``out_path`` (mp4, atomically).

    Args:
        video: the input video.
        frame_index: ``(T,)`` source frame of each motion frame (constant-rate view).
        motion: the perceived motion (needs ``camera_K`` and ``T_w_c``; per-frame camera
            poses ``extras["T_w_c_frames"]`` are used when the camera's rotation was
            compensated).
        out_path: the mp4 to write.
        width_px: output width [px] (never upscaled).
    """
    import cv2

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
    scale = min(1.0, width_px / video.width_px)
    w = round(video.width_px * scale) // 2 * 2
    h = round(video.height_px * scale) // 2 * 2
    s = np.array([w / video.width_px, h / video.height_px])
    out_path = Path(out_path)
    wanted: dict[int, list[int]] = {}
    for k, src in enumerate(frame_index):
        wanted.setdefault(int(src), []).append(k)
    interpolation = cv2.INTER_AREA if scale < AREA_BELOW_SCALE else cv2.INTER_LINEAR
    with atomic_path(out_path) as tmp:
        writer = open_h264(tmp, w, h, motion.fps, preset=PRESET)
        frames = prefetched(_downscaled(video, wanted, (w, h), interpolation))
        try:
            for index, small in frames:
                for k in wanted[index]:
                    img = small.copy()
                    _draw(img, k, pts[k] * s, motion, None if hands is None else hands[k] * s)
                    writer.send(np.ascontiguousarray(img))
        finally:
            frames.close()
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
