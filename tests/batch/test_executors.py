"""A suite of 4 motion runs on the local executor and on a one-node Ray cluster: identical results,
a crashed worker reported while the others finish, restarts that skip finished runs, and a Ray
cluster whose every process stays on 127.0.0.0/8."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exoactor.batch import BatchConfig, executors, run_batch
from exoactor.batch.worker import CRASH_ENV
from exoactor.errors import ExoActorError

AUDIT = Path(__file__).resolve().parent / "netaudit"
DRILL = "walk/c01:track"
"""The run whose worker is killed (SIGKILL) once its track stage is running."""

SUITE = """
name: smoke
config: {{report: false}}
tasks:
  - name: walk
    motion: [{walk1}, {walk2}]
  - name: mixed
    motion: [{swing}, {walk3}]
"""


def results_of(out: Path) -> dict:
    """The executor-independent results, read from a batch folder's results.json."""
    data = json.loads((out / "results.json").read_text())
    keys = ("run_id", "status", "failed_stage", "error", "verdict", "metrics")
    return {"runs": [{k: r[k] for k in keys} for r in data["runs"]], "tasks": data["tasks"]}


@pytest.fixture(scope="module")
def suite(motion_slices: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "suite.yaml"
    path.write_text(SUITE.format(**{k: str(v) for k, v in motion_slices.items()}))
    return path


@pytest.fixture(scope="module")
def local_batch(suite: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The suite on 2 local workers with the crash drill: (batch folder, result, results)."""
    out = tmp_path_factory.mktemp("local") / "batch"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CRASH_ENV, DRILL)
        result = run_batch(suite, out, BatchConfig(executor="local", workers=2))
    return out, result, results_of(out)


@pytest.mark.slow
def test_crashed_worker_is_reported_and_the_others_finish(local_batch) -> None:
    out, result, _ = local_batch
    assert [o.run_id for o in result.runs] == ["walk/c00", "walk/c01", "mixed/c00", "mixed/c01"]
    status = {o.run_id: (o.status, o.failed_stage) for o in result.runs}
    assert status == {"walk/c00": ("ok", None), "walk/c01": ("failed", "track"),
                      "mixed/c00": ("ok", None), "mixed/c01": ("ok", None)}
    crashed = result.runs[1]
    assert crashed.crashed and crashed.detail == "killed by SIGKILL"
    assert "worker process died while running stage 'track'" in crashed.error
    # The run directory is resumable: the motion stage is done, track is marked running.
    manifest = json.loads((crashed.run_dir / "manifest.json").read_text())
    assert {s: e["status"] for s, e in manifest["stages"].items()} == {"motion": "ok",
                                                                       "track": "running"}
    assert (crashed.run_dir / "robot_motion.npz").is_file()
    assert not (crashed.run_dir / "metrics.json").exists()
    assert all(o.verdict for o in result.runs if o.ok)
    assert result.failed == 1 and result.ran == 4 and result.skipped == 0
    # Best-of-N: walk's only finished candidate wins; the tables report the crash by stage.
    walk, mixed = result.tasks
    assert walk.winner == "walk/c00" and walk.failed == ("walk/c01",)
    assert mixed.winner in mixed.order and len(mixed.order) == 2
    failures = (out / "failures.csv").read_text()
    assert "track,the worker process died while running stage 'track'" in failures
    assert "walk/c01" in failures
    report = result.report.read_text()
    assert report.count('class="cand is-winner"') == 2 and "killed by SIGKILL" in report


@pytest.mark.slow
def test_restart_resumes_the_crashed_run_and_skips_finished_ones(local_batch, suite: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "batch"
    shutil.copytree(local_batch[0], out)
    crashed_dir = out / "runs" / "walk" / "c01"
    motion_stamp = (crashed_dir / "robot_motion.npz").stat().st_mtime_ns
    manifests = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/*/manifest.json")
                 if p.parent != crashed_dir}
    result = run_batch(suite, out, BatchConfig(executor="local", workers=2))
    assert (result.ran, result.skipped, result.failed) == (1, 3, 0)
    assert [o.skipped for o in result.runs] == [True, False, True, True]
    resumed = result.runs[1]
    assert resumed.ok and resumed.verdict and resumed.metrics
    # Resumed at the stage it died in: the motion stage was not redone.
    assert (crashed_dir / "robot_motion.npz").stat().st_mtime_ns == motion_stamp
    assert {p: p.stat().st_mtime_ns for p in manifests} == manifests
    assert result.results()["runs"][0] == local_batch[2]["runs"][0]
    again = run_batch(suite, out, BatchConfig(executor="local", workers=1))
    assert (again.ran, again.skipped) == (0, 4)
    assert again.results() == result.results()


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "true"],
                           capture_output=True, check=False)
    return probe.returncode == 0


_ADDR = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"')


def _non_loopback(strace_log: Path) -> list[str]:
    bad = []
    for line in strace_log.read_text().splitlines():
        if "AF_INET" not in line:
            continue
        for v4, v6 in _ADDR.findall(line):
            ip = ipaddress.ip_address(v4 or v6)
            mapped = getattr(ip, "ipv4_mapped", None)
            if not (ip.is_loopback or ip.is_unspecified or (mapped and mapped.is_loopback)):
                bad.append(line)
    return bad


@pytest.mark.slow
def test_ray_matches_local_and_stays_on_loopback(local_batch, suite: Path,
                                                 tmp_path: Path) -> None:
    """The same suite and drill on a one-node Ray cluster started by the executor, in a
    subprocess audited twice: an audit hook in every Python process (Ray's workers and agents
    included) and, where strace works, every connect/sendto of every process (gcs, raylet)."""
    pytest.importorskip("ray")
    out = tmp_path / "batch"
    audit_log = tmp_path / "net_audit.log"
    code = ("from exoactor.batch import BatchConfig, run_batch; "
            f"run_batch({str(suite)!r}, {str(out)!r}, BatchConfig(executor='ray', workers=2))")
    cmd = [sys.executable, "-c", code]
    strace_log = tmp_path / "strace.log"
    traced = _strace_works()
    if traced:
        cmd = ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o",
               str(strace_log), *cmd]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(AUDIT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        EXOACTOR_NET_AUDIT_LOG=str(audit_log), **{CRASH_ENV: DRILL})
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]

    assert results_of(out) == local_batch[2]
    assert "WorkerCrashedError" in json.loads((out / "results.json").read_text())["runs"][1][
        "detail"]
    lines = audit_log.read_text().splitlines()
    started = [line for line in lines if " start " in line]
    assert any("default_worker.py" in line for line in started), started  # workers audited
    assert [line for line in lines if " start " not in line] == []
    if traced:
        assert strace_log.stat().st_size > 0
        assert _non_loopback(strace_log) == []


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_killed_batch_restarts_and_skips_finished_runs(suite: Path, tmp_path: Path) -> None:
    out = tmp_path / "batch"
    code = ("from exoactor.batch import BatchConfig, run_batch; "
            f"run_batch({str(suite)!r}, {str(out)!r}, BatchConfig(workers=1))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("runs/*/*/batch_run.json")):
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.05)
        children = _descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # The workers die with the batch: nothing keeps writing into the run directories.
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in children)
    finished = {p.parent for p in out.glob("runs/*/*/batch_run.json")}
    assert 1 <= len(finished) < 4
    stamps = {d: (d / "manifest.json").stat().st_mtime_ns for d in finished}

    result = run_batch(suite, out, BatchConfig(workers=2))
    assert result.ok and result.skipped == len(finished) and result.ran == 4 - len(finished)
    assert {o.run_dir for o in result.runs if o.skipped} == finished
    assert {d: (d / "manifest.json").stat().st_mtime_ns for d in finished} == stamps


def test_one_batch_per_folder(suite: Path, tmp_path: Path) -> None:
    from exoactor.batch.run import batch_lock

    with batch_lock(tmp_path), pytest.raises(ExoActorError, match="another batch is running"):
        run_batch(suite, tmp_path)


def test_executor_registry_and_config() -> None:
    assert executors.names() == ["local", "ray"]
    with pytest.raises(ValueError, match="unknown executor 'dask'; available: local, ray"):
        BatchConfig(executor="dask")
    with pytest.raises(ValueError, match="workers"):
        BatchConfig(workers=0)


def test_crash_drill_must_name_a_planned_run(suite: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(CRASH_ENV, "walk/c09:track")
    with pytest.raises(ExoActorError, match="runs: walk/c00, walk/c01, mixed/c00, mixed/c01"):
        run_batch(suite, tmp_path)


def test_loopback_env_is_set_for_the_cluster_and_restored() -> None:
    pytest.importorskip("ray")
    from exoactor.batch.executors.ray_cluster import LOOPBACK_ENV, loopback_env

    before = dict(os.environ)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAY_ADDRESS", "10.0.0.1:6379")
        with loopback_env():
            assert "RAY_ADDRESS" not in os.environ
            assert all(os.environ[k] == v for k, v in LOOPBACK_ENV.items())
            assert os.environ["http_proxy"].startswith("http://127.0.0.1:")
        assert os.environ["RAY_ADDRESS"] == "10.0.0.1:6379"
    assert dict(os.environ) == before
