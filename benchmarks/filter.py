"""Benchmark of the physics filter: raw tracker vs filtered, per motion, in one run.

Motions: the 11 TWIST2 motions in ``$EXOACTOR_ASSETS/twist2/motions``, the 5 Kimodo CSVs in
``$EXOACTOR_ASSETS/kimodo`` (wxyz, 30 fps, read by :func:`load_kimodo_csv` below), and
``stand`` (walk_001's first frame held 5 s with 1 cm of root-position noise per 30 fps frame,
as perception would deliver a person standing still).

For every motion one call of :func:`exoactor.control.filter.filter_motion` runs the raw tracker
(today's loop, drift correction off) and the filter on the same loop, and the table shows both
(``kept``: which whole run the filter kept, ``filtered``, ``raw`` or ``corrector``):
fall, clip-end xy error, how late the clip end came (``late``: control seconds after the clip's
nominal end at which the reference clock reached it, under a time warp), yaw error, settled xy
(after hold + return to standing), mean joint error, key-body error, and wall seconds per
motion-second (filter: planning and execution; raw: the plain loop). Then the means over all
rows and over the 16 shared motions (``raw16``/``filt16``: ``stand`` left out), and the issue's
done-when checks.

    EXOACTOR_ASSETS=../shared/assets python benchmarks/filter.py [--only walk_001 kimodo_wave]
        [--workers 2] [--candidates 19] [--json out.json] [--no-warp]
        [--set '{"weights": {"clock_lag": 0.02}}']
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from exoactor.batch.suite import deep_merge
from exoactor.control.filter import FilterConfig, filter_motion
from exoactor.formats import load_motion
from exoactor.formats.motion import RobotMotion

KIMODO_FPS = 30.0


def assets() -> Path:
    return Path(os.environ.get("EXOACTOR_ASSETS",
                               Path(__file__).resolve().parents[2] / "shared" / "assets"))


def load_kimodo_csv(path: Path) -> RobotMotion:
    """A Kimodo G1 CSV: no header, 30 fps, columns root xyz [m], root quat wxyz, 29 joints
    (MuJoCo order) [rad] (``kimodo/SOURCE.md``)."""
    from exoactor.control.twist2 import TWIST2_JOINTS

    data = np.loadtxt(path, delimiter=",", ndmin=2)
    if data.shape[1] != 36:
        sys.exit(f"{path}: {data.shape[1]} columns, a Kimodo G1 CSV has 36")
    quat = data[:, 3:7] / np.linalg.norm(data[:, 3:7], axis=1, keepdims=True)
    return RobotMotion(robot="g1", fps=KIMODO_FPS, joint_names=tuple(TWIST2_JOINTS),
                       root_pos=data[:, 0:3], root_quat=quat, dof_pos=data[:, 7:36],
                       source=str(path))


def standing(walk: RobotMotion, seconds: float = 5.0, noise_m: float = 0.01,
             seed: int = 0) -> RobotMotion:
    """``walk``'s first frame held ``seconds``, with ``noise_m`` root-position noise per frame."""
    n = int(seconds * walk.fps)
    rng = np.random.default_rng(seed)
    pos = np.repeat(walk.root_pos[1:2], n, 0) + rng.normal(0.0, noise_m, (n, 3))
    return walk.replace(root_pos=pos, root_quat=np.repeat(walk.root_quat[1:2], n, 0),
                        dof_pos=np.repeat(walk.dof_pos[1:2], n, 0), source="stand")


def motions(only: list[str] | None) -> list[tuple[str, RobotMotion]]:
    root = assets()
    out = []
    pkls = sorted((root / "twist2" / "motions").glob("*.pkl"))
    if not pkls:
        sys.exit(f"no motions under {root}/twist2/motions; set EXOACTOR_ASSETS")
    for p in pkls:
        out.append((p.stem.replace("0807_yanjie_", ""), load_motion(p)))
    for p in sorted((root / "kimodo").glob("*.csv")):
        out.append((p.stem, load_kimodo_csv(p)))
    walk = next(m for name, m in out if name == "walk_001")
    out.append(("stand", standing(walk)))
    if only:
        out = [(n, m) for n, m in out if any(o in n for o in only)]
    return out


