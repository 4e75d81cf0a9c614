"""Local image-to-video with diffusers: Wan2.2 TI2V-5B, Wan2.1 I2V, LTX-Video, CogVideoX I2V.

The model comes from a local folder (or a hub id where the machine may download). The family
is read from the folder's ``model_index.json`` unless given, and decides the pipeline class,
the native frame rate recorded with the clip, the frame-count rule and default resolution:

============  =====================================  ==========  ===========  ===============
family        pipeline                               native fps  frames       default size
============  =====================================  ==========  ===========  ===============
wan22-ti2v    WanImageToVideoPipeline (expand ts)    24          4k+1 (121)   704 x 1280
wan-i2v       WanImageToVideoPipeline                16          4k+1 (81)    480 x 832
wan           WanPipeline (text only)                16          4k+1 (81)    480 x 832
ltx           LTXImageToVideoPipeline                24          8k+1 (121)   512 x 768
cogvideox     CogVideoXImageToVideoPipeline          8           4k+1 (49)    480 x 720
============  =====================================  ==========  ===========  ===============

Sizes are height x width for a landscape scene (swapped for a portrait one).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.device import DeviceName, DtypeName, choose_device, filter_kwargs, peak_memory_mb
from exoactor.imagine.errors import ImagineError, ModelLoadError
from exoactor.imagine.local_model import Offload, load_pipeline, pipeline_index
from exoactor.imagine.video.base import GeneratedClip, VideoGenerator, VideoRequest, generators
from exoactor.imagine.video.clip import to_uint8
from exoactor.media import write_h264

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'exoactor[imagine]' (torch, diffusers, transformers)"
"""Shown when this backend's dependencies are missing."""

Family = Literal["auto", "wan22-ti2v", "wan-i2v", "wan", "ltx", "cogvideox"]


@dataclass(frozen=True)
class FamilySpec:
    """What differs between model families.

    Attributes:
        pipeline: diffusers pipeline class used.
        fps: native frame rate [Hz].
        frame_step: frame counts are ``frame_step * k + 1``.
        max_frames: most frames the model was trained for.
        size_px: default (height, width) for a landscape scene [px].
        multiple_px: height and width are multiples of this [px].
        image: the pipeline takes a conditioning image.
        example: a public model id of the family, for messages.
    """

    pipeline: str
    fps: float
    frame_step: int
    max_frames: int
    size_px: tuple[int, int]
    multiple_px: int
    image: bool
    example: str


FAMILIES: dict[str, FamilySpec] = {
    "wan22-ti2v": FamilySpec("WanImageToVideoPipeline", 24.0, 4, 121, (704, 1280), 32, True,
                             "Wan-AI/Wan2.2-TI2V-5B-Diffusers"),
    "wan-i2v": FamilySpec("WanImageToVideoPipeline", 16.0, 4, 81, (480, 832), 16, True,
                          "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers"),
    "wan": FamilySpec("WanPipeline", 16.0, 4, 81, (480, 832), 16, False,
                      "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"),
    "ltx": FamilySpec("LTXImageToVideoPipeline", 24.0, 8, 121, (512, 768), 32, True,
                      "Lightricks/LTX-Video"),
    "cogvideox": FamilySpec("CogVideoXImageToVideoPipeline", 8.0, 4, 49, (480, 720), 16, True,
                            "THUDM/CogVideoX-5b-I2V"),
}
"""Family name -> spec."""


