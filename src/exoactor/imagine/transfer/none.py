"""The ``none`` editor: the photo already shows a person (or the video is text-to-video)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from exoactor.imagine.transfer.base import EditResult, SceneEditor, save_like, scene_editors


class NoEditConfig(BaseModel):
    """The ``none`` editor has no settings."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@scene_editors.register("none")
class NoEdit(SceneEditor):
    """Copies the scene image unchanged (as PNG)."""

    name = "none"
    Config = NoEditConfig

    def __init__(self, config: NoEditConfig | None = None):
        self.config = config or NoEditConfig()

    def edit(self, scene: Path, instruction: str, out_path: Path) -> EditResult:
        from PIL import Image

        with Image.open(scene) as im:
            return save_like(im, scene, out_path, self.name)
