"""Perceive: a monocular video -> world-grounded human motion (body keypoints, root, ground,
foot contacts, hands and grasp), on a CPU.

Public entry points: :func:`perceive_video` (the stage), :class:`PerceiveConfig`,
:data:`pose_backends` (the backend registry), the importers of GPU estimators' outputs
(:func:`load_gvhmr_results`, :func:`load_smpl_sequence`) and the body-model joint computation
(:class:`BodyModel`). Heavy dependencies (mediapipe, opencv, torch) are imported only when
used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["BodyModel", "PerceiveConfig", "PerceiveResult", "PoseBackend", "PoseObservations",
           "load_body_model", "load_gvhmr_results", "load_smpl_sequence", "perceive_video",
           "pose_backends"]

_LAZY = {
    "PerceiveConfig": "exoactor.perceive.config",
    "PerceiveResult": "exoactor.perceive.run",
    "perceive_video": "exoactor.perceive.run",
    "PoseBackend": "exoactor.perceive.backend",
    "PoseObservations": "exoactor.perceive.backend",
    "pose_backends": "exoactor.perceive.backend",
    "BodyModel": "exoactor.perceive.importers.body_model",
    "load_body_model": "exoactor.perceive.importers.body_model",
    "load_gvhmr_results": "exoactor.perceive.importers.gvhmr",
    "load_smpl_sequence": "exoactor.perceive.importers.smpl",
}

if TYPE_CHECKING:
    from exoactor.perceive.backend import PoseBackend, PoseObservations, pose_backends
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.perceive.importers.body_model import BodyModel, load_body_model
    from exoactor.perceive.importers.gvhmr import load_gvhmr_results
    from exoactor.perceive.importers.smpl import load_smpl_sequence
    from exoactor.perceive.run import PerceiveResult, perceive_video


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'exoactor.perceive' has no attribute '{name}'")
