"""Best-of-N: rank a task's candidates by what physics made of them and mark the winner.

Candidates are sorted by :func:`score_key`, lowest first:

1. finished runs before failed ones (a failed run has no rank);
2. no fall before a fall; between two falls, the one that got further into the clip;
3. physics verdict: executable, then marginal, then not executable;
4. global error: ``global_body_error_max_m`` (the worst world-frame key-body error);
5. motion quality: ``key_body_error_mm`` (key bodies in the pelvis frame), then
   ``mean_joint_error_rad``;
6. the candidate index, so ties resolve the same way every time.

The winner is the best finished candidate. A task succeeds when its winner did not fall and
its verdict is executable or marginal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from exoactor.batch.outcome import RunOutcome

VERDICT_ORDER = {"executable": 0, "marginal": 1, "not executable": 2}
"""Rank of each physics verdict (lower is better)."""

SUCCESS_VERDICTS = ("executable", "marginal")
"""Verdicts of a winner that make its task a success."""


@dataclass(frozen=True)
class TaskRanking:
    """The candidates of one task, best first."""

    task: str
    order: tuple[str, ...]
    """Run ids of the finished candidates, best first."""
    failed: tuple[str, ...]
    """Run ids of the candidates whose run failed (unranked)."""
    winner: str | None
    """Run id of the best candidate (None when every run failed)."""
    success: bool
    """The winner did not fall and is executable or marginal."""

    def rank(self, run_id: str) -> int | None:
        """1-based rank of a candidate (None for a failed run)."""
        return self.order.index(run_id) + 1 if run_id in self.order else None


def _num(value: object, default: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value) if math.isfinite(value) else default


def score_key(outcome: RunOutcome) -> tuple:
    """Sort key of one candidate (see the module docstring); lower is better."""
    m = outcome.metrics
    if not outcome.ok or not m:
        return (1, outcome.candidate)
    fell = bool(m.get("fell"))
    reached = 0.0
    if fell:
        clip = _num(m.get("clip_duration_s"), 0.0)
        reached = -(_num(m.get("evaluated_s"), 0.0) / clip) if clip > 0 else 0.0
    return (0, fell, reached, VERDICT_ORDER.get(outcome.verdict or "", 3),
            _num(m.get("global_body_error_max_m")), _num(m.get("key_body_error_mm")),
            _num(m.get("mean_joint_error_rad")), outcome.candidate)


def rank_task(task: str, outcomes: Iterable[RunOutcome]) -> TaskRanking:
    """Rank the candidates of ``task`` (outcomes of other tasks are ignored)."""
    mine = sorted((o for o in outcomes if o.task == task), key=score_key)
    ranked = tuple(o.run_id for o in mine if o.ok and o.metrics)
    failed = tuple(o.run_id for o in mine if o.run_id not in ranked)
    winner = next((o for o in mine if o.run_id in ranked), None)
    success = bool(winner and not winner.metrics.get("fell")
                   and winner.verdict in SUCCESS_VERDICTS)
    return TaskRanking(task, ranked, failed, winner.run_id if winner else None, success)


def rank_all(outcomes: Iterable[RunOutcome]) -> list[TaskRanking]:
    """One ranking per task, in the order tasks first appear."""
    outcomes = list(outcomes)
    tasks = list(dict.fromkeys(o.task for o in outcomes))
    return [rank_task(t, outcomes) for t in tasks]
