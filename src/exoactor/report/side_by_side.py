"""Time-aligned side-by-side video of several frame streams with a caption strip."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exoactor.fileio import atomic_path
from exoactor.ui import progress

CAPTION_STRIP_PX = 36
"""Height of the caption strip under the panels [px]."""


@dataclass
class Panel:
    """One stream of frames placed on the common timeline.

    Attributes:
        label: panel title drawn in its top-left corner.
        frames: ``(H, W, 3)`` uint8 RGB frames at ``fps``.
        fps: frame rate of ``frames`` [Hz].
        start_s: time on the common timeline of the first frame [s].
    """

    label: str
    frames: Iterator[np.ndarray]
    fps: float
    start_s: float = 0.0


class _Cursor:
    """Advances a monotonic frame stream to the frame nearest a requested time."""

    def __init__(self, panel: Panel, height: int):
        self.panel = panel
        self.height = height
        self.index = -1
        self.frame: np.ndarray | None = None
        self.done = False

    def at(self, t_s: float) -> np.ndarray | None:
        want = int(round((t_s - self.panel.start_s) * self.panel.fps))
        if want < 0:
            return None
        while self.index < want and not self.done:
            try:
                self.frame = next(self.panel.frames)
                self.index += 1
            except StopIteration:
                self.done = True
        return self.frame


def video_frames(path: Path) -> tuple[Iterator[np.ndarray], float]:
    """Frames of an mp4 as ``(H, W, 3)`` uint8 arrays, and its frame rate [Hz]."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    w, h = meta["size"]

    def frames() -> Iterator[np.ndarray]:
        for raw in gen:
            yield np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3)

    return frames(), float(meta["fps"])


def _fit(frame: np.ndarray | None, height: int, width: int) -> np.ndarray:
    from PIL import Image

    if frame is None:
        return np.full((height, width, 3), 24, dtype=np.uint8)
    image = Image.fromarray(frame).resize((width, height), Image.BILINEAR)
    return np.asarray(image)


def _panel_width(first: np.ndarray, height: int) -> int:
    w = int(round(first.shape[1] * height / first.shape[0]))
    return w + (w % 2)


def compose_side_by_side(panels: list[Panel], out_path: str | Path, duration_s: float, *,
                         fps: float = 25.0, height: int = 360,
                         caption: Callable[[float], str] | None = None) -> Path:
    """Write ``panels`` next to each other over ``[0, duration_s]`` at ``fps``.

    Each panel shows the frame nearest the current time (black before its start, its last frame
    after its end); ``caption(t_s)`` is drawn in a strip under the panels.
    """
    from exoactor.media import open_h264
    from exoactor.report.render import draw_caption

    cursors = [_Cursor(p, height) for p in panels]
    firsts = [c.at(c.panel.start_s) for c in cursors]
    widths = [_panel_width(f, height) if f is not None else height * 4 // 3 for f in firsts]
    total_w = sum(widths)
    n_frames = int(np.floor(duration_s * fps)) + 1
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        writer = open_h264(tmp, total_w, height + CAPTION_STRIP_PX, fps)
        try:
            for i in progress(range(n_frames), "side by side", unit="frame"):
                t = i / fps
                row = [draw_caption(_fit(c.at(t), height, w), c.panel.label)
                       for c, w in zip(cursors, widths)]
                strip = np.full((CAPTION_STRIP_PX, total_w, 3), 16, dtype=np.uint8)
                text = caption(t) if caption else f"t = {t:5.2f} s"
                strip = _strip_text(strip, text)
                writer.send(np.ascontiguousarray(np.vstack([np.hstack(row), strip])))
        finally:
            writer.close()
    return out_path


def _strip_text(strip: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    from exoactor.report.render import _font

    image = Image.fromarray(strip)
    ImageDraw.Draw(image).text((10, 8), text, font=_font(18), fill=(235, 235, 235))
    return np.asarray(image)