def row(name: str, res) -> dict:
    r, f = res.raw_metrics, res.metrics
    dur = f.clip_duration_s
    return {"motion": name, "duration_s": dur, "kept": res.report["kept"],
            "raw": {"fell": r.fell, "xy_m": r.root_xy_error_end_m, "yaw_deg": r.yaw_error_end_deg,
                    "settled_xy_m": r.root_xy_error_settled_m, "joint_rad": r.mean_joint_error_rad,
                    "key_body_mm": r.key_body_error_mm,
                    "late_s": r.extras.get("clip_end_late_s", float("nan")),
                    "s_per_motion_s": res.report["raw_wall_s"] / dur},
            "filter": {"fell": f.fell, "xy_m": f.root_xy_error_end_m,
                       "yaw_deg": f.yaw_error_end_deg, "settled_xy_m": f.root_xy_error_settled_m,
                       "joint_rad": f.mean_joint_error_rad, "key_body_mm": f.key_body_error_mm,
                       "late_s": f.extras.get("clip_end_late_s", float("nan")),
                       "s_per_motion_s": res.report["wall_s"] / dur},
            "objective": res.report["objective"],
            "attempts": res.report.get("attempts"), "attempt": res.report.get("attempt"),
            **{k: res.fractions[k] for k in res.fractions}}


def fmt(d: dict) -> str:
    fell = "FELL" if d["fell"] else "ok"
    return (f"{fell:>4} {d['xy_m']:5.2f} {d['late_s']:5.2f} {d['yaw_deg']:5.1f} "
            f"{d['settled_xy_m']:5.2f} {d['joint_rad']:.3f} {d['key_body_mm']:5.1f} "
            f"{d['s_per_motion_s']:5.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="substrings of the motion names to run")
    defaults = FilterConfig()
    ap.add_argument("--workers", type=int, default=defaults.workers)
    ap.add_argument("--candidates", type=int, default=defaults.candidates)
    ap.add_argument("--seed", type=int, default=defaults.seed)
    ap.add_argument("--json", type=Path, help="write the rows here")
    ap.add_argument("--no-warp", action="store_true",
                    help="turn the reference time warp off (clock rate bounds 1..1)")
    ap.add_argument("--set", type=json.loads, default={},
                    help='FilterConfig fields as JSON, e.g. \'{"weights": {"clock_lag": 0.02}}\'')
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base = FilterConfig(workers=args.workers, candidates=args.candidates, seed=args.seed)
    cfg = FilterConfig.model_validate(deep_merge(base.model_dump(), args.set))
    if args.no_warp:
        cfg = cfg.model_copy(update={"bounds": cfg.bounds.model_copy(
            update={"clock_rate_min": 1.0, "clock_rate_max": 1.0})})
    head = "fall    xy  late   yaw  sett  joint    kb  s/ms"
    print(f"{'motion':<16} {'dur':>5} | raw: {head} | filter: {head} | asked  mod  not  kept")
    rows = []
    for name, motion in motions(args.only):
        res = filter_motion(motion, cfg, show_progress=True)
        d = row(name, res)
        rows.append(d)
        print(f"{name:<16} {d['duration_s']:5.1f} | {fmt(d['raw'])} | {fmt(d['filter'])} | "
              f"{d['fraction_as_asked']:5.2f} {d['fraction_modified']:4.2f} "
              f"{d['fraction_not_executed']:4.2f}  {d['kept']}", flush=True)
    shared = [d for d in rows if d["motion"] != "stand"]
    for label, group in (("raw", rows), ("filter", rows), ("raw16", shared),
                         ("filt16", shared)):
        label_key = "raw" if label.startswith("raw") else "filter"
        xs = [d[label_key] for d in group]
        if not xs:
            continue
        dur = sum(d["duration_s"] for d in group)
        wall = sum(x["s_per_motion_s"] * d["duration_s"] for x, d in zip(xs, group))
        print(f"{label:>6}: late max {np.nanmax([x['late_s'] for x in xs]):.2f} s, "
              f"falls {sum(x['fell'] for x in xs)}/{len(xs)}, mean xy "
              f"{np.mean([x['xy_m'] for x in xs]):.3f} m (median "
              f"{np.median([x['xy_m'] for x in xs]):.3f}), yaw "
              f"{np.mean([x['yaw_deg'] for x in xs]):.2f} deg, settled xy "
              f"{np.nanmean([x['settled_xy_m'] for x in xs]):.3f} m, joint "
              f"{np.mean([x['joint_rad'] for x in xs]):.4f} rad, key body "
              f"{np.mean([x['key_body_mm'] for x in xs]):.1f} mm, {wall / dur:.2f} s per "
              "motion-s")
    ok_xy = sum(d["filter"]["xy_m"] <= 0.15 and d["filter"]["yaw_deg"] <= 3.0 for d in rows)
    new_falls = [d["motion"] for d in rows if d["filter"]["fell"] and not d["raw"]["fell"]]
    print(f"motions with clip-end xy <= 0.15 m and yaw <= 3 deg: {ok_xy}/{len(rows)}; "
          f"falls where the raw tracker stands: {new_falls or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
