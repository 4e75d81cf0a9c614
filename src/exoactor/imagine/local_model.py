"""Loading a diffusers pipeline from a local folder (or a hub id) onto the chosen device."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Literal

from exoactor.imagine.device import DeviceChoice
from exoactor.imagine.errors import ModelLoadError

logger = logging.getLogger(__name__)

Offload = Literal["none", "model", "sequential"]

NOT_FOUND = ("{model}: no such model folder. Give a diffusers model folder (with "
             "model_index.json), e.g. one saved by `huggingface-cli download {example} "
             "--local-dir {model}`")
NOT_A_PIPELINE = ("{model}: not a diffusers pipeline folder ({why}); it needs model_index.json "
                  "and one sub-folder per component")


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or Path(model).expanduser().exists() \
        or model.count("/") != 1


def pipeline_index(model: str, example: str, local_files_only: bool) -> dict[str, Any]:
    """The pipeline's ``model_index.json`` (class name and components).

    Raises:
        ModelLoadError: the folder is missing or holds no pipeline.
    """
    from diffusers import DiffusionPipeline

    if _looks_like_path(model):
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise ModelLoadError(NOT_FOUND.format(model=model, example=example))
        if not (folder / "model_index.json").is_file():
            raise ModelLoadError(NOT_A_PIPELINE.format(model=model, why="no model_index.json"))
    try:
        return dict(DiffusionPipeline.load_config(str(Path(model).expanduser())
                                                  if _looks_like_path(model) else model,
                                                  local_files_only=local_files_only))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(NOT_A_PIPELINE.format(model=model, why=str(exc)[:200])) from None


def load_pipeline(model: str, pipeline_class: str, choice: DeviceChoice, offload: Offload,
                  local_files_only: bool) -> Any:
    """Instantiate ``diffusers.<pipeline_class>`` from ``model`` on ``choice.device``.

    Offloading (``model``: whole components, ``sequential``: layer by layer) needs CUDA and is
    skipped on the CPU.
    """
    import diffusers

    cls = getattr(diffusers, pipeline_class, None)
    if cls is None:
        raise ModelLoadError(f"{model}: diffusers {diffusers.__version__} has no pipeline class "
                             f"{pipeline_class}; upgrade diffusers")
    src = str(Path(model).expanduser()) if _looks_like_path(model) else model
    t0 = time.perf_counter()
    try:
        from diffusers.utils import deprecation_utils

        # diffusers renamed torch_dtype to dtype (the old name warns)
        dtype_kw = "dtype" if hasattr(deprecation_utils, "_resolve_dtype") else "torch_dtype"
    except ImportError:
        dtype_kw = "torch_dtype"
    try:
        pipe = cls.from_pretrained(src, local_files_only=local_files_only,
                                   **{dtype_kw: choice.torch_dtype()})
    except (OSError, ValueError, TypeError) as exc:
        raise ModelLoadError(f"{model}: could not load it as {pipeline_class} ({str(exc)[:300]}); "
                             "check that the folder holds that model family") from None
    if choice.device == "cuda" and offload == "model":
        pipe.enable_model_cpu_offload()
    elif choice.device == "cuda" and offload == "sequential":
        pipe.enable_sequential_cpu_offload()
    else:
        if offload != "none":
            logger.info("offload=%s needs CUDA; ignored on the CPU", offload)
        pipe.to(choice.device)
    pipe.set_progress_bar_config(disable=True)
    logger.info("loaded %s from %s on %s (%s) in %.1f s", pipeline_class, model, choice.device,
                choice.dtype, time.perf_counter() - t0)
    return pipe
