"""Local scene edit with a diffusers image-edit pipeline (Qwen-Image-Edit, FLUX.1 Kontext, ...).

The pipeline class comes from the folder's ``model_index.json``; it is called with the scene
image and the instruction, passing only the arguments its ``__call__`` accepts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.device import DeviceName, DtypeName, choose_device, filter_kwargs, peak_memory_mb
from exoactor.imagine.errors import ImagineError, ModelLoadError
from exoactor.imagine.local_model import Offload, load_pipeline, pipeline_index
from exoactor.imagine.transfer.base import EditResult, SceneEditor, save_like, scene_editors

INSTALL_HINT = "pip install 'exoactor[imagine]' (torch, diffusers, transformers)"
"""Shown when this backend's dependencies are missing."""


class DiffusersEditConfig(BaseModel):
    """Settings of the local diffusers image editor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    """Local model folder (``model_index.json``) or hub id, e.g. a Qwen-Image-Edit or
    FLUX.1-Kontext-dev folder. Required."""
    device: DeviceName = "auto"
    """``cuda``, ``cpu`` or ``auto``."""
    allow_cpu_fallback: bool = True
    """With ``device=cuda`` and no GPU, run on the CPU with a warning."""
    dtype: DtypeName = "auto"
    """Weights dtype (``auto``: bfloat16 on CUDA, float32 on the CPU)."""
    offload: Offload = "none"
    """CPU offload on CUDA (``model`` or ``sequential``)."""
    steps: int = Field(28, ge=1, le=200)
    """Denoising steps."""
    guidance_scale: float | None = Field(None, ge=0.0)
    """Guidance scale (None: the pipeline's default)."""
    seed: int = 0
    """Random seed."""
    max_side_px: int = Field(1024, ge=16)
    """The scene is scaled so its longer side is at most this before editing [px] (the result
    is scaled back)."""
    local_files_only: bool = True
    """Never download: ``model`` must be local or already cached."""
    call_options: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword arguments of the pipeline call, e.g. ``{"true_cfg_scale": 4.0}`` for
    Qwen-Image-Edit or ``{"_auto_resize": false}`` for FLUX.1 Kontext."""


@scene_editors.register("diffusers")
class DiffusersImageEditor(SceneEditor):
    """Runs a local open image-edit model."""

    name = "diffusers"
    Config = DiffusersEditConfig

    def __init__(self, config: DiffusersEditConfig | None = None):
        self.config = config or DiffusersEditConfig()
        if not self.config.model:
            raise ImagineError("the diffusers editor needs a model: set model (a local folder "
                               "with model_index.json, e.g. FLUX.1-Kontext-dev)")

    def edit(self, scene: Path, instruction: str, out_path: Path) -> EditResult:
        import torch
        from PIL import Image

        cfg = self.config
        index = pipeline_index(cfg.model, "black-forest-labs/FLUX.1-Kontext-dev",  # type: ignore[arg-type]
                               cfg.local_files_only)
        cls = str(index.get("_class_name", ""))
        if not cls:
            raise ModelLoadError(f"{cfg.model}: model_index.json names no pipeline class")
        choice = choose_device(cfg.device, cfg.dtype, cfg.allow_cpu_fallback)
        if choice.message:
            from exoactor.ui import console

            console().print(f"[yellow]{choice.message}[/]")
        pipe = load_pipeline(cfg.model, cls, choice, cfg.offload, cfg.local_files_only)  # type: ignore[arg-type]
        with Image.open(scene) as im:
            img = im.convert("RGB")
        scale = min(1.0, cfg.max_side_px / max(img.size))
        w, h = (max(16, int(img.width * scale) // 16 * 16), max(16, int(img.height * scale) // 16 * 16))
        img = img.resize((w, h), Image.LANCZOS)
        t0 = time.perf_counter()
        kwargs = {"image": img, "prompt": instruction, "num_inference_steps": cfg.steps,
                  "guidance_scale": cfg.guidance_scale, "height": h, "width": w,
                  "output_type": "pil",
                  "generator": torch.Generator("cpu" if cfg.offload != "none" else choice.device)
                  .manual_seed(cfg.seed)}
        out = pipe(**{**filter_kwargs(pipe.__call__, kwargs), **cfg.call_options}).images[0]
        notes = {"model": cfg.model, "pipeline": cls, "device": choice.device,
                 "seconds": round(time.perf_counter() - t0, 3),
                 "peak_memory_mb": round(peak_memory_mb(choice.device), 1)}
        return save_like(out, scene, out_path, self.name, notes)
