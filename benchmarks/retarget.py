"""Benchmark of the retarget stage over the shared TWIST2 motions (speed and quality).

Part 1, ground-truth round trip. For each motion: drop glitched leading frames, shift the clip
down by its constant float (column ``gnd`` [mm]: TWIST2 walks keep their stance feet 0-36 mm
off the ground, and a HumanMotion's ground is z = 0), build the human motion from the robot's
own FK through the keypoint correspondence (contacts from foot height/speed), retarget it back
with the default config (50 Hz output) and compare with the original resampled to 50 Hz.

Part 2, a person unlike the robot. The same keypoints rebuilt with other proportions (a 1.8 m
person: every segment 1.2-1.5x the G1's), 1 cm Gaussian keypoint noise, the whole person 3 cm
above the ground and 10 % of the contact flags dropped; the result is compared with the
original robot motion (joint angles do not depend on size).

Speed is single-process wall time of ``retarget()`` (targets, IK, hands, metrics), per input
frame (~30 Hz) and per output frame (50 Hz).

    EXOACTOR_ASSETS=../shared/assets .venv/bin/python benchmarks/retarget.py [--frames N] [NAME ...]
        [--set '{"arm_restarts": false}']  # RetargetConfig fields
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

PERSON_SIZE = {"pelvis": 1.2, "thigh": 1.35, "shin": 1.35, "foot": 1.5, "trunk": 1.3,
               "shoulders": 1.25, "upper_arm": 1.45, "forearm": 1.4, "hand": 1.3, "head": 1.2}
"""Part 2: the person's segment lengths over the G1's."""


def _perturbed(human, seed: int = 0):
    """The human of part 2 (see the module docstring)."""
    import numpy as np

    from exoactor.retarget.scaling import SegmentScales, scale_keypoints

    names = human.joint_names
    j = scale_keypoints(human.joints, names, SegmentScales(PERSON_SIZE, 1.35, {}, {}))
    rng = np.random.default_rng(seed)
    j = j + rng.normal(scale=0.01, size=j.shape) + [0.0, 0.0, 0.03]
    contact = human.foot_contact & (rng.random(human.foot_contact.shape) > 0.1)
    hips = [names.index("left_hip"), names.index("right_hip")]
    return human.replace(joints=j, root_pos=j[:, hips].mean(axis=1), foot_contact=contact)


def _table(rows: list[dict], cols: list[tuple[str, str, str]]) -> None:
    widths = [max(len(h), len(fmt.format(rows[0][key]))) for key, h, fmt in cols]
    print(" ".join(h.ljust(w) if i == 0 else h.rjust(w)
                   for i, ((_, h, _), w) in enumerate(zip(cols, widths))))
    for r in rows:
        print(" ".join(fmt.format(r[key]).ljust(w) if i == 0 else fmt.format(r[key]).rjust(w)
                       for i, ((key, _, fmt), w) in enumerate(zip(cols, widths))))


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from exoactor.assets import resolve_asset
    from exoactor.control.reference import drop_glitched_leading_frames
    from exoactor.formats import load_motion, resample_robot_motion
    from exoactor.retarget import RetargetConfig, compare_motions, human_from_robot, retarget
    from exoactor.retarget.groundtruth import ground_robot_motion
    from exoactor.retarget.model import retarget_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="motion file stems (default: all 11)")
    parser.add_argument("--frames", type=int, default=0, help="first N frames only (0 = all)")
    parser.add_argument("--no-person", action="store_true", help="skip part 2")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--set", default="{}", help="RetargetConfig fields as JSON")
    args = parser.parse_args(argv)

    files = sorted(resolve_asset("g1_motions", download=False).glob("*.pkl"))
    if args.names:
        files = [f for f in files if f.stem in args.names]
    cfg = RetargetConfig(**json.loads(args.set))
    t0 = time.perf_counter()
    rmodel = retarget_model(cfg.robot)
    # one-time process set-up (model with sites, mink/qpsolvers imports), timed apart
    warm, _ = drop_glitched_leading_frames(load_motion(files[0]))
    retarget(human_from_robot(warm.slice(0, 5), rmodel), cfg)
    setup_s = time.perf_counter() - t0
    rows, person_rows = [], []
    for f in files:
        motion, glitch = drop_glitched_leading_frames(load_motion(f))
        if args.frames:
            motion = motion.slice(0, args.frames)
        motion, float_m = ground_robot_motion(motion, rmodel)
        ref = resample_robot_motion(motion, cfg.output_fps)
        human = human_from_robot(motion, rmodel)
        for part, h in (("gt", human), ("person", None if args.no_person else _perturbed(human))):
            if h is None:
                continue
            t = time.perf_counter()
            res = retarget(h, cfg)
            wall = time.perf_counter() - t
            n = min(ref.num_frames, res.motion.num_frames)
            err = compare_motions(res.motion.slice(0, n), ref.slice(0, n), rmodel)
            m = res.metrics
            row = {
                "motion": f.stem, "in_frames": h.num_frames, "out_frames": m.num_frames,
                "dropped": glitch.dropped_frames, "gnd_mm": 1000 * float_m, "wall_s": wall,
                "fps_in": h.num_frames / wall, "fps_out": m.num_frames / wall,
                "body_med_mm": err.body_error_mm["median"], "body_p95_mm": err.body_error_mm["p95"],
                "joint_rad": err.joint_error_rad, "arm_rad": err.arm_joint_error_rad,
                "leg_rad": err.leg_joint_error_rad, "waist_rad": err.waist_joint_error_rad,
                "kp_med_mm": m.keypoint_error_mm["median"], "kp_p95_mm": m.keypoint_error_mm["p95"],
                "limit_viol": m.joint_limit_violations, "skate_mm": m.foot_skate_mm,
                "skate_max_mm": m.foot_skate_max_mm, "pen_mm": m.foot_penetration_mm,
                "float_mm": m.foot_float_mm, "self_coll": m.self_collisions,
                "fallback": m.fallback_frames, "status": res.status,
                "restarts": m.extras.get("arm_restarts", 0),
                "qd_max": float(np.abs(np.diff(res.motion.dof_pos, axis=0)).max()
                                * res.motion.fps) if res.motion.num_frames > 1 else 0.0}
            (rows if part == "gt" else person_rows).append(row)

    quality = [("limit_viol", "lim", "{}"), ("skate_mm", "skate", "{:.2f}"),
               ("skate_max_mm", "sk_max", "{:.1f}"), ("pen_mm", "pen", "{:.1f}"),
               ("float_mm", "float", "{:.1f}"), ("self_coll", "coll", "{}"),
               ("fallback", "fb", "{}"), ("restarts", "rst", "{}"), ("qd_max", "qd_max", "{:.1f}")]
    print("Part 1: ground-truth round trip (errors vs the original at 50 Hz; mm, rad)")
    _table(rows, [("motion", "motion", "{}"), ("in_frames", "T_in", "{}"),
                  ("gnd_mm", "gnd", "{:.1f}"), ("fps_in", "fps_in", "{:.0f}"),
                  ("fps_out", "fps_out", "{:.0f}"), ("body_med_mm", "b_med", "{:.1f}"),
                  ("body_p95_mm", "b_p95", "{:.1f}"), ("joint_rad", "q_err", "{:.3f}"),
                  ("leg_rad", "q_leg", "{:.3f}"), ("arm_rad", "q_arm", "{:.3f}"),
                  ("waist_rad", "q_wst", "{:.3f}"), ("kp_med_mm", "k_med", "{:.1f}"),
                  ("kp_p95_mm", "k_p95", "{:.1f}"), *quality])
    tot_in = sum(r["in_frames"] for r in rows)
    tot_out = sum(r["out_frames"] for r in rows)
    tot_wall = sum(r["wall_s"] for r in rows)
    print(f"\nspeed: {tot_in} input frames ({tot_out} output frames at {cfg.output_fps:g} Hz) in "
          f"{tot_wall:.2f} s -> {tot_in / tot_wall:.0f} input frames/s, "
          f"{tot_out / tot_wall:.0f} output frames/s (single process; one-time set-up "
          f"{setup_s:.2f} s: model, imports)")
    for key in ("body_med_mm", "body_p95_mm", "joint_rad", "leg_rad", "arm_rad", "waist_rad",
                "skate_mm"):
        v = np.array([r[key] for r in rows])
        print(f"  {key:<12} mean {v.mean():7.3f}  worst {v.max():7.3f}")
    print(f"  limit violations {sum(r['limit_viol'] for r in rows)}, max penetration "
          f"{max(r['pen_mm'] for r in rows):.1f} mm, max float {max(r['float_mm'] for r in rows):.1f}"
          f" mm, self-collision frames {sum(r['self_coll'] for r in rows)}, fallback frames "
          f"{sum(r['fallback'] for r in rows)}")
    if person_rows:
        print("\nPart 2: a 1.8 m person, 1 cm noise, 3 cm above the ground, 10 % contacts "
              "dropped (joint errors vs the original robot motion)")
        _table(person_rows, [("motion", "motion", "{}"), ("fps_in", "fps_in", "{:.0f}"),
                             ("joint_rad", "q_err", "{:.3f}"), ("leg_rad", "q_leg", "{:.3f}"),
                             ("arm_rad", "q_arm", "{:.3f}"), ("body_med_mm", "b_med", "{:.1f}"),
                             ("kp_med_mm", "k_med", "{:.1f}"), *quality])
    for name, part in (("part 1", rows), ("part 2", person_rows)):
        if part:
            q = np.array([r["joint_rad"] for r in part])
            print(f"{name}: joint error median {np.median(q):.4f} mean {q.mean():.4f} worst "
                  f"{q.max():.4f} rad; fastest joint {max(r['qd_max'] for r in part):.1f} rad/s")
    if args.json:
        args.json.write_text(json.dumps({"roundtrip": rows, "person": person_rows}, indent=2)
                             + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
