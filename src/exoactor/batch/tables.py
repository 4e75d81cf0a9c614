"""The rows of the batch's tables: one per run, one per task, one per failure reason.

Pure functions from outcomes and rankings to lists of flat dicts (CSV- and HTML-ready).
Times are seconds; a stage a run never ran is left empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from exoactor.batch.outcome import RunOutcome
from exoactor.batch.ranking import TaskRanking
from exoactor.pipeline import COMMANDS, STAGES

STAGE_ORDER = tuple(s.name for s in STAGES if s.name not in COMMANDS["imagine"])
"""Column order of the per-stage time columns."""

REASON_CHARS = 200
"""Failure reasons are grouped by their first line, cut to this many characters."""


def stages_seen(outcomes: Sequence[RunOutcome]) -> list[str]:
    """Stage names that appear in any outcome, in pipeline order."""
    seen = {s for o in outcomes for s in o.stage_seconds}
    return [s for s in STAGE_ORDER if s in seen] + sorted(seen - set(STAGE_ORDER))


def reason(error: str | None) -> str:
    """A failure's reason for grouping: first line of the error, cut."""
    text = (error or "").strip()
    return (text.splitlines()[0] if text else "unknown error")[:REASON_CHARS]


def _round(value: object, digits: int = 4) -> object:
    return round(value, digits) if isinstance(value, float) else value


def run_rows(outcomes: Sequence[RunOutcome], rankings: Sequence[TaskRanking],
             out_dir: Path | None = None) -> list[dict]:
    """One row per run: identity, status, failure, verdict, metrics, rank, stage times."""
    by_task = {r.task: r for r in rankings}
    stages = stages_seen(outcomes)
    rows = []
    for o in outcomes:
        ranking = by_task.get(o.task)
        run_dir = o.run_dir
        if out_dir is not None and run_dir.is_relative_to(out_dir):
            run_dir = run_dir.relative_to(out_dir)
        row = {"run": o.run_id, "task": o.task, "candidate": o.candidate, "kind": o.kind,
               "input": Path(o.input).name if o.input else "", "seed": o.seed,
               "backends": " ".join(f"{k}={v}" for k, v in sorted(o.backends.items())),
               "status": o.status, "skipped": o.skipped, "failed_stage": o.failed_stage or "",
               "error": reason(o.error) if o.error else "", "crash": o.detail or "",
               "verdict": o.verdict or "",
               "rank": (ranking.rank(o.run_id) if ranking else None) or "",
               "winner": bool(ranking and ranking.winner == o.run_id)}
        for key in ("fell", "fall_time_s", "global_body_error_max_m", "key_body_error_mm",
                    "mean_joint_error_rad"):
            value = o.metrics.get(key)
            row[key] = "" if value is None else _round(value)
        for s in stages:
            value = o.stage_seconds.get(s)
            row[f"{s}_s"] = "" if value is None else round(value, 3)
        row["total_s"] = round(sum(o.stage_seconds.values()), 3)
        row["run_dir"] = str(run_dir)
        rows.append(row)
    return rows


def task_rows(outcomes: Sequence[RunOutcome], rankings: Sequence[TaskRanking]) -> list[dict]:
    """One row per task: success, winner, counts, mean time per stage, failures by reason."""
    stages = stages_seen(outcomes)
    by_id = {o.run_id: o for o in outcomes}
    rows = []
    for r in rankings:
        mine = [o for o in outcomes if o.task == r.task]
        win = by_id.get(r.winner) if r.winner else None
        row = {"task": r.task, "kind": mine[0].kind if mine else "", "candidates": len(mine),
               "finished": len(r.order), "failed": len(r.failed), "success": r.success,
               "winner": r.winner or "", "winner_verdict": (win.verdict or "") if win else "",
               "winner_global_error_m": _round(win.metrics.get("global_body_error_max_m"))
               if win else ""}
        for s in stages:
            times = [o.stage_seconds[s] for o in mine if s in o.stage_seconds]
            row[f"{s}_s"] = round(sum(times) / len(times), 3) if times else ""
        counts = Counter((o.failed_stage, reason(o.error)) for o in mine if not o.ok)
        row["failures"] = "; ".join(f"{stage}: {why} (x{n})" for (stage, why), n in
                                    sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append(row)
    return rows


def failure_rows(outcomes: Sequence[RunOutcome]) -> list[dict]:
    """One row per (stage, reason): how many runs failed so and which."""
    groups: dict[tuple[str, str], list[str]] = {}
    for o in outcomes:
        if not o.ok:
            groups.setdefault((o.failed_stage or "?", reason(o.error)), []).append(o.run_id)
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    return [{"stage": stage, "reason": why, "count": len(runs), "runs": " ".join(runs)}
            for (stage, why), runs in sorted(groups.items(),
                                             key=lambda kv: (order.get(kv[0][0], 99), kv[0][1]))]
