"""OpenAI-compatible chat planner: a chat model fills a JSON-schema-constrained plan.

Protocol (OpenAI Chat Completions, also spoken by vLLM, llama.cpp server, Ollama, OpenRouter,
...): ``POST {base_url}/chat/completions`` with ``Authorization: Bearer KEY`` and a body
``{"model", "messages", "temperature", "response_format": {"type": "json_schema",
"json_schema": {"name", "strict": true, "schema"}}}``; the answer's
``choices[0].message.content`` is the JSON text (``message.refusal`` is set instead when the
model refuses). The scene image is sent as a ``data:`` URL content part when ``send_image``.

Base URL, model and key come from the config, else the environment (``OPENAI_BASE_URL``,
``EXOACTOR_PLANNER_MODEL``, the variable named by ``api_key_env``), else the defaults below.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exoactor.imagine.errors import MalformedResponse, PlanError
from exoactor.imagine.http import RetryPolicy, request
from exoactor.imagine.plan.base import Action, CameraConstraints, Plan, Planner, PromptSections, planners
from exoactor.imagine.plan.prompt import EDIT_PROMPT, NEGATIVE_PROMPT, compose_prompt
from exoactor.imagine.secrets import get_secret

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o"

SYSTEM_PROMPT = """You plan videos of a person doing a household task, for a humanoid robot to imitate.
Decompose the task into a chain of atomic, visually observable actions (walk to, pick up, put in,
sit on, wipe, push, open, ...), each one short sentence starting with "The person", with a rough
duration in seconds. Then write a five-part prompt for an image-to-video model:
- shot: a static third-person shot from exactly the viewpoint of the reference image; the camera
  never moves, pans, zooms or cuts; the person's whole body stays in frame.
- scene: the scene of the reference image unchanged, one person where the robot stood.
- motion: the action chain as one sequence of motions.
- execution: how each motion is performed (pace, limbs, hand-object contacts), physically plausible.
- end_state: what is seen when the clip ends.
Only one person appears. Never mention a robot in the sections."""

PLAN_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["actions", "sections"],
    "properties": {
        "actions": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "additionalProperties": False,
                "required": ["verb", "target", "destination", "description", "duration_s"],
                "properties": {
                    "verb": {"type": "string"},
                    "target": {"type": ["string", "null"]},
                    "destination": {"type": ["string", "null"]},
                    "description": {"type": "string"},
                    "duration_s": {"type": "number"},
                },
            },
        },
        "sections": {
            "type": "object", "additionalProperties": False,
            "required": ["shot", "scene", "motion", "execution", "end_state"],
            "properties": {k: {"type": "string"} for k in
                           ("shot", "scene", "motion", "execution", "end_state")},
        },
    },
}
"""JSON schema the model's answer must follow (strict mode: every property required)."""


class OpenAIPlannerConfig(BaseModel):
    """Settings of the OpenAI-compatible chat planner."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = None
    """API root, e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:8000/v1``; None
    reads ``OPENAI_BASE_URL``, else the OpenAI API."""
    model: str | None = None
    """Model name; None reads ``EXOACTOR_PLANNER_MODEL``, else ``gpt-4o``."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable (or secrets-file key) holding the key."""
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    """Sampling temperature."""
    send_image: bool = True
    """Send the scene image with the task (needs a vision model)."""
    invalid_retries: int = Field(1, ge=0, le=5)
    """Extra requests when an answer does not follow the schema."""
    retry: RetryPolicy = RetryPolicy(timeout_s=120.0)
    """HTTP timeouts and retries."""


def _image_part(path: Path) -> dict:
    mime = "image/png" if path.suffix.lower() == ".png" else "image/jpeg"
    data = base64.b64encode(path.read_bytes()).decode()
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}


@planners.register("openai")
class OpenAIChatPlanner(Planner):
    """Plans with any OpenAI-compatible chat completions endpoint."""

    name = "openai"
    Config = OpenAIPlannerConfig

    def __init__(self, config: OpenAIPlannerConfig | None = None):
        self.config = config or OpenAIPlannerConfig()

    @property
    def base_url(self) -> str:
        return (self.config.base_url or os.environ.get("OPENAI_BASE_URL")
                or DEFAULT_BASE_URL).rstrip("/")

    @property
    def model(self) -> str:
        return self.config.model or os.environ.get("EXOACTOR_PLANNER_MODEL") or DEFAULT_MODEL

    def _body(self, task: str, scene_image: Path | None) -> dict:
        content: list[dict] = [{"type": "text", "text": f"Task: {task.strip()}"}]
        if scene_image is not None and self.config.send_image:
            content.append(_image_part(Path(scene_image)))
        return {"model": self.model, "temperature": self.config.temperature,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT},
                             {"role": "user", "content": content}],
                "response_format": {"type": "json_schema", "json_schema": {
                    "name": "exoactor_plan", "strict": True, "schema": PLAN_SCHEMA}}}

    def _parse(self, data: object, url: str) -> tuple[tuple[Action, ...], PromptSections]:
        try:
            message = data["choices"][0]["message"]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            raise MalformedResponse(f"openai planner: {url} answered without "
                                    "choices[0].message; is the base URL an OpenAI-compatible "
                                    "chat endpoint?") from None
        if message.get("refusal"):
            raise PlanError(f"openai planner: the model refused the task: {message['refusal']}; "
                            "rephrase the task or use --planner template")
        content = message.get("content")
        try:
            obj = json.loads(content) if isinstance(content, str) else None
            if not isinstance(obj, dict):
                raise ValueError("content is not a JSON object")
            actions = tuple(Action.model_validate(a) for a in obj["actions"])
            sections = PromptSections.model_validate(obj["sections"])
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise MalformedResponse(
                f"openai planner: model {self.model} at {url} returned content that does not "
                f"follow the plan schema ({str(exc).splitlines()[0]}); use a model that supports "
                "json_schema response formats, or --planner template") from None
        if not actions:
            raise MalformedResponse(f"openai planner: model {self.model} returned no actions")
        return actions, sections

    def plan(self, task: str, scene_image: Path | None = None) -> Plan:
        if not task or not task.strip():
            raise PlanError("the task is empty; describe what the person should do")
        key = get_secret(self.config.api_key_env, "openai planner")
        url = f"{self.base_url}/chat/completions"
        body = self._body(task, scene_image)
        last: MalformedResponse | None = None
        for attempt in range(self.config.invalid_retries + 1):
            r = request("POST", url, what="openai planner", policy=self.config.retry,
                        headers={"Authorization": f"Bearer {key}"}, json_body=body, ok=(200,))
            try:
                actions, sections = self._parse(r.json("openai planner"), url)
                break
            except MalformedResponse as exc:
                last = exc
                logger.warning("%s (attempt %d)", exc, attempt + 1)
        else:
            assert last is not None
            raise last
        camera = CameraConstraints()
        return Plan(task=task.strip(), planner=self.name, actions=actions, sections=sections,
                    prompt=compose_prompt(sections, camera), negative_prompt=NEGATIVE_PROMPT,
                    camera=camera, duration_s=round(sum(a.duration_s for a in actions), 2),
                    edit_prompt=EDIT_PROMPT)
