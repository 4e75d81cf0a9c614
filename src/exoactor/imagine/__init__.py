"""Imagine: task text + a photo of the robot in its scene -> a video of a person doing the task.

Stages (see :mod:`exoactor.imagine.run`): plan (task -> action chain and five-part prompt),
transfer (robot -> person in the scene image), generate (image-to-video: local diffusers models,
hosted Kling/Veo, or a file) and clip checks (duration, static camera, one person, whole body).
Entry point: :func:`imagine` (:func:`exoactor.runner.imagine_and_run` continues with the video
stages). Heavy dependencies (torch, diffusers,
mediapipe) are imported only inside the backends that need them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["IMAGINE_STAGES", "ImagineConfig", "ImagineSummary", "Plan", "build_config",
           "check_clip", "generators", "imagine", "imagine_command", "imagine_video", "planners",
           "scene_editors"]

_LAZY = {
    "IMAGINE_STAGES": "exoactor.imagine.run",
    "ImagineSummary": "exoactor.imagine.run",
    "imagine": "exoactor.imagine.run",
    "ImagineConfig": "exoactor.imagine.config",
    "Plan": "exoactor.imagine.plan.base",
    "planners": "exoactor.imagine.plan.base",
    "scene_editors": "exoactor.imagine.transfer.base",
    "generators": "exoactor.imagine.video.base",
    "check_clip": "exoactor.imagine.checks",
    "build_config": "exoactor.imagine.api",
    "imagine_command": "exoactor.imagine.api",
    "imagine_video": "exoactor.imagine.api",
}

if TYPE_CHECKING:
    from exoactor.imagine.api import build_config, imagine_command
    from exoactor.imagine.checks import check_clip
    from exoactor.imagine.config import ImagineConfig
    from exoactor.imagine.plan.base import Plan, planners
    from exoactor.imagine.run import (
        IMAGINE_STAGES,
        ImagineSummary,
        imagine,
    )
    from exoactor.imagine.transfer.base import scene_editors
    from exoactor.imagine.video.base import generators


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'exoactor.imagine' has no attribute '{name}'")
