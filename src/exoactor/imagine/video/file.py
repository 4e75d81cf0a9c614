"""The ``file`` generator: a clip the user brings (``--video X.mp4``) stands in for generation."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.errors import ImagineError
from exoactor.imagine.video.base import GeneratedClip, VideoGenerator, VideoRequest, generators
from exoactor.imagine.video.clip import probe

NO_VIDEO = ("the file generator needs a clip: pass --video X.mp4 (a video of one person doing "
            "the task, filmed by a static camera)")


class FileGeneratorConfig(BaseModel):
    """Settings of the ``file`` generator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path | None = None
    """The video file."""
    fps: float | None = Field(None, gt=0.0)
    """The clip's true frame rate [Hz] when its container is wrong; None trusts the file."""


@generators.register("file")
class FileGenerator(VideoGenerator):
    """Uses an existing clip; every candidate is the same file."""

    name = "file"
    Config = FileGeneratorConfig

    def __init__(self, config: FileGeneratorConfig | None = None):
        self.config = config or FileGeneratorConfig()
        if self.config.path is None:
            raise ImagineError(NO_VIDEO)

    def generate(self, request: VideoRequest, out_path: Path, work_dir: Path) -> GeneratedClip:
        path = Path(self.config.path)  # type: ignore[arg-type]
        info = probe(path)
        return GeneratedClip(path=path, fps=self.config.fps or info.fps,
                             num_frames=info.num_frames, width_px=info.width_px,
                             height_px=info.height_px, generator=self.name, model=str(path),
                             seed=None, notes={"source": str(path)})
