"""The ``ray`` executor: runs as Ray tasks, on a one-node cluster or an existing cluster.

* No ``address``: starts a one-node cluster with ``workers`` CPUs, bound to 127.0.0.1, and shuts
  it down at the end. Ray reaches out on its own (node-IP probe towards a public DNS address,
  cloud-metadata probes, usage stats), so for this cluster the executor sets, before importing
  ray and while the cluster lives (restored after), :data:`LOOPBACK_ENV`: usage stats off, the
  node IP taken as 127.0.0.1, and a dead HTTP proxy on 127.0.0.1:9 for any metadata request.
  The cluster's processes inherit these, so nothing it starts leaves 127.0.0.0/8
  (see ``shared/specs/infra-notes.md`` §0 and §3).
* ``address`` (``auto``, ``HOST:6379``, ``ray://HOST:10001``): connects to that cluster and
  leaves the network alone (reaching the cluster is the point). Every node must have exoactor
  installed and see the batch folder at the same path (shared storage). A cluster with token
  authentication (Ray's default for the clusters it starts) needs ``RAY_AUTH_MODE=token`` and
  its token (``~/.ray/auth_token`` or ``RAY_AUTH_TOKEN``) in the batch's environment.
* Ray already initialised in this process: uses it as it is and leaves it running.

Every run is one CPU task (``num_cpus=1``). The video-generation stage of an imagine run is a
separate task that requests ``gpus_per_generation`` GPUs; the CPU stages after it are a second
task. A worker that dies ends its run with the Ray error as the reason (``max_retries=0`` by
default, so a crash is reported rather than silently repeated).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exoactor.batch.executors import Executor, executors
from exoactor.batch.outcome import JobEnd, WorkerReport
from exoactor.batch.plan import RunJob
from exoactor.errors import ExoActorError

if importlib.util.find_spec("ray") is None:
    raise ImportError("the 'ray' package is not installed")

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'exoactor[batch]' (ray==2.60.0)"
"""Shown when this backend's dependencies are missing."""

LOOPBACK_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "http_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "no_proxy": "127.0.0.1,localhost",
    "NO_PROXY": "127.0.0.1,localhost",
}
"""Environment of a one-node cluster: keeps Ray and everything it starts on 127.0.0.0/8."""

_UNSET = ("RAY_ADDRESS",)
"""Variables removed while the one-node cluster starts (``RAY_ADDRESS`` would redirect it)."""

_NO_CLUSTER = ("could not connect to the Ray cluster at {address} ({error}); check the address "
               "(HOST:PORT of its GCS, or ray://HOST:10001), and for a cluster with token "
               "authentication (Ray's default for clusters it starts) set RAY_AUTH_MODE=token "
               "with the cluster's token in ~/.ray/auth_token or RAY_AUTH_TOKEN")
_NO_GPU = ("the video generation of {run} requests {gpus:g} GPU(s) but the Ray cluster has "
           "{have:g}; run on a cluster with GPUs or set gpus_per_generation=0 to generate on CPU")


@contextmanager
def loopback_env() -> Iterator[None]:
    """Set :data:`LOOPBACK_ENV` (and drop ``RAY_ADDRESS``) for the block; restore after."""
    saved = {k: os.environ.get(k) for k in (*LOOPBACK_ENV, *_UNSET)}
    os.environ.update(LOOPBACK_ENV)
    for k in _UNSET:
        os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _ray_execute(job: RunJob, part: str) -> WorkerReport:
    """Body of a Ray task (a module-level function: workers import it by name)."""
    from exoactor.batch.worker import execute_run

    return execute_run(job, part)  # type: ignore[arg-type]


