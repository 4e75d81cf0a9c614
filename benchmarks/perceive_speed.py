"""Perceive speed, before and after side by side in one run: wall and CPU seconds per
video-second of the whole process (interpreter start-up, imports, ``perceive_video`` with
hands on and the overlay off, or on with ``--overlay`` as in ``exoactor run``), and of the
stage alone (the ``perceive_video`` call: what ``exoactor run`` reports as perceive's time),
for a git ref ("before") and the working tree ("after").

Each clip runs in a fresh subprocess, alternating before, after, before, after, ... so that
both see the same load. CPU time is the child's ``getrusage(RUSAGE_CHILDREN)`` user + system
(every thread of the child: MediaPipe's inference threads, the decode-ahead and hand
workers). The load average is printed before and after each run: on a shared machine only the
ratios after/before of runs made side by side mean something, and CPU time is the steadier
figure. On a machine loaded far beyond its cores, wall times measure the other jobs, not
this code; running the benchmark at real-time priority (``chrt -f 1``, root; the kernel still
leaves other jobs 5 % of each second) makes the two cores nearly this run's own for its few
minutes. Each run also prints a digest of the body joints (``HumanMotion.joints``): equal
digests mean the change left the body untouched; and the hands' detection rates.

    .venv/bin/python benchmarks/perceive_speed.py [CLIP ...] [--before REF] [--repeat 2]
        [--json F] [--overlay]

Defaults: the four 30 fps GenMimic clips of ``../shared/footage``, ``--before main``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "footage"
DEFAULT_CLIPS = ("gen_genmimic_raise_arms_and_grab_from_side.mp4",
                 "gen_genmimicbench_s1_A_office_fold_arms_wave.mp4",
                 "gen_genmimic_turn_around_and_pick_a_book.mp4",
                 "gen_genmimicbench_s3_A_gym_pick_up_weight.mp4")

CHILD = r"""
import hashlib, json, resource, sys, tempfile, time
from pathlib import Path
import numpy as np
from exoactor.perceive import PerceiveConfig, perceive_video
def cpu():
    return sum(getattr(resource.getrusage(who), f) for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
with tempfile.TemporaryDirectory() as d:
    c0, t0 = cpu(), time.perf_counter()
    r = perceive_video(sys.argv[1], Path(d) / "human.npz",
                       PerceiveConfig(overlay=sys.argv[2] == "overlay"))
    stage_wall, stage_cpu = time.perf_counter() - t0, cpu() - c0
    size = r.overlay_path.stat().st_size if r.overlay_path else None
m = r.metrics
print("RESULT " + json.dumps({
    "video_s": m.duration_s, "frames": m.frames, "stage_wall_s": stage_wall,
    "stage_cpu_s": stage_cpu, "overlay_bytes": size,
    "joints_sha": hashlib.sha1(np.ascontiguousarray(r.motion.joints).tobytes()).hexdigest()[:12],
    "hands_rate": m.hands["detection_rate"] if m.hands else None,
    "stage_per_s": m.seconds_per_video_second}))
"""


def checkout(ref: str, into: Path) -> Path:
    """The ``src`` tree of ``ref`` unpacked under ``into``; returns its ``src``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "src"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def run_once(src: Path, clip: Path, overlay: bool = False) -> dict:
    """One whole process on ``clip`` with ``src`` first on the path (the overlay video
    written too when ``overlay``): its figures."""
    env = dict(os.environ, PYTHONPATH=str(src), GLOG_minloglevel="2",
               TF_CPP_MIN_LOG_LEVEL="2")
    load0 = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(clip),
                           "overlay" if overlay else "none"], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{clip.name} with {src}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT "):])
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    out.update(wall_s=wall, cpu_s=cpu, wall_per_video_s=wall / out["video_s"],
               cpu_per_video_s=cpu / out["video_s"], load=(load0, os.getloadavg()[0]),
               stage_wall_per_video_s=out["stage_wall_s"] / out["video_s"],
               stage_cpu_per_video_s=out["stage_cpu_s"] / out["video_s"])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clips", nargs="*", type=Path)
    ap.add_argument("--before", default="main", help="git ref of the 'before' code")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each per clip")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--overlay", action="store_true",
                    help="write the overlay video too, as the run's perceive stage does")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    clips = args.clips or [FOOTAGE / c for c in DEFAULT_CLIPS]
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "src"],
                                capture_output=True, text=True).stdout.strip())
    after_name = f"{head}{'+dirty' if dirty else ''}"
    results: dict[str, dict[str, list[dict]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        srcs = {"before": checkout(args.before, Path(tmp)), "after": ROOT / "src"}
        print(f"before = {args.before}, after = {after_name} (working tree); cores "
              f"{os.cpu_count()}; load average at start {os.getloadavg()}")
        for clip in clips:
            runs: dict[str, list[dict]] = {"before": [], "after": []}
            for k in range(args.repeat):
                for name in ("before", "after"):
                    r = run_once(srcs[name], clip, args.overlay)
                    runs[name].append(r)
                    print(f"  {clip.name[:44]:44s} {name:6s} #{k}: wall {r['wall_s']:6.2f} s  "
                          f"cpu {r['cpu_s']:6.2f} s  video {r['video_s']:.2f} s  "
                          f"-> wall {r['wall_per_video_s']:.2f}  cpu {r['cpu_per_video_s']:.2f}"
                          f" s/video-s; stage wall {r['stage_wall_per_video_s']:.2f}  cpu "
                          f"{r['stage_cpu_per_video_s']:.2f}"
                          + (f"  overlay {r['overlay_bytes'] / 1e3:.0f} kB"
                             if r.get("overlay_bytes") else "")
                          + f"  load {r['load'][0]:.1f}->{r['load'][1]:.1f}  "
                          f"joints {r['joints_sha']}  hands {r['hands_rate']}", flush=True)
            results[clip.name] = runs
    fields = (("wall_per_video_s", "process wall"), ("cpu_per_video_s", "process cpu"),
              ("stage_wall_per_video_s", "stage wall"), ("stage_cpu_per_video_s", "stage cpu"))
    print("\nmedians (s per video-second), before -> after (after/before)")
    print(f"  {'clip':44s} " + " ".join(f"{label:>22s}" for _, label in fields) + "  body")
    for name, runs in results.items():
        med = {k: {f: statistics.median(r[f] for r in v) for f, _ in fields}
               for k, v in runs.items()}
        same = len({r["joints_sha"] for v in runs.values() for r in v}) == 1
        b, a = med["before"], med["after"]
        print(f"  {name[:44]:44s} " + " ".join(
            f"{b[f]:6.2f} -> {a[f]:5.2f} ({a[f] / b[f]:5.3f})" for f, _ in fields)
            + f"  {'identical' if same else 'differs'}")
    print(f"load average at end {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps({"before": args.before, "after": after_name,
                                         "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
