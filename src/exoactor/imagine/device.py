"""Device and dtype choice for the local (diffusers) backends, with a clear CPU fallback."""

from __future__ import annotations

import logging
import resource
import sys
from dataclasses import dataclass
from typing import Any, Literal

from exoactor.imagine.errors import DeviceUnavailable

logger = logging.getLogger(__name__)

DeviceName = Literal["auto", "cuda", "cpu"]
DtypeName = Literal["auto", "float32", "bfloat16", "float16"]

NO_CUDA = ("--device cuda: torch {version} sees no CUDA GPU ({why}); running on the CPU instead, "
           "which takes minutes to hours for a real model. Install a CUDA build of torch on a "
           "machine with an NVIDIA GPU, or pass --device cpu to silence this.")
NO_CUDA_STRICT = ("--device cuda: torch {version} sees no CUDA GPU ({why}) and CPU fallback is "
                  "off; install a CUDA build of torch on a GPU machine, or pass --device cpu")


@dataclass(frozen=True)
class DeviceChoice:
    """The device a local backend runs on.

    Attributes:
        device: ``"cuda"`` or ``"cpu"``.
        dtype: the torch dtype name used.
        fell_back: CUDA was asked for but is not available.
        message: the fallback message shown to the user (None when none).
    """

    device: str
    dtype: str
    fell_back: bool = False
    message: str | None = None

    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)


def choose_device(device: DeviceName, dtype: DtypeName, allow_cpu_fallback: bool = True
                  ) -> DeviceChoice:
    """Resolve ``device``/``dtype`` against what torch sees.

    ``auto`` picks CUDA when available. ``cuda`` without a GPU falls back to the CPU with a
    warning (or raises when ``allow_cpu_fallback`` is False). ``dtype="auto"`` is bfloat16 on
    CUDA and float32 on the CPU (half precision is slow or unsupported there).

    Raises:
        DeviceUnavailable: CUDA requested, absent, and fallback disabled.
    """
    import torch

    has_cuda = torch.cuda.is_available()
    fell_back, message = False, None
    if device == "cuda" and not has_cuda:
        why = ("a CPU-only build" if torch.version.cuda is None
               else "no device visible to the driver")
        if not allow_cpu_fallback:
            raise DeviceUnavailable(NO_CUDA_STRICT.format(version=torch.__version__, why=why))
        message = NO_CUDA.format(version=torch.__version__, why=why)
        logger.warning("%s", message)
        fell_back = True
    resolved = "cuda" if (device in ("auto", "cuda") and has_cuda) else "cpu"
    if dtype == "auto":
        dtype = "bfloat16" if resolved == "cuda" else "float32"
    return DeviceChoice(resolved, dtype, fell_back, message)


def peak_memory_mb(device: str) -> float:
    """Peak memory of this run [MB]: CUDA allocator peak on a GPU, process max RSS on the CPU."""
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024


def filter_kwargs(fn: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The items of ``kwargs`` that ``fn`` accepts (drops None values)."""
    import inspect

    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return {k: v for k, v in kwargs.items() if v is not None}
    return {k: v for k, v in kwargs.items() if k in params and v is not None}
