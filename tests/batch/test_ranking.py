"""Best-of-N ranking on synthetic outcomes: the order of the criteria, ties, failures."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from exoactor.batch import RunOutcome, rank_task, score_key
from exoactor.batch.ranking import rank_all


def outcome(candidate: int, task: str = "t", *, fell: bool = False, verdict: str = "executable",
            global_m: float = 0.2, key_mm: float = 50.0, joint_rad: float = 0.1,
            evaluated_s: float = 1.0, ok: bool = True) -> RunOutcome:
    metrics = {"fell": fell, "fall_time_s": evaluated_s if fell else None,
               "global_body_error_max_m": global_m, "key_body_error_mm": key_mm,
               "mean_joint_error_rad": joint_rad, "evaluated_s": evaluated_s,
               "clip_duration_s": 1.0}
    return RunOutcome(run_id=f"{task}/c{candidate:02d}", task=task, candidate=candidate,
                      kind="motion", run_dir=Path("/nowhere"), status="ok" if ok else "failed",
                      failed_stage=None if ok else "track", error=None if ok else "boom",
                      verdict=verdict if ok else None, metrics=metrics if ok else {})


def test_no_fall_beats_everything_else() -> None:
    fallen = outcome(0, fell=True, verdict="not executable", global_m=0.01, key_mm=1)
    poor = outcome(1, verdict="not executable", global_m=0.9, key_mm=400)
    ranking = rank_task("t", [fallen, poor])
    assert ranking.order == ("t/c01", "t/c00") and ranking.winner == "t/c01"
    assert not ranking.success  # the winner is not executable


def test_later_fall_beats_earlier_fall() -> None:
    early = outcome(0, fell=True, verdict="not executable", evaluated_s=0.2, global_m=0.01)
    late = outcome(1, fell=True, verdict="not executable", evaluated_s=0.9, global_m=0.5)
    assert rank_task("t", [early, late]).order == ("t/c01", "t/c00")


def test_verdict_then_global_error_then_motion_quality() -> None:
    runs = [outcome(0, verdict="marginal", global_m=0.05),
            outcome(1, global_m=0.30),
            outcome(2, global_m=0.10, key_mm=80),
            outcome(3, global_m=0.10, key_mm=40, joint_rad=0.3),
            outcome(4, global_m=0.10, key_mm=40, joint_rad=0.2)]
    ranking = rank_task("t", runs)
    assert ranking.order == ("t/c04", "t/c03", "t/c02", "t/c01", "t/c00")
    assert ranking.winner == "t/c04" and ranking.success
    assert [ranking.rank(o.run_id) for o in runs] == [5, 4, 3, 2, 1]


def test_failed_runs_are_unranked_and_ties_go_to_the_lower_index() -> None:
    runs = [outcome(0, ok=False), outcome(1), outcome(2), outcome(3, ok=False)]
    ranking = rank_task("t", runs)
    assert ranking.order == ("t/c01", "t/c02") and ranking.failed == ("t/c00", "t/c03")
    assert ranking.rank("t/c00") is None
    all_failed = rank_task("t", [outcome(0, ok=False)])
    assert all_failed.winner is None and not all_failed.success


@pytest.mark.parametrize("seed", range(5))
def test_ranking_does_not_depend_on_input_order(seed: int) -> None:
    rng = random.Random(seed)
    runs = [outcome(i, fell=rng.random() < 0.3, verdict=rng.choice(
        ["executable", "marginal", "not executable"]), global_m=rng.choice([0.1, 0.2, 0.3]),
        key_mm=rng.choice([10.0, 20.0]), ok=rng.random() < 0.8) for i in range(12)]
    expected = rank_task("t", runs)
    for _ in range(5):
        rng.shuffle(runs)
        assert rank_task("t", runs) == expected
    finished = [o for o in runs if o.ok]
    keys = [score_key(o) for o in sorted(finished, key=lambda o: expected.order.index(o.run_id))]
    assert keys == sorted(keys)


def test_rank_all_keeps_task_order() -> None:
    runs = [outcome(0, "b"), outcome(0, "a"), outcome(1, "b", global_m=0.01)]
    rankings = rank_all(runs)
    assert [r.task for r in rankings] == ["b", "a"]
    assert rankings[0].winner == "b/c01"
