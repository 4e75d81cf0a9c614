"""Benchmark of the report stage: seconds per second of input video, before and after, side by
side on the same run directory.

"Before" is the report code of a git revision (default ``main``), exported with
``git archive`` into a temporary folder; "after" is this checkout's. Each measurement builds
the report of a fresh copy of the run directory (its report outputs removed) in a subprocess
and times ``build_report`` alone: wall time, and CPU time of the process and its children (the
ffmpeg decoders and encoders, the plot process). Excluded, as in ``exoactor run`` where the
stages share a process: importing mujoco and loading the robot model (the track stage did
both), and importing matplotlib (the physics filter of the track stage plots its decisions;
``--cold-matplotlib`` counts the import). The two
versions alternate, ``--repeats`` times each, so machine load hits both alike; medians and the
after/before ratios are printed. CPU seconds are the figure to trust on a shared machine.

    EXOACTOR_ASSETS=../shared/assets MUJOCO_GL=egl python benchmarks/report.py \\
        --run runs/demo [--before main] [--repeats 2]

The run directory is one ``exoactor demo`` (or ``exoactor run``) wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPORT_OUTPUTS = ("report.html", "verdict.json", "side_by_side.mp4", "robot_motion.mp4",
                  "rollout.mp4", "robot_in_scene.mp4", "robot_in_scene.jpg")
"""Files a report writes (removed from each copy so nothing is reused)."""

_CHILD = r"""
import json, os, resource, sys, time
import logging
logging.basicConfig(level=logging.WARNING)
import mujoco, numpy  # imports are not the report's cost
if os.environ.get("BENCH_WARM_MATPLOTLIB", "1") == "1":
    import matplotlib.pyplot  # the track stage's physics filter imported it (its plot)
from exoactor.report.build import build_report
from exoactor.formats import load_npz
from exoactor.robots import get_robot
get_robot(str(numpy.load(sys.argv[1] + "/rollout.npz")["robot"]))  # loaded by track already
import exoactor.report.build as b
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
c0, t0 = cpu(), time.perf_counter()
build_report(sys.argv[1])
print(json.dumps({"wall_s": time.perf_counter() - t0, "cpu_s": cpu() - c0,
                  "module": b.__file__}))
"""


def _export(ref: str, repo: Path, dest: Path) -> Path:
    """``src/`` of git revision ``ref`` under ``dest``."""
    archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "src"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def _video_seconds(run: Path) -> float:
    import imageio_ffmpeg

    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(run / "video.mp4"))
    return float(seconds)


def _measure(src: Path, run: Path, scratch: Path, tag: str, cold_matplotlib: bool) -> dict:
    copy = scratch / tag
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(run, copy)
    for name in REPORT_OUTPUTS:
        (copy / name).unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(src))
    env["BENCH_WARM_MATPLOTLIB"] = "0" if cold_matplotlib else "1"
    env.setdefault("MUJOCO_GL", "egl")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(copy)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{tag}: report failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, default=Path("runs/demo"), help="a run directory")
    parser.add_argument("--before", default="main", help="git revision of the 'before' code")
    parser.add_argument("--repeats", type=int, default=2, help="measurements per version")
    parser.add_argument("--cold-matplotlib", action="store_true",
                        help="count importing matplotlib (a run without the physics filter)")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[1]
    run = args.run.resolve()
    if not (run / "video.mp4").is_file():
        sys.exit(f"{run} holds no video.mp4: pass --run a directory `exoactor demo` wrote")
    video_s = _video_seconds(run)
    with tempfile.TemporaryDirectory(prefix="exoactor-report-bench-") as tmp:
        scratch = Path(tmp)
        (scratch / "before_tree").mkdir()
        versions = {"before": _export(args.before, repo, scratch / "before_tree"),
                    "after": repo / "src"}
        results: dict[str, list[dict]] = {k: [] for k in versions}
        for i in range(args.repeats):
            for name, src in versions.items():
                r = _measure(src, run, scratch, f"{name}{i}", args.cold_matplotlib)
                results[name].append(r)
                print(f"  {name:6s} #{i}: wall {r['wall_s']:6.2f} s, cpu {r['cpu_s']:6.2f} s",
                      flush=True)
    print(f"\nreport stage on {run.name}: {video_s:.2f} s of video, {os.cpu_count()} CPUs, "
          f"before = {args.before}, median of {args.repeats}")
    med = {k: {m: statistics.median(r[m] for r in v) for m in ("wall_s", "cpu_s")}
           for k, v in results.items()}
    for name in versions:
        print(f"  {name:6s}: {med[name]['wall_s'] / video_s:5.2f} s wall per video-second, "
              f"{med[name]['cpu_s'] / video_s:5.2f} s CPU per video-second")
    print(f"  after / before: wall {med['after']['wall_s'] / med['before']['wall_s']:.2f}x, "
          f"cpu {med['after']['cpu_s'] / med['before']['cpu_s']:.2f}x "
          f"(speed-up {med['before']['wall_s'] / med['after']['wall_s']:.1f}x wall)")


if __name__ == "__main__":
    main()
