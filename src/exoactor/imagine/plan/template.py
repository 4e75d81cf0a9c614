"""Offline template planner: common household verbs to an action chain and a five-part prompt.

No model, no network: the task is split into clauses (``and``, ``then``, commas), each clause
is matched against the verb table (:data:`exoactor.imagine.plan.verbs.VERBS`), pronouns
(``it``, ``them``) are resolved to the object held or last named, and a ``walk_to`` step is
inserted before an action on an object the person is not already at. Unknown clauses become
generic steps, so any task yields a plan; the verb table decides how good it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.errors import PlanError
from exoactor.imagine.plan.base import Action, CameraConstraints, Plan, Planner, PromptSections, planners
from exoactor.imagine.plan.prompt import EDIT_PROMPT, NEGATIVE_PROMPT, compose_prompt
from exoactor.imagine.plan.verbs import VERBS, VerbTemplate

EMPTY_TASK = "the task is empty; describe what the person should do, e.g. \"walk to the chair and sit down\""

_SPLIT = re.compile(r"\s*(?:[,;.]\s*(?:and\s+then\s+|and\s+|then\s+)?|\s+and\s+then\s+|\s+then\s+|"
                    r"\s+and\s+|\s+after\s+that\s+)\s*", re.IGNORECASE)
_PRONOUNS = {"it", "them", "that", "this", "one"}
_SITTABLE = ("chair", "sofa", "couch", "bench", "stool", "bed", "seat", "armchair", "toilet")
_DETERMINERS = ("the ", "a ", "an ", "this ", "that ", "my ", "your ", "his ", "her ", "its ",
                "their ", "some ", "these ", "those ")


class TemplatePlannerConfig(BaseModel):
    """Settings of the offline template planner."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    insert_approach: bool = True
    """Insert a ``walk_to`` step before acting on an object the person is not at."""
    pace: str = Field("natural", min_length=1)
    """Pace word used in the Execution section (``natural``, ``slow``, ``brisk``)."""


@dataclass(frozen=True)
class _Step:
    verb: VerbTemplate | None
    clause: str
    target: str | None = None
    destination: str | None = None
    prep: str | None = None
    held: str | None = None


def _noun(phrase: str | None) -> str | None:
    if phrase is None:
        return None
    phrase = phrase.strip(" .,!")
    if not phrase:
        return None
    low = phrase.lower()
    if low.startswith(_DETERMINERS) or low in ("it", "them", "here", "there"):
        return phrase
    return f"the {phrase}"


def _bare(phrase: str | None) -> str:
    if not phrase:
        return "object"
    low = phrase
    for d in _DETERMINERS:
        if low.lower().startswith(d):
            return low[len(d):]
    return low


def _third_person(word: str) -> str:
    if word.endswith(("s", "sh", "ch", "x", "z", "o")):
        return word + "es"
    if len(word) > 1 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def split_clauses(task: str) -> list[str]:
    """Lower-case clauses of ``task`` split on ``and``, ``then`` and punctuation."""
    text = re.sub(r"\s+", " ", task.strip().lower()).strip(" .!")
    text = re.sub(r"^(?:please\s+|the (?:person|robot|human)\s+(?:should|must|will)\s+|"
                  r"(?:go and|go ahead and)\s+)", "", text)
    parts = [p.strip() for p in _SPLIT.split(text) if p and p.strip()]
    return [re.sub(r"^(?:please|then|and|finally|first|next)\s+", "", p) for p in parts]


def _match(clause: str) -> tuple[VerbTemplate | None, dict[str, str | None]]:
    for verb in VERBS:
        for pat in verb.compiled:
            m = pat.match(clause)
            if m:
                groups = m.groupdict()
                prep = None
                if verb.verb == "put":
                    pm = re.search(r"\s(in|into|inside|on|onto|on top of|in the middle of)\s", clause)
                    prep = {"into": "in", "inside": "in", "onto": "on"}.get(
                        pm.group(1), pm.group(1)) if pm else "on"
                return verb, {**groups, "prep": prep}
    return None, {}


def _fill(text: str, step: _Step, pace: str) -> str:
    target = step.target or "it"
    if step.verb is not None and step.verb.verb == "sit" and step.target is None:
        text = text.replace(" on {target}", "").replace("{target}", "the seat")
    return (text.replace("{target_cap}", target[:1].upper() + target[1:])
            .replace("{target_bare}", _bare(step.target))
            .replace("{target}", target).replace("{destination}", step.destination or "it")
            .replace("{prep}", step.prep or "on").replace("{pace}", pace))


def _resolve(phrase: str | None, held: str | None, last: str | None) -> str | None:
    if phrase is None:
        return None
    if phrase.strip().lower() in _PRONOUNS:
        return held or last or phrase
    return _noun(phrase)


