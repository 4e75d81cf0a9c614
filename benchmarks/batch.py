"""Benchmark of batch throughput: the same suite with 1 and with 2 workers, per executor.

The suite is ``--runs`` motion runs (track only, no per-run report unless ``--report``), each a
``--seconds`` slice of a different shared reference motion
(``$EXOACTOR_ASSETS/twist2/motions``). Every configuration starts from an empty batch folder,
and its wall time includes the executor's start-up (forkserver and worker processes; for Ray,
the one-node cluster). Prints per configuration: wall time, runs per minute, mean compute
per run (the stages' own seconds), speed-up over 1 worker, and whether the results match the
first configuration's.

    EXOACTOR_ASSETS=../shared/assets python benchmarks/batch.py [--runs 8] [--seconds 1.5]
        [--executors local,ray] [--workers 1,2] [--report]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path


def _slices(root: Path, folder: Path, runs: int, seconds: float) -> list[Path]:
    from exoactor.formats import load_motion, save_npz

    files = sorted((root / "twist2" / "motions").glob("*.pkl"))
    if not files:
        sys.exit(f"no motions under {root}/twist2/motions; set EXOACTOR_ASSETS")
    out = []
    for i in range(runs):
        motion = load_motion(files[i % len(files)])
        start = round((0.5 + 1.0 * (i // len(files))) * motion.fps)
        stop = min(start + round(seconds * motion.fps) + 1, motion.num_frames)
        out.append(save_npz(motion.slice(start, stop), folder / f"m{i:02d}.npz"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="runs in the suite")
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each motion [s]")
    parser.add_argument("--executors", default="local,ray", help="comma-separated executors")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--report", action="store_true", help="also write each run's report")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("MUJOCO_GL", "egl")
    root = Path(os.environ.get("EXOACTOR_ASSETS", Path(__file__).resolve().parents[2] / "shared" / "assets"))

    from exoactor.batch import BatchConfig, run_batch
    from exoactor.batch.suite import validate_suite

    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="exoactor-batch-bench-") as tmp:
        tmp_path = Path(tmp)
        motions = _slices(root, tmp_path, args.runs, args.seconds)
        suite = validate_suite({"name": "bench", "root": str(tmp_path),
                                "config": {"report": args.report},
                                "tasks": [{"name": "bench", "motion": [str(m) for m in motions]}]})
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"suite: {args.runs} motion runs of {args.seconds:g} s (track"
              f"{' + report' if args.report else ''}), {os.cpu_count()} CPU cores, load "
              f"average before {load} (1/5/15 min; other users' processes count)")
        print(f"{'executor':8s} {'workers':>7s} {'wall s':>7s} {'runs/min':>8s} "
              f"{'compute s/run':>13s} {'speed-up':>8s} {'same results':>12s}")
        reference = None
        for executor in args.executors.split(","):
            base = None
            for n in workers:
                out = tmp_path / f"out-{executor}-{n}"
                t0 = time.perf_counter()
                result = run_batch(suite, out, BatchConfig(executor=executor, workers=n))
                wall = time.perf_counter() - t0
                compute = sum(sum(o.stage_seconds.values()) for o in result.runs) / args.runs
                base = base or wall
                same = result.results() == (reference or result.results())
                reference = reference or result.results()
                failed = f"  ({result.failed} failed)" if result.failed else ""
                print(f"{executor:8s} {n:7d} {wall:7.1f} {60 * args.runs / wall:8.1f} "
                      f"{compute:13.2f} {base / wall:7.2f}x {str(same):>12s}{failed}")
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average after {load}")


if __name__ == "__main__":
    main()
