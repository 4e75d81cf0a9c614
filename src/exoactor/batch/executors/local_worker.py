"""The local executor's worker process: ``python -m exoactor.batch.executors.local_worker``.

Reads pickled :class:`~exoactor.batch.plan.RunJob` objects on stdin, runs each with
:func:`~exoactor.batch.worker.execute_run`, and writes each pickled
:class:`~exoactor.batch.outcome.WorkerReport` on the original stdout; stops at end of input.
File descriptor 1 is pointed at stderr first, so nothing a library prints can corrupt the
report stream. On Linux the process asks the kernel to kill it when its parent dies, so
killing the batch leaves no orphan writing into a run directory. It ignores SIGINT: on Ctrl-C
the batch stops its workers itself (their runs stay resumable).

A process of its own (not ``multiprocessing``) so that a worker never re-imports the
caller's ``__main__`` script.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None) -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (and exit now if the
    parent ``parent`` is already gone)."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError):  # no glibc: no parent-death signal
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:
        sys.exit(0)


def serve(parent: int | None = None) -> None:
    """Run jobs from stdin until end of input.

    Args:
        parent: pid of the batch that started this worker.
    """
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle
    reports = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from exoactor.batch.worker import execute_run

    jobs = sys.stdin.buffer
    while True:
        try:
            job = pickle.load(jobs)
        except EOFError:
            return
        pickle.dump(execute_run(job), reports)
        reports.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else None)
