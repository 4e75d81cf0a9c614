"""The video-generator interface: a human scene image and a prompt in, a clip at its true fps out.

A generator writes the clip exactly as the model made it (its **native** frame rate: Wan2.1
16 fps, Wan2.2 TI2V-5B and LTX-Video 24 fps, CogVideoX 8 fps, hosted models whatever their
file says) and reports that rate. :func:`exoactor.imagine.video.clip.conform_clip` then
resamples it to the perception rate keeping its duration, so a 16 fps clip never plays 1.9x
fast downstream.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from exoactor.registry import Registry


@dataclass(frozen=True)
class VideoRequest:
    """What to generate.

    Attributes:
        prompt: the final prompt (``plan.json``'s ``prompt``).
        image: the first frame / conditioning image (``human_scene.png``); None for
            text-to-video.
        negative_prompt: what not to show (models that take one).
        seed: random seed of this candidate.
        duration_s: suggested duration from the plan [s] (a generator may round it to what
            its model supports).
        index: candidate number (0-based).
    """

    prompt: str
    image: Path | None = None
    negative_prompt: str = ""
    seed: int = 0
    duration_s: float = 5.0
    index: int = 0


@dataclass(frozen=True)
class GeneratedClip:
    """A clip as the generator wrote it.

    Attributes:
        path: the native clip file.
        fps: its true frame rate [Hz] (the model's native rate, or the file's).
        num_frames: frames in the clip.
        width_px, height_px: frame size [px].
        generator: registry name of the generator.
        model: model name or path.
        seed: seed used (None when the provider does not take one).
        notes: facts for the manifest (job id, estimated cost, seconds, device, memory).
    """

    path: Path
    fps: float
    num_frames: int
    width_px: int
    height_px: int
    generator: str
    model: str
    seed: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.num_frames / self.fps


class VideoGenerator(abc.ABC):
    """Generates a video of the person doing the task."""

    name: str = "generator"
    Config: type[BaseModel]
    """The backend's frozen settings model (built from the ``*_options`` of the run config)."""

    @abc.abstractmethod
    def generate(self, request: VideoRequest, out_path: Path, work_dir: Path) -> GeneratedClip:
        """Generate one clip.

        Args:
            request: prompt, image, seed.
            out_path: where to write the native clip (``.mp4``).
            work_dir: a folder of the run for the generator's state (hosted job files), so an
                interrupted run can resume.
        """

    def cost_estimate_usd(self, request: VideoRequest) -> float | None:
        """Estimated price of one clip [USD] (hosted backends), None when free."""
        return None


generators: Registry[type[VideoGenerator]] = Registry(
    kind="video generator", package="exoactor.imagine.video", variable="generators")
"""Video generators by name: ``file``, ``diffusers``, ``kling``, ``veo``."""
