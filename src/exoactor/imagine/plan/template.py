"""Offline template planner: common household verbs to an action chain and a five-part prompt.

No model, no network: the task is split into clauses (``and``, ``then``, commas), each clause
is matched against a table of verb templates (:data:`VERBS`), pronouns (``it``, ``them``) are
resolved to the object held or last named, and a ``walk_to`` step is inserted before an action
on an object the person is not already at. Unknown clauses become generic steps, so any task
yields a plan; the verb table decides how good it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from exoactor.imagine.errors import PlanError
from exoactor.imagine.plan.base import Action, CameraConstraints, Plan, Planner, PromptSections, planners
from exoactor.imagine.plan.prompt import EDIT_PROMPT, NEGATIVE_PROMPT, compose_prompt

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
class VerbTemplate:
    """How one household verb is recognised and described.

    Attributes:
        verb: canonical verb name written into the plan.
        patterns: regular expressions over a lower-case clause; named groups ``target``,
            ``destination`` and ``place`` (where an object is taken from) are read.
        description: the step as a sentence fragment after "the person", with ``{target}``,
            ``{destination}`` placeholders.
        execution: how it is performed (Execution section).
        end_state: what is seen once it is done (End state section if it is the last step).
        duration_s: rough duration at a natural pace [s].
        approach: which object the person must stand at first: ``"target"``,
            ``"destination"``, ``"place"`` or None.
        picks: the step leaves the target in the person's hand.
        releases: the step leaves the hand empty.
    """

    verb: str
    patterns: tuple[str, ...]
    description: str
    execution: str
    end_state: str
    duration_s: float
    approach: str | None = None
    picks: bool = False
    releases: bool = False
    compiled: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", tuple(re.compile(p) for p in self.patterns))


_OBJ = r"(?P<target>.+?)"
VERBS: tuple[VerbTemplate, ...] = (
    VerbTemplate(
        verb="walk_to",
        patterns=(
            r"^(?:walk|go|move|step|head|come|run)\s+(?:over\s+|back\s+)?"
            r"(?:to|towards?|up to|over to|into)\s+" + _OBJ + "$",
            r"^approach\s+" + _OBJ + "$",
        ),
        description="walks to {target}",
        execution=("Walking at a {pace} pace with the feet flat on the floor, the person turns towards "
                   "{target} and stops in front of it."),
        end_state="The person stands still in front of {target}.",
        duration_s=3.0,
    ),
    VerbTemplate(
        verb="pick_up",
        patterns=(
            r"^(?:pick|lift)\s+up\s+" + _OBJ + r"(?:\s+(?:from|off)\s+(?P<place>.+))?$",
            r"^(?:pick|lift)\s+" + _OBJ + r"\s+up(?:\s+(?:from|off)\s+(?P<place>.+))?$",
            r"^(?:grab|take|grasp|get)\s+" + _OBJ + r"(?:\s+(?:from|off|out of)\s+(?P<place>.+))?$",
        ),
        description="picks up {target}",
        execution=("The person reaches for {target} with one hand, closes the fingers around it and lifts "
                   "it to chest height."),
        end_state="The person stands holding {target} in one hand.",
        duration_s=2.5,
        approach="target",
        picks=True,
    ),
    VerbTemplate(
        verb="put",
        patterns=(
            r"^(?:put|place|set|drop|throw|toss|load)\s+" + _OBJ + r"\s+(?:down\s+|back\s+)?"
            r"(?:in|into|inside|on|onto|on top of|in the middle of)\s+(?P<destination>.+)$",
        ),
        description="puts {target} {prep} {destination}",
        execution=("Holding {target}, the person brings it over {destination}, lowers it {prep} "
                   "{destination} and opens the hand."),
        end_state="{target_cap} rests {prep} {destination}; the person's hands are empty.",
        duration_s=2.5,
        approach="destination",
        releases=True,
    ),
    VerbTemplate(
        verb="put_down",
        patterns=(
            r"^(?:put|set|place|lay)\s+" + _OBJ + r"\s+down$",
            r"^(?:put|set|place|lay)\s+down\s+" + _OBJ + "$",
        ),
        description="puts {target} down",
        execution="The person bends the knees slightly and sets {target} down, then straightens up.",
        end_state="{target_cap} rests on the floor beside the person.",
        duration_s=2.0,
        releases=True,
    ),
    VerbTemplate(
        verb="sit",
        patterns=(
            r"^(?:sit|sit down)\s+(?:on|in|onto)\s+" + _OBJ + "$",
            r"^(?:have|take) a seat\s+(?:on|in)\s+" + _OBJ + "$",
            r"^(?:sit|sit down|take a seat|have a seat)$",
        ),
        description="sits down on {target}",
        execution=("The person turns their back to {target}, bends the knees and hips and lowers the pelvis"
                   " onto the seat, hands resting on the thighs."),
        end_state="The person sits still on {target}, facing forward, both feet on the floor.",
        duration_s=3.0,
        approach="target",
    ),
    VerbTemplate(
        verb="stand_up",
        patterns=(
            r"^(?:stand|get)\s+up(?:\s+(?:from|off)\s+" + _OBJ + ")?$",
            r"^rise$",
        ),
        description="stands up",
        execution="Leaning the torso forward, the person pushes through both legs and rises to standing.",
        end_state="The person stands upright, arms relaxed.",
        duration_s=2.0,
    ),
    VerbTemplate(
        verb="wipe",
        patterns=(
            r"^(?:wipe|clean|scrub|dust|polish)\s+(?:down\s+|off\s+)?" + _OBJ
            + r"(?:\s+with\s+(?P<tool>.+))?$",
        ),
        description="wipes {target}",
        execution=("The person places one palm flat on {target} and moves it back and forth in wide strokes"
                   " several times."),
        end_state="The person stands beside the clean {target_bare}, hand lifted off it.",
        duration_s=4.0,
        approach="target",
    ),
    VerbTemplate(
        verb="push",
        patterns=(
            r"^push\s+" + _OBJ + r"(?:\s+(?:to|towards|into|against|across)\s+(?P<destination>.+))?$",
        ),
        description="pushes {target}",
        execution=("With both hands on {target}, the person leans forward and walks a few steps, pushing it"
                   " along the floor."),
        end_state="{target_cap} has moved forward; the person stands behind it.",
        duration_s=3.0,
        approach="target",
    ),
    VerbTemplate(
        verb="pull",
        patterns=(
            r"^(?:pull|drag)\s+" + _OBJ + r"(?:\s+(?:to|towards|out of|from)\s+(?P<destination>.+))?$",
        ),
        description="pulls {target}",
        execution=("Gripping {target} with both hands, the person leans back and steps backwards, pulling "
                   "it."),
        end_state="{target_cap} has moved towards the person.",
        duration_s=3.0,
        approach="target",
    ),
    VerbTemplate(
        verb="open",
        patterns=(
            r"^open\s+(?:up\s+)?" + _OBJ + "$",
        ),
        description="opens {target}",
        execution=("The person grasps the handle of {target} and swings it open with one arm, stepping back"
                   " slightly."),
        end_state="{target_cap} is open; the person stands beside it.",
        duration_s=2.5,
        approach="target",
    ),
    VerbTemplate(
        verb="close",
        patterns=(
            r"^(?:close|shut)\s+" + _OBJ + "$",
        ),
        description="closes {target}",
        execution="The person pushes {target} shut with one hand.",
        end_state="{target_cap} is closed; the person stands beside it.",
        duration_s=2.0,
        approach="target",
    ),
    VerbTemplate(
        verb="turn_on",
        patterns=(
            r"^(?:turn|switch)\s+on\s+" + _OBJ + "$",
            r"^(?:turn|switch)\s+" + _OBJ + r"\s+on$",
        ),
        description="turns on {target}",
        execution="The person reaches out and presses the switch of {target} with the fingers.",
        end_state="{target_cap} is on; the person's arm is back at the side.",
        duration_s=2.0,
        approach="target",
    ),
    VerbTemplate(
        verb="turn_off",
        patterns=(
            r"^(?:turn|switch)\s+off\s+" + _OBJ + "$",
            r"^(?:turn|switch)\s+" + _OBJ + r"\s+off$",
        ),
        description="turns off {target}",
        execution="The person reaches out and presses the switch of {target} with the fingers.",
        end_state="{target_cap} is off; the person's arm is back at the side.",
        duration_s=2.0,
        approach="target",
    ),
    VerbTemplate(
        verb="wave",
        patterns=(
            r"^wave(?:\s+(?:at|to)\s+" + _OBJ + r")?(?:\s+hello|\s+goodbye)?$",
            r"^wave (?:hello|goodbye)$",
        ),
        description="waves",
        execution="The person raises one hand above the shoulder and waves it side to side a few times.",
        end_state="The person stands still with both arms at the sides.",
        duration_s=2.0,
    ),
    VerbTemplate(
        verb="point",
        patterns=(
            r"^point\s+(?:at|to)\s+" + _OBJ + "$",
        ),
        description="points at {target}",
        execution="The person stretches one arm towards {target} with the index finger extended.",
        end_state="The person stands with the arm lowered.",
        duration_s=1.5,
    ),
    VerbTemplate(
        verb="squat",
        patterns=(
            r"^(?:squat|crouch)(?:\s+down)?$",
            r"^bend down$",
        ),
        description="squats down",
        execution=("The person bends the knees and hips deeply, keeping the heels on the floor and the back"
                   " straight, then rises again."),
        end_state="The person stands upright.",
        duration_s=3.0,
    ),
    VerbTemplate(
        verb="kneel",
        patterns=(
            r"^kneel(?:\s+down)?(?:\s+(?:on|by|beside|next to)\s+" + _OBJ + ")?$",
        ),
        description="kneels down",
        execution="The person steps one foot back and lowers one knee, then the other, to the floor.",
        end_state="The person kneels on the floor.",
        duration_s=2.5,
    ),
    VerbTemplate(
        verb="lie_down",
        patterns=(
            r"^lie\s+down(?:\s+(?:on|in)\s+" + _OBJ + ")?$",
        ),
        description="lies down on {target}",
        execution=("The person sits on {target} and then lowers the torso and swings the legs up until "
                   "lying on the back."),
        end_state="The person lies on {target} on their back.",
        duration_s=4.0,
        approach="target",
    ),
    VerbTemplate(
        verb="turn_around",
        patterns=(
            r"^turn\s+around$",
            r"^turn\s+back$",
        ),
        description="turns around",
        execution="The person turns on the spot in small steps until facing the other way.",
        end_state="The person stands facing the other way.",
        duration_s=2.0,
    ),
    VerbTemplate(
        verb="jump",
        patterns=(
            r"^jump(?:\s+(?:up|in place|forward))?$",
        ),
        description="jumps",
        execution="The person bends the knees, swings the arms and jumps, landing softly on both feet.",
        end_state="The person stands on both feet.",
        duration_s=1.5,
    ),
)
"""The verb table, tried in order for each clause."""


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
