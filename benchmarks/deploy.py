"""Benchmark of the DDS deployment loop: ``exoactor sim-robot`` + ``exoactor deploy --sim``.

Two processes on loopback (a DDS domain of its own), the motion streamed end to end, then the
achieved rates and jitter printed: the deploy command loop (target 500 Hz), the 50 Hz controller
(clocked by the robot's tick), the simulated robot's state loop (500 Hz) and its real-time
factor, and the tracking error next to ``exoactor track`` on the same motion (start standing,
no drift correction). Both processes and this one share the machine's cores: the figures are
what this machine holds, not what a G1's onboard computer would.

    EXOACTOR_ASSETS=../shared/assets python benchmarks/deploy.py [--motion NAME] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _run(motion: Path, folder: Path, domain: int) -> tuple[dict, dict]:
    env = {**os.environ, "EXOACTOR_DDS_LOOPBACK_ONLY": "1"}
    exo = [sys.executable, "-m", "exoactor.cli"]
    sim_dir, dep_dir = folder / "sim", folder / "deploy"
    with open(folder / "sim.log", "w") as sim_log, open(folder / "deploy.log", "w") as dep_log:
        sim = subprocess.Popen([*exo, "sim-robot", "--domain-id", str(domain), "--out", str(sim_dir)],
                               stdout=sim_log, stderr=subprocess.STDOUT, env=env)
        try:
            time.sleep(2.0)
            code = subprocess.call([*exo, "deploy", str(motion), "--sim", "--domain-id", str(domain),
                                    "--out", str(dep_dir), "--stale-ms", "300"],
                                   stdout=dep_log, stderr=subprocess.STDOUT, env=env)
        finally:
            sim.send_signal(2)
            sim.wait(timeout=20)
    if code != 0:
        sys.exit(f"deploy exited {code}; see {folder / 'deploy.log'}")
    return (json.loads((dep_dir / "deploy_metrics.json").read_text()),
            json.loads((sim_dir / "sim_robot.json").read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motion", default="0807_yanjie_walk_010.pkl")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    from exoactor.assets import resolve_asset
    from exoactor.control import DriftConfig, TrackConfig, track_motion
    from exoactor.formats import load_motion

    motion = resolve_asset("g1_motions") / args.motion
    ref = track_motion(load_motion(motion), TrackConfig(start="blend",
                                                        drift=DriftConfig(enabled=False)))
    print(f"motion {args.motion}: exoactor track (blend start, no drift correction): mean joint "
          f"error {ref.metrics.mean_joint_error_rad:.4f} rad, key bodies "
          f"{ref.metrics.key_body_error_mm:.0f} mm, fell {ref.metrics.fell}")
    header = (f"{'run':>3} {'status':>10} {'jerr rad':>9} {'x track':>7} {'body mm':>7} "
              f"{'cmd Hz':>7} {'cmd p99 ms':>10} {'cmd max ms':>10} {'overruns':>8} "
              f"{'ctl Hz':>6} {'ctl p99 ms':>10} {'state Hz':>8} {'state p99':>9} {'sim RTF':>7}")
    print(header)
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            dep, sim = _run(motion, Path(tmp), 180 + i)
        low, ctl, st = dep["low_level_loop"], dep["control_loop"], sim["loop"]
        print(f"{i:>3} {dep['status']:>10} {dep.get('mean_joint_error_rad', float('nan')):>9.4f} "
              f"{dep.get('mean_joint_error_rad', float('nan')) / ref.metrics.mean_joint_error_rad:>7.2f} "
              f"{dep.get('key_body_error_mm', float('nan')):>7.0f} {low['achieved_hz']:>7.1f} "
              f"{low['jitter_p99_ms']:>10.2f} {low['period_max_ms']:>10.1f} {low['overruns']:>8} "
              f"{ctl['achieved_hz']:>6.1f} {ctl['jitter_p99_ms']:>10.2f} {st['achieved_hz']:>8.1f} "
              f"{st['jitter_p99_ms']:>9.2f} {sim['real_time_factor']:>7.2f}")


if __name__ == "__main__":
    main()
