"""Clip files: read frames with their true rate, resample to the perception rate, write mp4.

Resampling keeps the clip's **duration**: output frame ``k`` shows the source frame nearest to
time ``k / fps_out`` (frames are repeated or dropped, never blended, like
:func:`exoactor.perceive.video.constant_rate_view`). A 5 s clip made at 16 fps becomes 150
frames at 30 fps, still 5 s long.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor.fileio import atomic_path
from exoactor.imagine.errors import ImagineError
from exoactor.media import write_h264

logger = logging.getLogger(__name__)

FPS_TOLERANCE = 1e-3
"""Relative difference under which two frame rates are the same."""

UNREADABLE = ("{path}: not a readable video ({why}); give an mp4/mov/webm file ffmpeg can decode "
              "(re-encode: ffmpeg -i {name} -c:v libx264 -pix_fmt yuv420p fixed.mp4)")


@dataclass(frozen=True)
class ClipInfo:
    """A clip file's size and timing.

    Attributes:
        path: the file.
        fps: frame rate [Hz].
        num_frames: frames decoded.
        width_px, height_px: frame size [px].
    """

    path: Path
    fps: float
    num_frames: int
    width_px: int
    height_px: int

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps if self.fps > 0 else 0.0


def probe(path: str | Path) -> ClipInfo:
    """Frame rate, frame count and size of a video file (decodes it once to count).

    Raises:
        ImagineError: the file is missing or not a video.
    """
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise ImagineError(f"{path}: no such video file")
    try:
        gen = imageio_ffmpeg.read_frames(str(path))
        meta = next(gen)
        gen.close()
        n, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    except (RuntimeError, OSError, StopIteration) as exc:
        raise ImagineError(UNREADABLE.format(path=path, name=path.name,
                                             why=str(exc).splitlines()[0][:200])) from None
    w, h = meta["size"]
    return ClipInfo(path, float(meta["fps"]), int(n), int(w), int(h))


def iter_frames(path: str | Path, width_px: int | None = None
                ) -> tuple[Iterator[np.ndarray], float, tuple[int, int]]:
    """Stream the frames of a video, optionally downscaled on decode.

    Args:
        path: the video.
        width_px: scale frames to this width (height keeps the aspect, even); None: as is.

    Returns:
        An iterator of ``(H, W, 3)`` uint8 RGB frames, the rate [Hz] and the (width, height)
        of the frames yielded [px].
    """
    import imageio_ffmpeg

    path = Path(path)
    # scale down only (never up), keeping the aspect with an even height
    params = ["-vf", f"scale=w='min({int(width_px)},iw)':h=-2"] if width_px else None
    ff_log = logging.getLogger("imageio_ffmpeg")
    level = ff_log.level
    ff_log.setLevel(logging.ERROR)  # it warns whenever the output size differs from the source
    try:
        gen = imageio_ffmpeg.read_frames(str(path), output_params=params)
        meta = next(gen)
    except (RuntimeError, OSError, StopIteration) as exc:
        raise ImagineError(UNREADABLE.format(path=path, name=path.name,
                                             why=str(exc).splitlines()[0][:200])) from None
    finally:
        ff_log.setLevel(level)
    w, h = meta["size"]

    def frames() -> Iterator[np.ndarray]:
        try:
            for raw in gen:
                yield np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)
        finally:
            gen.close()

    return frames(), float(meta["fps"]), (w, h)


def read_frames(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames of a video and its frame rate.

    Returns:
        ``(T, H, W, 3)`` uint8 RGB frames and the rate [Hz].
    """
    it, fps, _ = iter_frames(path)
    frames = list(it)
    if not frames:
        raise ImagineError(f"{path}: the video holds no frame; generate or export it again")
    return np.stack(frames), fps


def pick_frames(frames: Iterator[np.ndarray], index: np.ndarray) -> Iterator[np.ndarray]:
    """Yield ``frames[index[k]]`` for each ``k`` from a stream, for a non-decreasing ``index``."""
    it = enumerate(frames)
    pos, cur = next(it, (-1, None))
    for want in np.asarray(index, dtype=int):
        while pos < want:
            nxt = next(it, None)
            if nxt is None:
                break
            pos, cur = nxt
        if cur is None:
            return
        yield cur


def resample_indices(num_frames: int, fps_in: float, fps_out: float) -> np.ndarray:
    """Source frame shown at each output frame, keeping the duration.

    Args:
        num_frames: source frames.
        fps_in: source rate [Hz].
        fps_out: output rate [Hz].

    Returns:
        ``(round(num_frames * fps_out / fps_in),)`` int source indices (at least one).
    """
    if num_frames < 1 or fps_in <= 0 or fps_out <= 0:
        raise ValueError(f"need frames and positive rates, got {num_frames}, {fps_in}, {fps_out}")
    n_out = max(1, int(round(num_frames * fps_out / fps_in)))
    t = np.arange(n_out) / fps_out
    return np.clip(np.floor(t * fps_in + 0.5 + 1e-9).astype(int), 0, num_frames - 1)


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3)`` float frames in [0, 1] (or uint8) as uint8."""
    a = np.asarray(frames)
    if a.dtype == np.uint8:
        return a
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class ConformedClip:
    """A clip resampled to the perception rate.

    Attributes:
        path: the resampled clip.
        fps: its rate (the perception rate) [Hz].
        num_frames: its frames.
        source_fps: the native clip's true rate [Hz].
        source_frames: the native clip's frames.
        copied: the source already had the rate and was copied byte for byte.
    """

    path: Path
    fps: float
    num_frames: int
    source_fps: float
    source_frames: int
    copied: bool

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps

    def to_dict(self) -> dict:
        return {"path": self.path.name, "fps": self.fps, "num_frames": self.num_frames,
                "duration_s": round(self.duration_s, 4), "source_fps": self.source_fps,
                "source_frames": self.source_frames,
                "source_duration_s": round(self.source_frames / self.source_fps, 4),
                "copied": self.copied}


def conform_clip(src: str | Path, dst: str | Path, fps: float,
                 source_fps: float | None = None, info: ClipInfo | None = None) -> ConformedClip:
    """Resample ``src`` to ``fps`` keeping its duration; write ``dst``.

    Args:
        src: the native clip.
        dst: the output mp4.
        fps: the perception rate [Hz].
        source_fps: the clip's true rate when the container's is wrong (a model's native
            rate); None trusts the file.
        info: ``src``'s :func:`probe` result when already known (saves decoding it again).
    """
    src, dst = Path(src), Path(dst)
    info = info or probe(src)
    true_fps = float(source_fps or info.fps)
    if true_fps <= 0:
        raise ImagineError(f"{src}: the video declares no frame rate; pass the model's native fps")
    if math.isclose(true_fps, fps, rel_tol=FPS_TOLERANCE) and src.suffix.lower() == ".mp4":
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return ConformedClip(dst, fps, info.num_frames, true_fps, info.num_frames, True)
    idx = resample_indices(info.num_frames, true_fps, fps)
    frames, _, _ = iter_frames(src)
    write_h264(pick_frames(frames, idx), fps, dst)
    logger.info("resampled %s: %d frames at %g fps -> %d frames at %g fps", src.name,
                info.num_frames, true_fps, len(idx), fps)
    return ConformedClip(dst, fps, int(len(idx)), true_fps, info.num_frames, False)


def write_sidecar(path: Path, data: dict) -> Path:
    """Write a clip's JSON description beside it."""
    from exoactor.fileio import write_json

    write_json(path, json.loads(json.dumps(data, default=str)))
    return path
