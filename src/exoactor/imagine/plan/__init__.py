"""Task -> action chain -> five-part video prompt (``plan.json``).

Planners: ``template`` (offline, default) and ``openai`` (any OpenAI-compatible chat endpoint
with JSON-schema output). See :class:`~exoactor.imagine.plan.base.Planner`.
"""

from __future__ import annotations

from exoactor.imagine.plan.base import (
    Action,
    CameraConstraints,
    Plan,
    Planner,
    PromptSections,
    load_plan,
    planners,
    save_plan,
)

__all__ = ["Action", "CameraConstraints", "Plan", "Planner", "PromptSections", "load_plan",
           "planners", "save_plan"]
