"""The offline template planner: golden plans for a dozen household tasks, and invariants."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from exoactor.imagine.errors import PlanError
from exoactor.imagine.plan import load_plan, planners, save_plan
from exoactor.imagine.plan.prompt import SECTION_LABELS
from exoactor.imagine.plan.template import TemplatePlanner, split_clauses

GOLDEN = Path(__file__).parent / "golden" / "plans.json"
"""Expected plans; regenerate with EXOACTOR_UPDATE_GOLDEN=1 after reviewing the change."""

TASKS = {
    "walk to the chair and sit down": ["walk_to:the chair", "sit:the chair"],
    "pick up the cup and put it in the sink": [
        "walk_to:the cup", "pick_up:the cup", "walk_to:the sink", "put:the cup>the sink"],
    "Wipe the table.": ["walk_to:the table", "wipe:the table"],
    "open the fridge, take the milk and put it on the counter": [
        "walk_to:the fridge", "open:the fridge", "pick_up:the milk", "walk_to:the counter",
        "put:the milk>the counter"],
    "push the cart to the door": ["walk_to:the cart", "push:the cart>the door"],
    "sit on the sofa": ["walk_to:the sofa", "sit:the sofa"],
    "walk to the table and pick up the cup": ["walk_to:the table", "pick_up:the cup"],
    "pick up the book from the shelf and put it on the desk": [
        "walk_to:the shelf", "pick_up:the book", "walk_to:the desk", "put:the book>the desk"],
    "turn on the lamp then wave": ["walk_to:the lamp", "turn_on:the lamp", "wave:"],
    "go to the door, open it and close it": [
        "walk_to:the door", "open:the door", "close:the door"],
    "sit down, then stand up and walk to the window": [
        "sit:", "stand_up:", "walk_to:the window"],
    "pull the drawer and put the keys in it": [
        "walk_to:the drawer", "pull:the drawer", "put:the keys>the drawer"],
    "dance the tango": ["dance:"],
}


def _chain(task: str) -> list[str]:
    plan = TemplatePlanner().plan(task)
    return [f"{a.verb}:{a.target or ''}" + (f">{a.destination}" if a.destination else "")
            for a in plan.actions]


@pytest.mark.parametrize("task", list(TASKS))
def test_action_chain(task: str) -> None:
    assert _chain(task) == TASKS[task]


def test_golden_plans() -> None:
    plans = {t: TemplatePlanner().plan(t).model_dump(mode="json") for t in TASKS}
    if os.environ.get("EXOACTOR_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(plans, indent=1) + "\n")
    assert plans == json.loads(GOLDEN.read_text())


@pytest.mark.parametrize("task", list(TASKS))
def test_prompt_has_five_sections_and_camera_rules(task: str) -> None:
    plan = TemplatePlanner().plan(task)
    lines = plan.prompt.splitlines()
    assert [ln.split(":")[0] for ln in lines] == [label for _, label in SECTION_LABELS]
    assert "camera is fixed" in plan.prompt and "whole body" in plan.prompt
    assert "robot" not in plan.prompt.lower()
    assert plan.duration_s == pytest.approx(sum(a.duration_s for a in plan.actions))
    assert plan.camera.fixed and plan.camera.whole_body and plan.camera.single_person


def test_plan_file_round_trip(tmp_path: Path) -> None:
    plan = TemplatePlanner().plan("walk to the chair and sit down")
    assert load_plan(save_plan(plan, tmp_path / "plan.json")) == plan
    (tmp_path / "bad.json").write_text('{"task": "x"}')
    with pytest.raises(PlanError, match="not a valid plan"):
        load_plan(tmp_path / "bad.json")


def test_empty_task_is_an_error() -> None:
    with pytest.raises(PlanError, match="empty"):
        TemplatePlanner().plan("  ")


def test_clause_splitting() -> None:
    assert split_clauses("Please walk to the door, then open it and wave.") == [
        "walk to the door", "open it", "wave"]


def test_registry_lists_planners() -> None:
    assert {"template", "openai"} <= set(planners.names())
    assert planners.get("template") is TemplatePlanner


def test_the_verb_table_is_data_and_a_bad_entry_is_named() -> None:
    from exoactor.imagine.errors import PlanError
    from exoactor.imagine.plan.verbs import VERBS, load_verbs

    assert [v.verb for v in VERBS][:2] == ["walk_to", "pick_up"] and len(VERBS) >= 20
    one = load_verbs('[[verb]]\nverb = "nod"\npatterns = [\'^nod$\']\ndescription = "nods"\n'
                     'execution = "The person nods."\nend_state = "The person stands."\n'
                     'duration_s = 1.0\n')
    assert one[0].compiled[0].match("nod") and one[0].approach is None
    with pytest.raises(PlanError, match="duration_s"):
        load_verbs('[[verb]]\nverb = "nod"\npatterns = [\'^nod$\']\n')
