"""How a batch runs: which executor, how many runs at once, which cluster."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RAY_FIELDS = ("address", "gpus_per_generation", "max_retries", "object_store_mb")
"""Settings of the ``ray`` executor that older configs gave at the top level."""


class BatchConfig(BaseModel):
    """Execution settings of :func:`exoactor.batch.run_batch` (the suite says *what* runs)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    executor: str = "local"
    """Registered executor (``exoactor.batch.executors``): ``local`` (a pool of worker
    processes on this machine) or ``ray`` (a Ray cluster)."""
    workers: int | None = Field(None, ge=1, le=4096)
    """Runs at once (given to every executor). local: worker processes (default: CPU cores).
    ray: CPUs of the one-node cluster it starts (default: CPU cores), or the most runs in
    flight on an existing cluster (default: no limit, Ray schedules by resources)."""
    executor_options: dict[str, Any] = Field(default_factory=dict)
    """Settings of the executor: fields of its ``Config`` (``ray``: ``address``,
    ``gpus_per_generation``, ``max_retries``, ``object_store_mb``; ``local``: none)."""

    @model_validator(mode="before")
    @classmethod
    def _ray_fields(cls, data: Any) -> Any:
        """Read the ``ray`` settings older configs gave at the top level (``address``, ...) as
        ``executor_options`` (other executors ignored them, and still do)."""
        if isinstance(data, dict) and any(k in data for k in RAY_FIELDS):
            data = dict(data)
            moved = {k: data.pop(k) for k in RAY_FIELDS if k in data}
            if data.get("executor", "local") == "ray":
                data["executor_options"] = {**moved, **dict(data.get("executor_options") or {})}
        return data

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, name: str) -> str:
        from exoactor.batch.executors import executors

        if name not in executors.names():
            raise ValueError(f"unknown executor '{name}'; available: "
                             f"{', '.join(executors.names())}")
        return name
