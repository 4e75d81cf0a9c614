"""Executors run a batch's jobs: one backend per file, registered by name.

An executor takes the planned jobs and yields a :class:`~exoactor.batch.outcome.JobEnd` as each
one ends. It only runs :func:`exoactor.batch.worker.execute_run` somewhere and says whether the
worker returned or died; the driver reads every outcome back from the run directory, so all
executors give identical results for identical runs.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel

from exoactor.registry import Registry

if TYPE_CHECKING:
    from exoactor.batch.outcome import JobEnd
    from exoactor.batch.plan import RunJob


class Executor(abc.ABC):
    """Runs jobs in worker processes.

    Built by ``executors.build(name, options, workers=...)`` (:mod:`exoactor.registry`).

    Args:
        config: the executor's own settings (its ``Config``, from
            ``BatchConfig.executor_options``).
        workers: runs at once (``BatchConfig.workers``; None: the executor's default).
    """

    Config: ClassVar[type[BaseModel]]

    def __init__(self, config: BaseModel | None = None, *, workers: int | None = None):
        self.config = config if config is not None else self.Config()
        self.workers = workers

    @abc.abstractmethod
    def run(self, jobs: Sequence[RunJob]) -> Iterator[JobEnd]:
        """Run every job (at most ``workers`` at once); yield each as it ends.

        A worker that dies must not stop the others: its job ends with ``report=None`` and the
        reason in ``crash``. Closing the iterator early stops the workers still running.
        """


executors: Registry[type[Executor]] = Registry(
    kind="batch executor", package="exoactor.batch.executors", variable="executors")
"""Executor classes by name, one module each in this package;
``executors.build("ray", options, workers=4).run(jobs)``."""

__all__ = ["Executor", "executors"]