def _steps(task: str, cfg: TemplatePlannerConfig) -> list[_Step]:
    steps: list[_Step] = []
    held: str | None = None
    last: str | None = None
    at: str | None = None
    for clause in split_clauses(task):
        verb, g = _match(clause)
        if verb is None:
            steps.append(_Step(None, clause, held=held))
            continue
        target = _resolve(g.get("target"), held, last)
        destination = _resolve(g.get("destination"), held, last)
        place = _resolve(g.get("place"), held, last)
        if verb.verb == "sit" and target is None and last and any(w in last for w in _SITTABLE):
            target = last
        if verb.verb in ("put", "put_down") and target is None:
            target = held
        need = {"target": target, "destination": destination,
                "place": place or target}.get(verb.approach or "")
        if verb.picks:
            # "walk to the table and pick up the cup": the cup is where the person stands;
            # "pick up the book from the shelf": go to the shelf.
            need = place or at or target
        if cfg.insert_approach and verb.approach and need and need != at and need != held:
            walk = VERBS[0]
            steps.append(_Step(walk, f"walk to {need}", target=need, held=held))
            at = need
        steps.append(_Step(verb, clause, target=target, destination=destination,
                           prep=g.get("prep"), held=held))
        if verb.verb == "walk_to":
            at = target
        elif verb.verb == "put":
            at = destination or at
        elif verb.verb == "pick_up":
            at = place or at
        elif verb.approach and need:
            at = need
        if verb.picks:
            held = target
        if verb.releases:
            held = None
        last = destination or target or last
    if not steps:
        raise PlanError(EMPTY_TASK)
    return steps


def _action(step: _Step, pace: str) -> Action:
    if step.verb is None:
        words = step.clause.split()
        sentence = " ".join([_third_person(words[0]), *words[1:]])
        return Action(verb=words[0], target=None, description=f"The person {sentence}.",
                      duration_s=3.0)
    text = _fill(step.verb.description, step, pace)
    if step.verb.verb == "walk_to" and step.held:
        text += f" carrying {step.held}"
    return Action(verb=step.verb.verb, target=step.target, destination=step.destination,
                  description=f"The person {text}.", duration_s=step.verb.duration_s)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _sections(task: str, steps: list[_Step], actions: list[Action], pace: str) -> PromptSections:
    objects: list[str] = []
    for s in steps:
        for o in (s.target, s.destination):
            if o and o.lower() not in _PRONOUNS and o not in objects:
                objects.append(o)
    scene = ("The scene of the reference image, unchanged: same room, furniture, objects and "
             "lighting. The one adult person of the reference image, in ordinary clothes, "
             "starts where they stand in it, whole body visible.")
    if objects:
        scene += f" The scene contains {_join(objects)}."
    fragments = [a.description.removeprefix("The person ").rstrip(".") for a in actions]
    motion = "The person " + ", then ".join(fragments) + "."
    execution = " ".join(
        _fill(s.verb.execution, s, pace) if s.verb is not None else
        f"The person performs \"{s.clause}\" with smooth, deliberate, clearly visible movements."
        for s in steps)
    execution += (" Every movement is continuous and physically plausible; the feet stay on the "
                  "floor except while stepping.")
    last = steps[-1]
    end = (_fill(last.verb.end_state, last, pace) if last.verb is not None
           else "The person stands still, the task done.")
    held_end = None
    for s in steps:
        if s.verb is not None and s.verb.picks:
            held_end = s.target
        if s.verb is not None and s.verb.releases:
            held_end = None
    if held_end and "holding" not in end:
        end = end.rstrip(".") + f", holding {held_end}."
    end += " The person stays fully in frame."
    shot = ("A static, eye-level, third-person shot from exactly the viewpoint of the "
            "reference image, wide enough to show the person's whole body throughout.")
    return PromptSections(shot=shot, scene=scene, motion=motion, execution=execution,
                          end_state=end)


@planners.register("template")
class TemplatePlanner(Planner):
    """Offline planner for household tasks (the default when no LLM is configured)."""

    name = "template"
    Config = TemplatePlannerConfig

    def __init__(self, config: TemplatePlannerConfig | None = None):
        self.config = config or TemplatePlannerConfig()

    def plan(self, task: str, scene_image: Path | None = None) -> Plan:
        if not task or not task.strip():
            raise PlanError(EMPTY_TASK)
        steps = _steps(task, self.config)
        actions = [_action(s, self.config.pace) for s in steps]
        sections = _sections(task, steps, actions, self.config.pace)
        camera = CameraConstraints()
        return Plan(task=task.strip(), planner=self.name, actions=tuple(actions),
                    sections=sections, prompt=compose_prompt(sections, camera),
                    negative_prompt=NEGATIVE_PROMPT, camera=camera,
                    duration_s=round(sum(a.duration_s for a in actions), 2),
                    edit_prompt=EDIT_PROMPT)
