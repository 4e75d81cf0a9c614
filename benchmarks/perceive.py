"""Benchmark of the perceive stage: seconds of compute per second of video, by step.

Runs :func:`exoactor.perceive.perceive_video` on a clip (default: the Sports2D sample clip
from the asset cache) twice per repeat: body + grounding only (no hands, no overlay), then with
hands; the difference is the hands' extra cost. The overlay video is timed separately (it is
an artefact for people, not part of the motion). Wall time per step comes from the stage's own
timers; the whole call is also measured in wall and process CPU time (MediaPipe runs its
inference on several threads, so CPU can exceed wall). The load average is printed because
the CPUs may be shared.

Then a semi-synthetic accuracy check with known 3D truth: the world motion perceived in the
clip is taken as the truth, put in front of a known camera (60 deg, 7 m away, 1280x720) and
turned into MediaPipe-like observations (:mod:`exoactor.perceive.synthetic`: 2 px landmark
noise, 3 % per-frame 3D scale error, 1.5 / 4 cm lateral / depth joint noise, crop-centred 3D);
the reconstruction is scored with MPJPE, PA-MPJPE and W-MPJPE (W2: aligned on the first two
frames; WA: on the whole clip), without and with a 10 % stature bias. It measures grounding
and clean-up, not the detector.

    EXOACTOR_ASSETS=../shared/assets .venv/bin/python benchmarks/perceive.py [VIDEO] \
        [--repeat 2] [--json out.json]
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

STEPS = ("decode", "body", "tracking", "cleanup", "grounding", "skeleton_fit", "hands", "hands_world",
         "camera_check", "write", "overlay")


def _sample_clip() -> Path:
    from exoactor.assets import resolve_asset

    real = Path(os.environ.get("EXOACTOR_CACHE_REAL", Path.home() / ".cache" / "exoactor"))
    os.environ.setdefault("EXOACTOR_CACHE", str(real))
    return resolve_asset("sample_clip", download=False)


def _run(video: Path, hands: bool, overlay: bool) -> dict:
    from exoactor.perceive import PerceiveConfig, perceive_video

    cfg = PerceiveConfig(hands=hands, overlay=overlay)
    with tempfile.TemporaryDirectory() as d:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        r = perceive_video(video, Path(d) / "human.npz", cfg)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    m = r.metrics
    motion = r.motion
    per_s = {k: v * m.frames / 1000.0 / m.duration_s for k, v in m.ms_per_frame.items()}
    return {"hands": hands, "overlay": overlay, "frames": m.frames, "video_s": m.duration_s,
            "wall_s": wall, "cpu_s": cpu, "wall_per_video_s": wall / m.duration_s,
            "cpu_per_video_s": cpu / m.duration_s, "step_per_video_s": per_s,
            "body_and_grounding_per_video_s": m.seconds_per_video_second["body_and_grounding"],
            "hands_per_video_s": m.seconds_per_video_second["hands"],
            "detection_rate": m.detection_rate,
            "reprojection_error_px_median": m.reprojection_error_px_median,
            "_motion": motion}


def _known_truth(truth_w) -> list[dict]:
    import numpy as np

    from exoactor.perceive.camera import intrinsics
    from exoactor.perceive.config import PerceiveConfig
    from exoactor.perceive.metrics import mpjpe_mm, pa_mpjpe_mm, w_mpjpe_mm
    from exoactor.perceive.reconstruct import reconstruct
    from exoactor.perceive.synthetic import ObservationNoise, look_at_camera, synthetic_observations

    K = intrinsics(1280, 720, 60.0)
    centre = truth_w[:, [23, 24]].mean(1).mean(0)
    T_c_w = look_at_camera(centre + np.array([2.0, -7.0, -0.2]), centre)
    rows = []
    for name, noise in (("exact detections", ObservationNoise(0, 0, 1, 0, 0)),
                        ("MediaPipe-like noise", ObservationNoise()),
                        ("noise + 10 % small", ObservationNoise(scale_bias=0.9))):
        obs = synthetic_observations(truth_w, T_c_w, K, (1280, 720), 30.0, noise)
        pred = reconstruct(obs, 30.0, K, PerceiveConfig(hands=False)).motion.joints
        rows.append({"case": name, "mpjpe_mm": mpjpe_mm(pred, truth_w),
                     "pa_mpjpe_mm": pa_mpjpe_mm(pred, truth_w),
                     "w2_mpjpe_mm": w_mpjpe_mm(pred, truth_w),
                     "wa_mpjpe_mm": w_mpjpe_mm(pred, truth_w, None)})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", nargs="?", type=Path, help="clip (default: the sample clip)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per setting (best is kept)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    video = args.video or _sample_clip()
    print(f"video: {video}  cpus: {os.cpu_count()}  load avg: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for name, hands, overlay in (("body", False, False), ("body+hands", True, False),
                                     ("body+hands+overlay", True, True)):
            r = _run(video, hands, overlay)
            if name not in best or r["wall_s"] < best[name]["wall_s"]:
                best[name] = r
    b = best["body"]
    print(f"{b['frames']} frames, {b['video_s']:.2f} s of video; detection "
          f"{100 * b['detection_rate']:.1f} %, reprojection {b['reprojection_error_px_median']:.2f} px")
    print("\nseconds of compute per second of video (best of "
          f"{args.repeat}; steps: stage wall timers)")
    names = list(best)
    print(f"{'step':<22}" + "".join(f"{n:>20}" for n in names))
    for step in STEPS:
        vals = [best[n]["step_per_video_s"].get(step, 0.0) for n in names]
        print(f"{step:<22}" + "".join(f"{v:>20.3f}" for v in vals))
    for key, label in (("body_and_grounding_per_video_s", "body + grounding"),
                       ("hands_per_video_s", "hands"),
                       ("wall_per_video_s", "whole call (wall)"),
                       ("cpu_per_video_s", "whole call (cpu)")):
        print(f"{label:<22}" + "".join(f"{best[n][key]:>20.3f}" for n in names))
    extra = best["body+hands"]["wall_per_video_s"] - b["wall_per_video_s"]
    print(f"\nhands' extra cost: {extra:.3f} s per second of video (wall, whole call)")
    ok = b["body_and_grounding_per_video_s"] <= 1.5
    print(f"body + grounding <= 1.5 s per second of video: {'yes' if ok else 'NO'} "
          f"({b['body_and_grounding_per_video_s']:.3f})")
    truth = _known_truth(b["_motion"].joints)
    print("\nsemi-synthetic known truth (see the module docstring) [mm]")
    print(f"{'case':<24}{'MPJPE':>8}{'PA-MPJPE':>10}{'W2-MPJPE':>10}{'WA-MPJPE':>10}")
    for row in truth:
        print(f"{row['case']:<24}{row['mpjpe_mm']:>8.0f}{row['pa_mpjpe_mm']:>10.0f}"
              f"{row['w2_mpjpe_mm']:>10.0f}{row['wa_mpjpe_mm']:>10.0f}")
    if args.json:
        out = {k: {kk: vv for kk, vv in v.items() if kk != "_motion"} for k, v in best.items()}
        args.json.write_text(json.dumps({"timing": out, "known_truth": truth}, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
