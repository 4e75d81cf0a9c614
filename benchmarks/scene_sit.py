"""Seat placement on IK sit references: TWIST2 in MuJoCo with the inferred seat, per seat offset.

Five sit-downs built by forward kinematics (``tests/scene/scene_synthetic.py``: hips 90-96 deg,
torso lean 0-45 deg, 2 s down, 3 s seated, 2 s up), the seat inferred from each
(:func:`exoactor.scene.infer.infer_scene`) with its top at ``+offset`` above the lowest
pelvis/thigh point, tracked by TWIST2 (drift correction on, start at the reference pose), and
scored (:func:`exoactor.scene.score.interaction_metrics`), plus the same motion with no seat.

    cd <worktree> && PYTHONPATH=$PWD/src:$PWD/tests/scene .venv/bin/python benchmarks/scene_sit.py
"""

from __future__ import annotations

import argparse
import logging

from exoactor.control.track import TrackConfig, track_motion
from exoactor.scene.infer import InferConfig, infer_scene
from exoactor.scene.score import interaction_metrics

REFERENCES = ((30, 1.5, 2.5, 96), (30, 2.0, 3.0, 96), (45, 2.0, 3.0, 96), (30, 2.0, 3.0, 90),
              (0, 2.0, 3.0, 96))
"""(lean deg, stand-up s, seated s, hip deg)."""


def main() -> None:
    from scene_synthetic import sit_reference

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offsets", type=float, nargs="+", default=[0.06, 0.09])
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    print("| lean | up s | seated s | hip | seat | fell | seated % | weight on seat |")
    print("|---|---|---|---|---|---|---|---|")
    for lean, up, seated_s, hip in REFERENCES:
        m = sit_reference(hip_deg=hip, lean_deg=lean, stand_s=0.5, seated_s=seated_s, up_s=up)
        bare = track_motion(m, TrackConfig())
        print(f"| {lean} | {up} | {seated_s} | {hip} | none | {bare.metrics.fall_time_s or 'no'} "
              "| - | - |", flush=True)
        for off in args.offsets:
            s = infer_scene(m, InferConfig(seat_above_lowest_m=off))
            r = track_motion(m, TrackConfig(scene=s))
            i = interaction_metrics(r.rollout, s, fps=m.fps,
                                    fall_time_s=r.metrics.fall_time_s)["objects"][0]
            print(f"| {lean} | {up} | {seated_s} | {hip} | +{off:.2f} (top {s.objects[0].top_z:.2f}) "
                  f"| {r.metrics.fall_time_s or 'no'} | {100 * i['seated_fraction']:.0f} "
                  f"| {100 * i['mean_load_fraction']:.0f} % |", flush=True)


if __name__ == "__main__":
    main()
