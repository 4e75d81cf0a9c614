"""Accuracy of the perceive stage on a rendered clip with known 3D truth.

Renders the Anny body walking ~3 m along +x past a static camera (640x480, 60 deg horizontal
field of view, 3/4 front view from ~4-6 m; :mod:`exoactor.perceive.truth`), runs
:func:`exoactor.perceive.perceive_video` on the video (MediaPipe, body only) twice: with the
true field of view given, and with the default (focal = image diagonal, as for an unknown
camera). Each run is scored against the body's true joints (12 joints: shoulders, elbows,
wrists, hips, knees, ankles; anatomical joint centres) with MPJPE (hip-centred), MPJPE
debiased (each joint's mean offset removed), PA-MPJPE (per-frame Procrustes), W2-MPJPE (world,
aligned on the first two frames) and WA-MPJPE (world, aligned on the whole clip); see
:mod:`exoactor.perceive.truth.score`. Also printed: the median distance between
MediaPipe's 2D landmarks and the projected true joints (the detector alone), detection rate,
compute per frame (stage timers, fastest of ``--repeat`` runs; wall clock, the CPUs may be
shared: the load average is printed), the estimated camera pitch / roll against the true ones,
and per-joint errors.

Needs ``pip install anny``; its first construction takes about a minute and caches ~800 MB
(``$ANNY_CACHE_DIR`` or ``~/.cache/anny``).

    .venv/bin/python benchmarks/perceive_truth.py [--frames 90] [--out DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path


def _true_pitch_deg(T_c_w) -> float:
    """The camera pitch as the stage reports it (``UpEstimate.camera_pitch_deg``: asin of the
    up vector's optical-axis component, negative when the camera looks down)."""
    import numpy as np

    return float(np.degrees(np.arcsin(T_c_w[2, 2])))


def _detector_2d_px(clip) -> float:
    """Median distance [px] between MediaPipe's 2D landmarks and the projected true joints
    (the 12 scored ones, detected frames): how well the detector sees the rendered body."""
    import numpy as np

    from exoactor.perceive.backend import pose_backends
    from exoactor.perceive.camera import project
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.perceive.grounding import transform
    from exoactor.perceive.metrics import MAIN_JOINTS
    from exoactor.perceive.video import open_video

    obs = pose_backends.build("mediapipe", {}, stage=PerceiveConfig(hands=False)).estimate(
        open_video(clip.video_path), person=None, hands=False)
    truth_px = project(transform(clip.T_c_w, clip.joints_w), clip.K)
    err = np.linalg.norm(obs.kp_px - truth_px, axis=-1)[obs.detected][:, list(MAIN_JOINTS)]
    return float(np.median(err))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=90, help="frames to render (30 Hz)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per case (fastest kept)")
    ap.add_argument("--out", type=Path, help="keep the clip, truth and outputs here")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    from exoactor.perceive import PerceiveConfig, perceive_video
    from exoactor.perceive.truth import TruthClipConfig, make_truth_clip, score_motion

    print(f"cpus: {os.cpu_count()}  load avg: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        clip = make_truth_clip(out / "walk.mp4", TruthClipConfig(frames=args.frames))
        render_s = time.perf_counter() - t0
        print(f"rendered {args.frames} frames ({clip.image_size_px[0]}x{clip.image_size_px[1]}, "
              f"{clip.fov_deg:.0f} deg) in {render_s:.1f} s (Anny load included): {clip.video_path}")
        rows = []
        for case, fov in (("true FOV", clip.fov_deg), ("default FOV", None)):
            cfg = PerceiveConfig(hands=False, overlay=False, fov_deg=fov)
            runs = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                r = perceive_video(clip.video_path, out / case.replace(" ", "_") / "human.npz", cfg)
                runs.append((time.perf_counter() - t0, r))
            wall, r = min(runs, key=lambda x: x[0])
            s = score_motion(r.motion.joints, clip.joints_w, source=str(r.motion_path))
            m = r.metrics
            rows.append({"case": case, **s.to_dict(), "detection_rate": m.detection_rate,
                         "ms_per_frame_total": sum(m.ms_per_frame.values()),
                         "ms_per_frame": m.ms_per_frame, "wall_s": wall,
                         "pitch_deg": m.camera["pitch_deg"], "roll_deg": m.camera["roll_deg"],
                         "stature_m": m.stature_m})
        px = _detector_2d_px(clip)
    print(f"MediaPipe 2D landmarks vs projected truth: median {px:.1f} px")
    print(f"\n{len(rows[0]['joints'])} joints, {rows[0]['frames']} frames, true hip path "
          f"{rows[0]['root_path_m']:.2f} m; true camera pitch {_true_pitch_deg(clip.T_c_w):.1f} deg, "
          "roll 0.0 deg (negative pitch: looking down)  [errors in mm]")
    head = ("case", "MPJPE", "debiased", "PA-MPJPE", "W2-MPJPE", "WA-MPJPE", "detect",
            "ms/frame", "pitch", "roll")
    print(f"{head[0]:<14}" + "".join(f"{h:>10}" for h in head[1:]))
    for r in rows:
        print(f"{r['case']:<14}{r['mpjpe_mm']:>10.1f}{r['mpjpe_debiased_mm']:>10.1f}"
              f"{r['pa_mpjpe_mm']:>10.1f}{r['w2_mpjpe_mm']:>10.1f}{r['wa_mpjpe_mm']:>10.1f}"
              f"{100 * r['detection_rate']:>9.1f}%{r['ms_per_frame_total']:>10.1f}"
              f"{r['pitch_deg']:>10.1f}{r['roll_deg']:>10.1f}")
    print("\nper joint (true FOV): hip-centred error / mean offset [mm]")
    r = rows[0]
    for name in r["joints"]:
        print(f"  {name:<16}{r['per_joint_mpjpe_mm'][name]:>8.1f}{r['per_joint_offset_mm'][name]:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps({"render_s": render_s, "detector_2d_px_median": px,
                                          "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