class RayConfig(BaseModel):
    """Settings of the ``ray`` executor (``BatchConfig.executor_options``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str | None = None
    """Address of an existing cluster (``auto``, ``HOST:6379``, ``ray://HOST:10001``). None
    starts a one-node cluster bound to 127.0.0.1."""
    gpus_per_generation: float = Field(1.0, ge=0.0, le=8.0)
    """GPUs the video-generation stage of an imagine run requests (0: CPU). The other stages
    request none."""
    max_retries: int = Field(0, ge=0, le=10)
    """Times Ray re-runs a run whose worker died (0: report the crash; a re-run resumes the run
    directory)."""
    object_store_mb: int = Field(128, ge=80, le=1 << 20)
    """Object store of the one-node cluster [MiB] (jobs pass only small records)."""


@executors.register("ray")
class RayExecutor(Executor):
    """Ray tasks on a one-node cluster (default) or the cluster at ``address``."""

    Config = RayConfig
    config: RayConfig

    @contextmanager
    def _cluster(self) -> Iterator[Any]:
        if "ray" in sys.modules:
            import ray

            if ray.is_initialized():
                yield ray
                return
        if self.config.address:
            import ray

            try:
                ray.init(address=self.config.address, logging_level=logging.WARNING)
            except ConnectionError as exc:
                raise ExoActorError(_NO_CLUSTER.format(address=self.config.address,
                                                       error=exc)) from exc
            try:
                yield ray
            finally:
                ray.shutdown()
            return
        with loopback_env():
            import ray

            ray.init(address="local", num_cpus=self.workers or os.cpu_count() or 1,
                     include_dashboard=False, _node_ip_address="127.0.0.1",
                     object_store_memory=self.config.object_store_mb * 1024 * 1024,
                     logging_level=logging.WARNING)
            try:
                yield ray
            finally:
                ray.shutdown()

    def run(self, jobs: Sequence[RunJob]) -> Iterator[JobEnd]:
        gpu_jobs = any(j.needs_gpu for j in jobs)
        with self._cluster() as ray:
            task = ray.remote(num_cpus=1, max_retries=self.config.max_retries)(_ray_execute)
            have_gpus = float(ray.cluster_resources().get("GPU", 0.0)) if gpu_jobs else 0.0
            limit = self.workers if self.config.address else None
            pending = deque(jobs)
            refs: dict[Any, tuple[RunJob, str]] = {}
            try:
                while pending or refs:
                    while pending and (limit is None or len(refs) < limit):
                        job = pending.popleft()
                        gpus = self.config.gpus_per_generation
                        if gpu_jobs and job.needs_gpu:
                            if gpus > have_gpus:
                                yield JobEnd(job, WorkerReport(
                                    run_id=job.run_id, failed_stage="imagine",
                                    error=_NO_GPU.format(run=job.run_id, gpus=gpus,
                                                         have=have_gpus)))
                                continue
                            ref = task.options(num_gpus=gpus).remote(job, "generate")
                            refs[ref] = (job, "generate")
                        else:
                            refs[task.remote(job, "all")] = (job, "all")
                    if not refs:
                        continue
                    done, _ = ray.wait(list(refs), num_returns=1)
                    job, part = refs.pop(done[0])
                    report, crash = self._result(ray, done[0], job)
                    if part == "generate" and report is not None and not report.error:
                        refs[task.remote(job, "process")] = (job, "process")
                        continue
                    yield JobEnd(job, report, crash)
            finally:
                for ref in refs:
                    ray.cancel(ref, force=True)

    @staticmethod
    def _result(ray: Any, ref: Any, job: RunJob) -> tuple[WorkerReport | None, str | None]:
        try:
            return ray.get(ref), None
        except ray.exceptions.RayTaskError as exc:  # the task raised past execute_run
            cause = exc.cause if getattr(exc, "cause", None) is not None else exc
            first = (str(cause).strip().splitlines() or [""])[0]
            return WorkerReport(run_id=job.run_id, error=f"{type(cause).__name__}: {first}"), None
        except ray.exceptions.RayError as exc:  # worker or node died, task lost
            first = (str(exc).strip().splitlines() or [""])[0]
            return None, f"{type(exc).__name__}: {first[:300]}"
