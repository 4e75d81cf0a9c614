"""Configuration of the report stage (``exoactor report`` and the runner's ``report`` stage)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportConfig(BaseModel):
    """What the report of a run directory is built with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fps: float = Field(25.0, ge=1.0, le=240.0)
    """Frame rate of the report's world-view videos [Hz] (the in-scene video keeps the input
    clip's rate)."""
