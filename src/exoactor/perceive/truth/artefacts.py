"""Artefacts of generated video added to a rendered known-truth clip: a scene cut at the start,
repeated frames (a generator's own rate stretched to the container's), a low frame rate.

:func:`add_clip_artefacts` reads a clip written by :func:`~exoactor.perceive.truth.make_truth_clip`
and writes a new one; its :attr:`ArtefactClip.source` maps every output frame to the rendered
frame it shows (-1 for the frames before the cut), so the truth of the output is
``joints_w[source]`` at the output's ``fps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from exoactor.fileio import atomic_path
from exoactor.media import open_h264


class ClipArtefacts(BaseModel):
    """What to add to a rendered clip."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cut_frames: int = Field(0, ge=0, le=30)
    """Frames of another shot before the clip (like GenMimic's conditioning photo): the first
    rendered frame zoomed in by ``cut_zoom``, darker, with a black countdown box."""
    cut_zoom: float = Field(1.2, ge=1.0, le=3.0)
    """Zoom of the shot before the cut."""
    native_fps: float | None = Field(None, gt=0.0)
    """The generator's own rate [Hz]: the clip is sampled at it and each sample repeated to
    fill ``out_fps`` (None: no repeats)."""
    out_fps: float | None = Field(None, gt=0.0)
    """Rate of the output container [Hz] (None: the rendered clip's). Below the rendered rate
    without ``native_fps``, frames are subsampled (a 10 fps clip)."""
    quality: float = Field(9.0, ge=1.0, le=10.0)
    """H.264 quality of imageio-ffmpeg (10 best)."""


@dataclass(frozen=True, eq=False)
class ArtefactClip:
    """The written clip.

    Attributes:
        video_path: the ``.mp4``.
        fps: its frame rate [Hz].
        source: ``(T,)`` rendered frame shown by each output frame; -1 before the cut.
        repeats: output frames that repeat the previous one (after the cut).
    """

    video_path: Path
    fps: float
    source: np.ndarray
    repeats: int


def artefact_schedule(rendered_frames: int, render_fps: float,
                      cfg: ClipArtefacts) -> tuple[np.ndarray, float]:
    """``(T,)`` rendered frame of each output frame (-1 before the cut) and the output rate."""
    out_fps = cfg.out_fps or render_fps
    duration = (rendered_frames - 1) / render_fps
    count = int(np.floor(duration * out_fps + 1e-9)) + 1
    t_out = np.arange(count) / out_fps
    if cfg.native_fps:
        k = np.floor(t_out * cfg.native_fps + 1e-9)  # native sample shown at each output time
        src = np.round(k / cfg.native_fps * render_fps)
    else:
        src = np.round(t_out * render_fps)
    src = np.clip(src, 0, rendered_frames - 1).astype(int)
    return np.r_[np.full(cfg.cut_frames, -1), src].astype(int), float(out_fps)


def conditioning_frame(rgb: np.ndarray, zoom: float) -> np.ndarray:
    """``rgb`` zoomed in about its centre, 20 % darker, with a black box top right."""
    import cv2

    h, w = rgb.shape[:2]
    cw, ch = int(round(w / zoom)), int(round(h / zoom))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    out = cv2.resize(rgb[y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=cv2.INTER_LINEAR)
    out = (0.8 * out).astype(np.uint8)
    bw, bh = w // 6, h // 8
    out[: bh, w - bw:] = 0
    cv2.putText(out, "4", (w - bw // 2 - bh // 4, bh * 3 // 4), cv2.FONT_HERSHEY_SIMPLEX,
                bh / 40.0, (255, 255, 255), max(1, bh // 15))
    return out


def add_clip_artefacts(video_path: str | Path, out_path: str | Path, render_fps: float,
                       cfg: ClipArtefacts) -> ArtefactClip:
    """Write ``out_path``: the rendered clip ``video_path`` with the artefacts of ``cfg``."""
    import imageio.v2 as imageio

    frames = [np.asarray(f) for f in imageio.mimread(str(video_path), memtest=False)]
    source, fps = artefact_schedule(len(frames), render_fps, cfg)
    h, w = frames[0].shape[:2]
    cut = conditioning_frame(frames[0], cfg.cut_zoom)
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp:
        writer = open_h264(tmp, w, h, fps, quality=cfg.quality)
        try:
            for s in source:
                writer.send(np.ascontiguousarray(cut if s < 0 else frames[s]))
        finally:
            writer.close()
    after = source[cfg.cut_frames:]
    repeats = int((np.diff(after) == 0).sum())
    return ArtefactClip(out_path, fps, source, repeats)
