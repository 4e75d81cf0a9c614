"""The ``local`` executor: ``workers`` worker processes on this machine.

Each worker is a long-lived process (``python -m exoactor.batch.executors.local_worker``)
that runs one job after another, so the robot model and the controller load once per worker,
not once per run (as Ray's workers do). Jobs go to it pickled on its stdin, reports come back
on its stdout. A worker that dies (segfault, out-of-memory kill) takes down only the run it
was in: that job ends with the exit status, a fresh worker replaces it, and the other runs go
on (a shared ``ProcessPoolExecutor`` would break as a whole).

Workers are killed by the kernel when the batch dies (Linux), so killing the batch leaves no
orphan still writing into a run directory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from exoactor.batch.executors import Executor, executors
from exoactor.batch.outcome import JobEnd, WorkerReport
from exoactor.batch.plan import RunJob

logger = logging.getLogger(__name__)

WORKER_MODULE = "exoactor.batch.executors.local_worker"
"""Module a worker process runs."""


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _worker_env() -> dict[str, str]:
    """This process's environment, with the folder exoactor is imported from on PYTHONPATH
    (a source checkout works without an install) and, unless set, ``OMP_NUM_THREADS=1``: one
    run per core, as Ray does for a one-CPU task (so both executors compute alike)."""
    import exoactor

    src = str(Path(exoactor.__file__).resolve().parents[1])
    paths = [src, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(dict.fromkeys(paths)))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


@dataclass
class _Worker:
    proc: subprocess.Popen
    job: RunJob | None = None

    def send(self, job: RunJob) -> None:
        assert self.proc.stdin is not None
        self.job = job
        pickle.dump(job, self.proc.stdin)
        self.proc.stdin.flush()

    def receive(self) -> WorkerReport | None:
        """The report of the current job, or None when the worker died instead."""
        try:
            return pickle.load(self.proc.stdout)  # type: ignore[arg-type]
        except (EOFError, OSError, pickle.UnpicklingError):
            return None


class LocalConfig(BaseModel):
    """Settings of the ``local`` executor (none beyond the batch's ``workers``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@executors.register("local")
class LocalExecutor(Executor):
    """Worker processes on this machine (``workers`` at once, default: CPU cores)."""

    Config = LocalConfig

    def run(self, jobs: Sequence[RunJob]) -> Iterator[JobEnd]:
        size = min(self.workers or os.cpu_count() or 1, len(jobs))
        pending = deque(jobs)
        pool: list[_Worker] = []
        env = _worker_env()

        def spawn() -> None:
            proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, str(os.getpid())],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            pool.append(_Worker(proc))

        try:
            for _ in range(size):
                spawn()
            while pending or any(w.job for w in pool):
                for w in pool:
                    if w.job is None and pending:
                        # A worker that died before its job is reported by the read below.
                        with contextlib.suppress(OSError):
                            w.send(pending.popleft())
                        logger.info("%s: sent to worker %d", w.job.run_id, w.proc.pid)
                busy = {w.proc.stdout: w for w in pool if w.job is not None}
                for stream in wait(list(busy)):
                    w = busy[stream]  # type: ignore[index]
                    job, w.job = w.job, None
                    assert job is not None
                    report = w.receive()
                    if report is not None:
                        yield JobEnd(job, report)
                        continue
                    crash = _describe_exit(w.proc.wait())
                    logger.warning("%s: worker %d died (%s)", job.run_id, w.proc.pid, crash)
                    self._close(w)
                    pool.remove(w)
                    if pending:
                        spawn()
                    yield JobEnd(job, None, crash)
        finally:
            for w in pool:
                if w.job is not None:
                    logger.warning("%s: stopping its worker %d", w.job.run_id, w.proc.pid)
                    w.proc.terminate()
                self._close(w)
            for w in pool:
                try:
                    w.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    w.proc.kill()
                    w.proc.wait()

    @staticmethod
    def _close(w: _Worker) -> None:
        for stream in (w.proc.stdin, w.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
