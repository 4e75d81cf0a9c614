"""How a batch runs: which executor, how many runs at once, which cluster."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class BatchConfig(BaseModel):
    """Execution settings of :func:`exoactor.batch.run_batch` (the suite says *what* runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    executor: str = "local"
    """Registered executor (``exoactor.batch.executors``): ``local`` (a pool of worker
    processes on this machine) or ``ray`` (a Ray cluster)."""
    workers: int | None = Field(None, ge=1, le=4096)
    """Runs at once. local: worker processes (default: CPU cores). ray: CPUs of the one-node
    cluster it starts (default: CPU cores), or the most runs in flight on an existing cluster
    (default: no limit, Ray schedules by resources)."""
    address: str | None = None
    """ray only: address of an existing cluster (``auto``, ``HOST:6379``,
    ``ray://HOST:10001``). None starts a one-node cluster bound to 127.0.0.1."""
    gpus_per_generation: float = Field(1.0, ge=0.0, le=8.0)
    """ray only: GPUs the video-generation stage of an imagine run requests (0: CPU). The other
    stages request none."""
    max_retries: int = Field(0, ge=0, le=10)
    """ray only: times Ray re-runs a run whose worker died (0: report the crash; a re-run
    resumes the run directory)."""
    object_store_mb: int = Field(128, ge=80, le=1 << 20)
    """ray only: object store of the one-node cluster [MiB] (jobs pass only small records)."""

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, name: str) -> str:
        from exoactor.batch.executors import executors

        if name not in executors.names():
            raise ValueError(f"unknown executor '{name}'; available: "
                             f"{', '.join(executors.names())}")
        return name
