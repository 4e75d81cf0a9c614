"""Executors run a batch's jobs: one backend per file, registered by name.

An executor takes the planned jobs and yields a :class:`~exoactor.batch.outcome.JobEnd` as each
one ends. It only runs :func:`exoactor.batch.worker.execute_run` somewhere and says whether the
worker returned or died; the driver reads every outcome back from the run directory, so all
executors give identical results for identical runs.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from exoactor.registry import Registry

if TYPE_CHECKING:
    from exoactor.batch.config import BatchConfig
    from exoactor.batch.outcome import JobEnd
    from exoactor.batch.plan import RunJob


class Executor(abc.ABC):
    """Runs jobs in worker processes.

    Args:
        config: the batch's execution settings.
    """

    def __init__(self, config: BatchConfig):
        self.config = config

    @abc.abstractmethod
    def run(self, jobs: Sequence[RunJob]) -> Iterator[JobEnd]:
        """Run every job (at most ``config.workers`` at once); yield each as it ends.

        A worker that dies must not stop the others: its job ends with ``report=None`` and the
        reason in ``crash``. Closing the iterator early stops the workers still running.
        """


executors: Registry[type[Executor]] = Registry(
    "batch executor",
    builtin={"local": "exoactor.batch.executors.local",
             "ray": "exoactor.batch.executors.ray_cluster"},
    hints={"ray": "pip install 'exoactor[batch]' (ray==2.60.0)"},
)
"""Executor classes by name; ``executors.get("ray")(config).run(jobs)``."""

__all__ = ["Executor", "executors"]
