"""Perception on generated task videos: is the person upright, in place and adult-sized?

Runs the perceive stage on every clip of a folder (default ``../shared/footage``) and prints,
per clip, from the world-grounded motion (``HumanMotion``):

* ``tilt``: torso tilt from vertical (hip centre -> shoulder centre against world z), median
  over the frames [deg]; people who stand upright should read <= 3;
* ``tilt_p90``: its 90th percentile [deg];
* ``pelv0``: tilt of the pelvis z axis (``root_quat``) from vertical at frame 0 [deg];
* ``path``: length of the hip-centre path over the ground (x, y) [m];
* ``reach``: largest horizontal distance of the hip centre from its median position [m];
  people who stand in place should read <= 0.15;
* ``stat``: stature as the stage reports it (bone lengths; ``perceive_metrics.json``) [m];
* ``nose``: 95th percentile of the nose height + 0.11 m [m] (a standing person's stature);
* ``pitch``: the camera pitch the stage found [deg] (negative: looking down), and its source;
* ``s_per_s``: perceive seconds per video-second, wall clock (full runs only; the CPUs may be
  shared: compare runs made side by side);
* with ``--retarget``: whether the retarget stage (default settings) accepts the motion.

``--obs-cache DIR`` keeps the pose backend's observations per clip (pickles) and, when they
exist, runs only the reconstruction on them (seconds instead of minutes; for development:
the timing column is then empty).

    .venv/bin/python benchmarks/task_perceive.py [--footage DIR] [--obs-cache DIR] [--retarget]
        [--no-hands] [--json F]
"""

from __future__ import annotations

import argparse
import json
import logging
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

UPRIGHT = ("raise_arms", "fold_arms", "water_flowers")
"""Clips (by name fragment) whose person stands upright: tilt should be <= 3 deg."""
IN_PLACE = ("fold_arms", "water_flowers")
"""Clips whose person stands in place: reach should be <= 0.15 m."""


def motion_figures(motion, stature_m: float) -> dict[str, float]:
    """The per-clip figures of the module docstring from a ``HumanMotion``."""
    from scipy.spatial.transform import Rotation

    from exoactor.skeleton import BODY_33

    j = motion.joints
    i = BODY_33.index
    hip = j[:, [i("left_hip"), i("right_hip")]].mean(1)
    sh = j[:, [i("left_shoulder"), i("right_shoulder")]].mean(1)
    axis = sh - hip
    tilt = np.degrees(np.arccos(np.clip(axis[:, 2] / np.linalg.norm(axis, axis=-1), -1, 1)))
    q = np.asarray(motion.root_quat)
    z = Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix()[:, :, 2]
    pelvis = np.degrees(np.arccos(np.clip(z[:, 2], -1, 1)))
    root = np.asarray(motion.root_pos)
    xy = root[:, :2]
    path = float(np.linalg.norm(np.diff(xy, axis=0), axis=-1).sum())
    reach = float(np.linalg.norm(xy - np.median(xy, axis=0), axis=-1).max())
    nose = float(np.percentile(j[:, i("nose"), 2], 95)) + 0.11
    return {"tilt": float(np.median(tilt)), "tilt_p90": float(np.percentile(tilt, 90)),
            "pelv0": float(pelvis[0]), "path": path, "reach": reach, "stat": stature_m,
            "nose": nose}


