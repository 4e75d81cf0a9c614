"""The scene-editor interface: the robot in the scene photo becomes a person (same view, pose,
scale), giving the first frame of the generated video (``human_scene.png``).

Every editor's output is brought back to the scene image's exact size, so pixel positions
(and the camera the perceive stage assumes) match the original photo.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from exoactor.fileio import atomic_path
from exoactor.registry import Registry


@dataclass(frozen=True)
class EditResult:
    """An edited scene image.

    Attributes:
        path: the written PNG.
        editor: registry name of the editor.
        width_px, height_px: its size (the scene image's) [px].
        resized_from: the size the editor returned when it differed, else None.
        notes: facts for the manifest (model, seconds, device).
    """

    path: Path
    editor: str
    width_px: int
    height_px: int
    resized_from: tuple[int, int] | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class SceneEditor(abc.ABC):
    """Replaces the robot in a scene photo by a person."""

    name: str = "editor"
    Config: type[BaseModel]
    """The backend's frozen settings model (built from the ``*_options`` of the run config)."""

    @abc.abstractmethod
    def edit(self, scene: Path, instruction: str, out_path: Path) -> EditResult:
        """Edit ``scene`` following ``instruction``; write a PNG to ``out_path``."""


def save_like(image: Any, scene: Path, out_path: Path, editor: str,
              notes: dict[str, Any] | None = None) -> EditResult:
    """Write the PIL ``image`` as PNG at ``scene``'s size (resizing if needed), atomically."""
    from PIL import Image

    with Image.open(scene) as ref:
        size = ref.size
    img = image.convert("RGB")
    resized_from = None
    if img.size != size:
        resized_from = img.size
        img = img.resize(size, Image.LANCZOS)
    with atomic_path(out_path) as tmp:
        img.save(tmp, format="PNG")
    return EditResult(Path(out_path), editor, size[0], size[1], resized_from, notes or {})


scene_editors: Registry[type[SceneEditor]] = Registry(
    kind="scene editor", package="exoactor.imagine.transfer", variable="scene_editors")
"""Scene editors by name: ``none``, ``openai``, ``gemini``, ``diffusers``."""
