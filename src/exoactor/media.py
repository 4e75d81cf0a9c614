"""Video and image helpers shared by the stages: the one H.264 writer and the one resize.

Every mp4 the package writes is H.264, yuv420p, with its index at the front (``+faststart``,
so a browser plays it while loading), written by :func:`open_h264` (frame by frame) or
:func:`write_h264` (a sequence, atomically). Quality is imageio-ffmpeg's 0-10 scale (10
best); two settings name their purpose.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.fileio import atomic_path

VIEW_QUALITY = 6.0
"""Quality of videos people watch (report views, the perceive overlay)."""
SOURCE_QUALITY = 8.0
"""Quality of clips that perception reads again (generated, cut or synthetic clips)."""


def open_h264(path: str | Path, width: int, height: int, fps: float, preset: str | None = None,
              quality: float = VIEW_QUALITY, x264_params: str | None = None) -> Any:
    """An H.264 mp4 frame writer on ``path`` (a primed generator: ``send`` ``(height, width,
    3)`` uint8 RGB frames, then ``close``). ``preset`` is x264's speed preset (None: its
    default, ``medium``); ``x264_params`` overrides some of its settings (x264's
    ``key=value:...`` syntax); ``width`` and ``height`` must be even [px]. Callers write to a
    temporary path (:func:`exoactor.fileio.atomic_path`)."""
    import imageio_ffmpeg

    extra = ["-preset", preset] if preset else []
    if x264_params:
        extra += ["-x264-params", x264_params]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), pix_fmt_in="rgb24", pix_fmt_out="yuv420p", fps=fps,
        codec="libx264", quality=quality, macro_block_size=1,
        output_params=["-movflags", "+faststart", *extra])
    writer.send(None)
    return writer


def write_h264(frames: Iterable[np.ndarray] | np.ndarray, fps: float, path: str | Path,
               quality: float = SOURCE_QUALITY) -> Path:
    """Write ``(H, W, 3)`` uint8 frames as an H.264 mp4 at ``fps`` [Hz], atomically.

    Odd frame sizes are cropped by one pixel (yuv420p needs even sizes).
    """
    path = Path(path)
    it = iter(frames)
    first = next(it)
    h, w = first.shape[:2]
    h2, w2 = h - h % 2, w - w % 2
    with atomic_path(path) as tmp:
        writer = open_h264(tmp, w2, h2, fps, quality=quality)
        try:
            writer.send(np.ascontiguousarray(first[:h2, :w2]))
            for f in it:
                writer.send(np.ascontiguousarray(f[:h2, :w2]))
        finally:
            writer.close()
    return path


def resize_image(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of a uint8 or float32 image (OpenCV when installed, else Pillow)."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    try:
        import cv2
    except ImportError:
        from PIL import Image

        if image.dtype == np.uint8:
            return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))
        return np.asarray(Image.fromarray(image.astype(np.float32), "F").resize(
            (width, height), Image.BILINEAR))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)
