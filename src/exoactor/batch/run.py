"""Run a task suite: plan the runs, skip the finished ones, execute the rest, rank, report.

:func:`run_batch` is the library function behind ``exoactor batch``. It holds a lock on the
batch folder (one batch per folder at a time; the lock dies with the process), skips every run
whose run directory holds a finished run of the same job, hands the rest to the executor, and
reads each outcome back from its run directory as it ends. Killing the batch loses nothing:
finished runs stay finished, and an interrupted run resumes at the stage it was in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from exoactor import artefacts
from exoactor.batch.config import BatchConfig
from exoactor.batch.outcome import RunOutcome, is_finished, read_outcome, record_outcome
from exoactor.batch.plan import RunJob, plan_runs
from exoactor.batch.ranking import TaskRanking, rank_all
from exoactor.batch.report import write_batch_report
from exoactor.batch.suite import Suite, load_suite
from exoactor.batch.summary import SummaryFiles, write_summary
from exoactor.batch.worker import CRASH_ENV
from exoactor.errors import ExoActorError
from exoactor.fileio import write_json

logger = logging.getLogger(__name__)

LOCK_FILE = artefacts.BATCH_LOCK
_LOCKED = ("{out}: another batch is running on this folder (process {pid}); wait for it to "
           "finish or stop it, or give this batch another --out")
_BAD_DRILL = ("{var}={value!r}: expected '<task>/<cNN>:<stage>' naming a planned run; "
              "runs: {runs}")


@dataclass(frozen=True)
class BatchResult:
    """What :func:`run_batch` did."""

    out_dir: Path
    suite: str
    executor: str
    runs: tuple[RunOutcome, ...]
    """Every run of the suite, in plan order."""
    tasks: tuple[TaskRanking, ...]
    """Per task: candidates ranked, the winner, success."""
    report: Path
    """``report.html``: candidates side by side per task."""
    summary: SummaryFiles
    """``runs.csv``, ``summary.csv``, ``failures.csv``, ``summary.html``."""
    results_json: Path
    seconds: float
    """Wall time of the batch [s]."""

    @property
    def ran(self) -> int:
        return sum(not o.skipped for o in self.runs)

    @property
    def skipped(self) -> int:
        return sum(o.skipped for o in self.runs)

    @property
    def failed(self) -> int:
        return sum(not o.ok for o in self.runs)

    @property
    def ok(self) -> bool:
        """True when no run failed (a not-executable verdict is not a failure)."""
        return self.failed == 0

    @property
    def succeeded(self) -> int:
        """Tasks whose winner is executable or marginal."""
        return sum(t.success for t in self.tasks)

    def summary_lines(self) -> list[str]:
        """A short human summary (rich markup): one line per task, then the totals and files."""
        by_id = {o.run_id: o for o in self.runs}
        lines = []
        for t in self.tasks:
            mark = "[green]success[/]" if t.success else "[red]no executable candidate[/]"
            win = by_id.get(t.winner) if t.winner else None
            best = (f", winner {t.winner} ({win.verdict}, global error "
                    f"{win.metrics.get('global_body_error_max_m', float('nan')):.2f} m)"
                    if win else "")
            failed = f", {len(t.failed)} failed" if t.failed else ""
            lines.append(f"{t.task}: {mark}{best}; {len(t.order)} finished{failed}")
        lines.append(f"{self.succeeded} of {len(self.tasks)} tasks succeeded; {len(self.runs)} "
                     f"runs: {self.ran} ran, {self.skipped} already finished, {self.failed} "
                     f"failed ({self.seconds:.1f} s on {self.executor})")
        lines.append(f"report: {self.report}\nsummary: {self.summary.html} "
                     f"({self.summary.tasks_csv.name}, {self.summary.runs_csv.name}, "
                     f"{self.summary.failures_csv.name})")
        return lines

    def results(self) -> dict:
        """The executor-independent results (no times, paths or skip flags): what two
        executors must agree on."""
        return {"runs": [o.result_dict() for o in self.runs],
                "tasks": [asdict(t) for t in self.tasks]}


@contextlib.contextmanager
def batch_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on the batch folder for the block."""
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_FILE
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            raise ExoActorError(_LOCKED.format(out=out_dir, pid=fh.read().strip() or "?")
                                ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _apply_crash_drill(jobs: list[RunJob]) -> list[RunJob]:
    value = os.environ.get(CRASH_ENV, "").strip()
    if not value:
        return jobs
    targets = {}
    for item in value.split(","):
        run_id, _, stage = item.strip().rpartition(":")
        if not run_id or not stage or run_id not in {j.run_id for j in jobs}:
            raise ExoActorError(_BAD_DRILL.format(var=CRASH_ENV, value=value,
                                                  runs=", ".join(j.run_id for j in jobs)))
        targets[run_id] = stage
    logger.warning("crash drill: %s", targets)
    return [j.model_copy(update={"crash_at": targets[j.run_id]}) if j.run_id in targets else j
            for j in jobs]


def run_batch(suite: str | Path | Suite, out_dir: str | Path,
              config: BatchConfig | None = None) -> BatchResult:
    """Run every (task, candidate) of a suite, rank the candidates, write the reports.

    Args:
        suite: a suite file (YAML/JSON) or a loaded :class:`Suite`.
        out_dir: the batch folder (``runs/<task>/cNN`` run directories, reports, tables).
        config: executor and parallelism (default: local worker processes, one per core).

    Returns:
        Every run's outcome, the ranking per task and the files written. Failed runs do not
        raise: they are in the outcomes, the tables and the report.

    Raises:
        ExoActorError: invalid suite, unknown executor, or another batch on ``out_dir``.
    """
    from exoactor.batch.executors import executors
    from exoactor.ui import progress

    t0 = time.perf_counter()
    config = config or BatchConfig()
    suite = suite if isinstance(suite, Suite) else load_suite(suite)
    out = Path(out_dir).resolve()
    jobs = _apply_crash_drill(plan_runs(suite, out))
    executor = executors.build(config.executor, config.executor_options, workers=config.workers)
    with batch_lock(out):
        write_json(out / artefacts.BATCH_SUITE, suite.model_dump(mode="json"))
        outcomes: dict[str, RunOutcome] = {}
        todo = []
        for job in jobs:
            if is_finished(job):
                outcomes[job.run_id] = read_outcome(job, skipped=True)
            else:
                todo.append(job)
        logger.info("batch %s: %d runs, %d finished already, %d to run on %s", suite.name,
                    len(jobs), len(jobs) - len(todo), len(todo), config.executor)
        if todo:
            ends = executor.run(todo)
            with contextlib.closing(ends):  # type: ignore[type-var]
                for end in progress(ends, f"batch {suite.name}", total=len(todo), unit="run"):
                    outcome = read_outcome(end.job, end)
                    record_outcome(end.job, outcome)
                    outcomes[end.job.run_id] = outcome
                    log = logger.info if outcome.ok else logger.warning
                    log("%s: %s%s", outcome.run_id, outcome.status,
                        f" in {outcome.failed_stage}: {outcome.error}" if not outcome.ok
                        else f" ({outcome.verdict})")
        runs = tuple(outcomes[j.run_id] for j in jobs)
        tasks = tuple(rank_all(runs))
        summary = write_summary(out, suite.name, runs, tasks)
        report = write_batch_report(out, suite.name, runs, tasks)
        seconds = time.perf_counter() - t0
        results_json = out / artefacts.BATCH_RESULTS
        write_json(results_json, {"suite": suite.name, "executor": config.executor,
                                  "workers": config.workers, "seconds": round(seconds, 3),
                                  "runs": [o.to_json() for o in runs],
                                  "tasks": [asdict(t) for t in tasks]})
    return BatchResult(out, suite.name, config.executor, runs, tasks, report, summary,
                       results_json, seconds)
