"""Robot -> person in the scene image (``human_scene.png``): editors ``none``, ``openai``,
``gemini`` (hosted) and ``diffusers`` (local)."""

from __future__ import annotations

from exoactor.imagine.transfer.base import EditResult, SceneEditor, scene_editors

__all__ = ["EditResult", "SceneEditor", "scene_editors"]
