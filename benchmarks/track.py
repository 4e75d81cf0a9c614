"""Benchmark of the track stage on the shared reference motions.

Runs every motion in ``$EXOACTOR_ASSETS/twist2/motions`` (11 files) with TWIST2 and prints:

1. per motion: fall, joint / key-body errors, clip-end drift without and with drift
   correction, the settled drift (after the reference has held its end position for the
   streamer's hold + return, 1.5 s), real-time factor; then the totals and the issue's
   done-when checks;
2. the effect of each drift-correction part (cumulative ablation, then leaving out each of
   parts 7-9 from the full set; ``--seeds N`` repeats every run with N seeds of 0.01 rad
   reference noise to average out the chaotic spread);
3. noise robustness: 0.05 rad Gaussian noise on the reference joints, 3 seeds.

One process, one ONNX thread, no parallel pool (the real-time factor is a one-core figure).

    EXOACTOR_ASSETS=../shared/assets python benchmarks/track.py [--seeds 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from exoactor.control import DriftConfig, TrackConfig, track_motion
from exoactor.formats import load_motion

PARTS = [
    ("heading loop", "heading"),
    ("+ velocity loop", "velocity"),
    ("+ heading re-plan", "replan_heading"),
    ("+ steering", "steer"),
    ("+ time re-plan: speed", "replan_time"),
    ("+ time re-plan: crab wait", "crab_wait"),
    ("+ stop-aware end (stance)", "stance"),
    ("+ settle after the clip", "settle"),
    ("+ stride adaptation", "stride"),
]
"""Drift-correction parts in the order the cumulative ablation switches them on."""
ABLATION = [("off", {"enabled": False})] + [
    (label, {key: False for _, key in PARTS[i + 1:]}) for i, (label, _) in enumerate(PARTS)
] + [(f"all but {key}", {key: False}) for key in ("stance", "settle", "stride")]
"""Cumulative ablation, then leave-one-out of the parts added for the clip end (7-9)."""


def motion_files() -> list[Path]:
    root = Path(os.environ.get("EXOACTOR_ASSETS", Path(__file__).resolve().parents[2] / "shared" / "assets"))
    files = sorted((root / "twist2" / "motions").glob("*.pkl"))
    if not files:
        sys.exit(f"no motions under {root}/twist2/motions; set EXOACTOR_ASSETS")
    return files


def run(motion, drift: dict, noise_rad: float = 0.0, seed: int = 0):
    cfg = TrackConfig(drift=DriftConfig(**drift),
                      reference={"joint_noise_rad": noise_rad, "noise_seed": seed})
    return track_motion(motion, cfg).metrics


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=1,
                    help="runs per motion in the ablation (seed 0 clean, others 0.01 rad noise)")
    ap.add_argument("--noise-seeds", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None, help="also write all figures here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    files = motion_files()
    motions = [load_motion(f) for f in files]
    names = [f.stem.replace("0807_yanjie_", "").replace("___", "_")[:16] for f in files]
    out: dict = {"motions": names}
    t0 = time.perf_counter()

    # 1. per-motion table: drift correction off vs on (clean references)
    off = [run(m, {"enabled": False}) for m in motions]
    on = [run(m, {}) for m in motions]
    head = (f"{'motion':16s} {'drop':>4s} {'fell':>6s} {'jerr':>6s} {'kb_mm':>6s} "
            f"{'xy_end m':>12s} {'xy_mean m':>12s} {'yaw_end deg':>13s} {'xy_settled':>12s} "
            f"{'rtf':>5s}")
    print("\n== per motion (drift correction off -> on; errors with correction on) ==")
    print(head)
    for n, a, b in zip(names, off, on):
        print(f"{n:16s} {b.dropped_frames:4d} {int(a.fell):>2d}->{int(b.fell):<2d} "
              f"{b.mean_joint_error_rad:6.3f} {b.key_body_error_mm:6.1f} "
              f"{a.root_xy_error_end_m:5.2f}->{b.root_xy_error_end_m:<5.2f} "
              f"{a.root_xy_error_mean_m:5.2f}->{b.root_xy_error_mean_m:<5.2f} "
              f"{a.yaw_error_end_deg:5.1f}->{b.yaw_error_end_deg:<6.1f} "
              f"{a.root_xy_error_settled_m:5.2f}->{b.root_xy_error_settled_m:<5.2f} "
              f"{b.real_time_factor:5.1f}")

    def mean(rows, key):
        return float(np.mean([getattr(r, key) for r in rows]))

    print(f"{'TOTAL/mean':16s} {sum(r.dropped_frames for r in on):4d} "
          f"{sum(r.fell for r in off):>2d}->{sum(r.fell for r in on):<2d} "
          f"{mean(on, 'mean_joint_error_rad'):6.3f} {mean(on, 'key_body_error_mm'):6.1f} "
          f"{mean(off, 'root_xy_error_end_m'):5.2f}->{mean(on, 'root_xy_error_end_m'):<5.2f} "
          f"{mean(off, 'root_xy_error_mean_m'):5.2f}->{mean(on, 'root_xy_error_mean_m'):<5.2f} "
          f"{mean(off, 'yaw_error_end_deg'):5.1f}->{mean(on, 'yaw_error_end_deg'):<6.1f} "
          f"{mean(off, 'root_xy_error_settled_m'):5.2f}->"
          f"{mean(on, 'root_xy_error_settled_m'):<5.2f} "
          f"{mean(on, 'real_time_factor'):5.1f}")
    out["off"] = [r.to_dict() for r in off]
    out["on"] = [r.to_dict() for r in on]

    # 2. each part's effect (cumulative), optionally averaged over seeds
    print(f"\n== drift correction, part by part ({args.seeds} run(s) per motion"
          + (", seeds > 0 with 0.01 rad reference noise" if args.seeds > 1 else "") + ") ==")
    print(f"{'config':26s} {'falls':>7s} {'xy_end m':>9s} {'xy_mean m':>10s} {'settled':>8s} "
          f"{'yaw_end':>8s} {'jerr':>7s}   xy_end per motion")
    out["ablation"] = {}
    for label, drift in ABLATION:
        rows = []
        for seed in range(args.seeds):
            if seed == 0 and label == "off":
                rows.extend(off)
            elif seed == 0 and drift == {}:
                rows.extend(on)
            else:
                rows.extend(run(m, drift, 0.01 if seed else 0.0, seed) for m in motions)
        per = np.array([r.root_xy_error_end_m for r in rows]).reshape(args.seeds, -1).mean(0)
        print(f"{label:26s} {sum(r.fell for r in rows):3d}/{len(rows):<3d} "
              f"{mean(rows, 'root_xy_error_end_m'):9.3f} {mean(rows, 'root_xy_error_mean_m'):10.3f} "
              f"{np.nanmean([r.root_xy_error_settled_m for r in rows]):8.3f} "
              f"{mean(rows, 'yaw_error_end_deg'):8.2f} {mean(rows, 'mean_joint_error_rad'):7.4f}   "
              + " ".join(f"{x:.2f}" for x in per))
        out["ablation"][label] = {"falls": int(sum(r.fell for r in rows)), "runs": len(rows),
                                  "xy_end_m": mean(rows, "root_xy_error_end_m"),
                                  "xy_mean_m": mean(rows, "root_xy_error_mean_m"),
                                  "xy_settled_m": float(np.nanmean(
                                      [r.root_xy_error_settled_m for r in rows])),
                                  "yaw_end_deg": mean(rows, "yaw_error_end_deg"),
                                  "joint_error_rad": mean(rows, "mean_joint_error_rad")}

    # 3. noise robustness: 0.05 rad on the reference joints, default configuration
    noisy = [run(m, {}, 0.05, seed) for seed in range(1, args.noise_seeds + 1)
             for m in motions]
    falls = sum(r.fell for r in noisy)
    print(f"\n== noise 0.05 rad on reference joints, {args.noise_seeds} seeds, drift correction on ==")
    print(f"falls {falls}/{len(noisy)}  mean joint error {mean(noisy, 'mean_joint_error_rad'):.4f} rad"
          f"  xy_end {mean(noisy, 'root_xy_error_end_m'):.3f} m  "
          f"yaw_end {mean(noisy, 'yaw_error_end_deg'):.2f} deg")
    out["noise"] = {"falls": int(falls), "runs": len(noisy),
                    "joint_error_rad": mean(noisy, "mean_joint_error_rad")}

    # done-when checks of issue 3
    checks = [
        ("no fall on the 11 motions (correction on)", sum(r.fell for r in on) == 0),
        ("mean joint error <= 0.09 rad", mean(on, "mean_joint_error_rad") <= 0.09),
        ("mean clip-end yaw error <= 5 deg (correction on)", mean(on, "yaw_error_end_deg") <= 5),
        ("mean clip-end xy error <= 0.4 m (correction on)", mean(on, "root_xy_error_end_m") <= 0.4),
        ("(aim) mean clip-end xy error <= 0.25 m (correction on)",
         mean(on, "root_xy_error_end_m") <= 0.25),
        ("no more falls with correction than without",
         sum(r.fell for r in on) <= sum(r.fell for r in off)),
        ("noise: at most 1 fall in 33 runs", falls <= max(1, len(noisy) // 33)),
        ("real-time factor >= 10 (one core)", min(r.real_time_factor for r in on) >= 10),
    ]
    print("\n== done-when ==")
    for text, ok in checks:
        print(f"[{'x' if ok else ' '}] {text}")
    print(f"\nbenchmark wall time {time.perf_counter() - t0:.0f} s")
    out["checks"] = {text: bool(ok) for text, ok in checks}
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=float))


if __name__ == "__main__":
    main()
