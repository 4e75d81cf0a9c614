"""Does the clip itself tell a person's stature? Rendered bodies of different heights, one
camera: the stature the pose model's bone lengths imply against the truth.

Renders the frontal raise-arms clip (camera pitched 20 deg down, 4 m away, true field of view;
:func:`exoactor.perceive.truth.frontal_pitched_config`) for Anny bodies of several phenotypes,
runs :func:`exoactor.perceive.perceive_video` (body only) on each and prints per body: the true
stature (nose height + 0.11 m in frame 0, as the known-truth tests measure it), the bones'
stature (``stature_measured_m``: (thigh + shank + hip to shoulder) / 0.779 of MediaPipe's
world landmarks) and the stature the skeleton is scaled to (``stature_m``: the adult prior
combined with the bones'). If the bones' figure follows the truth, the clip carries stature
evidence; if it stays put, the prior decides.

Needs ``pip install anny`` (see ``benchmarks/perceive_truth.py``).

    .venv/bin/python benchmarks/perceive_stature.py [--heights 0.1 0.5 0.9] [--frames 60]
        [--json F]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--heights", type=float, nargs="+", default=[0.1, 0.5, 0.9],
                    help="Anny 'height' phenotype values in [0, 1]")
    ap.add_argument("--frames", type=int, default=60, help="frames to render (30 Hz)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    import numpy as np

    from exoactor.perceive import PerceiveConfig, perceive_video
    from exoactor.perceive.truth import frontal_pitched_config, make_truth_clip
    from exoactor.skeleton import BODY_33

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for h in args.heights:
            clip = make_truth_clip(Path(tmp) / f"h{h:.2f}.mp4", frontal_pitched_config(
                frames=args.frames, pitch_deg=20.0, phenotype={"height": h}))
            r = perceive_video(clip.video_path, Path(tmp) / f"h{h:.2f}.npz",
                               PerceiveConfig(hands=False, overlay=False, fov_deg=clip.fov_deg))
            true = float(clip.joints_w[0, BODY_33.index("nose"), 2] + 0.11)
            rows.append({"height_phenotype": h, "true_m": true,
                         "bones_m": r.metrics.stature_measured_m,
                         "scaled_to_m": r.metrics.stature_m})
            print(f"height {h:.2f}: true {true:.3f} m  bones {rows[-1]['bones_m']:.3f} m  "
                  f"scaled to {r.metrics.stature_m:.3f} m ({100 * (r.metrics.stature_m / true - 1):+.1f} %)",
                  flush=True)
    t = np.array([r["true_m"] for r in rows])
    b = np.array([r["bones_m"] for r in rows])
    if len(rows) > 1 and np.ptp(t) > 0:
        slope = float(np.polyfit(t, b, 1)[0])
        print(f"bones vs truth: slope {slope:.3f} (1 = the bones measure the body, 0 = they "
              f"do not); bones span {np.ptp(b):.3f} m for a true span of {np.ptp(t):.3f} m")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