def _run_clip(clip: Path, out_dir: Path, cache: Path | None, cfg, retarget: bool = False) -> dict:
    from exoactor.perceive import perceive_video
    from exoactor.perceive.backend import pose_backends
    from exoactor.perceive.camera import intrinsics
    from exoactor.perceive.reconstruct import reconstruct
    from exoactor.perceive.video import constant_rate_view, open_video

    if cache is None:
        t0 = time.perf_counter()
        r = perceive_video(clip, out_dir / clip.stem / "human.npz", cfg)
        wall = time.perf_counter() - t0
        m = r.metrics
        row = motion_figures(r.motion, m.stature_m)
        row.update(pitch=m.camera["pitch_deg"], up=m.camera["up_source"],
                   s_per_s=wall / m.duration_s, fov=m.camera["horizontal_fov_deg"])
        if retarget:
            row["retarget"] = _retarget_status(r.motion)
        return row
    pkl = cache / (clip.stem + ".pkl")
    video = open_video(clip)
    if pkl.is_file():
        obs = pickle.loads(pkl.read_bytes())
    else:
        backend = pose_backends.build(cfg.backend, cfg.backend_options, stage=cfg)
        obs = backend.estimate(video, person=cfg.person, hands=cfg.hands)
        cache.mkdir(parents=True, exist_ok=True)
        pkl.write_bytes(pickle.dumps(obs))
    view = constant_rate_view(obs.times_s, video.nominal_fps)
    sub = obs.take(view.frame_index)
    try:
        from exoactor.perceive.run import estimate_intrinsics

        K = estimate_intrinsics(video, sub, cfg)
    except ImportError:  # the code before this benchmark has no estimator
        K = intrinsics(video.width_px, video.height_px, cfg.fov_deg)
    scene = None
    if getattr(cfg, "world", None) is not None and cfg.world.scene_lines:
        from exoactor.perceive.run import _Thumbnails, scene_lines
        from exoactor.perceive.video import iter_frames

        thumbs = _Thumbnails(video)
        for frame in iter_frames(video):
            thumbs(frame)
        scene = scene_lines(video, obs, thumbs, K)
    extra = {} if scene is None else {"scene": scene}  # the code before has no scene cue
    rec = reconstruct(sub, view.fps, K, cfg, source=str(clip), **extra)
    row = motion_figures(rec.motion, rec.stature_m)
    row.update(pitch=rec.up.camera_pitch_deg, up=rec.up.source, s_per_s=float("nan"),
               fov=float(np.degrees(2 * np.arctan(video.width_px / 2 / K[0, 0]))))
    if retarget:
        row["retarget"] = _retarget_status(rec.motion)
    return row


def _retarget_status(motion) -> str:
    """``ok`` or the retarget stage's error (default settings)."""
    from exoactor.retarget import retarget

    try:
        retarget(motion)
    except Exception as exc:  # noqa: BLE001 - a refusal is the result
        return f"FAILED {type(exc).__name__}: {exc}"[:160]
    return "ok"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path,
                    default=Path(__file__).resolve().parents[1] / ".." / "shared" / "footage")
    ap.add_argument("--obs-cache", type=Path, help="reuse pose observations from here")
    ap.add_argument("--no-hands", action="store_true", help="body only")
    ap.add_argument("--retarget", action="store_true",
                    help="also retarget each motion (default settings) and print ok / the error")
    ap.add_argument("--no-skeleton-fit", action="store_true",
                    help="without the temporal skeleton fit (PerceiveConfig.skeleton_fit)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    from exoactor.perceive import PerceiveConfig

    cfg = PerceiveConfig(overlay=False, hands=not args.no_hands)
    if args.no_skeleton_fit:
        cfg = cfg.model_copy(update={"skeleton_fit": cfg.skeleton_fit.model_copy(
            update={"enabled": False})})
    clips = sorted(args.footage.glob("*.mp4"))
    if not clips:
        print(f"no .mp4 in {args.footage}", file=sys.stderr)
        return 2
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            try:
                rows[clip.stem] = _run_clip(clip, Path(tmp), args.obs_cache, cfg, args.retarget)
            except Exception as exc:  # noqa: BLE001 - a failing stage is a result
                rows[clip.stem] = {"error": f"{type(exc).__name__}: {exc}"}
    cols = ("tilt", "tilt_p90", "pelv0", "path", "reach", "stat", "nose", "pitch", "fov", "s_per_s")
    print(f"{'clip':<44}" + "".join(f"{c:>9}" for c in cols) + "  up")
    for name, r in rows.items():
        short = name.removeprefix("gen_")[:43]
        if "error" in r:
            print(f"{short:<44}  FAILED {r['error'][:120]}")
            continue
        flag = ("U" if any(k in name for k in UPRIGHT) else " ") + \
               ("P" if any(k in name for k in IN_PLACE) else " ")
        print(f"{short:<42}{flag}" + "".join(f"{r[c]:>9.2f}" for c in cols) + f"  {r['up']}"
              + (f"  retarget {r['retarget']}" if "retarget" in r else ""))
    ok = [r for r in rows.values() if "error" not in r]
    up = [r["tilt"] for n, r in rows.items() if "error" not in r and any(k in n for k in UPRIGHT)]
    st = [r["reach"] for n, r in rows.items()
          if "error" not in r and any(k in n for k in IN_PLACE)]
    print(f"upright (U) tilt max {max(up, default=float('nan')):.2f} deg (target <= 3); "
          f"in-place (P) reach max {max(st, default=float('nan')):.2f} m (target <= 0.15); "
          f"stature {min((r['stat'] for r in ok), default=float('nan')):.2f}-"
          f"{max((r['stat'] for r in ok), default=float('nan')):.2f} m (target 1.60-1.95); "
          f"failed {len(rows) - len(ok)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
