"""Benchmark of the perceive stage's clip-artefact handling: cost and effect, side by side.

For each clip, :func:`exoactor.perceive.perceive_video` runs with ``artefacts`` off, on without
camera-rotation compensation, and on (the default), alternated in one process (``--repeat``
rounds, the fastest kept), overlay off. Printed per variant: wall and process-CPU seconds per
second of video (CPU is the steadier figure on a shared machine), the torso tilt and root path
of the task-video benchmark (``benchmarks/task_video.py``), and what the detectors found.

    EXOACTOR_ASSETS=../shared/assets .venv/bin/python benchmarks/perceive_artefacts.py \
        [CLIP ...] [--hands] [--repeat 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _task_video():  # noqa: ANN202 - the sibling benchmark module (its measures)
    spec = importlib.util.spec_from_file_location("task_video", ROOT / "benchmarks" /
                                                  "task_video.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="*", type=Path,
                    help="clips (default: every clip of ../shared/footage)")
    ap.add_argument("--hands", action="store_true", help="estimate hands too")
    ap.add_argument("--repeat", type=int, default=1, help="rounds (the fastest is kept)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    import cv2
    import numpy as np

    from exoactor.perceive import PerceiveConfig, perceive_video
    from exoactor.perceive.config import ArtefactConfig

    tv = _task_video()
    clips = args.clips or sorted((ROOT.parent / "shared" / "footage").glob("*.mp4"))
    variants = {"off": ArtefactConfig(enabled=False),
                "no camera": ArtefactConfig(camera_rotation=False), "on": ArtefactConfig()}
    print(f"{len(clips)} clips, hands {'on' if args.hands else 'off'}, {os.cpu_count()} CPUs, "
          "load " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"{'clip':28s} {'variant':10s} {'wall s/s':>8s} {'cpu s/s':>8s} {'tilt °':>7s} "
          f"{'path m':>7s}  found")
    for clip in clips:
        cap = cv2.VideoCapture(str(clip))
        video_s = cap.get(cv2.CAP_PROP_FRAME_COUNT) / max(cap.get(cv2.CAP_PROP_FPS), 1e-9)
        cap.release()
        best: dict[str, tuple] = {}
        for _ in range(args.repeat):
            for name, art in variants.items():
                cfg = PerceiveConfig(hands=args.hands, overlay=False, artefacts=art)
                with tempfile.TemporaryDirectory() as d:
                    w0, c0 = time.perf_counter(), time.process_time()
                    r = perceive_video(clip, Path(d) / "human.npz", cfg)
                    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu, r)
        for name, (wall, cpu, r) in best.items():
            m = r.motion
            j = m.joints[m.valid] if m.valid.any() else m.joints
            tilt = float(np.median(tv.torso_tilt_deg(j, m.joint_names)))
            path = tv.root_path_m(m.root_pos, m.fps)
            a = r.metrics.artefacts or {}
            found = []
            if a.get("cut", {}).get("found"):
                found.append(f"cut@{a['cut']['first_frame']}")
            if a.get("repeats", {}).get("dropped"):
                found.append(f"repeats {a['repeats']['dropped']}")
            if "resampled" in a:
                found.append(f"{a['resampled']['from_hz']:g}->{a['resampled']['to_hz']:g} Hz")
            cam = a.get("camera_rotation")
            if cam:
                found.append(f"camera {cam['max_rotation_deg']:.1f}°"
                             + (" comp." if cam["compensated"] else ""))
            print(f"{clip.stem[:28]:28s} {name:10s} {wall / video_s:8.2f} {cpu / video_s:8.2f} "
                  f"{tilt:7.1f} {path:7.2f}  {', '.join(found)}", flush=True)
    print("load " + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
