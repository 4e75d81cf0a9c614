"""Benchmark of the report stage: seconds per second of input video, before and after, side by
side on the same run directories.

"Before" is the report code of a git revision (default ``main``), exported with
``git archive`` into a temporary folder; "after" is this checkout's. Each measurement builds
the report of a fresh copy of the run directory (its report outputs removed) in a subprocess
and times ``build_report`` alone: wall time, and CPU time of the process and its children (the
ffmpeg decoders and encoders, the plot process, the render process). Excluded, as in
``exoactor run`` where the stages share a process: importing mujoco and loading the robot
model (the track stage did both), and importing matplotlib (the physics filter of the track
stage plots its decisions; ``--cold-matplotlib`` counts the import). The two versions
alternate, ``--repeats`` times each, so machine load hits both alike; per run directory the
medians of wall and CPU seconds per video-second and the after/before ratios are printed, and
at the end a table of all of them. Wall time is the report's figure on 2 free cores; on a
loaded machine only the side-by-side ratio means something, and CPU seconds are the figure to
trust for the work done.

``--check-identical`` keeps each version's first report and compares them: every video byte
for byte and frame by frame, the thumbnail and ``verdict.json`` byte for byte, and
``report.html`` with the plots' SVG ids and dates (which matplotlib draws afresh) masked.

    EXOACTOR_ASSETS=../shared/assets MUJOCO_GL=egl python benchmarks/report.py \\
        --run runs/demo [runs/other ...] [--before main] [--repeats 2] [--check-identical]

Each run directory is one ``exoactor demo`` (or ``exoactor run``) wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
if os.environ.get("BENCH_RENDER_PROCESS"):  # force the "after" version's render process on/off
    import exoactor.report.scene_video as sv
    if hasattr(sv, "RENDER_PROCESS"):
        sv.RENDER_PROCESS = os.environ["BENCH_RENDER_PROCESS"] == "1"
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


def _measure(src: Path, run: Path, scratch: Path, tag: str, cold_matplotlib: bool,
             render_process: bool | None = None) -> dict:
    """Build the report of a fresh copy of ``run`` (``scratch / tag``) with the code under
    ``src``; its wall and CPU seconds."""
    copy = scratch / tag
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(run, copy)
    for name in REPORT_OUTPUTS:
        (copy / name).unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(src))
    env.pop("BENCH_RENDER_PROCESS", None)
    if render_process is not None:
        env["BENCH_RENDER_PROCESS"] = "1" if render_process else "0"
    env["BENCH_WARM_MATPLOTLIB"] = "0" if cold_matplotlib else "1"
    env.setdefault("MUJOCO_GL", "egl")
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(copy)], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{tag}: report failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _frames(path: Path) -> list:
    import imageio_ffmpeg
    import numpy as np

    gen = imageio_ffmpeg.read_frames(str(path))
    w, h = next(gen)["size"]
    return [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen]


_SVG_ID = re.compile(r"\b[a-z]?[0-9a-f]{10,}\b|<dc:date>[^<]*</dc:date>")
"""What matplotlib draws afresh in each SVG: ids (hashes) and the date."""


def _identical(a: Path, b: Path) -> tuple[bool, list[str]]:
    """Whether two report outputs are the same (see ``--check-identical``), and what was
    compared."""
    import numpy as np

    ok, lines = True, []
    for name in REPORT_OUTPUTS:
        pa, pb = a / name, b / name
        if not pa.exists() and not pb.exists():
            continue
        if pa.exists() != pb.exists():
            lines.append(f"{name}: only in {'before' if pa.exists() else 'after'}")
            ok = False
            continue
        same = pa.read_bytes() == pb.read_bytes()
        if name.endswith(".mp4"):
            fa, fb = _frames(pa), _frames(pb)
            diff = sum(int(np.count_nonzero(x != y)) for x, y in zip(fa, fb))
            lines.append(f"{name}: {len(fa)} / {len(fb)} frames, {diff} differing pixel values, "
                         f"bytes {'identical' if same else 'differ'}")
            ok &= same and diff == 0 and len(fa) == len(fb)
        elif name == "report.html":
            ta, tb = (_SVG_ID.sub("#", p.read_text()).splitlines() for p in (pa, pb))
            n = sum(x != y for x, y in zip(ta, tb)) + abs(len(ta) - len(tb))
            lines.append(f"{name}: {n} lines differ (SVG ids and dates masked)")
            ok &= n == 0
        else:
            lines.append(f"{name}: bytes {'identical' if same else 'differ'}")
            ok &= same
    return ok, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, nargs="+", default=[Path("runs/demo")],
                        help="run directories")
    parser.add_argument("--before", default="main", help="git revision of the 'before' code")
    parser.add_argument("--repeats", type=int, default=2, help="measurements per version")
    parser.add_argument("--cold-matplotlib", action="store_true",
                        help="count importing matplotlib (a run without the physics filter)")
    parser.add_argument("--render-process", type=lambda v: v == "on", default=None,
                        metavar="on|off", help="force the 'after' version's render process on "
                        "or off (default: as the code decides: RENDER_PROCESS, off)")
    parser.add_argument("--check-identical", action="store_true",
                        help="compare the two versions' reports (videos frame by frame)")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[1]
    runs = [r.resolve() for r in args.run]
    for run in runs:
        if not (run / "video.mp4").is_file():
            sys.exit(f"{run} holds no video.mp4: pass --run directories `exoactor demo` wrote")
    table = []
    with tempfile.TemporaryDirectory(prefix="exoactor-report-bench-") as tmp:
        scratch = Path(tmp)
        (scratch / "before_tree").mkdir()
        versions = {"before": _export(args.before, repo, scratch / "before_tree"),
                    "after": repo / "src"}
        for run in runs:
            video_s = _video_seconds(run)
            print(f"{run.name} ({video_s:.2f} s of video):", flush=True)
            results: dict[str, list[dict]] = {k: [] for k in versions}
            for i in range(args.repeats):
                for name, src in versions.items():
                    r = _measure(src, run, scratch, f"{name}{i}", args.cold_matplotlib,
                                 args.render_process if name == "after" else None)
                    results[name].append(r)
                    print(f"  {name:6s} #{i}: wall {r['wall_s']:6.2f} s, cpu {r['cpu_s']:6.2f} s",
                          flush=True)
            med = {k: {m: statistics.median(r[m] for r in v) / video_s
                       for m in ("wall_s", "cpu_s")} for k, v in results.items()}
            for name in versions:
                print(f"  {name:6s}: {med[name]['wall_s']:5.2f} s wall per video-second, "
                      f"{med[name]['cpu_s']:5.2f} s CPU per video-second "
                      f"(median of {args.repeats})")
            wall_x = med["after"]["wall_s"] / med["before"]["wall_s"]
            cpu_x = med["after"]["cpu_s"] / med["before"]["cpu_s"]
            print(f"  after / before: wall {wall_x:.2f}x, cpu {cpu_x:.2f}x")
            same = None
            if args.check_identical:
                same, lines = _identical(scratch / "before0", scratch / "after0")
                for line in lines:
                    print(f"    {line}")
                print(f"  outputs {'IDENTICAL' if same else 'DIFFER'}")
            table.append((run.name, video_s, med, wall_x, cpu_x, same))
    print(f"\nreport stage, s per video-second, median of {args.repeats}, before = {args.before}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end")
    print("| run | video s | wall before | wall after | wall after/before | CPU before | "
          "CPU after | CPU after/before |" + (" identical |" if args.check_identical else ""))
    print("|---|---|---|---|---|---|---|---|" + ("---|" if args.check_identical else ""))
    for name, video_s, med, wall_x, cpu_x, same in table:
        print(f"| {name} | {video_s:.2f} | {med['before']['wall_s']:.2f} | "
              f"{med['after']['wall_s']:.2f} | {wall_x:.2f}x | {med['before']['cpu_s']:.2f} | "
              f"{med['after']['cpu_s']:.2f} | {cpu_x:.2f}x |"
              + ((" yes |" if same else " NO |") if args.check_identical else ""))


if __name__ == "__main__":
    main()
