"""The summary tables of a batch: ``runs.csv``, ``summary.csv`` (per task), ``failures.csv``
and ``summary.html`` holding the three."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exoactor import artefacts
from exoactor.batch.outcome import RunOutcome
from exoactor.batch.page import document, esc, table
from exoactor.batch.ranking import TaskRanking
from exoactor.batch.tables import failure_rows, run_rows, task_rows
from exoactor.fileio import atomic_path


@dataclass(frozen=True)
class SummaryFiles:
    """Files :func:`write_summary` wrote."""

    runs_csv: Path
    tasks_csv: Path
    failures_csv: Path
    html: Path


def _write_csv(path: Path, rows: Sequence[dict], columns: Sequence[str]) -> Path:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
    return path


def write_summary(out_dir: Path, suite_name: str, outcomes: Sequence[RunOutcome],
                  rankings: Sequence[TaskRanking]) -> SummaryFiles:
    """Write the three CSV tables and ``summary.html`` into ``out_dir``."""
    runs = run_rows(outcomes, rankings, out_dir)
    tasks = task_rows(outcomes, rankings)
    failures = failure_rows(outcomes)
    run_cols = list(runs[0]) if runs else ["run"]
    task_cols = list(tasks[0]) if tasks else ["task"]
    fail_cols = ["stage", "reason", "count", "runs"]
    files = SummaryFiles(_write_csv(out_dir / artefacts.BATCH_RUNS_CSV, runs, run_cols),
                         _write_csv(out_dir / artefacts.BATCH_TASKS_CSV, tasks, task_cols),
                         _write_csv(out_dir / artefacts.BATCH_FAILURES_CSV, failures, fail_cols),
                         out_dir / artefacts.BATCH_SUMMARY_HTML)
    succeeded = sum(r.success for r in rankings)
    body = (f"<h1>batch summary: {esc(suite_name)}</h1>"
            f"<p>{succeeded} of {len(rankings)} tasks succeeded; {len(outcomes)} runs, "
            f"{sum(not o.ok for o in outcomes)} failed. "
            f'<a href=artefacts.REPORT>candidates side by side</a></p>'
            f"<h2>tasks</h2>{table(tasks, task_cols)}"
            f"<h2>failures by stage and reason</h2>{table(failures, fail_cols)}"
            f"<h2>runs</h2>{table(runs, run_cols)}")
    with atomic_path(files.html) as tmp:
        tmp.write_text(document(f"batch summary: {suite_name}", body))
    return files
