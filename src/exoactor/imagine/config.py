"""Configuration of the imagine stage: which backends, how many candidates, what to check.

Backend settings are given as plain mappings (``planner_options``, ...) and validated by the
chosen backend's own frozen model (its ``Config``, see :mod:`exoactor.registry`), so adding a
backend edits no shared file. The resolved backend config (never a key: configs hold only the
*names* of the environment variables with keys) is written into the run manifest.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.checks import ClipCheckConfig


class ImagineConfig(BaseModel):
    """Task + scene image -> plan, human scene, video."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planner: str = "template"
    """Planner (a name in ``planners.names()``); ``template`` works offline."""
    planner_options: dict[str, Any] = Field(default_factory=dict)
    """Settings of the planner (fields of its config model, e.g. ``{"model": "gpt-4o"}``)."""
    editor: str = "none"
    """Scene editor (a name in ``scene_editors.names()``); ``none``: the photo already shows a
    person."""
    editor_options: dict[str, Any] = Field(default_factory=dict)
    """Settings of the scene editor."""
    generator: str = "file"
    """Video generator (a name in ``generators.names()``); ``file`` uses the clip given as
    ``--video``."""
    generator_options: dict[str, Any] = Field(default_factory=dict)
    """Settings of the generator (``{"path": "X.mp4"}`` for ``file``, ``{"model": ...}`` for
    ``diffusers``)."""
    candidates: int = Field(1, ge=1, le=16)
    """Clips generated; those passing the checks are ranked and the best becomes
    ``video.mp4``."""
    seed: int = Field(0, ge=0)
    """Seed of the first candidate (candidate ``i`` uses ``seed + i``)."""
    perception_fps: float = Field(30.0, gt=0.0, le=120.0)
    """Rate ``video.mp4`` is resampled to [Hz] (its duration is kept)."""
    checks: ClipCheckConfig = ClipCheckConfig()
    """Clip checks."""
    on_reject: Literal["auto", "error", "keep_best"] = "auto"
    """When no candidate passes: ``error``, or ``keep_best`` (warn and use the best-ranked);
    ``auto`` keeps the best for the ``file`` generator (the user chose that clip) and errors
    for generated clips."""
