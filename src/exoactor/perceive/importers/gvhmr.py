"""GVHMR results (``hmr4d_results.pt``) -> :class:`~exoactor.formats.HumanMotion`.

GVHMR's demo saves ``torch.save(pred)`` with ``pred["smpl_params_global"]`` (and
``"smpl_params_incam"``), each a dict of tensors: ``body_pose`` ``(L, 63)``, ``global_orient``
``(L, 3)``, ``transl`` ``(L, 3)``, ``betas`` ``(L, 10)``, for the SMPL-X body model, in a
gravity-aligned y-up frame at 30 fps; plus ``K_fullimg`` ``(L, 3, 3)``. Reading the file needs
``torch`` (imported only here); the conversion itself is numpy (:func:`gvhmr_to_motion`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from exoactor.formats.motion import HumanMotion
from exoactor.perceive.errors import ImportFailed
from exoactor.perceive.importers.body_model import BodyModel, load_body_model
from exoactor.perceive.importers.smpl import motion_from_smpl

GVHMR_FPS = 30.0
"""GVHMR predicts at 30 fps."""
NO_TORCH = ("{path}: reading GVHMR's .pt results needs PyTorch, which is not installed: "
            "pip install torch (the CPU build is enough).")


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def read_gvhmr_results(path: str | Path) -> dict:
    """The dict saved by GVHMR's demo (tensors left as loaded). Needs torch."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(f"{path}: no such file. Give GVHMR's hmr4d_results.pt.")
    try:
        import torch
    except ImportError:
        raise ImportFailed(NO_TORCH.format(path=path)) from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a bad input
        raise ImportFailed(f"{path}: not a readable GVHMR result ({exc})") from None
    if not isinstance(data, dict):
        raise ImportFailed(f"{path}: holds a {type(data).__name__}, expected GVHMR's dict")
    return data


def gvhmr_to_motion(results: dict, body_model: BodyModel, fps: float = GVHMR_FPS,
                    source: str = "<gvhmr>") -> HumanMotion:
    """Convert GVHMR's result dict (tensors or arrays) to a :class:`HumanMotion`.

    Args:
        results: the loaded ``hmr4d_results.pt`` dict.
        body_model: the SMPL-X model GVHMR used (the user's ``SMPLX_NEUTRAL.npz``).
        fps: frame rate of the results [Hz].
        source: for messages.

    The gravity-aligned ``smpl_params_global`` are used (the in-camera ones have no ground).
    """
    params = "smpl_params_global"
    if params not in results:
        raise ImportFailed(f"{source}: no '{params}' in the results; keys: {sorted(results)}")
    p = {k: _numpy(v) for k, v in results[params].items()}
    missing = [k for k in ("global_orient", "body_pose", "transl", "betas") if k not in p]
    if missing:
        raise ImportFailed(f"{source}: '{params}' lacks {', '.join(missing)}")
    motion = motion_from_smpl(body_model, global_orient=p["global_orient"],
                              body_pose=p["body_pose"], betas=p["betas"], transl=p["transl"],
                              fps=fps, up_axis="y", source=source)
    if "K_fullimg" in results:
        K = _numpy(results["K_fullimg"])
        motion = motion.replace(camera_K=K[0] if K.ndim == 3 else K)
    return motion


def load_gvhmr_results(path: str | Path, body_model: str | Path | BodyModel,
                       fps: float = GVHMR_FPS) -> HumanMotion:
    """Import GVHMR's ``hmr4d_results.pt`` with the user's SMPL-X model file.

    Raises:
        ImportFailed: torch missing, unreadable file or missing fields.
        BodyModelError: the model file is missing or malformed.
    """
    model = body_model if isinstance(body_model, BodyModel) else load_body_model(body_model)
    return gvhmr_to_motion(read_gvhmr_results(path), model, fps, source=str(path))
