"""The planner interface and the plan artefact (``plan.json``).

A plan turns a task instruction into an **action chain** of atomic, visually observable steps
and a five-part video prompt (Shot / Scene / Motion / Execution / End state) written for a
**fixed camera** that keeps the person's whole body in view, as in the paper. The final prompt
text that the video model receives is composed from the sections by
:func:`exoactor.imagine.plan.prompt.compose_prompt`, so every planner yields the same layout.
"""

from __future__ import annotations

import abc
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exoactor.fileio import write_json
from exoactor.imagine.errors import PlanError
from exoactor.registry import Registry

PLAN_VERSION = 1
"""Version of the ``plan.json`` layout."""
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Action(BaseModel):
    """One atomic, visually observable step of the chain."""

    model_config = _FROZEN

    verb: str = Field(min_length=1)
    """Canonical verb (``walk_to``, ``pick_up``, ``put``, ``sit``, ...; free text from an LLM)."""
    target: str | None = None
    """The object or place acted on (``"the chair"``), if any."""
    destination: str | None = None
    """Where an object is put (``"the sink"``), if any."""
    description: str = Field(min_length=1)
    """The step as one observable sentence about "the person"."""
    duration_s: float = Field(2.0, gt=0.0, le=30.0)
    """Rough time the step takes at a natural pace [s]."""


class PromptSections(BaseModel):
    """The five parts of the video prompt."""

    model_config = _FROZEN

    shot: str = Field(min_length=1)
    """Camera and framing: fixed third-person view, whole body in frame."""
    scene: str = Field(min_length=1)
    """What the scene holds and where the person starts."""
    motion: str = Field(min_length=1)
    """The action chain as a sequence of motions."""
    execution: str = Field(min_length=1)
    """How each motion is performed (pace, limbs, contacts with objects)."""
    end_state: str = Field(min_length=1)
    """What is seen when the clip ends."""


class CameraConstraints(BaseModel):
    """What the video must keep so that perception and retargeting work."""

    model_config = _FROZEN

    fixed: bool = True
    """The camera does not move, pan, zoom or cut."""
    view: str = "third-person, the viewpoint of the scene image"
    """The viewpoint."""
    whole_body: bool = True
    """The person's whole body (head to feet) stays inside the frame."""
    single_person: bool = True
    """Exactly one person is visible."""


class Plan(BaseModel):
    """The plan artefact (``plan.json``)."""

    model_config = _FROZEN

    version: int = PLAN_VERSION
    """Layout version."""
    task: str = Field(min_length=1)
    """The instruction as given."""
    planner: str
    """Registry name of the planner that made it."""
    actions: tuple[Action, ...] = Field(min_length=1)
    """The action chain, in order."""
    sections: PromptSections
    """The five prompt sections."""
    prompt: str = Field(min_length=1)
    """The final prompt text given to the video model."""
    negative_prompt: str = ""
    """What the video must not show (for models that take one)."""
    camera: CameraConstraints = CameraConstraints()
    """Camera constraints the prompt encodes and the clip checks verify."""
    duration_s: float = Field(gt=0.0)
    """Suggested clip duration: the sum of the steps' durations [s]."""
    edit_prompt: str = Field(min_length=1)
    """Instruction for the scene editor (replace the robot by a person, same view and scale)."""


def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write ``plan`` to ``path`` as JSON, atomically."""
    write_json(path, plan.model_dump(mode="json"))
    return Path(path)


def load_plan(path: str | Path) -> Plan:
    """Read and validate a ``plan.json``.

    Raises:
        PlanError: missing, not JSON, or not a valid plan.
    """
    path = Path(path)
    if not path.is_file():
        raise PlanError(f"{path}: no such plan file; run `exoactor imagine` to make one")
    try:
        return Plan.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise PlanError(f"{path}: not a valid plan ({exc}); delete it and plan again") from None


def plan_actions(path: str | Path) -> list[str]:
    """The action chain of a ``plan.json`` as ``verb(target)`` strings (empty without one)."""
    p = Path(path)
    if not p.is_file():
        return []
    return [f"{a.verb}({a.target or ''})" for a in load_plan(p).actions]


class Planner(abc.ABC):
    """Turns a task instruction (and optionally the scene image) into a :class:`Plan`."""

    name: str = "planner"
    Config: type[BaseModel]
    """The backend's frozen settings model (built from the ``*_options`` of the run config)."""

    @abc.abstractmethod
    def plan(self, task: str, scene_image: Path | None = None) -> Plan:
        """Plan ``task``.

        Args:
            task: the instruction, e.g. ``"walk to the chair and sit down"``.
            scene_image: the scene photo, for planners that look at it.

        Raises:
            PlanError: the task cannot be planned.
        """


planners: Registry[type[Planner]] = Registry(
    kind="planner", package="exoactor.imagine.plan", variable="planners")
"""Planners by name: ``template`` (offline, default) and ``openai`` (OpenAI-compatible chat)."""