class DiffusersVideoConfig(BaseModel):
    """Settings of the local diffusers video generator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    """Local model folder (with ``model_index.json``) or hub id. Required."""
    family: Family = "auto"
    """Model family (``auto``: from ``model_index.json``)."""
    device: DeviceName = "auto"
    """``cuda``, ``cpu`` or ``auto`` (CUDA when available)."""
    allow_cpu_fallback: bool = True
    """With ``device=cuda`` and no GPU, run on the CPU with a warning instead of failing."""
    dtype: DtypeName = "auto"
    """Weights dtype (``auto``: bfloat16 on CUDA, float32 on the CPU)."""
    offload: Offload = "none"
    """CPU offload on CUDA: ``model`` (per component, ~half the GPU memory) or ``sequential``
    (per layer, least memory, slowest)."""
    steps: int = Field(30, ge=1, le=200)
    """Denoising steps."""
    guidance_scale: float | None = Field(None, ge=0.0)
    """Classifier-free guidance scale (None: the pipeline's default)."""
    num_frames: int | None = Field(None, ge=1)
    """Frames to generate (None: the plan's duration at the native rate, snapped to the
    family's rule and capped at its maximum)."""
    height_px: int | None = Field(None, ge=16)
    """Frame height [px] (None: the family default, oriented like the scene image)."""
    width_px: int | None = Field(None, ge=16)
    """Frame width [px] (None: the family default)."""
    fps: float | None = Field(None, gt=0.0)
    """Native frame rate override [Hz] (e.g. 16 for CogVideoX 1.5); None: the family's."""
    max_sequence_length: int | None = Field(None, ge=8)
    """Prompt token limit (None: the pipeline's default)."""
    local_files_only: bool = True
    """Never download: ``model`` must be a local folder or already in the hub cache."""
    call_options: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword arguments of the pipeline call (e.g. ``{"guidance_scale_2": 3.0}`` for
    Wan2.2 A14B, ``{"use_dynamic_cfg": true}`` for CogVideoX)."""


def detect_family(index: dict[str, Any], has_image: bool) -> str:
    """The family of a pipeline from its ``model_index.json``."""
    name = str(index.get("_class_name", ""))
    if name.startswith("Wan"):
        if index.get("expand_timesteps"):
            return "wan22-ti2v"
        if "ImageToVideo" in name or (index.get("image_encoder") or [None])[0]:
            return "wan-i2v"
        return "wan"
    if name.startswith("LTX"):
        return "ltx"
    if name.startswith("CogVideoX"):
        if "ImageToVideo" not in name and has_image:
            raise ModelLoadError(f"{name}: a CogVideoX text-to-video model cannot start from the "
                                 "scene image; use an I2V checkpoint such as THUDM/CogVideoX-5b-I2V")
        return "cogvideox"
    raise ModelLoadError(f"{name or 'unknown pipeline'}: not a supported video family; supported: "
                         f"{', '.join(FAMILIES)}")


def snap_frames(n: int, step: int, max_frames: int) -> int:
    """The nearest count ``step * k + 1`` to ``n`` within ``[step + 1, max_frames]``."""
    k = max(1, round((n - 1) / step))
    k = min(k, (max_frames - 1) // step)
    return step * k + 1


def frame_size(spec: FamilySpec, image_size: tuple[int, int] | None, height: int | None,
               width: int | None) -> tuple[int, int]:
    """(height, width) [px]: explicit sizes, else the family default oriented like the image;
    both snapped down to the family's multiple."""
    h, w = spec.size_px
    if image_size is not None and image_size[1] > image_size[0]:  # (width, height) portrait
        h, w = w, h
    h, w = height or h, width or w
    m = spec.multiple_px
    return max(m, h // m * m), max(m, w // m * m)


@generators.register("diffusers")
class DiffusersVideoGenerator(VideoGenerator):
    """Runs a local open image-to-video model with diffusers."""

    name = "diffusers"
    Config = DiffusersVideoConfig

    def __init__(self, config: DiffusersVideoConfig | None = None):
        self.config = config or DiffusersVideoConfig()
        if not self.config.model:
            raise ImagineError("the diffusers generator needs a model: set model (a local "
                               "folder with model_index.json, e.g. Wan2.2-TI2V-5B-Diffusers)")
        self._pipe: Any = None
        self._family: str | None = None
        self._choice = None

    def _load(self, has_image: bool) -> tuple[Any, str]:
        if self._pipe is None:
            cfg = self.config
            index = pipeline_index(cfg.model, "Wan-AI/Wan2.2-TI2V-5B-Diffusers",  # type: ignore[arg-type]
                                   cfg.local_files_only)
            family = detect_family(index, has_image) if cfg.family == "auto" else cfg.family
            spec = FAMILIES[family]
            if has_image and not spec.image:
                logger.warning("%s is a text-to-video model: the scene image is not used",
                               cfg.model)
            self._choice = choose_device(cfg.device, cfg.dtype, cfg.allow_cpu_fallback)
            if self._choice.message:
                from exoactor.ui import console

                console().print(f"[yellow]{self._choice.message}[/]")
            self._pipe = load_pipeline(cfg.model, spec.pipeline, self._choice, cfg.offload,  # type: ignore[arg-type]
                                       cfg.local_files_only)
            self._family = family
        return self._pipe, self._family  # type: ignore[return-value]

    def native_fps(self, family: str) -> float:
        return float(self.config.fps or FAMILIES[family].fps)

    def generate(self, request: VideoRequest, out_path: Path, work_dir: Path) -> GeneratedClip:
        import torch
        from PIL import Image

        cfg = self.config
        pipe, family = self._load(request.image is not None)
        spec = FAMILIES[family]
        fps = self.native_fps(family)
        image = Image.open(request.image).convert("RGB") if (
            request.image is not None and spec.image) else None
        height, width = frame_size(spec, image.size if image else None, cfg.height_px,
                                   cfg.width_px)
        frames = cfg.num_frames or snap_frames(int(math.ceil(request.duration_s * fps)),
                                               spec.frame_step, spec.max_frames)
        if image is not None:
            image = image.resize((width, height), Image.BICUBIC)
        device = self._choice.device  # type: ignore[union-attr]
        gen_device = "cpu" if cfg.offload != "none" else device
        kwargs = {"prompt": request.prompt, "negative_prompt": request.negative_prompt or None,
                  "image": image, "height": height, "width": width, "num_frames": frames,
                  "num_inference_steps": cfg.steps, "guidance_scale": cfg.guidance_scale,
                  "max_sequence_length": cfg.max_sequence_length, "output_type": "np",
                  "frame_rate": int(round(fps)) if family == "ltx" else None,
                  "generator": torch.Generator(gen_device).manual_seed(request.seed)}
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        out = pipe(**{**filter_kwargs(pipe.__call__, kwargs), **cfg.call_options})
        seconds = time.perf_counter() - t0
        video = to_uint8(out.frames[0])
        write_h264(list(video), fps, out_path)
        notes = {"family": family, "device": device, "dtype": self._choice.dtype,  # type: ignore[union-attr]
                 "steps": cfg.steps, "seconds": round(seconds, 3),
                 "peak_memory_mb": round(peak_memory_mb(device), 1),
                 "fell_back_to_cpu": self._choice.fell_back}  # type: ignore[union-attr]
        logger.info("%s: %d frames %dx%d in %.1f s on %s", family, len(video), width, height,
                    seconds, device)
        return GeneratedClip(path=out_path, fps=fps, num_frames=int(video.shape[0]),
                             width_px=int(video.shape[2]), height_px=int(video.shape[1]),
                             generator=self.name, model=str(cfg.model), seed=request.seed,
                             notes=notes)
