"""The Ray executor's scheduling, against a stand-in ``ray`` module (no cluster, no GPU): what each
task requests, how imagine runs split into a GPU part and a CPU part, and how Ray errors map to
outcomes. The real one-node cluster runs in test_executors.py."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from exoactor.batch import BatchConfig, RunJob
from exoactor.batch.outcome import WorkerReport


class RayTaskError(Exception):
    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


class RayError(Exception):
    pass


class WorkerCrashedError(RayError):
    pass


class FakeRay(types.ModuleType):
    """Enough of ``ray`` for the executor: remote functions run at submission."""

    def __init__(self, gpus: float, fail: dict[str, Exception] | None = None):
        super().__init__("ray")
        self.exceptions = types.SimpleNamespace(RayTaskError=RayTaskError, RayError=RayError)
        self.gpus = gpus
        self.fail = fail or {}
        self.calls: list[tuple[str, str, dict]] = []
        self.cancelled: list[object] = []

    def is_initialized(self) -> bool:
        return True

    def cluster_resources(self) -> dict:
        return {"CPU": 2.0, **({"GPU": self.gpus} if self.gpus else {})}

    def remote(self, **defaults):  # noqa: ANN201
        fake = self

        class Remote:
            def __init__(self, opts: dict):
                self.opts = opts

            def options(self, **kw) -> Remote:  # noqa: ANN003
                return Remote({**self.opts, **kw})

            def remote(self, job: RunJob, part: str) -> tuple:
                fake.calls.append((job.run_id, part, self.opts))
                return (job.run_id, part)

        return lambda fn: Remote(dict(defaults))

    def wait(self, refs: list, num_returns: int = 1) -> tuple[list, list]:
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref: tuple) -> WorkerReport:
        run_id, part = ref
        if (run_id, part) in self.fail:
            raise self.fail[(run_id, part)]
        return WorkerReport(run_id=run_id)

    def cancel(self, ref: object, force: bool = False) -> None:
        self.cancelled.append(ref)


def _jobs(tmp_path: Path) -> list[RunJob]:
    common = {"task": "t", "run_dir": tmp_path}
    return [RunJob(run_id="t/c00", candidate=0, kind="imagine", text="wave", scene=tmp_path,
                   **common),
            RunJob(run_id="t/c01", candidate=1, kind="motion", input=tmp_path, **common)]


def _run(monkeypatch, fake: FakeRay, jobs: list[RunJob], **config) -> list:  # noqa: ANN003
    pytest.importorskip("ray")  # the executor module needs the package installed
    from exoactor.batch.executors import executors

    executors.get("ray")  # import the module before the fake replaces the package
    monkeypatch.setitem(sys.modules, "ray", fake)
    batch = BatchConfig(executor="ray", **config)
    return list(executors.build("ray", batch.executor_options, workers=batch.workers).run(jobs))


def test_generation_requests_a_gpu_and_the_rest_only_a_cpu(tmp_path: Path, monkeypatch) -> None:
    fake = FakeRay(gpus=1)
    ends = _run(monkeypatch, fake, _jobs(tmp_path))
    assert [(r, p, o.get("num_gpus", 0), o["num_cpus"]) for r, p, o in fake.calls] == [
        ("t/c00", "generate", 1.0, 1), ("t/c01", "all", 0, 1), ("t/c00", "process", 0, 1)]
    assert all(o["max_retries"] == 0 for _, _, o in fake.calls)
    assert sorted(e.job.run_id for e in ends) == ["t/c00", "t/c01"]
    assert all(e.report is not None and e.report.error is None for e in ends)


def test_no_gpu_in_the_cluster_fails_only_the_generation(tmp_path: Path, monkeypatch) -> None:
    fake = FakeRay(gpus=0)
    ends = {e.job.run_id: e for e in _run(monkeypatch, fake, _jobs(tmp_path))}
    assert [(r, p) for r, p, _ in fake.calls] == [("t/c01", "all")]
    report = ends["t/c00"].report
    assert report.failed_stage == "imagine"
    assert "requests 1 GPU(s) but the Ray cluster has 0" in report.error
    assert "gpus_per_generation=0" in report.error
    only_gpu = FakeRay(gpus=0)
    (end,) = _run(monkeypatch, only_gpu, _jobs(tmp_path)[:1])
    assert end.report.failed_stage == "imagine" and only_gpu.calls == []
    cpu = FakeRay(gpus=0)
    _run(monkeypatch, cpu, _jobs(tmp_path), gpus_per_generation=0)
    assert [(r, p, o.get("num_gpus")) for r, p, o in cpu.calls][0] == ("t/c00", "generate", 0.0)


def test_ray_errors_become_crashes_or_errors(tmp_path: Path, monkeypatch) -> None:
    fake = FakeRay(gpus=1, fail={
        ("t/c00", "generate"): WorkerCrashedError("The worker died unexpectedly\nmore"),
        ("t/c01", "all"): RayTaskError(SystemExit("bye"))})
    ends = {e.job.run_id: e for e in _run(monkeypatch, fake, _jobs(tmp_path))}
    assert ends["t/c00"].report is None
    assert ends["t/c00"].crash == "WorkerCrashedError: The worker died unexpectedly"
    assert ends["t/c01"].report.error == "SystemExit: bye"
    assert ("t/c00", "process") not in [(r, p) for r, p, _ in fake.calls]


def test_closing_early_cancels_what_is_in_flight(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("ray")
    from exoactor.batch.executors.ray_cluster import RayExecutor

    fake = FakeRay(gpus=1)
    monkeypatch.setitem(sys.modules, "ray", fake)
    jobs = _jobs(tmp_path)
    ends = RayExecutor().run([jobs[1], jobs[1].model_copy(
        update={"run_id": "t/c02"})])
    next(ends)
    ends.close()
    assert fake.cancelled == [("t/c02", "all")]
