"""Batch runs and best-of-N selection: many tasks, many candidates, physics picks the winner.

Entry point: :func:`run_batch` (``exoactor batch SUITE.yaml --out DIR``). A suite
(:mod:`exoactor.batch.suite`) lists tasks; each (task, candidate) is one resumable run
directory; executors (:data:`executors`: ``local``, ``ray``) run them; :mod:`~exoactor.batch.ranking`
ranks the candidates of each task; the batch folder gets ``report.html`` (candidates side by
side), ``summary.html`` + ``summary.csv`` / ``runs.csv`` / ``failures.csv`` and ``results.json``.

Importing this package imports neither ray nor the simulator.
"""

from exoactor.batch.config import BatchConfig
from exoactor.batch.executors import Executor, executors
from exoactor.batch.outcome import RunOutcome
from exoactor.batch.plan import RunJob, plan_runs
from exoactor.batch.ranking import TaskRanking, rank_task, score_key
from exoactor.batch.run import BatchResult, run_batch
from exoactor.batch.suite import Suite, TaskSpec, load_suite

__all__ = ["BatchConfig", "BatchResult", "Executor", "RunJob", "RunOutcome", "Suite",
           "TaskRanking", "TaskSpec", "executors", "load_suite", "plan_runs", "rank_task",
           "run_batch", "score_key"]
